"""One training forward pass: the model's losses for a batch, combined the way each variant trains.

`TrainingObjective` wraps the model so that DistributedDataParallel sees a single `forward` (calling model
methods directly would bypass DDP's gradient hooks). Frozen teacher outputs (CLIP image features for
distillation, CLIP caption features for RAM++ alignment) are computed outside and passed in.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ram_model.losses import AsymmetricLoss, distillation_loss, ram_plus_total, ram_total, tag2text_total


class TrainingObjective(nn.Module):
    """`forward(batch, teacher_features, text_features)` → dict of scalar losses with the total in `loss`."""

    def __init__(self, model: nn.Module, config: dict[str, Any]) -> None:
        super().__init__()
        self.model = model
        self.arch = model.config["arch"]
        self.tag_loss = AsymmetricLoss(**config["asl"])
        self.alignment_loss = AsymmetricLoss(**config["alignment_asl"])
        self.weights = dict(config["loss_weights"])
        self.use_captions = bool(config["caption"]) and bool(getattr(model, "has_captions", False))

    def forward(
        self, batch: dict[str, Any], teacher_features: Tensor | None = None, text_features: Tensor | None = None
    ) -> dict[str, Tensor]:
        model = self.model
        embeds = model.image_embeddings(batch["image"])  # (B, 1+N, D)
        logits = model.tagging_logits_from_embeddings(embeds)  # (B, C)
        target = batch["parse_target"] if self.arch == "tag2text" else batch["target"]
        parts: dict[str, Tensor] = {"loss_tag": self.tag_loss(logits, target)}
        if self.use_captions:
            parts["loss_t2t"] = model.caption_loss(embeds, batch["tag_text"], batch["caption"])
        if teacher_features is not None and self.arch != "tag2text":
            parts["loss_dis"] = distillation_loss(embeds[:, 0], teacher_features)
        if text_features is not None and self.arch == "ram_plus":
            align_logits = model.alignment_logits(embeds, text_features)  # (B, B)
            eye = torch.eye(align_logits.shape[0], device=align_logits.device)
            parts["loss_alignment"] = self.alignment_loss(align_logits, eye)
        parts["loss"] = self._total(parts)
        return parts

    def _total(self, parts: dict[str, Tensor]) -> Tensor:
        w = self.weights
        zero = parts["loss_tag"].new_zeros(())
        dis = parts.get("loss_dis", zero)
        if self.arch == "ram_plus":
            return ram_plus_total(
                parts["loss_tag"], dis, parts.get("loss_alignment", zero),
                tag_weight=w["tag"], dis_weight=w["dis"], alignment_weight=w["alignment"],
            )
        if "loss_t2t" not in parts:
            return w["tag"] * parts["loss_tag"] + w["dis"] * dis
        if self.arch == "tag2text":
            return tag2text_total(parts["loss_tag"], parts["loss_t2t"], tag_weight=w["tag"], t2t_weight=w["t2t"])
        return ram_total(
            parts["loss_tag"], parts["loss_t2t"], dis, tag_weight=w["tag"], t2t_weight=w["t2t"], dis_weight=w["dis"]
        )
