"""Count what a snapshot's files hold, read back from the files themselves (used by verification)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import ijson


def _count_items(path: Path, prefix: str) -> tuple[int, int]:
    records = captions = 0
    with path.open("rb") as fh:
        for item in ijson.items(fh, prefix, use_float=True):
            records += 1
            captions += len(item.get("caption", [])) if isinstance(item, dict) else 0
    return records, captions


def recount(format_name: str, out: Path, files: list[str]) -> dict[str, int]:
    """``records`` and ``captions`` as found in the files of one snapshot."""
    if format_name == "ram-json":
        records, captions = _count_items(out / files[0], "item")
    elif format_name == "jsonl":
        records = captions = 0
        with (out / files[0]).open(encoding="utf-8") as fh:
            for line in fh:
                records += 1
                captions += len(json.loads(line)["captions"])
    elif format_name == "coco":
        with (out / files[0]).open("rb") as fh:
            records = sum(1 for _ in ijson.items(fh, "images.item", use_float=True))
        with (out / files[0]).open("rb") as fh:
            captions = sum(1 for _ in ijson.items(fh, "annotations.item", use_float=True))
    elif format_name == "wds":
        records = captions = 0
        for name in files:
            with tarfile.open(out / name) as tar:
                for member in tar:
                    if member.name.endswith(".json"):
                        handle = tar.extractfile(member)
                        records += 1
                        captions += len(json.loads(handle.read())["caption"]) if handle else 0
    elif format_name == "parquet":
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        table = pq.read_table(out / files[0], columns=["caption"])
        records = table.num_rows
        captions = int(pc.sum(pc.list_value_length(table["caption"])).as_py() or 0)
    else:
        raise ValueError(f"unknown snapshot format {format_name!r}")
    return {"records": records, "captions": captions}
