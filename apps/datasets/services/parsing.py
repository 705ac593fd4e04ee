"""Parse a version's captions into tags: a job that produces a child version with ``parsed`` assignments.

Captions of the parent are streamed in id order, parsed with ``ram_model.text.parser`` (spaCy, torch-free)
and mapped to the label-system version's tag groups with ``ram_model.text.tag_mapping.TagMapper``. Each shard
writes its assignments (linked to the caption they came from, so exports can fill ``parse_label_id``), adds
its phrase counts (mapped and unmapped) to :class:`PhraseCount` rows of the child, and commits the job
cursor (last caption id) in one transaction; a resumed job continues after the last committed caption.

Throughput (bench/dataset_import.py): the parser processes also map the tags, so only compact tuples come
back; a shard's assignments are COPYed straight into the table when no live parsed row can conflict (else
through the ON CONFLICT staging path), and its phrase counts are added by one upsert statement.
"""

from __future__ import annotations

import itertools
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from .. import selectors
from ..models import AssignmentSource, DatasetVersion, PhraseCount, TagAssignment
from . import bulk
from .context import ShardContext
from .versions import _open_version, dataset_version_create_child, dataset_version_seal

MAX_PHRASE = 200


class Parser(Protocol):
    def parse_many(self, captions: Iterable[str], *, batch_size: int = 256) -> Iterator[dict[str, Any]]: ...


@dataclass
class ParseOptions:
    version_id: int
    shard_size: int = 2000
    workers: int = 1
    seal: bool = True

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def tag_mapper_for(label_system_version_id: int) -> Any:
    """A TagMapper whose ids are TagGroup primary keys, synonyms in group order (primary tag first)."""
    from apps.labels.models import Tag
    from ram_model.text.tag_mapping import TagMapper

    groups: dict[int, list[str]] = {}
    for group_id, text in (Tag.objects.filter(version_id=label_system_version_id)
                           .order_by("group__index", "position", "id").values_list("group_id", "text")):
        synonyms = groups.setdefault(group_id, [])
        if text.lower() not in (s.lower() for s in synonyms):
            synonyms.append(text)
    return TagMapper({"id": gid, "tags": tags} for gid, tags in groups.items())


def _add_phrase_counts(child: DatasetVersion, counts: Counter[tuple[str, int | None]]) -> None:
    """Add this shard's phrase counts to the child's PhraseCount rows (a phrase keeps its first mapping).

    One upsert statement (PostgreSQL) or one executemany (SQLite): no read of the existing rows.
    """
    merged: dict[str, tuple[int, int | None]] = {}
    for (phrase, group), n in counts.items():
        phrase = phrase[:MAX_PHRASE]
        old_n, old_group = merged.get(phrase, (0, group))
        merged[phrase] = (old_n + n, old_group if old_group is not None else group)
    if not merged:
        return
    table = PhraseCount._meta.db_table
    upsert = (f"ON CONFLICT (version_id, phrase) DO UPDATE SET count = {table}.count + excluded.count")
    phrases = sorted(merged)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (version_id, phrase, count, tag_group_id) "
                "SELECT %s, p, n, g FROM unnest(%s::varchar[], %s::integer[], %s::integer[]) AS t(p, n, g) "
                + upsert,
                [child.pk, phrases, [merged[p][0] for p in phrases], [merged[p][1] for p in phrases]])
        else:
            cursor.executemany(
                f"INSERT INTO {table} (version_id, phrase, count, tag_group_id) VALUES (%s, %s, %s, %s) " + upsert,
                [(child.pk, p, *merged[p]) for p in phrases])


def _start(ctx: ShardContext, parent: DatasetVersion) -> dict[str, Any]:
    with transaction.atomic():
        child = dataset_version_create_child(parent=parent, job=ctx.job, note=f"parsed captions of {parent}",
                                             user=ctx.job.user)
        cursor = {"child_id": child.pk, "last_caption_id": 0, "captions": 0, "assignments": 0}
        ctx.commit(cursor, 0)
    return cursor


def dataset_version_parse_run(ctx: ShardContext, parser: Parser | None = None) -> dict[str, Any]:
    """The body of a ``parse_version`` job; ``parser`` defaults to ``ram_model.text`` on ``workers`` processes."""
    opts = ParseOptions(**ctx.params)
    parent = DatasetVersion.objects.select_related("dataset").filter(pk=opts.version_id).first()
    if parent is None:
        raise ValidationError(f"dataset version {opts.version_id} does not exist")
    if parent.label_system_version_id is None:
        raise ValidationError(f"version {parent} has no label-system version to map parsed tags to")
    cursor = dict(ctx.cursor) if ctx.cursor.get("child_id") else _start(ctx, parent)
    child = DatasetVersion.objects.get(pk=cursor["child_id"])
    if not child.sealed:
        mapper = tag_mapper_for(parent.label_system_version_id)
        _parse_shards(ctx, opts, parent, child, parser, mapper, cursor)
        if opts.seal:
            child = dataset_version_seal(version=child)
    return {"version_id": child.pk, "parent_id": parent.pk, "seq": child.seq, "captions": cursor["captions"],
            "assignments": cursor["assignments"], "counts": child.counts}


def _parse_shards(ctx: ShardContext, opts: ParseOptions, parent: DatasetVersion, child: DatasetVersion,
                  parser: Parser | None, mapper: Any, cursor: dict[str, Any]) -> None:
    """One parse stream over all remaining captions, consumed shard by shard.

    Captions are read ahead shard by shard (keyset pagination) by the generator that feeds the parser, so the
    parser's worker processes stay busy while a shard is written; reads and writes still happen one after
    the other on this thread's connection.
    """
    from ram_model.text.parallel import parse_map_stream

    captions = selectors.version_captions(version=parent).order_by("id")
    total = captions.count()
    pending: deque[list[tuple[int, int, str]]] = deque()

    def texts() -> Iterator[str]:
        last = cursor["last_caption_id"]
        while shard := list(captions.filter(id__gt=last).values_list("id", "image_id", "text")[:opts.shard_size]):
            last = shard[-1][0]
            pending.append(shard)
            yield from (text for _, _, text in shard)

    # The workers parse and map; a FakeParser (tests) runs in this process.
    results = parse_map_stream(texts(), mapper, parser=parser, workers=opts.workers, batch_size=256)
    writer = _ShardWriter(child)
    try:
        while (first := next(results, None)) is not None:
            shard = pending.popleft()
            parsed = [first, *itertools.islice(results, len(shard) - 1)]
            ctx.check_cancel()
            writer.write(ctx, shard, parsed, cursor, total)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stops the worker pool when the job ends early


class _ShardWriter:
    """Writes one shard's parsed assignments, phrase counts and the job cursor in one transaction.

    While no live ``parsed`` assignment of an older version has a caption (the usual case: parsing a version
    that was never parsed), none can conflict with the new rows — every caption is parsed once, in one shard
    — so they are COPYed straight into the table. Otherwise, or if a concurrent writer made a conflict after
    all, rows go through the ON CONFLICT DO NOTHING path, which skips live duplicates as before.
    """

    def __init__(self, child: DatasetVersion) -> None:
        self.child = child
        self.direct = bulk.use_copy() and not TagAssignment.objects.filter(
            dataset_id=child.dataset_id, source=AssignmentSource.PARSED, caption__isnull=False,
            removed_in_seq__isnull=True, added_in_seq__lt=child.seq).exists()

    def write(self, ctx: ShardContext, shard: list[tuple[int, int, str]], parsed: list[Any],
              cursor: dict[str, Any], total: int) -> None:
        ds, seq, source = self.child.dataset_id, self.child.seq, AssignmentSource.PARSED.value
        rows: list[tuple[Any, ...]] = []
        phrases: Counter[tuple[str, int | None]] = Counter()
        for (caption_id, image_id, _), (tag_ids, matched, unmapped) in zip(shard, parsed):
            rows += [(ds, image_id, gid, caption_id, source, None, seq) for gid in tag_ids]
            phrases.update(matched)
            phrases.update((p, None) for p in unmapped)
        with transaction.atomic():
            bulk.shard_commit_async()
            _open_version(self.child)  # refuses a sealed version (the database triggers would too)
            self._insert(rows)
            _add_phrase_counts(self.child, phrases)
            cursor.update(last_caption_id=shard[-1][0], captions=cursor["captions"] + len(shard),
                          assignments=cursor["assignments"] + len(rows))
            ctx.commit(dict(cursor), done=cursor["captions"], total=total)

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        if self.direct:
            try:
                with transaction.atomic():  # a savepoint: a conflict rolls back this COPY only
                    bulk.assignments_insert(rows=rows, conflicts=False)
                return
            except IntegrityError:
                self.direct = False
        bulk.assignments_insert(rows=rows)
