"""Snapshot writers: RAM training JSON, COCO-style JSON, JSONL, webdataset tar shards, Parquet.

Each writer consumes an iterator of :class:`ExportItem` once (so memory is flat), writes its files into an
empty directory and returns the written file names and counts. Output is a pure function of the items: keys
are written in a fixed order, tar members carry fixed mtime/uid/gid/mode, Parquet carries no timestamps, so
the same version exports byte-identically.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .export_item import ExportItem

ImageOpener = Callable[[str], tuple[bytes, str] | None]  # uri → (bytes, extension) or None when missing
EXPORT_FORMATS = ("ram-json", "coco", "jsonl", "wds", "parquet")
PARQUET_ROW_GROUP = 50_000


@dataclass
class WriteResult:
    files: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount


@dataclass
class ExportOptions:
    tag_names: dict[int, str] = field(default_factory=dict)
    shard_size: int = 1000
    open_image: ImageOpener | None = None
    info: dict[str, object] = field(default_factory=dict)


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _count_record(result: WriteResult, item: ExportItem) -> None:
    result.add("records")
    result.add("captions", len(item.captions))
    result.add("assignments", len(item.assignments))


def write_ram_json(items: Iterable[ExportItem], out: Path, options: ExportOptions) -> WriteResult:
    """A JSON list of RAM training records, one per line; images without captions are skipped (counted)."""
    result = WriteResult(files=["annotations_ram.json"], counts={"records": 0, "captions": 0, "assignments": 0})
    with (out / "annotations_ram.json").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("[")
        first = True
        for item in items:
            if not item.captions:
                result.add("skipped_no_caption")
                continue
            fh.write(("\n" if first else ",\n") + _dumps(item.ram_record()))
            first = False
            _count_record(result, item)
        fh.write("\n]\n")
    return result


def _jsonl_record(item: ExportItem, tag_names: dict[int, str]) -> dict[str, object]:
    tags = [{"id": a.tag_index, "name": tag_names.get(a.tag_index, ""), "source": a.source, "score": a.score,
             "caption": a.caption_pos} for a in item.assignments]
    return {"image": item.uri, "width": item.width, "height": item.height, "captions": item.captions,
            "tags": tags}


def write_jsonl(items: Iterable[ExportItem], out: Path, options: ExportOptions) -> WriteResult:
    """One JSON object per image (``image``, ``captions``, ``tags`` with id/name/source/score)."""
    result = WriteResult(files=["annotations.jsonl"], counts={"records": 0, "captions": 0, "assignments": 0})
    with (out / "annotations.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for item in items:
            fh.write(_dumps(_jsonl_record(item, options.tag_names)) + "\n")
            _count_record(result, item)
    return result


def write_coco(items: Iterable[ExportItem], out: Path, options: ExportOptions) -> WriteResult:
    """COCO-style JSON: ``images``, caption ``annotations``, tag ``categories`` and ``tag_annotations``.

    One pass: images go straight to the file while captions and tags are spooled to side files that are
    appended afterwards, so nothing is held in memory.
    """
    result = WriteResult(files=["annotations_coco.json"], counts={"records": 0, "captions": 0, "assignments": 0})
    target = out / "annotations_coco.json"
    captions_tmp, tags_tmp = out / ".captions.part", out / ".tags.part"
    caption_id = tag_id = 0
    with target.open("w", encoding="utf-8", newline="\n") as fh, \
            captions_tmp.open("w", encoding="utf-8", newline="\n") as cfh, \
            tags_tmp.open("w", encoding="utf-8", newline="\n") as tfh:
        fh.write('{"info":' + _dumps(options.info) + ',\n"images":[')
        for item in items:
            image = {"id": item.image_id, "file_name": item.uri, "width": item.width, "height": item.height}
            fh.write(("\n" if result.counts["records"] == 0 else ",\n") + _dumps(image))
            for text in item.captions:
                caption_id += 1
                cfh.write(("\n" if caption_id == 1 else ",\n")
                          + _dumps({"id": caption_id, "image_id": item.image_id, "caption": text}))
            for a in item.assignments:
                tag_id += 1
                tfh.write(("\n" if tag_id == 1 else ",\n") + _dumps(
                    {"id": tag_id, "image_id": item.image_id, "category_id": a.tag_index, "source": a.source,
                     "score": a.score}))
            _count_record(result, item)
    with target.open("a", encoding="utf-8", newline="\n") as fh:
        fh.write('\n],\n"annotations":[')
        with captions_tmp.open(encoding="utf-8") as cfh:
            shutil.copyfileobj(cfh, fh)
        categories = [{"id": index, "name": name} for index, name in sorted(options.tag_names.items())]
        fh.write('\n],\n"categories":[' + ",\n".join(_dumps(c) for c in categories) + '],\n"tag_annotations":[')
        with tags_tmp.open(encoding="utf-8") as tfh:
            shutil.copyfileobj(tfh, fh)
        fh.write("\n]}\n")
    captions_tmp.unlink()
    tags_tmp.unlink()
    return result


def _tar_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(payload))


def write_wds(items: Iterable[ExportItem], out: Path, options: ExportOptions) -> WriteResult:
    """Tar shards of ``options.shard_size`` samples: ``<key>.<ext>`` image bytes + ``<key>.json`` record.

    The JSON is the RAM record (``caption``, ``union_label_id``, ``parse_label_id``, plus ``image_path``), the
    layout ``ram_model.data.shards`` reads. Samples without captions or whose image is missing are skipped.
    """
    if options.open_image is None:
        raise ValueError("webdataset export needs an image opener")
    result = WriteResult(counts={"records": 0, "captions": 0, "assignments": 0})
    tar: tarfile.TarFile | None = None
    in_shard = 0
    try:
        for item in items:
            if not item.captions:
                result.add("skipped_no_caption")
                continue
            image = options.open_image(item.uri)
            if image is None:
                result.add("skipped_missing_image")
                continue
            if tar is None or in_shard >= options.shard_size:
                if tar is not None:
                    tar.close()
                name = f"shard-{len(result.files):06d}.tar"
                result.files.append(name)
                tar = tarfile.open(out / name, "w", format=tarfile.USTAR_FORMAT)  # noqa: SIM115 - closed below
                in_shard = 0
            key = f"{result.counts['records']:09d}"
            payload, ext = image
            _tar_member(tar, f"{key}.{ext}", payload)
            _tar_member(tar, f"{key}.json", _dumps(item.ram_record()).encode("utf-8"))
            in_shard += 1
            _count_record(result, item)
    finally:
        if tar is not None:
            tar.close()
    return result


def _parquet_batches(items: Iterable[ExportItem], result: WriteResult) -> Iterator[dict[str, list]]:
    columns: dict[str, list] = {k: [] for k in ("image_id", "image_path", "width", "height", "caption",
                                                "union_label_id", "parse_label_id")}
    for item in items:
        columns["image_id"].append(item.image_id)
        columns["image_path"].append(item.uri)
        columns["width"].append(item.width)
        columns["height"].append(item.height)
        columns["caption"].append(item.captions)
        columns["union_label_id"].append(item.union_label_id)
        columns["parse_label_id"].append(item.parse_label_id)
        _count_record(result, item)
        if len(columns["image_id"]) >= PARQUET_ROW_GROUP:
            yield columns
            columns = {k: [] for k in columns}
    if columns["image_id"]:
        yield columns


def write_parquet(items: Iterable[ExportItem], out: Path, options: ExportOptions) -> WriteResult:
    """One Parquet file, one row per image, written in row groups (RAM record columns + image id/size)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([
        ("image_id", pa.int64()), ("image_path", pa.string()), ("width", pa.int32()), ("height", pa.int32()),
        ("caption", pa.list_(pa.string())), ("union_label_id", pa.list_(pa.int32())),
        ("parse_label_id", pa.list_(pa.list_(pa.int32()))),
    ])
    result = WriteResult(files=["annotations.parquet"], counts={"records": 0, "captions": 0, "assignments": 0})
    with pq.ParquetWriter(out / "annotations.parquet", schema, compression="zstd") as writer:
        for batch in _parquet_batches(items, result):
            writer.write_table(pa.Table.from_pydict(batch, schema=schema))
    return result


WRITERS: dict[str, Callable[[Iterable[ExportItem], Path, ExportOptions], WriteResult]] = {
    "ram-json": write_ram_json,
    "coco": write_coco,
    "jsonl": write_jsonl,
    "wds": write_wds,
    "parquet": write_parquet,
}
