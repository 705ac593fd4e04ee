"""Training metrics as JSON lines in `<run_dir>/metrics.jsonl`, for plotting by the platform.

Each line is one object with `kind` ("train" or "eval") and `step`; train lines carry the loss parts, `lr`
and `images_per_s`, eval lines the evaluation figures. After a resume, lines of steps beyond the restored
checkpoint (written before the crash) are dropped, so the file always describes one consistent run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


class MetricsLog:
    """Append-only JSONL writer (a disabled log, on non-main ranks, writes nothing)."""

    def __init__(self, run_dir: str | Path, enabled: bool = True) -> None:
        self.path = Path(run_dir) / "metrics.jsonl"
        self.enabled = enabled

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({**record, "time": round(time.time(), 3)}) + "\n")

    def truncate_after(self, step: int) -> None:
        """Drop the records of steps after `step` (used when resuming from a checkpoint at `step`)."""
        if not self.enabled or not self.path.is_file():
            return
        kept = [line for line in read_metrics(self.path) if line.get("step", 0) <= step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")


def read_metrics(path: str | Path, kind: str | None = None) -> list[dict[str, Any]]:
    """All records of a metrics file (optionally only one kind); a torn last line is ignored."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if kind is None or record.get("kind") == kind:
            records.append(record)
    return records
