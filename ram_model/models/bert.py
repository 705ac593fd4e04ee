"""The few BERT blocks RAM needs, with the official parameter names.

Names follow the official checkpoints (``attention.self.query``, ``crossattention.output.LayerNorm``,
``intermediate.dense`` …) so the state dicts match key for key without renaming.
Attention runs through ``torch.nn.functional.scaled_dot_product_attention``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class BertConfig:
    """The fields of an official med/q2l config JSON that shape the network."""

    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-12
    max_position_embeddings: int = 512
    vocab_size: int = 30524
    pad_token_id: int = 0
    encoder_width: int = 768
    initializer_range: float = 0.02

    @classmethod
    def from_dict(cls, config: dict[str, Any], **overrides: Any) -> BertConfig:
        names = {f.name for f in fields(cls)}
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"only hidden_act 'gelu' is supported, got {config['hidden_act']!r}")
        values = {k: v for k, v in config.items() if k in names}
        return replace(cls(**values), **overrides)


def init_bert_weights(module: nn.Module, std: float) -> None:
    """BERT initialisation: normal(0, std) for linear/embedding weights, zero biases, unit LayerNorm."""
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            nn.init.normal_(sub.weight, std=std)
            if sub.bias is not None:
                nn.init.zeros_(sub.bias)
        elif isinstance(sub, nn.Embedding):
            nn.init.normal_(sub.weight, std=std)
        elif isinstance(sub, nn.LayerNorm):
            nn.init.ones_(sub.weight)
            nn.init.zeros_(sub.bias)


class MultiHeadAttention(nn.Module):
    """Query/key/value projections and SDPA; keys/values come from ``context`` (self-attention if None)."""

    def __init__(self, hidden_size: int, kv_width: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden size {hidden_size} is not a multiple of {num_heads} heads")
        self.num_heads = num_heads
        self.dropout = dropout
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(kv_width, hidden_size)
        self.value = nn.Linear(kv_width, hidden_size)

    def project_kv(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values ``(B, H, Lk, d)`` of ``context`` (cached by incremental decoding)."""
        batch, k_len, _ = context.shape
        k = self.key(context).view(batch, k_len, self.num_heads, -1).transpose(1, 2)
        v = self.value(context).view(batch, k_len, self.num_heads, -1).transpose(1, 2)
        return k, v

    def attend(
        self, hidden: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        batch, q_len, width = hidden.shape
        q = self.query(hidden).view(batch, q_len, self.num_heads, -1).transpose(1, 2)  # (B, H, Lq, d)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        return out.transpose(1, 2).reshape(batch, q_len, width)

    def forward(
        self, hidden: torch.Tensor, context: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        k, v = self.project_kv(hidden if context is None else context)
        return self.attend(hidden, k, v, mask)


class ResidualOutput(nn.Module):
    """``LayerNorm(dropout(dense(x)) + residual)``: BERT's SelfOutput and Output blocks."""

    def __init__(self, in_width: int, hidden_size: int, eps: float, dropout: float) -> None:
        super().__init__()
        self.dense = nn.Linear(in_width, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(nn.Module):
    """Attention + residual output; ``self`` and ``output`` are the official sub-module names."""

    def __init__(self, config: BertConfig, kv_width: int, num_heads: int | None = None) -> None:
        super().__init__()
        heads = num_heads or config.num_attention_heads
        self.self = MultiHeadAttention(config.hidden_size, kv_width, heads, config.attention_probs_dropout_prob)
        self.output = ResidualOutput(
            config.hidden_size, config.hidden_size, config.layer_norm_eps, config.hidden_dropout_prob
        )

    def forward(
        self, hidden: torch.Tensor, context: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.output(self.self(hidden, context, mask), hidden)


class Intermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class BertLayer(nn.Module):
    """Optional self-attention, optional cross-attention, then the feed-forward block."""

    def __init__(self, config: BertConfig, *, self_attention: bool, cross_attention: bool) -> None:
        super().__init__()
        self.attention = BertAttention(config, config.hidden_size) if self_attention else None
        self.crossattention = BertAttention(config, config.encoder_width) if cross_attention else None
        self.intermediate = Intermediate(config)
        self.output = ResidualOutput(
            config.intermediate_size, config.hidden_size, config.layer_norm_eps, config.hidden_dropout_prob
        )

    def forward(
        self,
        hidden: torch.Tensor,
        self_mask: torch.Tensor | None = None,
        context: torch.Tensor | None = None,
        context_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if self.attention is not None:
            hidden = self.attention(hidden, None, self_mask)
        if self.crossattention is not None:
            if context is None:
                raise ValueError("this layer cross-attends and needs encoder hidden states")
            hidden = self.crossattention(hidden, context, context_mask)
        return self.output(self.intermediate(hidden), hidden)


LayerCache = dict[str, torch.Tensor]


def _extend_layer(layer: BertLayer, hidden: torch.Tensor, cache: LayerCache) -> torch.Tensor:
    """Run new decoder positions through one layer, appending their keys/values to ``cache``.

    ``cache`` holds ``self_k``/``self_v`` of earlier positions and ``cross_k``/``cross_v`` of the context.
    """
    attn, cross = layer.attention, layer.crossattention
    k_new, v_new = attn.self.project_kv(hidden)
    if "self_k" in cache:
        k_new = torch.cat([cache["self_k"], k_new], dim=2)
        v_new = torch.cat([cache["self_v"], v_new], dim=2)
    cache["self_k"], cache["self_v"] = k_new, v_new
    new_len, total = hidden.shape[1], k_new.shape[2]
    mask = None
    if new_len > 1:  # causal among the new positions; every earlier position is visible
        mask = torch.ones(new_len, total, dtype=torch.bool, device=hidden.device).tril(total - new_len)
    hidden = attn.output(attn.self.attend(hidden, k_new, v_new, mask), hidden)
    hidden = cross.output(cross.self.attend(hidden, cache["cross_k"], cache["cross_v"]), hidden)
    return layer.output(layer.intermediate(hidden), hidden)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig, *, self_attention: bool, cross_attention: bool) -> None:
        super().__init__()
        self.layer = nn.ModuleList(
            BertLayer(config, self_attention=self_attention, cross_attention=cross_attention)
            for _ in range(config.num_hidden_layers)
        )

    def forward(
        self,
        hidden: torch.Tensor,
        self_mask: torch.Tensor | None = None,
        context: torch.Tensor | None = None,
        context_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        for layer in self.layer:
            hidden = layer(hidden, self_mask, context, context_mask)
        return hidden


class BertEmbeddings(nn.Module):
    """Word + absolute position embeddings, LayerNorm, dropout (this BERT variant has no token types)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        # Optional in checkpoints, so not persistent here; the converter adds it back when exporting.
        self.register_buffer(
            "position_ids", torch.arange(config.max_position_embeddings).unsqueeze(0), persistent=False
        )

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = self.position_ids[:, : input_ids.shape[1]]
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        return self.dropout(self.LayerNorm(x))


def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """``[B, L]`` 1/0 mask → boolean ``[B, 1, 1, L]`` (True = may attend)."""
    return attention_mask.bool()[:, None, None, :]


def causal_padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Causal mask combined with key padding: boolean ``[B, 1, L, L]``."""
    length = attention_mask.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=attention_mask.device).tril()
    return causal[None, None] & padding_mask(attention_mask)


class BertTextModel(nn.Module):
    """BERT with embeddings, self-attention and cross-attention to image/tag states (no pooler)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config, self_attention=True, cross_attention=True)
        init_bert_weights(self, config.initializer_range)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        causal: bool = False,
    ) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        self_mask = causal_padding_mask(attention_mask) if causal else padding_mask(attention_mask)
        context_mask = None if encoder_attention_mask is None else padding_mask(encoder_attention_mask)
        hidden = self.embeddings(input_ids)
        return self.encoder(hidden, self_mask, encoder_hidden_states, context_mask)


class TaggingHead(nn.Module):
    """Query2Label decoder: label queries cross-attend to image tokens; no embeddings, no self-attention."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = BertEncoder(config, self_attention=False, cross_attention=True)
        init_bert_weights(self, config.initializer_range)

    def forward(self, queries: torch.Tensor, image_embeds: torch.Tensor) -> torch.Tensor:
        """``queries`` (B, C, hidden), ``image_embeds`` (B, N, encoder_width) → (B, C, hidden)."""
        return self.encoder(queries, None, image_embeds, None)


class PredictionTransform(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(F.gelu(self.dense(x)))


class LMPredictions(nn.Module):
    """Transform + vocabulary projection; ``decoder.bias`` is the same Parameter as ``bias``."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.transform = PredictionTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder.bias = self.bias

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(hidden))


class LMHead(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.predictions = LMPredictions(config)


class BertLMHeadModel(nn.Module):
    """Causal text decoder; the output projection weight is tied to the word embeddings."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.bert = BertTextModel(config)
        self.cls = LMHead(config)
        init_bert_weights(self.cls, config.initializer_range)
        nn.init.zeros_(self.cls.predictions.bias)
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def start_cache(self, encoder_hidden_states: torch.Tensor) -> list[LayerCache]:
        """Per-layer cache for :meth:`extend`, holding the context's cross-attention keys/values."""
        cache = []
        for layer in self.bert.encoder.layer:
            k, v = layer.crossattention.self.project_kv(encoder_hidden_states)
            cache.append({"cross_k": k, "cross_v": v})
        return cache

    def extend(self, new_ids: torch.Tensor, cache: list[LayerCache], past_length: int) -> torch.Tensor:
        """Logits ``(B, L_new, vocab)`` for tokens appended after ``past_length`` cached positions.

        Same result as :meth:`forward` on the whole sequence (no padding) for the new positions.
        """
        embeddings = self.bert.embeddings
        positions = embeddings.position_ids[:, past_length : past_length + new_ids.shape[1]]
        hidden = embeddings.word_embeddings(new_ids) + embeddings.position_embeddings(positions)
        hidden = embeddings.dropout(embeddings.LayerNorm(hidden))
        for layer, layer_cache in zip(self.bert.encoder.layer, cache):
            hidden = _extend_layer(layer, hidden, layer_cache)
        return self.cls.predictions(hidden)

    @staticmethod
    def reorder_cache(cache: list[LayerCache], index: torch.Tensor) -> list[LayerCache]:
        """Select cache rows (beam search keeps the rows of the surviving beams)."""
        return [{name: value.index_select(0, index) for name, value in layer.items()} for layer in cache]

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Vocabulary logits ``(B, L, vocab)``."""
        hidden = self.bert(
            input_ids, attention_mask, encoder_hidden_states, encoder_attention_mask, causal=True
        )
        return self.cls.predictions(hidden)


TIED_LAYER_MODULES = (
    "crossattention.self.query",
    "crossattention.self.key",
    "crossattention.self.value",
    "crossattention.output.dense",
    "crossattention.output.LayerNorm",
    "intermediate.dense",
    "output.dense",
    "output.LayerNorm",
)


def tie_tagging_head_into(tag_encoder: BertTextModel, tagging_head: TaggingHead) -> None:
    """Share the tagging head's layer weights with the first tag-encoder layers (same Parameter objects).

    The head counts may differ (official: 4 in the head, 12 in the tag encoder); only weights are shared.
    """
    for index, head_layer in enumerate(tagging_head.encoder.layer):
        if index >= len(tag_encoder.encoder.layer):
            break
        enc_layer = tag_encoder.encoder.layer[index]
        for path in TIED_LAYER_MODULES:
            source = head_layer.get_submodule(path)
            target = enc_layer.get_submodule(path)
            for name, param in list(source.named_parameters(recurse=False)):
                own = getattr(target, name)
                if own.shape != param.shape:
                    raise ValueError(
                        f"cannot tie tagging_head layer {index} {path}.{name} {tuple(param.shape)} into "
                        f"tag_encoder {tuple(own.shape)}: configs disagree"
                    )
                setattr(target, name, param)
