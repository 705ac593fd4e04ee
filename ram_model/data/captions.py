"""Caption clean-up applied to training captions before tokenisation (spec §7)."""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r'[.!"()*#:;~]')
_SPACES = re.compile(r"\s+")


def pre_caption(caption: str, max_words: int = 30) -> str:
    """Lower-case, turn `.!"()*#:;~` into spaces, collapse whitespace and keep at most `max_words` words."""
    text = _SPACES.sub(" ", _PUNCTUATION.sub(" ", caption.lower())).strip()
    words = text.split(" ")
    return " ".join(words[:max_words]) if len(words) > max_words else text
