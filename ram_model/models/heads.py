"""Small tagging-head pieces: the group-wise classifier and RAM++'s image-conditioned description weighting."""

from __future__ import annotations

import math

import torch
from torch import nn


class GroupWiseLinear(nn.Module):
    """One weight vector per class: ``logit_c = <W[0, c], h[:, c]> + b[0, c]`` (Tag2Text's ``fc``)."""

    def __init__(self, num_classes: int, hidden_dim: int) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.empty(1, num_classes, hidden_dim))
        self.b = nn.Parameter(torch.empty(1, num_classes))
        bound = 1.0 / math.sqrt(hidden_dim)
        nn.init.uniform_(self.W, -bound, bound)
        nn.init.uniform_(self.b, -bound, bound)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """``hidden`` (B, C, D) → logits (B, C)."""
        return (self.W * hidden).sum(-1) + self.b


def reweight_descriptions(
    pooled: torch.Tensor, label_embed: torch.Tensor, num_classes: int, log_scale: torch.Tensor
) -> torch.Tensor:
    """RAM++: per image, softmax-weight each class's description embeddings by similarity to the image.

    ``pooled`` (B, D) projected pooled image token; ``label_embed`` (C*K, D) tag-major descriptions.
    Returns per-image class embeddings (B, C, D).
    """
    per_class = label_embed.shape[0] // num_classes
    image = pooled / pooled.norm(dim=-1, keepdim=True)
    scores = log_scale.exp() * image @ label_embed.t()  # (B, C*K)
    weights = scores.view(pooled.shape[0], num_classes, per_class).softmax(dim=-1)  # (B, C, K)
    descriptions = label_embed.view(num_classes, per_class, -1)  # (C, K, D)
    return torch.einsum("bck,ckd->bcd", weights, descriptions)


def random_unit_rows(rows: int, dim: int) -> torch.Tensor:
    """Random L2-normalised rows: a stand-in for CLIP text embeddings until real ones are loaded."""
    x = torch.randn(rows, dim)
    return x / x.norm(dim=-1, keepdim=True)
