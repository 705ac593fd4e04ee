"""Readers for the benchmark annotation formats the evaluation accepts.

* OpenImages by name (`*_ram_annots.txt`): `image_id,tag,tag,...`, tags by name, image at
  `<image_root>/<image_id>.jpg`; with a tag-list file of the benchmark classes (one name a line).
* OpenImages by index (`*_tag2text_idannots.txt`): `image_id,idx,idx,...` with a class-index list file
  (`*_tagidlist.txt`, one model class index a line).
* JSONL: one `{"image": path, "tags": [name, ...]}` a line; relative paths are joined to the image root.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Benchmark:
    """Images and their ground truth over a fixed list of classes (names or model indices)."""

    image_paths: list[str]
    labels: list[list[str]] | list[list[int]]
    classes: list[str] | list[int]

    @property
    def by_index(self) -> bool:
        return bool(self.classes) and isinstance(self.classes[0], int)

    def targets(self) -> np.ndarray:
        """Multi-hot `(N, len(classes))` matrix; labels outside the class list are ignored."""
        column = {c: i for i, c in enumerate(self.classes)}
        out = np.zeros((len(self.image_paths), len(self.classes)), dtype=np.uint8)
        for row, labels in enumerate(self.labels):
            for label in labels:
                col = column.get(label)
                if col is not None:
                    out[row, col] = 1
        return out


def read_lines(path: str | os.PathLike) -> list[str]:
    """Non-empty stripped lines of a UTF-8 text file (tag lists have no trailing newline upstream)."""
    with open(path, encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def _image_path(image_root: str | os.PathLike, image: str, suffix: str = "") -> str:
    if os.path.isabs(image):
        return image
    return os.path.join(os.fspath(image_root), image + suffix)


def read_name_annotations(
    annotations: str | os.PathLike, taglist: str | os.PathLike, image_root: str | os.PathLike = ""
) -> Benchmark:
    """OpenImages `image_id,tag,...` lines (tags by name) over the classes named in `taglist`."""
    paths, labels = [], []
    for line in read_lines(annotations):
        image_id, *tags = [part.strip() for part in line.split(",")]
        paths.append(_image_path(image_root, image_id, ".jpg"))
        labels.append([t for t in tags if t])
    return Benchmark(paths, labels, read_lines(taglist))


def read_index_annotations(
    annotations: str | os.PathLike, tag_id_list: str | os.PathLike, image_root: str | os.PathLike = ""
) -> Benchmark:
    """OpenImages `image_id,idx,...` lines (model class indices) over the indices listed in `tag_id_list`."""
    paths, labels = [], []
    for line in read_lines(annotations):
        image_id, *ids = [part.strip() for part in line.split(",")]
        paths.append(_image_path(image_root, image_id, ".jpg"))
        labels.append([int(i) for i in ids if i])
    return Benchmark(paths, labels, [int(i) for i in read_lines(tag_id_list)])


def read_jsonl_annotations(
    annotations: str | os.PathLike,
    taglist: str | os.PathLike | None = None,
    image_root: str | os.PathLike = "",
) -> Benchmark:
    """`{"image": path, "tags": [...]}` lines; without a tag list the classes are every tag that occurs."""
    paths, labels = [], []
    with open(annotations, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                image, tags = record["image"], record["tags"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{annotations}:{number}: expected {{'image': ..., 'tags': [...]}}") from exc
            paths.append(_image_path(image_root, image))
            labels.append([str(t) for t in tags])
    if taglist is not None:
        classes = read_lines(taglist)
    else:
        classes = sorted({t for tags in labels for t in tags})
    return Benchmark(paths, labels, classes)


def read_benchmark(
    annotations: str | os.PathLike, taglist: str | os.PathLike | None, image_root: str | os.PathLike = ""
) -> Benchmark:
    """Pick the reader from the file: `.jsonl` → JSONL; an all-integer tag list → by index; else by name."""
    if Path(annotations).suffix == ".jsonl":
        return read_jsonl_annotations(annotations, taglist, image_root)
    if taglist is None:
        raise ValueError("the OpenImages formats need --taglist (class names or class indices)")
    entries = read_lines(taglist)
    if entries and all(e.isdigit() for e in entries):
        return read_index_annotations(annotations, taglist, image_root)
    return read_name_annotations(annotations, taglist, image_root)


def class_indices(benchmark_classes: list[str], model_tags: list[str]) -> list[int]:
    """Model class index of each benchmark class by name; raises naming every benchmark class not found."""
    index = {name: i for i, name in enumerate(model_tags)}
    missing = [name for name in benchmark_classes if name not in index]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:20])
        more = f" (and {len(missing) - 20} more)" if len(missing) > 20 else ""
        raise ValueError(f"{len(missing)} benchmark classes are not tags of the model: {shown}{more}")
    return [index[name] for name in benchmark_classes]
