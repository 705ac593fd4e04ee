"""Shared interface of the three taggers (RAM, RAM++, Tag2Text)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Tagger(nn.Module):
    """``tagging_logits(images)`` = ``tagging_logits_from_embeddings(image_embeddings(images))``."""

    variant: str
    image_size: int
    has_captions: bool = False

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config = config  # resolved plain-data config; rebuilds this model with build_model(config)
        self.variant = config["variant"]
        self.image_size = int(config["image_size"])

    @property
    def num_classes(self) -> int:
        raise NotImplementedError

    def image_embeddings(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def tagging_logits_from_embeddings(self, image_embeds: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def tagging_logits(self, images: torch.Tensor) -> torch.Tensor:
        """Preprocessed images ``(B, 3, S, S)`` → raw logits ``(B, num_classes)``."""
        return self.tagging_logits_from_embeddings(self.image_embeddings(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.tagging_logits(images)

    def set_label_embeddings(self, label_embed: torch.Tensor) -> None:
        raise NotImplementedError(f"{self.variant} has no swappable label embeddings")

    def set_fast_attention(self, enabled: bool = True) -> None:
        """Use SDPA in the Swin window attention too (the BERT blocks always use it)."""
        self.visual_encoder.set_fused_attention(enabled)

    def _sync_config(self, **changes: Any) -> None:
        self.config = {**self.config, **changes}
