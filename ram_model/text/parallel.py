"""Parse a caption stream on several processes, keeping input order and bounded memory.

Each worker process loads its own parser once (spawned, so nothing is shared with the caller) and parses
chunks of `batch_size` captions with `nlp.pipe`; at most a few chunks per worker are in flight, so a
million-line input streams through without being read into memory first.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice

from ram_model.text.parser import DEFAULT_MODEL, CaptionParser, ParseResult

_IN_FLIGHT_PER_WORKER = 4
_worker_parser: CaptionParser | None = None  # one per worker process, set by _init_worker
_worker_error: str | None = None  # a failed initializer must not crash the worker (the pool would respawn it)


def parse_stream(
    captions: Iterable[str],
    *,
    workers: int = 1,
    batch_size: int = 256,
    model: str = DEFAULT_MODEL,
    parser: CaptionParser | None = None,
) -> Iterator[ParseResult]:
    """Yield one result per caption, in input order; workers > 1 parses on that many processes."""
    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch_size must be >= 1")
    if workers > 1 and _in_daemon_process():
        warnings.warn(
            "parse_stream: daemonic processes (e.g. Celery prefork workers) cannot start a pool; parsing in-process",
            RuntimeWarning,
            stacklevel=2,
        )
        workers = 1
    if workers == 1:
        parser = parser if parser is not None else CaptionParser(model=model)
        yield from parser.parse_many(captions, batch_size=batch_size)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(model,)) as pool:
        pending: deque = deque()
        for chunk in _chunks(captions, batch_size):
            pending.append(pool.apply_async(_parse_chunk, (chunk, batch_size)))
            if len(pending) >= workers * _IN_FLIGHT_PER_WORKER:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def _in_daemon_process() -> bool:
    return multiprocessing.current_process().daemon


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _init_worker(model: str) -> None:
    # One BLAS thread per process: the parallelism comes from the processes.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    global _worker_parser, _worker_error
    try:
        _worker_parser = CaptionParser(model=model)
    except Exception as exc:  # reported by the first chunk this worker receives
        _worker_error = str(exc)


def _parse_chunk(chunk: list[str], batch_size: int) -> list[ParseResult]:
    if _worker_parser is None:
        raise OSError(_worker_error or "parser worker not initialised")
    return list(_worker_parser.parse_many(chunk, batch_size=batch_size))
