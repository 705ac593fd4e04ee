"""Import a corpus into a new dataset version: stream, validate, deduplicate, bulk-write in resumable shards.

The service runs under a job (``import_dataset`` kind, or in-process for the management command). Each shard
of records is written in one transaction together with the job's cursor (file, records consumed, rejects
file size), so a crashed or cancelled import resumes exactly after the last committed shard and never writes
a row twice. With ``strict`` a validation pass runs first and nothing is written when any record is bad;
otherwise bad records go to a rejects JSONL file (file, line, field, reason, raw) and are counted.

Throughput: a background thread reads, validates and lays out the next shards (at most two ahead, so memory
stays flat) while this thread writes the current one with COPY; a shard whose images are all new (nothing
in the database can duplicate its tags) COPYs its assignments straight into the table, deduplicated here.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from ..errors import ImportValidationError
from ..formats.readers import IMPORT_FORMATS, read
from ..formats.records import ImportRecord, RecordError, TagRef
from ..models import AssignmentSource, CaptionSource, Dataset, DatasetVersion
from . import bulk
from .context import ShardContext
from .images import image_root_check, image_uri
from .versions import dataset_create, dataset_version_create, dataset_version_seal

MAX_REPORTED_ERRORS = 20


@dataclass
class ImportOptions:
    """Parameters of one import (also the job's params)."""

    dataset_name: str
    format: str
    paths: list[str]
    image_root: str = ""
    label_system_version_id: int | None = None
    strict: bool = False
    rejects: str = ""
    tsv_layout: str = "auto"
    shard_size: int = 5000
    method: str = "auto"
    note: str = ""
    seal: bool = True

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


class TagResolver:
    """Tag index or tag text → TagGroup id in one label-system version (loaded once, a few thousand rows)."""

    def __init__(self, label_system_version_id: int | None) -> None:
        self.version_id = label_system_version_id
        self.by_index: dict[int, int] = {}
        self.by_text: dict[str, int] = {}
        if label_system_version_id is None:
            return
        from apps.labels.models import Tag, TagGroup

        self.by_index = dict(TagGroup.objects.filter(version_id=label_system_version_id)
                             .values_list("index", "id"))
        for text, group_id in (Tag.objects.filter(version_id=label_system_version_id)
                               .order_by("group__index", "position").values_list("text", "group_id")):
            self.by_text.setdefault(text.lower(), group_id)

    def resolve(self, tag: TagRef) -> int | str:
        """The group id, or a reason why the tag cannot be stored."""
        if self.version_id is None:
            return "tags need a label-system version (pass --label-system-version)"
        if isinstance(tag, int):
            group = self.by_index.get(tag)
            return group if group is not None else f"unknown tag index {tag} ({len(self.by_index)} tags)"
        group = self.by_text.get(tag.lower())
        return group if group is not None else f"unknown tag {tag!r}"


@dataclass
class Prepared:
    """A validated record ready to write: stored uri and tag group ids."""

    record: ImportRecord
    uri: str
    tags: list[int]
    caption_tags: list[list[int]] | None


def _prepare(item: ImportRecord | RecordError, root: Path, resolver: TagResolver,
             fmt: str) -> Prepared | RecordError:
    if isinstance(item, RecordError):
        return item
    raw = item.image
    try:
        uri = image_uri(item.image, root)
    except ValueError as exc:
        return RecordError(item.file, item.line, "image", str(exc), raw)
    tag_field, caption_field = ("union_label_id", "parse_label_id") if fmt == "ram-json" else ("tags", "tags")
    tags: list[int] = []
    for tag in item.tags:
        group = resolver.resolve(tag)
        if isinstance(group, str):
            return RecordError(item.file, item.line, tag_field, group, raw)
        tags.append(group)
    caption_tags: list[list[int]] | None = None
    if item.caption_tags is not None:
        caption_tags = []
        for per_caption in item.caption_tags:
            groups = [resolver.resolve(t) for t in per_caption]
            bad = next((g for g in groups if isinstance(g, str)), None)
            if bad is not None:
                return RecordError(item.file, item.line, caption_field, bad, raw)
            caption_tags.append(groups)  # type: ignore[arg-type]
    return Prepared(item, uri, tags, caption_tags)


def _stream(opts: ImportOptions, file_index: int, skip: int) -> Iterator[ImportRecord | RecordError]:
    stream = read(opts.format, opts.paths[file_index], layout=opts.tsv_layout)
    return itertools.islice(stream, skip, None)


def _check_options(opts: ImportOptions) -> None:
    if opts.format not in IMPORT_FORMATS:
        raise ValidationError(f"unknown format {opts.format!r} (choose from {', '.join(IMPORT_FORMATS)})")
    if not opts.paths:
        raise ValidationError("no input files given")
    for path in opts.paths:
        if not Path(path).is_file():
            raise ValidationError(f"input file not found: {path}")
    if opts.shard_size < 1:
        raise ValidationError("shard_size must be at least 1")


def _label_system_version(opts: ImportOptions) -> Any:
    if opts.label_system_version_id is None:
        return None
    from apps.labels.models import LabelSystemVersion

    lsv = LabelSystemVersion.objects.filter(pk=opts.label_system_version_id).first()
    if lsv is None:
        raise ValidationError(f"label-system version {opts.label_system_version_id} does not exist")
    return lsv


def import_validate(opts: ImportOptions, *, root: Path, resolver: TagResolver) -> tuple[int, list[RecordError], int]:
    """(good records, first errors, number of errors) over all input files, writing nothing."""
    good, errors, total = 0, [], 0
    for index in range(len(opts.paths)):
        try:
            stream = _stream(opts, index, 0)
            for item in stream:
                prepared = _prepare(item, root, resolver, opts.format)
                if isinstance(prepared, RecordError):
                    total += 1
                    if len(errors) < MAX_REPORTED_ERRORS:
                        errors.append(prepared)
                else:
                    good += 1
        except ValueError as exc:  # a file-level problem (e.g. an undecidable TSV layout)
            raise ValidationError(f"{opts.paths[index]}: {exc}") from exc
    return good, errors, total


def _start(ctx: ShardContext, opts: ImportOptions, root: Path, lsv: Any) -> dict[str, Any]:
    """Create the dataset (if new) and the version the import writes; commit the initial cursor."""
    user = ctx.job.user
    with transaction.atomic():
        dataset = Dataset.objects.filter(name=opts.dataset_name).first()
        if dataset is None:
            dataset = dataset_create(name=opts.dataset_name, image_root=str(root), user=user)
        elif opts.image_root and Path(dataset.image_root) != root:
            raise ValidationError(f"dataset {dataset.name!r} keeps its images under {dataset.image_root}, "
                                  f"not {root}")
        version = dataset_version_create(dataset=dataset, label_system_version=lsv, job=ctx.job, note=opts.note,
                                         user=user)
        cursor = {"version_id": version.pk, "file": 0, "item": 0, "records": 0, "rejected": 0,
                  "rejects_bytes": 0}
        ctx.commit(cursor, 0)
    return cursor


def _rejects_path(ctx: ShardContext, opts: ImportOptions) -> Path:
    if opts.rejects:
        return Path(opts.rejects)
    return Path(settings.LABELHUB_JOB_DIR) / f"import-{ctx.job.pk}-rejects.jsonl"


@dataclass
class _Shard:
    """One shard of input laid out for writing (built on the read-ahead thread, no database access).

    ``captions`` are unique per (image, text); ``assignments`` are (uri, tag group, index into ``captions``
    or None), in input order and unique, as the live-unique index would keep them.
    """

    items: int
    records: int
    bad: list[RecordError]
    images: dict[str, tuple[int | None, int | None]]
    captions: list[tuple[str, str, Any]]
    assignments: list[tuple[str, int, int | None]]


def _layout(items: list[ImportRecord | RecordError], root: Path, resolver: TagResolver, fmt: str) -> _Shard:
    bad: list[RecordError] = []
    images: dict[str, tuple[int | None, int | None]] = {}
    captions: list[tuple[str, str, Any]] = []
    caption_pos: dict[tuple[str, str], int] = {}
    assignments: dict[tuple[str, int, int | None], None] = {}
    records = 0
    for item in items:
        p = _prepare(item, root, resolver, fmt)
        if isinstance(p, RecordError):
            bad.append(p)
            continue
        records += 1
        uri, record = p.uri, p.record
        if uri not in images:
            images[uri] = (record.width, record.height)
        boxes = record.boxes or [None] * len(record.captions)
        positions = []
        for text, box in zip(record.captions, boxes):
            pos = caption_pos.get((uri, text))
            if pos is None:
                pos = caption_pos[(uri, text)] = len(captions)
                captions.append((uri, text, box))
            positions.append(pos)
        linked: set[int] = set()
        for pos, groups in zip(positions, p.caption_tags or []):
            for group in groups:
                linked.add(group)
                assignments.setdefault((uri, group, pos))
        for group in p.tags:
            if group not in linked:
                assignments.setdefault((uri, group, None))
    return _Shard(len(items), records, bad, images, captions, list(assignments))


def _write_shard(version: DatasetVersion, shard: _Shard, method: str) -> None:
    ds, seq = version.dataset_id, version.seq
    ids, new = bulk.images_upsert_new(dataset_id=ds, seq=seq, images=shard.images, method=method)
    caption_ids = bulk.captions_insert(rows=[(ds, ids[uri], text, CaptionSource.ORIGINAL, box, seq)
                                             for uri, text, box in shard.captions], method=method)
    imported = AssignmentSource.IMPORTED.value
    rows = [(ds, ids[uri], group, None if pos is None else caption_ids[pos], imported, None, seq)
            for uri, group, pos in shard.assignments]
    # A row can only duplicate a live one when it has no caption (captions are new) and its image is not.
    safe = all(pos is not None or uri in new for uri, _, pos in shard.assignments)
    bulk.assignments_insert(rows=rows, method=method, conflicts=not safe)


class _ReadAhead:
    """Runs an iterator on a background thread, at most ``depth`` items ahead; errors re-raise on next()."""

    _END = object()

    def __init__(self, source: Iterator[Any], depth: int = 2) -> None:
        self._queue: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(source,), name="import-read-ahead", daemon=True)
        self._thread.start()

    def _run(self, source: Iterator[Any]) -> None:
        try:
            for item in source:
                if not self._put((True, item)):
                    return
            self._put((True, self._END))
        except BaseException as exc:  # handed to the consumer
            self._put((False, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def _put(self, entry: tuple[bool, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> _ReadAhead:
        return self

    def __next__(self) -> Any:
        ok, item = self._queue.get()
        if not ok:
            raise item
        if item is self._END:
            raise StopIteration
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _shards(opts: ImportOptions, file_index: int, skip: int, root: Path, resolver: TagResolver) -> Iterator[_Shard]:
    stream = _stream(opts, file_index, skip)
    while items := list(itertools.islice(stream, opts.shard_size)):
        yield _layout(items, root, resolver, opts.format)


def dataset_import_run(ctx: ShardContext) -> dict[str, Any]:
    """The body of an import job (see the module docstring); returns the version id and counts."""
    opts = ImportOptions(**ctx.params)
    _check_options(opts)
    lsv = _label_system_version(opts)
    existing = Dataset.objects.filter(name=opts.dataset_name).first()
    root = Path(existing.image_root) if existing and not opts.image_root else image_root_check(opts.image_root)
    resolver = TagResolver(lsv.pk if lsv else (existing and _tip_lsv(existing)))
    cursor = dict(ctx.cursor)
    if not cursor.get("version_id"):
        if opts.strict:
            _, errors, total = import_validate(opts, root=root, resolver=resolver)
            if total:
                for error in errors:
                    ctx.log(str(error), level="error")
                raise ImportValidationError(errors, total)
        cursor = _start(ctx, opts, root, lsv)
    version = DatasetVersion.objects.get(pk=cursor["version_id"])
    if not version.sealed:
        _import_files(ctx, opts, version, root, resolver, cursor)
        if opts.seal:
            version = dataset_version_seal(version=version)
    counts = version.counts if version.sealed else {}
    return {"dataset_id": version.dataset_id, "version_id": version.pk, "seq": version.seq,
            "records": cursor["records"], "rejected": cursor["rejected"],
            "rejects_file": str(_rejects_path(ctx, opts)) if cursor["rejected"] else "", "counts": counts}


def _tip_lsv(dataset: Dataset) -> int | None:
    tip = dataset.versions.order_by("-seq").first()
    return tip.label_system_version_id if tip else None


def _import_files(ctx: ShardContext, opts: ImportOptions, version: DatasetVersion, root: Path,
                  resolver: TagResolver, cursor: dict[str, Any]) -> None:
    rejects = _rejects_path(ctx, opts)
    if cursor["rejected"] or rejects.exists():
        rejects.parent.mkdir(parents=True, exist_ok=True)
        with rejects.open("ab") as fh:
            fh.truncate(cursor["rejects_bytes"])  # drop lines of a shard that never committed
    for file_index in range(cursor["file"], len(opts.paths)):
        skip = cursor["item"] if file_index == cursor["file"] else 0
        shards = _ReadAhead(_shards(opts, file_index, skip, root, resolver))
        try:
            consumed = skip
            for shard in shards:
                ctx.check_cancel()
                consumed += shard.items
                cursor.update(file=file_index, item=consumed, records=cursor["records"] + shard.records,
                              rejected=cursor["rejected"] + len(shard.bad))
                if shard.bad:
                    cursor["rejects_bytes"] = _append_rejects(rejects, shard.bad)
                with transaction.atomic():
                    bulk.shard_commit_async()
                    _write_shard(version, shard, opts.method)
                    ctx.commit(dict(cursor), done=cursor["records"] + cursor["rejected"])
        except ValueError as exc:
            raise ValidationError(f"{opts.paths[file_index]}: {exc}") from exc
        finally:
            shards.close()
        cursor.update(file=file_index + 1, item=0)
    ctx.log(f"imported {cursor['records']} records, rejected {cursor['rejected']}")


def _append_rejects(path: Path, errors: list[RecordError]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        for error in errors:
            fh.write(json.dumps(error.as_dict(), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
        return fh.tell()
