"""Parse a version's captions into tags: a job that produces a child version with ``parsed`` assignments.

Captions of the parent are streamed in id order, parsed with ``ram_model.text.parser`` (spaCy, torch-free)
and mapped to the label-system version's tag groups with ``ram_model.text.tag_mapping.TagMapper``. Each shard
writes its assignments (linked to the caption they came from, so exports can fill ``parse_label_id``), adds
its phrase counts (mapped and unmapped) to :class:`PhraseCount` rows of the child, and commits the job
cursor (last caption id) in one transaction; a resumed job continues after the last committed caption.
"""

from __future__ import annotations

import itertools
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import selectors
from ..models import AssignmentSource, DatasetVersion, PhraseCount
from . import bulk
from .context import ShardContext
from .versions import AssignmentRow, assignments_add, dataset_version_create_child, dataset_version_seal

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
    """Add this shard's phrase counts to the child's PhraseCount rows (a phrase keeps its first mapping)."""
    merged: dict[str, tuple[int, int | None]] = {}
    for (phrase, group), n in counts.items():
        phrase = phrase[:MAX_PHRASE]
        old_n, old_group = merged.get(phrase, (0, group))
        merged[phrase] = (old_n + n, old_group if old_group is not None else group)
    existing = {p.phrase: p for p in PhraseCount.objects.filter(version=child, phrase__in=list(merged))}
    for phrase, row in existing.items():
        row.count += merged[phrase][0]
    PhraseCount.objects.bulk_update(existing.values(), ["count"], batch_size=1000)
    PhraseCount.objects.bulk_create([PhraseCount(version=child, phrase=p, count=n, tag_group_id=g)
                                     for p, (n, g) in sorted(merged.items()) if p not in existing], batch_size=1000)


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
    captions = selectors.version_captions(version=parent).order_by("id")
    total = captions.count()
    pending: deque[list[tuple[int, int, str]]] = deque()

    def texts() -> Iterator[str]:
        last = cursor["last_caption_id"]
        while shard := list(captions.filter(id__gt=last).values_list("id", "image_id", "text")[:opts.shard_size]):
            last = shard[-1][0]
            pending.append(shard)
            yield from (text for _, _, text in shard)

    if parser is not None:
        results = parser.parse_many(texts(), batch_size=256)
    else:
        from ram_model.text.parallel import parse_stream

        results = parse_stream(texts(), workers=opts.workers, batch_size=256)
    try:
        while (first := next(results, None)) is not None:
            shard = pending.popleft()
            parsed = [first, *itertools.islice(results, len(shard) - 1)]
            ctx.check_cancel()
            _write_parsed(ctx, child, shard, parsed, mapper, cursor, total)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stops the worker pool when the job ends early


def _write_parsed(ctx: ShardContext, child: DatasetVersion, shard: list[tuple[int, int, str]],
                  parsed: list[dict[str, Any]], mapper: Any, cursor: dict[str, Any], total: int) -> None:
    rows: list[AssignmentRow] = []
    phrases: Counter[tuple[str, int | None]] = Counter()
    for (caption_id, image_id, _), result in zip(shard, parsed):
        mapped = mapper.map_tags(result["tags"])
        rows += [AssignmentRow(image_id, gid, AssignmentSource.PARSED, None, caption_id) for gid in mapped.tag_ids]
        phrases.update((text, gid) for text, gid in mapped.matched)
        phrases.update({(p, None): n for p, n in mapped.unmapped.items()})
    with transaction.atomic():
        bulk.shard_commit_async()
        assignments_add(version=child, rows=rows)
        _add_phrase_counts(child, phrases)
        cursor.update(last_caption_id=shard[-1][0], captions=cursor["captions"] + len(shard),
                      assignments=cursor["assignments"] + len(rows))
        ctx.commit(dict(cursor), done=cursor["captions"], total=total)
