"""RAM++: RAM without the caption branch; label queries are image-weighted mixes of tag descriptions."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import Tagger
from .bert import BertConfig, TaggingHead
from .heads import random_unit_rows, reweight_descriptions
from .swin import build_swin


class RAMPlus(Tagger):
    """``label_embed`` holds K description embeddings per class, tag-major ``(C*K, 512)``."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        embed_dim = int(config.get("embed_dim", 512))
        self.num_descriptions = int(config.get("num_descriptions", 51))
        classes = int(config["num_classes"])
        q2l = BertConfig.from_dict(config["q2l"], encoder_width=embed_dim)
        self.visual_encoder = build_swin(config["swin"], self.image_size)
        self.image_proj = nn.Linear(self.visual_encoder.vision_width, embed_dim)
        rows = classes * self.num_descriptions
        self.label_embed = nn.Parameter(random_unit_rows(rows, embed_dim), requires_grad=False)
        self.reweight_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.wordvec_proj = nn.Linear(embed_dim, q2l.hidden_size) if q2l.hidden_size != embed_dim else nn.Identity()
        self.tagging_head = TaggingHead(q2l)
        self.fc = nn.Linear(q2l.hidden_size, 1)
        self._num_classes = classes

    @property
    def num_classes(self) -> int:
        return self._num_classes

    def image_embeddings(self, images: torch.Tensor) -> torch.Tensor:
        return self.image_proj(self.visual_encoder(images))

    def label_queries(self, image_embeds: torch.Tensor) -> torch.Tensor:
        """Image-conditioned class queries ``(B, C, hidden)`` (spec §8)."""
        mixed = reweight_descriptions(image_embeds[:, 0], self.label_embed, self.num_classes, self.reweight_scale)
        return F.relu(self.wordvec_proj(mixed))

    def tagging_logits_from_embeddings(self, image_embeds: torch.Tensor) -> torch.Tensor:
        hidden = self.tagging_head(self.label_queries(image_embeds), image_embeds)
        return self.fc(hidden).squeeze(-1)

    def alignment_logits(self, image_embeds: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
        """Image-text alignment: every caption feature ``(T, 512)`` as a query for every image → ``(B, T)``."""
        queries = F.relu(self.wordvec_proj(text_features)).unsqueeze(0).expand(image_embeds.shape[0], -1, -1)
        return self.fc(self.tagging_head(queries, image_embeds)).squeeze(-1)

    def set_label_embeddings(self, label_embed: torch.Tensor) -> None:
        """Swap in ``(C, K, 512)`` or tag-major ``(C*K, 512)`` description embeddings (K = current count)."""
        dim = self.label_embed.shape[1]
        if label_embed.ndim == 3 and label_embed.shape[2] == dim:
            classes, per_class = label_embed.shape[:2]
            flat = label_embed.reshape(-1, dim)
        elif label_embed.ndim == 2 and label_embed.shape[1] == dim and not label_embed.shape[0] % self.num_descriptions:
            per_class = self.num_descriptions
            classes, flat = label_embed.shape[0] // per_class, label_embed
        else:
            raise ValueError(
                f"expected (C, K, {dim}) or (C*{self.num_descriptions}, {dim}) embeddings, "
                f"got {tuple(label_embed.shape)}"
            )
        self.label_embed = nn.Parameter(
            flat.detach().to(self.label_embed.device, self.label_embed.dtype).clone(), requires_grad=False
        )
        self.num_descriptions = int(per_class)
        self._num_classes = int(classes)
        self._sync_config(num_classes=self._num_classes, num_descriptions=self.num_descriptions)
