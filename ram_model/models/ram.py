"""RAM: Swin encoder → 512-d image tokens; CLIP label queries decoded against them; tag-text branch."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import Tagger
from .bert import BertConfig, TaggingHead, tie_tagging_head_into
from .caption import CaptionBranch
from .heads import random_unit_rows
from .swin import build_swin


class RAM(CaptionBranch, Tagger):
    """Recognize Anything Model (closed-set tags from frozen CLIP text embeddings, open-set by swapping)."""

    has_captions = True

    def __init__(self, config: dict[str, Any]) -> None:
        Tagger.__init__(self, config)
        embed_dim = int(config.get("embed_dim", 512))
        q2l = BertConfig.from_dict(config["q2l"], encoder_width=embed_dim)
        med = BertConfig.from_dict(config["med"])
        self.visual_encoder = build_swin(config["swin"], self.image_size)
        self.image_proj = nn.Linear(self.visual_encoder.vision_width, embed_dim)
        # Frozen CLIP text embeddings in the released model; random unit rows until loaded.
        self.label_embed = nn.Parameter(random_unit_rows(int(config["num_classes"]), embed_dim), requires_grad=False)
        self.wordvec_proj = nn.Linear(embed_dim, q2l.hidden_size) if q2l.hidden_size != embed_dim else nn.Identity()
        self.tagging_head = TaggingHead(q2l)
        self.fc = nn.Linear(q2l.hidden_size, 1)
        if config.get("caption", True):
            self._build_caption_modules(med, tag_encoder_width=embed_dim)
            tie_tagging_head_into(self.tag_encoder, self.tagging_head)
        else:
            self.has_captions = False

    @property
    def num_classes(self) -> int:
        return self.label_embed.shape[0]

    def image_embeddings(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, S, S)`` → projected tokens ``(B, 1 + N, 512)``; token 0 is the pooled token."""
        return self.image_proj(self.visual_encoder(images))

    def label_queries(self, image_embeds: torch.Tensor) -> torch.Tensor:
        """``relu(wordvec_proj(label_embed))`` broadcast over the batch → ``(B, C, hidden)``."""
        queries = F.relu(self.wordvec_proj(self.label_embed))
        return queries.unsqueeze(0).expand(image_embeds.shape[0], -1, -1)

    def tagging_logits_from_embeddings(self, image_embeds: torch.Tensor) -> torch.Tensor:
        hidden = self.tagging_head(self.label_queries(image_embeds), image_embeds)  # (B, C, hidden)
        return self.fc(hidden).squeeze(-1)

    def set_label_embeddings(self, label_embed: torch.Tensor) -> None:
        """Swap in new class embeddings ``(C', 512)`` (open-set); the class count follows."""
        if label_embed.ndim != 2 or label_embed.shape[1] != self.label_embed.shape[1]:
            dim = self.label_embed.shape[1]
            raise ValueError(f"expected label embeddings (C, {dim}), got {tuple(label_embed.shape)}")
        new = label_embed.detach().to(self.label_embed.device, self.label_embed.dtype).clone()
        self.label_embed = nn.Parameter(new, requires_grad=False)
        self._sync_config(num_classes=new.shape[0])
