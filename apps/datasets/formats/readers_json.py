"""Streaming readers of JSON corpora (COCO captions, Visual Genome regions, RAM training JSON).

``ijson`` parses incrementally, so memory stays flat however large the file is; the one exception is COCO,
whose annotations refer to images by id: the id → (file_name, width, height) map of the ``images`` array is
kept in memory (about 100 bytes per image; 10 M images ≈ 1 GB), the annotations themselves stream.
Positions in errors are record numbers inside the named array (``line`` = 0-based index).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from .records import ImportRecord, ReaderStream, RecordError, caption_list, raw_text, tag_list


def _items(path: str | os.PathLike, prefix: str, name: str, field: str) -> Iterator[tuple[int, Any] | RecordError]:
    """(index, item) of the array at ``prefix``; a syntax error ends the stream with one located error."""
    index = -1
    with Path(path).open("rb") as fh:
        try:
            for index, item in enumerate(ijson.items(fh, prefix, use_float=True)):
                yield index, item
        except ijson.JSONError as exc:
            yield RecordError(name, index + 1, field, f"invalid JSON after record {index}: {exc}")


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_coco(path: str | os.PathLike) -> ReaderStream:
    """COCO captions: every image (with its size) first, then one record per caption annotation."""
    name = os.fspath(path)
    images: dict[int, str] = {}
    for item in _items(path, "images.item", name, "images"):
        if isinstance(item, RecordError):
            yield item
            return
        index, obj = item
        if not isinstance(obj, dict) or not _int(obj.get("id")):
            yield RecordError(name, index, "images.id", "an image needs an integer id", raw_text(obj))
            continue
        file_name = obj.get("file_name") or obj.get("coco_url")
        if not isinstance(file_name, str) or not file_name.strip():
            yield RecordError(name, index, "images.file_name", "missing or empty file_name", raw_text(obj))
            continue
        width, height = obj.get("width"), obj.get("height")
        images[obj["id"]] = file_name.strip()
        yield ImportRecord(name, index, file_name.strip(), width=width if _int(width) else None,
                           height=height if _int(height) else None)
    for item in _items(path, "annotations.item", name, "annotations"):
        if isinstance(item, RecordError):
            yield item
            return
        index, obj = item
        if not isinstance(obj, dict):
            yield RecordError(name, index, "annotations", "an annotation must be an object", raw_text(obj))
            continue
        image = images.get(obj.get("image_id"))  # type: ignore[arg-type]
        captions = caption_list(obj.get("caption"))
        if image is None:
            yield RecordError(name, index, "annotations.image_id", "refers to no image of this file",
                              raw_text(obj))
        elif not captions or len(captions) != 1:
            yield RecordError(name, index, "annotations.caption", "must be a non-empty string", raw_text(obj))
        else:
            yield ImportRecord(name, index, image, captions)


def read_vg(path: str | os.PathLike, *, image_template: str = "{image_id}.jpg") -> ReaderStream:
    """Visual Genome region descriptions: one record per image, one caption (with its box) per region."""
    name = os.fspath(path)
    for item in _items(path, "item", name, "json"):
        if isinstance(item, RecordError):
            yield item
            return
        index, obj = item
        image_id = obj.get("id", obj.get("image_id")) if isinstance(obj, dict) else None
        regions = obj.get("regions") if isinstance(obj, dict) else None
        if not _int(image_id):
            yield RecordError(name, index, "id", "an image entry needs an integer id/image_id", raw_text(obj))
            continue
        if not isinstance(regions, list):
            yield RecordError(name, index, "regions", "must be a list", raw_text(obj))
            continue
        record = ImportRecord(name, index, image_template.format(image_id=image_id), boxes=[])
        for number, region in enumerate(regions):
            problem = _region_problem(region)
            if problem:
                yield RecordError(name, index, f"regions[{number}].{problem[0]}", problem[1], raw_text(region))
                continue
            record.captions.append(region["phrase"].strip())
            record.boxes.append([float(region[k]) for k in ("x", "y", "width", "height")])
        yield record


def _region_problem(region: object) -> tuple[str, str] | None:
    if not isinstance(region, dict):
        return "", "a region must be an object"
    phrase = region.get("phrase")
    if not isinstance(phrase, str) or not phrase.strip():
        return "phrase", "missing or empty phrase"
    for key in ("x", "y", "width", "height"):
        value = region.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            return key, "must be a non-negative number"
    return None


def read_ram_json(path: str | os.PathLike) -> ReaderStream:
    """The RAM training JSON (spec §12): captions, union tags and per-caption parsed tags as tag indices."""
    name = os.fspath(path)
    for item in _items(path, "item", name, "json"):
        if isinstance(item, RecordError):
            yield item
            return
        index, obj = item
        if not isinstance(obj, dict):
            yield RecordError(name, index, "json", "a record must be an object", raw_text(obj))
            continue
        yield _ram_record(obj, name, index)


def _ram_record(obj: dict[str, Any], name: str, index: int) -> ImportRecord | RecordError:
    image = obj.get("image_path")
    if not isinstance(image, str) or not image.strip():
        return RecordError(name, index, "image_path", "missing or empty image path", raw_text(obj))
    captions = caption_list(obj.get("caption", []))
    if captions is None:
        return RecordError(name, index, "caption", "must be a string or a list of non-empty strings", raw_text(obj))
    union = tag_list(obj.get("union_label_id", []))
    if union is None or not all(_int(t) for t in union):
        return RecordError(name, index, "union_label_id", "must be a list of integer tag indices", raw_text(obj))
    parse = obj.get("parse_label_id")
    per_caption: list[list[int | str]] | None = None
    if parse is not None:
        if not isinstance(parse, list) or len(parse) != len(captions):
            return RecordError(name, index, "parse_label_id", "must hold one list per caption", raw_text(obj))
        per_caption = []
        for tags in parse:
            checked = tag_list(tags)
            if checked is None or not all(_int(t) for t in checked):
                return RecordError(name, index, "parse_label_id", "must be lists of integer tag indices",
                                   raw_text(obj))
            per_caption.append(checked)
    return ImportRecord(name, index, image.strip(), captions, union, per_caption)
