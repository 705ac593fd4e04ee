"""Image-tag-text generation branch shared by RAM and Tag2Text: tag encoder + causal text decoder."""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from ..tokenizer import CAPTION_PROMPT, RamTokenizer
from .bert import BertConfig, BertLMHeadModel, BertTextModel
from .generation import beam_search, greedy_search

TAG_MAX_LENGTH = 40
CAPTION_MAX_LENGTH = 40


class CachedDecoderStep:
    """Generation step over the text decoder with a key/value cache (each step encodes one new token)."""

    def __init__(self, decoder: BertLMHeadModel, context: torch.Tensor) -> None:
        self.decoder = decoder
        self.cache = decoder.start_cache(context)
        self.length = 0

    def __call__(self, seqs: torch.Tensor, parents: torch.Tensor | None) -> torch.Tensor:
        if parents is not None:
            self.cache = self.decoder.reorder_cache(self.cache, parents)
        logits = self.decoder.extend(seqs[:, self.length :], self.cache, self.length)
        self.length = seqs.shape[1]
        return logits[:, -1].float().log_softmax(dim=-1)


class CaptionBranch(nn.Module):
    """Mixin for models with ``tag_encoder`` and ``text_decoder`` attributes (official key names)."""

    tag_encoder: BertTextModel
    text_decoder: BertLMHeadModel
    prompt: str = CAPTION_PROMPT
    label_smoothing: float = 0.1

    def _build_caption_modules(self, med: BertConfig, tag_encoder_width: int) -> None:
        self.tag_encoder = BertTextModel(replace(med, encoder_width=tag_encoder_width))
        # The decoder cross-attends to the tag encoder's output, so its key/value width is the hidden size.
        self.text_decoder = BertLMHeadModel(replace(med, encoder_width=med.hidden_size))
        self._tokenizer: RamTokenizer | None = None

    @property
    def tokenizer(self) -> RamTokenizer:
        if self._tokenizer is None:
            self._tokenizer = RamTokenizer()
        return self._tokenizer

    def caption_image_embeddings(self, image_embeds: torch.Tensor) -> torch.Tensor:
        """The tokens the tag encoder cross-attends to (RAM: projected 512-d; Tag2Text: Swin tokens)."""
        return image_embeds

    def encode_tags(self, image_embeds: torch.Tensor, tag_texts: list[str]) -> torch.Tensor:
        """Tags joined by ' | ' (first token [ENC]) cross-attending to the image → ``(B, 40, hidden)``."""
        tok = self.tokenizer
        enc = tok(tag_texts, max_length=TAG_MAX_LENGTH, pad_to_max=True)
        ids = enc.input_ids.to(image_embeds.device)
        ids[:, 0] = tok.enc_token_id
        return self.tag_encoder(
            ids,
            attention_mask=enc.attention_mask.to(image_embeds.device),
            encoder_hidden_states=self.caption_image_embeddings(image_embeds),
        )

    def caption_loss(self, image_embeds: torch.Tensor, tag_texts: list[str], captions: list[str]) -> torch.Tensor:
        """Decoder LM loss (label smoothing 0.1) for ``prompt + caption``; prompt and pad positions ignored.

        ``tag_texts`` are one string per image with tags joined by ' | '; ``captions`` are raw captions.
        """
        tok = self.tokenizer
        tag_states = self.encode_tags(image_embeds, tag_texts)
        texts = [c if c.startswith(self.prompt) else self.prompt + c for c in captions]
        enc = tok(texts, max_length=CAPTION_MAX_LENGTH)
        ids = enc.input_ids.to(image_embeds.device)
        mask = enc.attention_mask.to(image_embeds.device)
        ids[:, 0] = tok.bos_token_id
        targets = ids.masked_fill(mask == 0, -100)
        targets[:, : self.prompt_length] = -100
        logits = self.text_decoder(ids, attention_mask=mask, encoder_hidden_states=tag_states)
        return F.cross_entropy(
            logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
            targets[:, 1:].reshape(-1),
            ignore_index=-100,
            label_smoothing=self.label_smoothing,
        )

    @property
    def prompt_length(self) -> int:
        return len(self.tokenizer.prompt_ids(self.prompt)) - 1

    @torch.no_grad()
    def generate_captions(
        self,
        images_or_embeds: torch.Tensor,
        tag_texts: list[str],
        *,
        num_beams: int = 3,
        max_length: int = 30,
        min_length: int = 10,
    ) -> list[str]:
        """Captions for preprocessed images ``(B, 3, S, S)`` or image embeddings ``(B, N, D)``."""
        embeds = self.image_embeddings(images_or_embeds) if images_or_embeds.ndim == 4 else images_or_embeds
        return self.generate_captions_from_embeddings(
            embeds, tag_texts, num_beams=num_beams, max_length=max_length, min_length=min_length
        )

    @torch.no_grad()
    def generate_captions_from_embeddings(
        self,
        image_embeds: torch.Tensor,
        tag_texts: list[str],
        *,
        num_beams: int = 3,
        max_length: int = 30,
        min_length: int = 10,
    ) -> list[str]:
        """Captions conditioned on tags; beam search (``num_beams`` > 1) or greedy decoding."""
        tok = self.tokenizer
        max_length = min(max_length, self.text_decoder.config.max_position_embeddings)
        tag_states = self.encode_tags(image_embeds, tag_texts)  # (B, 40, hidden)
        prompt = torch.tensor(tok.prompt_ids(self.prompt)[:-1], device=image_embeds.device)
        prompt[0] = tok.bos_token_id
        prompt = prompt.expand(len(tag_texts), -1)

        kwargs = dict(max_length=max_length, min_length=min_length, eos_id=tok.sep_token_id, pad_id=tok.pad_token_id)
        if num_beams > 1:
            step = CachedDecoderStep(self.text_decoder, tag_states.repeat_interleave(num_beams, dim=0))
            out = beam_search(step, prompt, num_beams=num_beams, **kwargs)
        else:
            out = greedy_search(CachedDecoderStep(self.text_decoder, tag_states), prompt, **kwargs)
        return [tok.decode(row)[len(self.prompt) :].strip() for row in out]
