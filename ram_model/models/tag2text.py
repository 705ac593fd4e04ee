"""Tag2Text: Swin tokens used directly (no projection), learned label queries, per-class classifier."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import Tagger
from .bert import BertConfig, TaggingHead, tie_tagging_head_into
from .caption import CaptionBranch
from .heads import GroupWiseLinear
from .swin import build_swin


class Tag2Text(CaptionBranch, Tagger):
    """Tagging plus tag-guided captioning (``generate_captions``)."""

    has_captions = True

    def __init__(self, config: dict[str, Any]) -> None:
        Tagger.__init__(self, config)
        self.visual_encoder = build_swin(config["swin"], self.image_size)
        width = self.visual_encoder.vision_width
        q2l = BertConfig.from_dict(config["q2l"], encoder_width=width)
        med = BertConfig.from_dict(config["med"])
        classes = int(config["num_classes"])
        self.label_embed = nn.Embedding(classes, q2l.hidden_size)
        nn.init.normal_(self.label_embed.weight, std=q2l.initializer_range)
        self.tagging_head = TaggingHead(q2l)
        self.fc = GroupWiseLinear(classes, q2l.hidden_size)
        self._build_caption_modules(med, tag_encoder_width=width)
        tie_tagging_head_into(self.tag_encoder, self.tagging_head)

    @property
    def num_classes(self) -> int:
        return self.label_embed.num_embeddings

    def image_embeddings(self, images: torch.Tensor) -> torch.Tensor:
        """Swin tokens ``(B, 1 + N, vision_width)`` (no projection in Tag2Text)."""
        return self.visual_encoder(images)

    def tagging_logits_from_embeddings(self, image_embeds: torch.Tensor) -> torch.Tensor:
        queries = self.label_embed.weight.unsqueeze(0).expand(image_embeds.shape[0], -1, -1)
        return self.fc(self.tagging_head(queries, image_embeds))

    def set_label_embeddings(self, label_embed: torch.Tensor) -> None:
        raise NotImplementedError("tag2text learns one classifier per tag; open-set tags need RAM or RAM++")
