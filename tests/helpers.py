"""Small helpers shared by tests."""

from __future__ import annotations

import time

import pytest

from apps.datasets.services.context import InlineContext


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {message}")


class CrashAfter(InlineContext):
    """Commits like a job, then dies inside the transaction of its ``n``-th commit (as a killed worker would)."""

    def __init__(self, job, n: int) -> None:
        super().__init__(job)
        self.n = n
        self.commits = 0

    def commit(self, cursor, done, total=None) -> None:
        super().commit(cursor, done, total)
        self.commits += 1
        if self.commits == self.n:
            raise RuntimeError("worker killed")
