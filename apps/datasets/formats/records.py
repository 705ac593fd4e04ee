"""What a reader yields: one image with its captions and tags, or one located error.

Readers never raise on a malformed record: they yield a :class:`RecordError` naming the file, the position
(a line number for line formats, a record number for JSON arrays and tar members) and the field, and go on,
so one pass can both collect every problem (``--strict``) and write the good records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

TagRef = int | str  # a tag index in the label-system version, or a tag's text
MAX_RAW = 500


@dataclass
class ImportRecord:
    """One image and what the corpus says about it; ``tags`` are image-level, ``caption_tags`` per caption."""

    file: str
    line: int
    image: str
    captions: list[str] = field(default_factory=list)
    tags: list[TagRef] = field(default_factory=list)
    caption_tags: list[list[TagRef]] | None = None
    boxes: list[list[float] | None] | None = None  # one region box per caption (Visual Genome)
    width: int | None = None
    height: int | None = None


@dataclass
class RecordError:
    """A malformed record: where it is, which field is wrong and why, and (the start of) its raw text."""

    file: str
    line: int
    field: str
    reason: str
    raw: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason,
                "raw": self.raw}

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: field {self.field!r}: {self.reason}"


ReaderItem = ImportRecord | RecordError
ReaderStream = Iterator[ReaderItem]


def raw_text(value: object) -> str:
    """A short printable form of a raw record for the rejects file."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:MAX_RAW]


def display_name(path: str | os.PathLike) -> str:
    return os.fspath(path)


def caption_list(value: object) -> list[str] | None:
    """A caption field as a list of non-empty strings (a bare string counts as one); None when invalid."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        return None
    captions = [c.strip() for c in value]
    if any(not c for c in captions):
        return None
    return captions


def tag_list(value: object) -> list[TagRef] | None:
    """Tags as indices or texts; dicts with ``id`` or ``name`` are accepted (our own JSONL export)."""
    if not isinstance(value, list):
        return None
    tags: list[TagRef] = []
    for item in value:
        if isinstance(item, dict):
            item = item.get("id", item.get("name"))
        if isinstance(item, bool) or not isinstance(item, int | str):
            return None
        if isinstance(item, str) and not item.strip():
            return None
        tags.append(item.strip() if isinstance(item, str) else item)
    return tags
