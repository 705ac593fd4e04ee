"""Webdataset tar shards of RAM training samples, read with random access.

Shard layout (webdataset convention, one sample = the members sharing a key): `<key>.jpg|jpeg|png|webp`
holds the image and `<key>.json` holds the record without `image_path`:
`{"caption": [...], "union_label_id": [...], "parse_label_id": [[...], ...]}`.

The reader indexes each tar once (member offsets) and then reads samples by seeking, so shards behave like a
map-style dataset: shuffling, DistributedSampler-style sharding and exact resumption work the same way as
for the JSON format. `write_shards` produces the layout (used by tests and tools).
"""

from __future__ import annotations

import glob
import io
import json
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from braceexpand import braceexpand
from PIL import Image

from ram_model.data.records import RecordError, TrainingRecord, parse_record

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")


@dataclass(frozen=True)
class MemberRef:
    """Where a member's bytes live inside a shard."""

    shard: str
    offset: int
    size: int


def expand_shard_patterns(patterns: Sequence[str]) -> list[str]:
    """Expand `{000..009}` braces and glob wildcards; a pattern that matches nothing is an error."""
    paths: list[str] = []
    for pattern in patterns:
        for expanded in braceexpand(os.fspath(pattern)):
            matches = sorted(glob.glob(expanded)) if glob.has_magic(expanded) else [expanded]
            if not matches or not all(os.path.isfile(m) for m in matches):
                raise FileNotFoundError(f"no shard file matches {expanded!r}")
            paths.extend(matches)
    return paths


def _split_key(name: str) -> tuple[str, str]:
    base = os.path.basename(name)
    directory = os.path.dirname(name)
    stem, _, ext = base.partition(".")
    return (f"{directory}/{stem}" if directory else stem), ext.lower()


def index_shard(path: str) -> list[tuple[str, MemberRef, dict]]:
    """(key, image member, metadata) of every complete sample in one shard, in tar order."""
    images: dict[str, MemberRef] = {}
    metas: dict[str, bytes] = {}
    order: list[str] = []
    with tarfile.open(path, "r") as tar:
        for member in tar:
            if not member.isfile():
                continue
            key, ext = _split_key(member.name)
            if ext in IMAGE_EXTENSIONS:
                images[key] = MemberRef(path, member.offset_data, member.size)
            elif ext == "json":
                handle = tar.extractfile(member)
                assert handle is not None
                metas[key] = handle.read()
            else:
                continue
            if key not in order:
                order.append(key)
    samples = []
    for key in order:
        if key not in images or key not in metas:
            missing = "image" if key not in images else "json"
            raise RecordError(f"{path}: sample {key!r} has no {missing} member")
        try:
            meta = json.loads(metas[key])
        except json.JSONDecodeError as exc:
            raise RecordError(f"{path}: sample {key!r}: invalid JSON ({exc})") from exc
        samples.append((key, images[key], meta))
    return samples


def load_shards(patterns: Sequence[str], num_classes: int) -> tuple[list[TrainingRecord], list[MemberRef]]:
    """Records (image = `shard#key`) and image member locations of every sample in the shards."""
    records: list[TrainingRecord] = []
    refs: list[MemberRef] = []
    for shard in expand_shard_patterns(patterns):
        for key, ref, meta in index_shard(shard):
            where = f"{shard}: sample {key!r}"
            records.append(parse_record(meta, where, num_classes, image=f"{shard}#{key}"))
            refs.append(ref)
    return records, refs


def read_member_image(ref: MemberRef) -> Image.Image:
    """Decode the image stored at `ref` (one seek + read; safe in forked DataLoader workers)."""
    with open(ref.shard, "rb") as fh:
        fh.seek(ref.offset)
        data = fh.read(ref.size)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _add_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = 0  # deterministic archives
    tar.addfile(info, io.BytesIO(payload))


def write_shards(
    samples: Sequence[tuple[str | os.PathLike, dict]],
    out_pattern: str,
    *,
    samples_per_shard: int = 1000,
) -> list[str]:
    """Write `(image file, record-without-image_path)` pairs to shards named `out_pattern % shard_number`."""
    written: list[str] = []
    for start in range(0, len(samples), samples_per_shard):
        path = out_pattern % len(written)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path, "w") as tar:
            for count in range(start, min(start + samples_per_shard, len(samples))):
                image_file, meta = samples[count]
                ext = Path(image_file).suffix.lstrip(".").lower()
                _add_member(tar, f"{count:09d}.{ext}", Path(image_file).read_bytes())
                _add_member(tar, f"{count:09d}.json", json.dumps(meta).encode("utf-8"))
        written.append(path)
    return written
