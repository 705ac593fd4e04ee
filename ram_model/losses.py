"""Training losses of RAM, RAM++ and Tag2Text (spec §10).

The tagging loss is the asymmetric loss (ASL, Ridnik et al. 2021) summed over every image and class, the
distillation loss is the mean L1 distance to the frozen CLIP image feature, and the totals combine them the
way the official training does (the tag loss is rescaled to the caption loss's magnitude by a detached ratio).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def asymmetric_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    gamma_neg: float = 7.0,
    gamma_pos: float = 0.0,
    clip: float = 0.05,
    eps: float = 1e-8,
) -> Tensor:
    """ASL of raw logits `(B, C)` against multi-hot targets `(B, C)`; returns the negated sum (a scalar).

    Negatives get their probability shifted down by `clip` (easy negatives drop out entirely) and are
    down-weighted by `p**gamma_neg`; the focusing weights carry no gradient, as in the reference method.
    """
    targets = targets.to(logits.dtype)
    prob = torch.sigmoid(logits.float())
    prob_pos = prob
    prob_neg = 1.0 - prob
    if clip > 0:
        prob_neg = (prob_neg + clip).clamp(max=1.0)
    log_pos = targets * torch.log(prob_pos.clamp(min=eps))
    log_neg = (1.0 - targets) * torch.log(prob_neg.clamp(min=eps))
    loss = log_pos + log_neg
    if gamma_neg > 0 or gamma_pos > 0:
        with torch.no_grad():
            p_true = prob_pos * targets + prob_neg * (1.0 - targets)
            gamma = gamma_pos * targets + gamma_neg * (1.0 - targets)
            weight = torch.pow(1.0 - p_true, gamma)
        loss = loss * weight
    return -loss.sum()


class AsymmetricLoss(nn.Module):
    """Module form of :func:`asymmetric_loss` with its hyper-parameters fixed at construction."""

    def __init__(self, gamma_neg: float = 7.0, gamma_pos: float = 0.0, clip: float = 0.05, eps: float = 1e-8):
        super().__init__()
        self.gamma_neg = gamma_neg
        self.gamma_pos = gamma_pos
        self.clip = clip
        self.eps = eps

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        return asymmetric_loss(
            logits, targets, gamma_neg=self.gamma_neg, gamma_pos=self.gamma_pos, clip=self.clip, eps=self.eps
        )


def distillation_loss(student: Tensor, teacher: Tensor) -> Tensor:
    """Mean L1 distance between the pooled image embedding and the (un-normalised) CLIP image feature."""
    return F.l1_loss(student.float(), teacher.float().detach())


def rescaled_tag_loss(loss_tag: Tensor, loss_t2t: Tensor) -> Tensor:
    """`loss_tag / (loss_tag / loss_t2t).detach()`: same gradient direction, the caption loss's magnitude."""
    ratio = (loss_tag / loss_t2t).detach()
    return loss_tag / ratio


def ram_total(
    loss_tag: Tensor,
    loss_t2t: Tensor,
    loss_dis: Tensor,
    *,
    tag_weight: float = 1.0,
    t2t_weight: float = 1.0,
    dis_weight: float = 1.0,
) -> Tensor:
    """RAM: caption loss + rescaled tag loss + distillation loss (weights 1 reproduce the official sum)."""
    return (
        t2t_weight * loss_t2t + tag_weight * rescaled_tag_loss(loss_tag, loss_t2t) + dis_weight * loss_dis
    )


def tag2text_total(
    loss_tag: Tensor, loss_t2t: Tensor, *, tag_weight: float = 1.0, t2t_weight: float = 1.0
) -> Tensor:
    """Tag2Text: caption loss + rescaled tag loss (no distillation)."""
    return t2t_weight * loss_t2t + tag_weight * rescaled_tag_loss(loss_tag, loss_t2t)


def ram_plus_total(
    loss_tag: Tensor,
    loss_dis: Tensor,
    loss_alignment: Tensor,
    *,
    tag_weight: float = 1.0,
    dis_weight: float = 1.0,
    alignment_weight: float = 1.0,
) -> Tensor:
    """RAM++: tag loss + distillation + image-text alignment, plainly summed (no captioning branch)."""
    return tag_weight * loss_tag + dis_weight * loss_dis + alignment_weight * loss_alignment
