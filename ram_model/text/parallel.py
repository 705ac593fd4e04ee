"""Parse a caption stream on several processes, keeping input order and bounded memory.

Each worker process loads its own parser once (spawned, so nothing is shared with the caller) and parses
chunks of `batch_size` captions with `nlp.pipe`; at most a few chunks per worker are in flight, so a
million-line input streams through without being read into memory first.

Parsers built here run spaCy's matrix products on NumPy's BLAS with one thread (`fast_parser`) instead of
thinc's default BLIS kernels: same results, ~1.6x more captions per CPU second (bench/RESULTS.md, Datasets).
With a `TagMapper` (`parse_map_stream`) the workers also map the tags, so only compact tuples travel back.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from ram_model.text.parser import DEFAULT_MODEL, CaptionParser, ParseResult

_IN_FLIGHT_PER_WORKER = 4
_worker_parser: CaptionParser | None = None  # one per worker process, set by _init_worker
_worker_mapper: Any = None  # the TagMapper of parse_map_stream, if any
_worker_error: str | None = None  # a failed initializer must not crash the worker (the pool would respawn it)

# (tag ids, ((matched text, tag id), ...), (unmapped phrase, ...)) of one caption; see parse_map_stream.
Mapped = tuple[tuple[int, ...], tuple[tuple[str, int], ...], tuple[str, ...]]


def fast_parser(model: str = DEFAULT_MODEL) -> CaptionParser:
    """A CaptionParser whose models use NumPy's BLAS (one thread) rather than thinc's BLIS gemm.

    For spaCy's small English pipeline the tok2vec matrix products are most of the time, and OpenBLAS runs
    them ~3x faster than the BLIS build thinc bundles; results are the same. Call `one_blas_thread` too
    (done by the workers and by `parse_stream` for in-process parsing): several BLAS threads per parser
    only fight over the cores with the other processes.
    """
    from thinc.api import use_ops

    with use_ops("numpy", use_blis=False):
        return CaptionParser(model=model)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit the loaded BLAS libraries to one thread inside the block."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency; only a speed matter
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def parse_stream(
    captions: Iterable[str],
    *,
    workers: int = 1,
    batch_size: int = 256,
    model: str = DEFAULT_MODEL,
    parser: CaptionParser | None = None,
) -> Iterator[ParseResult]:
    """Yield one result per caption, in input order; workers > 1 parses on that many processes."""
    yield from _stream(captions, workers=workers, batch_size=batch_size, model=model, parser=parser, mapper=None)


def parse_map_stream(
    captions: Iterable[str],
    mapper: Any,
    *,
    workers: int = 1,
    batch_size: int = 256,
    model: str = DEFAULT_MODEL,
    parser: Any = None,
) -> Iterator[Mapped]:
    """Parse and map each caption's tags with ``mapper`` (a picklable TagMapper); one `Mapped` per caption.

    ``parser`` may be any object with ``parse_many(captions, batch_size=...)`` yielding dicts with "tags"
    (then everything runs in this process).
    """
    if parser is not None:
        if workers < 1 or batch_size < 1:
            raise ValueError("workers and batch_size must be >= 1")
        for result in parser.parse_many(captions, batch_size=batch_size):
            yield map_result(mapper, result)
        return
    yield from _stream(captions, workers=workers, batch_size=batch_size, model=model, parser=None, mapper=mapper)


def map_result(mapper: Any, result: ParseResult | dict[str, Any]) -> Mapped:
    """The compact mapping of one parse result."""
    mapped = mapper.map_tags(result["tags"])
    unmapped = tuple(phrase for phrase, n in mapped.unmapped.items() for _ in range(n))
    return tuple(mapped.tag_ids), tuple(mapped.matched), unmapped


def _stream(captions: Iterable[str], *, workers: int, batch_size: int, model: str, parser: CaptionParser | None,
            mapper: Any) -> Iterator[Any]:
    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch_size must be >= 1")
    if workers == 1:
        parser = parser if parser is not None else fast_parser(model)
        convert: Callable[[ParseResult], Any] = (lambda r: r) if mapper is None else (lambda r: map_result(mapper, r))
        with one_blas_thread():
            for result in parser.parse_many(captions, batch_size=batch_size):
                yield convert(result)
        return
    context = multiprocessing.get_context("spawn")
    with _children_allowed(), context.Pool(workers, initializer=_init_worker,
                                           initargs=(model, mapper, os.getpid())) as pool:
        pending: deque = deque()
        for chunk in _chunks(captions, batch_size):
            pending.append(pool.apply_async(_parse_chunk, (chunk, batch_size)))
            if len(pending) >= workers * _IN_FLIGHT_PER_WORKER:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


@contextmanager
def _children_allowed() -> Iterator[None]:
    """Let a daemonic process (a Celery prefork pool child runs every job) own the parser pool.

    multiprocessing refuses children to daemonic processes lest they outlive them. Here the pool is closed
    when the stream ends (or the generator is closed), and each worker exits by itself when its parent dies
    (``_exit_with_parent``), so a SIGKILLed job leaves no parser behind. Celery's billiard also gives its
    children an authentication key that only billiard may pickle; the spawn hand-over needs the standard one.
    """
    process = multiprocessing.current_process()
    if not process.daemon:
        yield
        return
    config = process._config  # the flags Process.start() and the spawn hand-over read
    saved = dict(config)
    config["daemon"] = False
    config["authkey"] = multiprocessing.process.AuthenticationString(bytes(config["authkey"]))
    try:
        yield
    finally:
        config.update(saved)


def _exit_with_parent(parent_pid: int, interval: float = 1.0) -> None:
    """In a pool worker: a thread that ends the process once its parent is gone (it was re-parented)."""

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _init_worker(model: str, mapper: Any = None, parent_pid: int | None = None) -> None:
    if parent_pid is not None:
        _exit_with_parent(parent_pid)
    # One BLAS thread per process: the parallelism comes from the processes.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    if model == DEFAULT_MODEL and "torch" not in sys.modules:
        # thinc imports torch whenever it is installed (~450 MB and ~1.5 s per process); the small English
        # pipeline never uses it, so this worker pretends it is absent (thinc's imports of it are optional).
        sys.modules["torch"] = None  # type: ignore[assignment]
    global _worker_parser, _worker_mapper, _worker_error
    try:
        _worker_parser = fast_parser(model)
        _worker_mapper = mapper
        try:  # BLAS libraries loaded before the variables above were set keep their threads otherwise
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=1, user_api="blas")
        except ImportError:  # pragma: no cover
            pass
    except Exception as exc:  # reported by the first chunk this worker receives
        _worker_error = str(exc)


def _parse_chunk(chunk: list[str], batch_size: int) -> list[Any]:
    if _worker_parser is None:
        raise OSError(_worker_error or "parser worker not initialised")
    results = _worker_parser.parse_many(chunk, batch_size=batch_size)
    if _worker_mapper is None:
        return list(results)
    return [map_result(_worker_mapper, r) for r in results]
