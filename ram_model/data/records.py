"""The RAM training record (spec §12) and its validation.

A record is `{"image_path": str, "caption": [str, ...], "union_label_id": [int, ...],
"parse_label_id": [[int, ...], ...]}`: `union_label_id` (parsed + pseudo tags) is the RAM/RAM++ tagging
target, `parse_label_id[k]` are the tags parsed from `caption[k]` (tag-encoder input for RAM, tagging
target for Tag2Text). A bare string caption is accepted as a one-element list, and a missing
`parse_label_id` falls back to the union tags for every caption.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


class RecordError(ValueError):
    """A malformed training record; the message names the file, the record number and the field."""


@dataclass(frozen=True)
class TrainingRecord:
    """One image with its captions and tag IDs; `image` is a path (JSON) or a member key (shards)."""

    image: str
    captions: tuple[str, ...]
    union_label_id: tuple[int, ...]
    parse_label_id: tuple[tuple[int, ...], ...]


def _int_list(value: object, where: str, field: str, num_classes: int) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise RecordError(f"{where}: field {field!r} must be a list of integers")
    bad = [v for v in value if not 0 <= v < num_classes]
    if bad:
        raise RecordError(f"{where}: field {field!r} has tag IDs outside [0, {num_classes}): {bad[:10]}")
    return tuple(value)


def parse_record(raw: object, where: str, num_classes: int, *, image_field: str = "image_path",
                 image: str | None = None) -> TrainingRecord:
    """Validate one raw record (from JSON) into a TrainingRecord; `image` overrides the image field."""
    if not isinstance(raw, dict):
        raise RecordError(f"{where}: a record must be an object")
    if image is None:
        image = raw.get(image_field)
        if not isinstance(image, str) or not image:
            raise RecordError(f"{where}: field {image_field!r} must be a non-empty string")
    captions = raw.get("caption")
    if isinstance(captions, str):
        captions = [captions]
    if not isinstance(captions, list) or not captions or not all(isinstance(c, str) for c in captions):
        raise RecordError(f"{where}: field 'caption' must be a string or a non-empty list of strings")
    union = _int_list(raw.get("union_label_id", []), where, "union_label_id", num_classes)
    parse_raw = raw.get("parse_label_id")
    if parse_raw is None:
        parse = tuple(union for _ in captions)
    else:
        if not isinstance(parse_raw, list) or len(parse_raw) != len(captions):
            raise RecordError(f"{where}: field 'parse_label_id' must hold one list per caption")
        parse = tuple(_int_list(p, where, "parse_label_id", num_classes) for p in parse_raw)
    return TrainingRecord(image, tuple(captions), union, parse)


def resolve_image_path(image_path: str, image_root: str, json_file: str | os.PathLike) -> str:
    """`image_root/image_path`; with an empty root a relative path is taken relative to the JSON file."""
    if os.path.isabs(image_path):
        return image_path
    root = image_root or os.fspath(Path(json_file).resolve().parent)
    return os.path.join(root, image_path)


def load_ram_json(files: list[str | os.PathLike], image_root: str, num_classes: int) -> list[TrainingRecord]:
    """Read and validate every record of the RAM training JSON files, with image paths resolved."""
    records: list[TrainingRecord] = []
    for file in files:
        with open(file, encoding="utf-8") as fh:
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{file}: not valid JSON ({exc})") from exc
        if not isinstance(data, list):
            raise RecordError(f"{file}: the RAM training JSON must be a list of records")
        for number, raw in enumerate(data):
            record = parse_record(raw, f"{file}: record {number}", num_classes)
            path = resolve_image_path(record.image, image_root, file)
            records.append(
                TrainingRecord(path, record.captions, record.union_label_id, record.parse_label_id)
            )
    return records
