"""Region features on disk, between the GPU job that computes them and the CPU job that clusters them.

The GPU job appends one chunk at a time (``features-NNNNN.npy`` plus ``rows-NNNNN.npz`` with the assignment
ids and categories), each written to a temporary name and renamed, so a killed job leaves only whole chunks
and resumes after ``len(store)`` chunks. The clustering job reads per category: categories are packed into
batches of at most ``max_rows`` regions and each batch costs one pass over the chunks (memory-mapped), so
534 categories × 5,000 regions never need to sit in memory at once. Features are stored as float16 by
default (half the disk; unit-length features lose nothing clustering can see) and read back as float32.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np


class FeatureStore:
    """A folder of feature chunks with their assignment ids and categories."""

    def __init__(self, root: str | Path, *, dtype: str = "float16") -> None:
        self.root = Path(root)
        self.dtype = np.dtype(dtype)
        self.root.mkdir(parents=True, exist_ok=True)

    def _chunk_paths(self) -> list[tuple[Path, Path]]:
        chunks = []
        for rows in sorted(self.root.glob("rows-*.npz")):
            features = self.root / rows.name.replace("rows-", "features-").replace(".npz", ".npy")
            if features.exists():
                chunks.append((features, rows))
        return chunks

    def __len__(self) -> int:
        """Complete chunks written so far (a resumed job starts at this chunk number)."""
        return len(self._chunk_paths())

    def append(self, ids: Sequence[int] | np.ndarray, categories: Sequence[str], features: np.ndarray) -> int:
        """Write one chunk (rows in the same order in all three); returns its number."""
        features = np.asarray(features)
        ids_array = np.asarray(ids, dtype=np.int64)
        categories_array = np.asarray(list(categories), dtype=str)
        if features.ndim != 2 or not (len(features) == len(ids_array) == len(categories_array)):
            raise ValueError(f"chunk needs (n, D) features with n ids and n categories, got {features.shape}, "
                             f"{len(ids_array)}, {len(categories_array)}")
        number = len(self)
        features_path = self.root / f"features-{number:05d}.npy"
        rows_path = self.root / f"rows-{number:05d}.npz"
        _atomic(features_path, lambda fh: np.save(fh, features.astype(self.dtype), allow_pickle=False))
        _atomic(rows_path, lambda fh: np.savez(fh, ids=ids_array, categories=categories_array))
        return number

    def _rows(self) -> Iterator[tuple[Path, np.ndarray, np.ndarray]]:
        for features_path, rows_path in self._chunk_paths():
            with np.load(rows_path, allow_pickle=False) as rows:
                yield features_path, rows["ids"], rows["categories"]

    def category_sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for _, _, categories in self._rows():
            names, counts = np.unique(categories, return_counts=True)
            for name, count in zip(names.tolist(), counts.tolist()):
                sizes[name] = sizes.get(name, 0) + count
        return sizes

    def category_groups(
        self, only: Iterable[str] | None = None, *, max_rows: int = 2_000_000
    ) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """``(category, float32 features, ids)`` per category (sorted by name), for ``cluster_groups``.

        Categories are read in batches of at most ``max_rows`` regions (a category larger than that is a batch
        of its own), one pass over the chunks per batch.
        """
        sizes = self.category_sizes()
        wanted = sorted(sizes if only is None else set(only) & set(sizes))
        for batch in _batches(wanted, sizes, max_rows):
            members = set(batch)
            features: dict[str, list[np.ndarray]] = {c: [] for c in batch}
            ids: dict[str, list[np.ndarray]] = {c: [] for c in batch}
            for features_path, chunk_ids, chunk_categories in self._rows():
                keep = np.fromiter((c in members for c in chunk_categories.tolist()), bool, len(chunk_categories))
                if not keep.any():
                    continue
                stored = np.load(features_path, mmap_mode="r", allow_pickle=False)
                for category in np.unique(chunk_categories[keep]).tolist():
                    rows = np.nonzero(chunk_categories == category)[0]
                    features[category].append(np.asarray(stored[rows], dtype=np.float32))
                    ids[category].append(chunk_ids[rows])
            for category in batch:
                yield category, np.concatenate(features[category]), np.concatenate(ids[category])


def _batches(categories: Sequence[str], sizes: dict[str, int], max_rows: int) -> Iterator[list[str]]:
    batch: list[str] = []
    total = 0
    for category in categories:
        if batch and total + sizes[category] > max_rows:
            yield batch
            batch, total = [], 0
        batch.append(category)
        total += sizes[category]
    if batch:
        yield batch


def _atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through a temporary file and rename, so readers never see half a chunk."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)
