"""BERT uncased WordPiece tokenizer with RAM's extra tokens ``[DEC]`` (30522) and ``[ENC]`` (30523)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer
from tokenizers.implementations import BertWordPieceTokenizer

VOCAB_PATH = Path(__file__).resolve().parent / "assets" / "bert-base-uncased-vocab.txt"
CAPTION_PROMPT = "a picture of "


@dataclass(frozen=True)
class Encoded:
    input_ids: torch.Tensor  # (B, L) int64
    attention_mask: torch.Tensor  # (B, L) int64, 1 = real token


class RamTokenizer:
    """Tokenize tag strings and captions exactly like the official ``BertTokenizer`` set-up."""

    def __init__(self, vocab_path: str | Path = VOCAB_PATH) -> None:
        wordpiece = BertWordPieceTokenizer(str(vocab_path), lowercase=True)
        wordpiece.add_special_tokens(["[DEC]", "[ENC]"])
        self._tok: Tokenizer = wordpiece._tokenizer
        self.pad_token_id = self._id("[PAD]")
        self.cls_token_id = self._id("[CLS]")
        self.sep_token_id = self._id("[SEP]")
        self.bos_token_id = self._id("[DEC]")
        self.enc_token_id = self._id("[ENC]")
        self.vocab_size = self._tok.get_vocab_size(with_added_tokens=True)

    def _id(self, token: str) -> int:
        token_id = self._tok.token_to_id(token)
        if token_id is None:
            raise ValueError(f"token {token} missing from the vocabulary")
        return token_id

    def __len__(self) -> int:
        return self.vocab_size

    def __call__(self, texts: list[str], *, max_length: int | None = 40, pad_to_max: bool = False) -> Encoded:
        """Encode with [CLS] … [SEP], truncated to ``max_length``, padded to the longest (or ``max_length``)."""
        tok = self._tok
        if max_length is not None:
            tok.enable_truncation(max_length)
        else:
            tok.no_truncation()
        length = max_length if pad_to_max else None
        tok.enable_padding(pad_id=self.pad_token_id, pad_token="[PAD]", length=length)
        batch = tok.encode_batch(list(texts))
        ids = torch.tensor([e.ids for e in batch], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in batch], dtype=torch.long)
        return Encoded(ids, mask)

    def decode(self, ids: list[int] | torch.Tensor, skip_special_tokens: bool = True) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def prompt_ids(self, prompt: str = CAPTION_PROMPT) -> list[int]:
        """Ids of the caption prompt with [CLS] and [SEP], e.g. ``[101, 1037, 3861, 1997, 102]``."""
        return self([prompt], max_length=None).input_ids[0].tolist()
