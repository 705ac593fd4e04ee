"""Building what a run trains: the model (with frozen label embeddings), its tag names and the dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import ConcatDataset, Dataset

from ram_model.data.dataset import RamTrainingDataset
from ram_model.data.transforms import TrainTransform

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets"


def model_variant(config: dict[str, Any]) -> str | dict[str, Any]:
    """The build_model variant: `model`, refined by the official `vit` key (`ram` + swin_l + 224 → ram_swin_l_224)."""
    from ram_model.models.registry import VARIANTS

    model = config["model"]
    if isinstance(model, str) and config.get("vit") and config.get("image_size"):
        size = str(config["vit"]).removeprefix("swin_")
        candidate = f"{model}_swin_{size}_{int(config['image_size'])}"
        if candidate in VARIANTS:
            return candidate
    return model


def build_training_model(config: dict[str, Any]) -> nn.Module:
    """Model per config: variant, class count, image size, overrides, initial weights, label embeddings.

    `label_embed` (RAM/RAM++) stays frozen; everything else that requires grad is trained.
    """
    from ram_model import build_model, load_checkpoint

    kwargs = dict(config["model_overrides"])
    if config["class_num"] is not None:
        kwargs["num_classes"] = int(config["class_num"])
    if config["image_size"] is not None:
        kwargs["image_size"] = int(config["image_size"])
    model = build_model(model_variant(config), **kwargs)
    if config["init_checkpoint"]:
        load_checkpoint(config["init_checkpoint"], model)
    if config["label_embed"]:
        embeddings = torch.load(config["label_embed"], map_location="cpu", weights_only=True)
        if isinstance(embeddings, dict):
            embeddings = next(iter(embeddings.values()))
        model.set_label_embeddings(embeddings)
    if isinstance(getattr(model, "label_embed", None), nn.Parameter):
        model.label_embed.requires_grad_(False)
    return model


def read_tag_names(path: str | Path) -> list[str]:
    """Tag names, one a line (the official lists have no trailing newline; blank lines are not tags)."""
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def tag_names_for(config: dict[str, Any], model: nn.Module) -> list[str] | None:
    """The class names: the config's `tag_list` file, else the model's bundled list if the count matches."""
    if config["tag_list"]:
        names = read_tag_names(config["tag_list"])
    else:
        bundled = model.config.get("tag_list")
        if not bundled or not (ASSET_DIR / bundled).is_file():
            return None
        names = read_tag_names(ASSET_DIR / bundled)
        if len(names) != model.num_classes:
            return None
    if len(names) != model.num_classes:
        raise ValueError(f"tag list has {len(names)} names but the model has {model.num_classes} classes")
    return names


def build_dataset(config: dict[str, Any], num_classes: int, tag_names: list[str] | None,
                  image_size: int, teacher_size: int | None) -> Dataset:
    """JSON records and shards, concatenated; a teacher copy is made when its size differs from training."""
    transform = TrainTransform.from_config(image_size, config["augment"])
    teacher = None
    if teacher_size is not None and teacher_size != image_size:
        teacher = TrainTransform.from_config(teacher_size, config["augment"])
    common = {
        "num_classes": num_classes, "tag_names": tag_names, "transform": transform,
        "teacher_transform": teacher, "seed": int(config["seed"]),
    }
    parts: list[RamTrainingDataset] = []
    if config["train_file"]:
        parts.append(RamTrainingDataset.from_json(config["train_file"], config["image_path_root"], **common))
    if config["train_shards"]:
        parts.append(RamTrainingDataset.from_shards(config["train_shards"], **common))
    return parts[0] if len(parts) == 1 else EpochConcatDataset(parts)


class EpochConcatDataset(ConcatDataset):
    """ConcatDataset that forwards `set_epoch` to its parts."""

    def set_epoch(self, epoch: int) -> None:
        for part in self.datasets:
            part.set_epoch(epoch)
