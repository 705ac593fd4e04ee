"""The reader registry: import format name → streaming reader function."""

from __future__ import annotations

import os
from collections.abc import Callable

from .readers_json import read_coco, read_ram_json, read_vg
from .readers_text import read_jsonl, read_tsv
from .readers_wds import read_wds
from .records import ReaderStream

Reader = Callable[..., ReaderStream]

READERS: dict[str, Reader] = {
    "coco": read_coco,
    "vg": read_vg,
    "tsv": read_tsv,
    "ram-json": read_ram_json,
    "jsonl": read_jsonl,
    "wds": read_wds,
}
IMPORT_FORMATS = tuple(READERS)


def read(format_name: str, path: str | os.PathLike, **options: object) -> ReaderStream:
    """Stream the records of one file; ``options`` go to readers that take them (``layout`` for TSV)."""
    try:
        reader = READERS[format_name]
    except KeyError:
        raise ValueError(f"unknown import format {format_name!r} (choose from {', '.join(IMPORT_FORMATS)})") from None
    accepted = {"tsv": {"layout"}, "vg": {"image_template"}}.get(format_name, set())
    return reader(path, **{k: v for k, v in options.items() if k in accepted and v is not None})
