"""Reading a run's ``metrics.jsonl`` on every poll without re-parsing it: an incremental, bounded cache.

The trainer appends one JSON line per logged step and, when a run resumes, rewrites the file without the
lines after the restored step. Each cached file remembers how far it was read and the bytes just before that
point; a poll parses only the new complete lines, and starts over when those bytes changed (a rewrite).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHECK_BYTES = 64
NOT_METRICS = frozenset({"kind", "step", "epoch", "time", "elapsed_s", "total_steps"})


@dataclass
class _Entry:
    offset: int = 0
    tail: bytes = b""
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"train": [], "eval": []})
    # kind → metric → [(step, value)], kept alongside so that charts never walk the records
    columns: dict[str, dict[str, list[tuple[int, float]]]] = field(default_factory=lambda: {"train": {}, "eval": {}})


class MetricsFileCache:
    """Records of the last ``max_files`` metrics files read by this process, split by kind."""

    def __init__(self, max_files: int = 32) -> None:
        self.max_files = max_files
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, path: str | Path) -> dict[str, list[dict[str, Any]]]:
        """Every record, by kind (``train``, ``eval``)."""
        entry = self._entry(path)
        return {kind: list(records) for kind, records in entry.records.items()}

    def columns(self, path: str | Path) -> dict[str, dict[str, list[tuple[int, float]]]]:
        """Kind → metric → ``[(step, value)]`` of every numeric metric (for plotting)."""
        entry = self._entry(path)
        return {kind: {name: list(points) for name, points in metrics.items()}
                for kind, metrics in entry.columns.items()}

    def _entry(self, path: str | Path) -> _Entry:
        key = str(path)
        with self._lock:
            entry = self._entries.pop(key, None) or _Entry()
            try:
                entry = self._update(Path(path), entry)
            except FileNotFoundError:
                return _Entry()
            self._entries[key] = entry
            while len(self._entries) > self.max_files:
                self._entries.popitem(last=False)
            return entry

    @staticmethod
    def _update(path: Path, entry: _Entry) -> _Entry:
        with path.open("rb") as fh:
            if entry.offset:
                start = max(0, entry.offset - CHECK_BYTES)
                fh.seek(start)
                if fh.read(entry.offset - start) != entry.tail:  # rewritten (a resumed run cut its lines)
                    entry = _Entry()
            fh.seek(entry.offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1  # only complete lines; a line being written is read next time
        for line in data[:end].splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("kind") in entry.records:
                kind, step = record["kind"], record.get("step", 0)
                entry.records[kind].append(record)
                columns = entry.columns[kind]
                for name, value in record.items():
                    if name not in NOT_METRICS and isinstance(value, (int, float)) and not isinstance(value, bool):
                        columns.setdefault(name, []).append((step, value))
        if end:
            entry.offset += end
            with path.open("rb") as fh:
                start = max(0, entry.offset - CHECK_BYTES)
                fh.seek(start)
                entry.tail = fh.read(entry.offset - start)
        return entry


METRICS_FILES = MetricsFileCache()
