"""Swin image encoder: timm's SwinTransformer returning a pooled token followed by the patch tokens.

timm's internal layout puts patch merging at the start of a stage; ``ram_model.convert`` maps the official
(end-of-stage) key names to this layout and back.
"""

from __future__ import annotations

from typing import Any

import torch
from timm.models.swin_transformer import SwinTransformer, WindowAttention


class SwinEncoder(SwinTransformer):
    """Swin backbone whose output is ``[B, 1 + N, C]``: token 0 = mean of the final normed patch tokens."""

    def __init__(
        self,
        *,
        embed_dim: int,
        depths: list[int],
        num_heads: list[int],
        window_size: int,
        image_size: int,
        drop_path_rate: float = 0.1,
    ) -> None:
        super().__init__(
            img_size=image_size,
            patch_size=4,
            in_chans=3,
            num_classes=0,
            embed_dim=embed_dim,
            depths=tuple(depths),
            num_heads=tuple(num_heads),
            window_size=window_size,
            mlp_ratio=4.0,
            qkv_bias=True,
            drop_rate=0.0,
            drop_path_rate=drop_path_rate,
        )
        self.image_size = image_size
        self.window_size = window_size
        self.vision_width = self.num_features

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        tokens = self.forward_features(images).flatten(1, 2)  # (B, H*W, C), already normed
        pooled = tokens.mean(dim=1, keepdim=True)  # (B, 1, C)
        return torch.cat([pooled, tokens], dim=1)

    def set_fused_attention(self, enabled: bool) -> None:
        """Switch window attention to ``scaled_dot_product_attention`` (timm leaves it off by default)."""
        for module in self.modules():
            if isinstance(module, WindowAttention):
                module.fused_attn = enabled


def build_swin(config: dict[str, Any], image_size: int | None = None, drop_path_rate: float = 0.1) -> SwinEncoder:
    """Build the encoder from an official-format swin config (``embed_dim``, ``depths``, ``num_heads``, …)."""
    size = int(image_size or config["image_res"])
    encoder = SwinEncoder(
        embed_dim=int(config["embed_dim"]),
        depths=list(config["depths"]),
        num_heads=list(config["num_heads"]),
        window_size=int(config["window_size"]),
        image_size=size,
        drop_path_rate=drop_path_rate,
    )
    expected = config.get("vision_width")
    if expected is not None and int(expected) != encoder.vision_width:
        raise ValueError(f"swin config vision_width {expected} != embed_dim*2**(stages-1) = {encoder.vision_width}")
    return encoder
