"""Map-style training dataset over RAM training records (from the JSON format or from tar shards).

A sample is a dict: `image` `(3, S, S)`, optionally `image_224` (a separate 224 crop for the CLIP teacher),
`caption` (one of the record's captions, cleaned), `tag_text` (the tags parsed from that caption joined by
' | ', the tag-encoder input), `target` (multi-hot union tags), `parse_target` (multi-hot tags of the chosen
caption) and `index`. All randomness (caption choice, augmentation) comes from a generator seeded by
(seed, epoch, index), so a sample is reproducible anywhere, including after resuming a run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import torch
from PIL import Image
from torch.utils.data import Dataset

from ram_model.data.captions import pre_caption
from ram_model.data.records import TrainingRecord, load_ram_json
from ram_model.data.shards import MemberRef, load_shards, read_member_image
from ram_model.data.transforms import TrainTransform

ImageTransform = Callable[[Image.Image, torch.Generator], torch.Tensor]


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """A 63-bit seed that differs for every (run seed, epoch, sample index)."""
    mixed = (seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + index * 0x94D049BB133111EB) % (1 << 64)
    mixed ^= mixed >> 31
    return mixed % (1 << 63)


def _open_file_image(path: str) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image


class RamTrainingDataset(Dataset):
    """Training samples built from validated records; see the module docstring for the sample layout."""

    def __init__(
        self,
        records: Sequence[TrainingRecord],
        *,
        num_classes: int,
        transform: ImageTransform,
        tag_names: Sequence[str] | None = None,
        teacher_transform: ImageTransform | None = None,
        image_loader: Callable[[int], Image.Image] | None = None,
        seed: int = 0,
        max_words: int = 30,
    ) -> None:
        self.records = list(records)
        self.num_classes = num_classes
        self.transform = transform
        self.teacher_transform = teacher_transform
        self.tag_names = list(tag_names) if tag_names is not None else None
        if self.tag_names is not None and len(self.tag_names) != num_classes:
            raise ValueError(f"tag list has {len(self.tag_names)} names but num_classes is {num_classes}")
        self._image_loader = image_loader
        self.seed = seed
        self.epoch = 0
        self.max_words = max_words

    @classmethod
    def from_json(
        cls, files: Sequence[str | os.PathLike], image_root: str = "", **kwargs
    ) -> RamTrainingDataset:
        """Dataset over RAM training JSON files (image paths joined to `image_root`)."""
        records = load_ram_json(list(files), image_root, kwargs["num_classes"])
        return cls(records, **kwargs)

    @classmethod
    def from_shards(cls, patterns: Sequence[str], **kwargs) -> RamTrainingDataset:
        """Dataset over webdataset tar shards (brace and glob patterns allowed)."""
        records, refs = load_shards(patterns, kwargs["num_classes"])
        refs_list: list[MemberRef] = refs
        return cls(records, image_loader=lambda i: read_member_image(refs_list[i]), **kwargs)

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation/caption draw for a new epoch (call before creating the loader iterator)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def _load_image(self, index: int) -> Image.Image:
        record = self.records[index]
        try:
            if self._image_loader is not None:
                return self._image_loader(index)
            return _open_file_image(record.image)
        except (OSError, ValueError) as exc:
            raise OSError(f"cannot read training image {record.image!r}: {exc}") from exc

    def _multi_hot(self, ids: Sequence[int]) -> torch.Tensor:
        target = torch.zeros(self.num_classes, dtype=torch.float32)
        if ids:
            target[list(ids)] = 1.0
        return target

    def tag_text(self, ids: Sequence[int]) -> str:
        """Tag names joined by ' | ' in ID order (the official tag-encoder input)."""
        if self.tag_names is None:
            return " | ".join(str(i) for i in sorted(ids))
        return " | ".join(self.tag_names[i] for i in sorted(ids))

    def __getitem__(self, index: int) -> dict:
        record = self.records[index]
        g = torch.Generator().manual_seed(sample_seed(self.seed, self.epoch, index))
        which = int(torch.randint(len(record.captions), (), generator=g))
        image = self._load_image(index).convert("RGB")
        sample = {
            "index": index,
            "image": self.transform(image, g),
            "caption": pre_caption(record.captions[which], self.max_words),
            "tag_text": self.tag_text(record.parse_label_id[which]),
            "target": self._multi_hot(record.union_label_id),
            "parse_target": self._multi_hot(record.parse_label_id[which]),
        }
        if self.teacher_transform is not None:
            sample["image_224"] = self.teacher_transform(image, g)
        return sample


def collate_samples(samples: list[dict]) -> dict:
    """Stack tensors and keep strings as lists; the keys are those of the samples."""
    batch: dict = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        if isinstance(values[0], torch.Tensor):
            batch[key] = torch.stack(values)
        elif isinstance(values[0], int):
            batch[key] = torch.tensor(values, dtype=torch.long)
        else:
            batch[key] = values
    return batch


__all__ = ["RamTrainingDataset", "TrainTransform", "collate_samples", "sample_seed"]
