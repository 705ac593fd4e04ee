"""The ``selfcheck`` job: proves a worker can take jobs, report progress, resume, and reach the database."""

from __future__ import annotations

import importlib.util
import platform
import socket
import time
from typing import Any

from django.db import transaction

from .base import JobContext


def run_selfcheck(ctx: JobContext) -> dict[str, Any]:
    """Walk ``steps`` shards; each writes one log row and its cursor in one transaction (exactly once)."""
    steps = int(ctx.params.get("steps", 3))
    if ctx.job.attempts <= int(ctx.params.get("transient_failures", 0)):
        raise ConnectionError(f"self-check simulated a transient error in attempt {ctx.job.attempts}")
    start = int(ctx.cursor.get("step", 0))
    for step in range(start, steps):
        ctx.check_cancel()
        time.sleep(float(ctx.params.get("step_seconds", 0.0)))
        with transaction.atomic():
            ctx.log(f"self-check step {step + 1}/{steps}")
            ctx.commit({"step": step + 1}, done=step + 1, total=steps)
    if ctx.params.get("fail"):
        raise RuntimeError("self-check asked to fail")
    return {
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "steps": steps,
        "resumed_from_step": start,
        "torch_installed": importlib.util.find_spec("torch") is not None,
    }
