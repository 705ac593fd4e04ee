"""The frozen CLIP teacher: image features for distillation and caption features for RAM++ alignment."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def load_teacher(config: dict[str, Any], device: torch.device) -> nn.Module | None:
    """The CLIP model named by the config, frozen and in eval mode (None when distillation is off).

    Without `clip_checkpoint` a real run has no teacher and fails loudly; `clip_tiny: true` (tests) builds
    the tiny random CLIP instead.
    """
    if not config["distill"]:
        return None
    if config["clip_checkpoint"] is None and not config["clip_tiny"]:
        raise ValueError(
            "distillation needs a CLIP teacher: set clip_checkpoint (ViT-B/16), or distill: false"
        )
    from ram_model.clip import load_clip

    clip = load_clip(config["clip_checkpoint"], config["clip_model"], tiny=bool(config["clip_tiny"]))
    clip = clip.to(device).eval()
    for parameter in clip.parameters():
        parameter.requires_grad_(False)
    return clip


def teacher_image_size(clip: nn.Module, configured: int | None) -> int:
    """The configured teacher input size, else the CLIP vision tower's own."""
    if configured:
        return int(configured)
    size = getattr(getattr(clip, "visual", None), "image_size", 224)
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def teacher_tokenizer(clip: nn.Module) -> Any:
    """The BPE tokenizer matching the teacher (open_clip's bundled one)."""
    from ram_model.clip import clip_tokenizer

    return clip_tokenizer(getattr(clip, "ram_model_name", "ViT-B-16"))


@torch.no_grad()
def image_features(clip: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Un-normalised CLIP image features `(B, 512)` (the distillation target, spec §10)."""
    return clip.encode_image(images).float()


@torch.no_grad()
def caption_features(clip: nn.Module, captions: list[str], tokenizer: Any) -> torch.Tensor:
    """L2-normalised CLIP text features of the batch captions `(B, 512)` (RAM++ alignment queries)."""
    device = next(clip.parameters()).device
    tokens = tokenizer(captions).to(device)
    return F.normalize(clip.encode_text(tokens).float(), dim=-1)
