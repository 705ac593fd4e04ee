"""Bulk writes of images, captions and assignments: PostgreSQL COPY, or ``bulk_create`` elsewhere.

Both paths write the same rows and return the same ids; ``method="orm"`` forces bulk_create on PostgreSQL
too (the benchmark compares them). Conflicts (an image already in the dataset, a live assignment that exists)
are skipped, which is how imports deduplicate and how a retried shard stays idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from ..models import Caption, Image, TagAssignment

CAPTION_COLUMNS = ("id", "dataset_id", "image_id", "text", "source", "box", "added_in_seq")
ASSIGNMENT_COLUMNS = ("dataset_id", "image_id", "tag_group_id", "caption_id", "source", "score", "added_in_seq")


def use_copy(method: str = "auto") -> bool:
    if method not in {"auto", "copy", "orm"}:
        raise ValueError(f"unknown bulk method {method!r} (auto, copy or orm)")
    if method == "copy" and connection.vendor != "postgresql":
        raise ValueError("COPY needs PostgreSQL")
    return connection.vendor == "postgresql" and method != "orm"


def shard_commit_async() -> None:
    """Let this transaction's commit return before its WAL is flushed (PostgreSQL ``synchronous_commit``).

    Safe for resumable shards: a crash can only lose the last few committed transactions *as a whole* — the
    shard's rows together with the job cursor written in the same transaction — so a resumed job redoes
    exactly those shards. Nothing is ever half-written. Call inside the shard's transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _stage(cursor: Any, name: str, like: str, columns: Sequence[str]) -> None:
    """A session temp table with the given columns of ``like`` (emptied before use)."""
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} AS SELECT {', '.join(columns)} FROM {like} WITH NO DATA")
    cursor.execute(f"TRUNCATE {name}")


def images_upsert(*, dataset_id: int, seq: int, images: dict[str, tuple[int | None, int | None]],
                  method: str = "auto") -> dict[str, int]:
    """Ids of ``images`` (uri → (width, height)) in the dataset, adding those it lacks in version ``seq``."""
    return images_upsert_new(dataset_id=dataset_id, seq=seq, images=images, method=method)[0]


def images_upsert_new(*, dataset_id: int, seq: int, images: dict[str, tuple[int | None, int | None]],
                      method: str = "auto") -> tuple[dict[str, int], set[str]]:
    """:func:`images_upsert`, and the uris it inserted (known with COPY only; empty with bulk_create)."""
    if not images:
        return {}, set()
    uris = list(images)
    if use_copy(method):
        with connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute("CREATE TEMP TABLE IF NOT EXISTS datasets_image_stage "
                        "(ord integer, uri varchar(1000), width integer, height integer)")
            raw.execute("TRUNCATE datasets_image_stage")
            _copy(raw, "datasets_image_stage", ("ord", "uri", "width", "height"),
                  [(i, u, *images[u]) for i, u in enumerate(uris)])
            # Ids follow the order images first appear in the input, as with bulk_create below.
            raw.execute(
                "INSERT INTO datasets_image (dataset_id, uri, added_in_seq, width, height, checksum) "
                "SELECT %s, uri, %s, width, height, '' FROM datasets_image_stage ORDER BY ord "
                "ON CONFLICT (dataset_id, uri) DO NOTHING RETURNING uri, id", [dataset_id, seq])
            found = dict(raw.fetchall())
            new = set(found)
            if len(found) < len(uris):  # some were there already
                raw.execute("SELECT uri, id FROM datasets_image WHERE dataset_id = %s AND uri = ANY(%s)",
                            [dataset_id, [u for u in uris if u not in found]])
                found.update(raw.fetchall())
            return found, new
    Image.objects.bulk_create(
        [Image(dataset_id=dataset_id, uri=u, added_in_seq=seq, width=images[u][0], height=images[u][1])
         for u in uris], ignore_conflicts=True, batch_size=2000)
    found = {}
    for start in range(0, len(uris), 2000):
        found.update(Image.objects.filter(dataset_id=dataset_id, uri__in=uris[start:start + 2000])
                     .values_list("uri", "id"))
    return found, set()


def captions_insert(*, rows: list[tuple[Any, ...]], method: str = "auto") -> list[int]:
    """Insert captions (``CAPTION_COLUMNS`` without ``id``) and return their ids in row order."""
    if not rows:
        return []
    if use_copy(method):
        with connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute("SELECT nextval(pg_get_serial_sequence('datasets_caption', 'id')) "
                        "FROM generate_series(1, %s)", [len(rows)])
            ids = [r[0] for r in raw.fetchall()]
            _copy(raw, "datasets_caption", CAPTION_COLUMNS,
                  [(i, *r[:4], _json(r[4]), r[5]) for i, r in zip(ids, rows)])
            return ids
    created = Caption.objects.bulk_create(
        [Caption(**dict(zip(CAPTION_COLUMNS[1:], r))) for r in rows], batch_size=2000)
    return [c.pk for c in created]


def assignments_insert(*, rows: list[tuple[Any, ...]], method: str = "auto", conflicts: bool = True) -> int:
    """Insert assignments (``ASSIGNMENT_COLUMNS``), skipping live duplicates; returns the rows sent.

    ``conflicts=False`` is for callers that know no row can duplicate a live one (e.g. the parse job writing
    its own captions' tags): COPY then goes straight into the table, without the staging table and the
    ``INSERT … ON CONFLICT``; a duplicate would raise IntegrityError instead of being skipped.
    """
    if not rows:
        return 0
    if use_copy(method):
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if not conflicts:
                with connection.wrap_database_errors:  # a duplicate raises django.db.IntegrityError
                    _copy(raw, "datasets_tagassignment", ASSIGNMENT_COLUMNS, rows)
                return len(rows)
            _stage(raw, "datasets_assign_stage", "datasets_tagassignment", ASSIGNMENT_COLUMNS)
            _copy(raw, "datasets_assign_stage", ASSIGNMENT_COLUMNS, rows)
            cols = ", ".join(ASSIGNMENT_COLUMNS)
            raw.execute(f"INSERT INTO datasets_tagassignment ({cols}) SELECT {cols} FROM datasets_assign_stage "
                        "ON CONFLICT DO NOTHING")
            return len(rows)
    objs = [TagAssignment(**dict(zip(ASSIGNMENT_COLUMNS, r))) for r in rows]
    TagAssignment.objects.bulk_create(objs, ignore_conflicts=True, batch_size=2000)
    return len(objs)  # bulk_create cannot tell skipped rows; version counts are recomputed at seal time


def _json(value: Any) -> str | None:
    import json

    return None if value is None else json.dumps(value)
