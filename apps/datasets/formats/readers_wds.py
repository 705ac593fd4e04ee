"""Webdataset tar shards: members sharing a key (``dir/stem`` before the first dot) form one sample.

A sample's image is referenced, not copied: by the ``image_path``/``url`` of its JSON when present, else as
``<shard path>#<member name>`` (the importer makes the shard path relative to the image root). Captions come
from ``.txt``/``.caption`` members or the JSON (``caption``/``captions``); tags from the JSON (``tags``, or
``union_label_id``/``parse_label_id`` as written by our own RAM-style shards). Positions are sample numbers.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterator

from .readers_json import _ram_record
from .readers_text import IMAGE_KEYS, jsonl_object
from .records import ImportRecord, ReaderStream, RecordError, raw_text

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
TEXT_EXTENSIONS = ("txt", "caption")


def _split(name: str) -> tuple[str, str]:
    directory, base = os.path.split(name)
    stem, _, ext = base.partition(".")
    return (f"{directory}/{stem}" if directory else stem), ext.lower()


def _samples(tar: tarfile.TarFile) -> Iterator[tuple[str, dict[str, tuple[str, bytes]]]]:
    """(key, {extension: (member name, bytes)}) for runs of adjacent members that share a key."""
    key: str | None = None
    parts: dict[str, tuple[str, bytes]] = {}
    for member in tar:
        if not member.isfile():
            continue
        member_key, ext = _split(member.name)
        if key is not None and member_key != key:
            yield key, parts
            parts = {}
        key = member_key
        if ext in IMAGE_EXTENSIONS:
            parts[ext] = (member.name, b"")  # images are referenced, never read here
        elif ext in TEXT_EXTENSIONS or ext == "json":
            handle = tar.extractfile(member)
            parts[ext] = (member.name, handle.read() if handle else b"")
    if key is not None:
        yield key, parts


def read_wds(path: str | os.PathLike) -> ReaderStream:
    name = os.fspath(path)
    try:
        tar = tarfile.open(name, "r")  # noqa: SIM115 - closed by the with below
    except tarfile.TarError as exc:
        yield RecordError(name, 0, "tar", f"not a readable tar file: {exc}")
        return
    with tar:
        try:
            for number, (key, parts) in enumerate(_samples(tar)):
                yield _sample(name, number, key, parts)
        except tarfile.TarError as exc:
            yield RecordError(name, -1, "tar", f"truncated or corrupt tar: {exc}")


def _sample(name: str, number: int, key: str, parts: dict[str, tuple[str, bytes]]) -> ImportRecord | RecordError:
    meta: object = {}
    if "json" in parts:
        try:
            meta = json.loads(parts["json"][1])
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return RecordError(name, number, f"{key}.json", f"invalid JSON: {exc}", raw_text(key))
        if not isinstance(meta, dict):
            return RecordError(name, number, f"{key}.json", "must be a JSON object", raw_text(meta))
    meta = dict(meta)  # type: ignore[arg-type]
    text = next((parts[e][1] for e in TEXT_EXTENSIONS if e in parts), None)
    if text is not None and "caption" not in meta and "captions" not in meta:
        meta["caption"] = text.decode("utf-8", errors="replace").strip()
    if not any(k in meta for k in IMAGE_KEYS):
        member = next((parts[e][0] for e in IMAGE_EXTENSIONS if e in parts), None)
        if member is None:
            return RecordError(name, number, key, "sample has no image member and no image path", raw_text(meta))
        meta["image"] = f"{name}#{member}"
    if "union_label_id" in meta:
        meta.setdefault("image_path", meta.get("image") or next(meta[k] for k in IMAGE_KEYS if k in meta))
        return _ram_record(meta, name, number)
    return jsonl_object(meta, name, number, raw_text(meta))
