"""Line-based readers: TSV (CC3M/CC12M/SBU style) and JSONL."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .records import ImportRecord, ReaderStream, RecordError, caption_list, raw_text, tag_list

IMAGE_KEYS = ("image", "image_path", "file_name", "path", "url")
_IMAGE_LIKE = re.compile(r"^(https?://|/)|\.(jpe?g|png|webp|gif|bmp|tiff?)(\?.*)?$", re.IGNORECASE)
TSV_LAYOUTS = ("auto", "caption,image", "image,caption")
_HEADER_IMAGE = {"image", "image_path", "url", "path", "file", "file_name", "filepath", "image_url"}


def _looks_like_image(text: str) -> bool:
    return bool(_IMAGE_LIKE.search(text.strip()))


def _tsv_layout(first: list[str], layout: str) -> tuple[str, bool]:
    """(layout, first line is a header): a header names the columns, else the image-like column decides."""
    names = [c.strip().lower() for c in first]
    if len(names) >= 2 and "caption" in names[:2] and _HEADER_IMAGE & set(names[:2]):
        detected = "caption,image" if names[0] == "caption" else "image,caption"
        return (detected if layout == "auto" else layout), True
    if layout != "auto":
        return layout, False
    if len(first) >= 2 and _looks_like_image(first[1]) and not _looks_like_image(first[0]):
        return "caption,image", False
    if len(first) >= 2 and _looks_like_image(first[0]) and not _looks_like_image(first[1]):
        return "image,caption", False
    raise ValueError("cannot tell which TSV column holds the image; add a header (caption<TAB>url) "
                     "or pass the column order explicitly (caption,image or image,caption)")


def read_tsv(path: str | os.PathLike, *, layout: str = "auto") -> ReaderStream:
    """Two tab-separated columns per line; the column order comes from a header, the option, or the data."""
    name = os.fspath(path)
    if layout not in TSV_LAYOUTS:
        raise ValueError(f"unknown TSV layout {layout!r} (choose from {', '.join(TSV_LAYOUTS)})")
    with Path(path).open(encoding="utf-8", newline="") as fh:
        chosen: str | None = None
        for number, line in enumerate(fh, start=1):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            columns = text.split("\t")
            if chosen is None:
                chosen, header = _tsv_layout(columns, layout)
                if header:
                    continue
            if len(columns) != 2:
                yield RecordError(name, number, "columns", f"expected 2 tab-separated columns, got {len(columns)}",
                                  raw_text(text))
                continue
            caption, image = columns if chosen == "caption,image" else columns[::-1]
            if not image.strip():
                yield RecordError(name, number, "image", "empty image path", raw_text(text))
            elif not caption.strip():
                yield RecordError(name, number, "caption", "empty caption", raw_text(text))
            else:
                yield ImportRecord(name, number, image.strip(), [caption.strip()])


def read_jsonl(path: str | os.PathLike) -> ReaderStream:
    """One JSON object per line: an image key, ``caption`` or ``captions``, optional ``tags``."""
    name = os.fspath(path)
    with Path(path).open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RecordError(name, number, "json", f"invalid JSON: {exc.msg} at column {exc.colno}",
                                  raw_text(line))
                continue
            yield jsonl_object(obj, name, number, raw_text(line))


def jsonl_object(obj: object, name: str, number: int, raw: str) -> ImportRecord | RecordError:
    """Validate one JSON object of the JSONL layout (also the metadata of webdataset samples)."""
    if not isinstance(obj, dict):
        return RecordError(name, number, "json", "a record must be a JSON object", raw)
    image_key = next((k for k in IMAGE_KEYS if k in obj), None)
    image = obj.get(image_key) if image_key else None
    if not isinstance(image, str) or not image.strip():
        return RecordError(name, number, image_key or "image", "missing or empty image path", raw)
    caption_key = "captions" if "captions" in obj else "caption"
    captions = caption_list(obj.get(caption_key, []))
    if captions is None:
        return RecordError(name, number, caption_key, "must be a string or a list of non-empty strings", raw)
    tags = tag_list(obj.get("tags", []))
    if tags is None:
        return RecordError(name, number, "tags", "must be a list of tag texts or tag indices", raw)
    return ImportRecord(name, number, image.strip(), captions, tags)
