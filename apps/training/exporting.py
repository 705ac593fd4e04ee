"""A dataset version as the files ``ram_model.train`` reads: RAM training JSON, tag list, eval annotations.

Images come from the datasets app's export stream (``version_export_items``). Tag IDs are mapped by primary
tag text from the version's own label system to the run's label-system version, so a model can be trained on
a newer version of the vocabulary (tags it lacks are dropped and counted).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.datasets.models import DatasetVersion
from apps.datasets.services.export import version_export_items
from apps.labels.models import LabelSystemVersion
from apps.labels.selectors import version_tag_texts

URL_PREFIXES = ("http://", "https://", "s3://", "gs://")


@dataclass
class TrainingFiles:
    train_json: Path
    tag_list: Path
    annotations: Path
    image_root: str
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"train_json": str(self.train_json), "tag_list": str(self.tag_list),
                "annotations": str(self.annotations), "image_root": self.image_root, "counts": self.counts}


def tag_index_map(source: LabelSystemVersion | None, target: LabelSystemVersion) -> dict[int, int]:
    """Class index in ``source`` → class index in ``target``, matched by primary tag text."""
    if source is None:
        return {}
    if source.pk == target.pk:
        return {i: i for i in range(len(version_tag_texts(target)))}
    target_index = {text: i for i, text in enumerate(version_tag_texts(target))}
    return {i: target_index[text] for i, text in enumerate(version_tag_texts(source)) if text in target_index}


def _bump(counts: dict[str, int], key: str, amount: int = 1) -> None:
    counts[key] = counts.get(key, 0) + amount


def version_records(version: DatasetVersion, target: LabelSystemVersion,
                    counts: dict[str, int]) -> Iterator[tuple[dict[str, Any], list[int]]]:
    """(RAM training record, class indices) per image of ``version`` that has a caption and a local file."""
    index = tag_index_map(version.label_system_version, target)
    for item in version_export_items(version=version):
        if not item.captions:
            _bump(counts, "skipped_no_caption")
            continue
        if item.uri.startswith(URL_PREFIXES) or "#" in item.uri:
            _bump(counts, "skipped_not_a_file")
            continue
        union: set[int] = set()
        per_caption: list[set[int]] = [set() for _ in item.captions]
        for assignment in item.assignments:
            cls = index.get(assignment.tag_index)
            if cls is None:
                _bump(counts, "dropped_assignments")
                continue
            union.add(cls)
            if assignment.caption_pos is not None:
                per_caption[assignment.caption_pos].add(cls)
        classes = sorted(union)
        # A caption without tags of its own learns from the image's tags.
        parse = [sorted(tags) if tags else classes for tags in per_caption]
        _bump(counts, "records")
        yield {"image_path": item.uri, "caption": item.captions, "union_label_id": classes,
               "parse_label_id": parse}, classes


def training_files_write(*, version: DatasetVersion, label_system_version: LabelSystemVersion,
                         out_dir: str | Path, prefix: str = "train") -> TrainingFiles:
    """Write ``<prefix>.json`` (RAM training JSON), ``tags.txt`` and ``<prefix>_annotations.jsonl`` (absolute
    image paths and tag names, for the evaluation) under ``out_dir``; each file is replaced atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = version_tag_texts(label_system_version)
    root = version.dataset.image_root
    counts: dict[str, int] = {"records": 0}
    train_json, annotations, tag_list = out / f"{prefix}.json", out / f"{prefix}_annotations.jsonl", out / "tags.txt"
    tmp_json, tmp_ann = out / f".{prefix}.json.part", out / f".{prefix}_annotations.jsonl.part"
    with tmp_json.open("w", encoding="utf-8") as fj, tmp_ann.open("w", encoding="utf-8") as fa:
        fj.write("[")
        for n, (record, classes) in enumerate(version_records(version, label_system_version, counts)):
            fj.write(("\n" if n == 0 else ",\n") + json.dumps(record))
            fa.write(json.dumps({"image": str(Path(root) / record["image_path"]),
                                 "tags": [names[i] for i in classes]}) + "\n")
        fj.write("\n]\n")
    tmp_json.replace(train_json)
    tmp_ann.replace(annotations)
    tag_list.write_text("\n".join(names), encoding="utf-8")
    return TrainingFiles(train_json, tag_list, annotations, root, counts)
