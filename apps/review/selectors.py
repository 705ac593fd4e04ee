"""Reads of review work: a reviewer's queue (keyset pages over indexed ReviewTask rows), a flag's neighbours,
progress, agreement.

Every queue read is one indexed query: ``review_task_queue`` (reviewer, run, tag_group, decision, flag) serves
``queue_page`` in flag order from a cursor (no OFFSET, no COUNT); the flag, its image and the replacement tag
come with it (select_related) and the captions of the page's images in one more query. Counts (progress,
agreement) are separate reads that the pages load as htmx fragments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import BooleanField, Count, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from apps.datasets.models import Caption
from apps.engine.models import EngineRun, EngineRunKind, Flag, FlagStatus
from apps.labels.models import Tag, TagGroup
from apps.labels.selectors import group_names

from .models import ReviewAction, ReviewApplication, ReviewBatch, ReviewTask, RunReviewer

PAGE_SIZE = 20
MAX_PAGE_SIZE = 200
STATUS_FILTERS = {"pending": "", "accept": ReviewAction.ACCEPT, "reject": ReviewAction.REJECT,
                  "change": ReviewAction.CHANGE}
REASON_FILTERS = {"cluster_outlier": "by_cluster", "baseline_rejection": "by_rejection",
                  "confident_learning": "by_confident"}


@dataclass(frozen=True)
class QueueFilter:
    """What a queue shows: the reviewer's tasks of one decision state, optionally one reason and one cluster."""

    status: str = "pending"
    reason: str = ""
    cluster: int | None = None

    @classmethod
    def from_query(cls, data: Any) -> QueueFilter:
        """The filter from request parameters; unknown values fall back to the defaults."""
        status = data.get("status") or "pending"
        reason = data.get("reason") or ""
        cluster = str(data.get("cluster") or "").strip()
        return cls(status=status if status in STATUS_FILTERS else "pending",
                   reason=reason if reason in REASON_FILTERS else "",
                   cluster=int(cluster) if cluster.lstrip("-").isdigit() else None)

    def as_query(self) -> dict[str, Any]:
        query: dict[str, Any] = {"status": self.status}
        if self.reason:
            query["reason"] = self.reason
        if self.cluster is not None:
            query["cluster"] = self.cluster
        return query

    def apply(self, tasks: QuerySet[ReviewTask]) -> QuerySet[ReviewTask]:
        tasks = tasks.filter(decision=STATUS_FILTERS[self.status])
        if self.reason:
            tasks = tasks.filter(**{f"flag__{REASON_FILTERS[self.reason]}": True})
        if self.cluster is not None:
            tasks = tasks.filter(flag__cluster=self.cluster)
        return tasks


PENDING = QueueFilter()  # the default queue: pending tasks, any reason, any cluster


@dataclass
class QueuePage:
    tasks: list[ReviewTask]
    has_next: bool
    has_previous: bool
    names: dict[int, str] = field(default_factory=dict)

    @property
    def first_flag_id(self) -> int | None:
        return self.tasks[0].flag_id if self.tasks else None

    @property
    def last_flag_id(self) -> int | None:
        return self.tasks[-1].flag_id if self.tasks else None


# --- runs and access ---------------------------------------------------------------------------------------


def review_run_list() -> QuerySet[EngineRun]:
    """Cleaning runs (the runs whose flags are reviewed), newest first."""
    return (EngineRun.objects.filter(kind=EngineRunKind.CLEANING)
            .select_related("dataset_version__dataset").order_by("-created_at", "-id"))


def run_is_reviewer(*, run_id: int, user: AbstractBaseUser) -> bool:
    """Whether ``user`` is assigned to review the run (the only way to see its queue or decide on its flags)."""
    return bool(user.is_authenticated) and RunReviewer.objects.filter(run_id=run_id, user_id=user.pk).exists()


def reviewer_run_ids(*, user: AbstractBaseUser) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(RunReviewer.objects.filter(user_id=user.pk).values_list("run_id", flat=True))


def run_reviewers(*, run: EngineRun) -> QuerySet[RunReviewer]:
    return RunReviewer.objects.filter(run=run).select_related("user", "added_by").order_by("user__username")


# --- the queue ---------------------------------------------------------------------------------------------


def queue_tasks(*, user: AbstractBaseUser, run: EngineRun | int, tag_group_id: int,
                queue_filter: QueueFilter = PENDING) -> QuerySet[ReviewTask]:
    """The reviewer's tasks of one run and category that match the filter (unordered, unsliced)."""
    run_id = run if isinstance(run, int) else run.pk
    tasks = ReviewTask.objects.filter(reviewer_id=user.pk, run_id=run_id, tag_group_id=tag_group_id)
    return queue_filter.apply(tasks)


def _flag_id(op: str, value: int) -> RawSQL:
    """The keyset cursor stated on engine_flag's own id too (Django would rewrite ``flag__id`` to the task's
    ``flag_id``): PostgreSQL may merge-join tasks and flags, and without it walks engine_flag's primary key from
    the run's first flag up to the cursor — 170 ms deep into a 1M-flag run instead of 0.1 ms."""
    qn = connection.ops.quote_name
    return RawSQL(f"{qn(Flag._meta.db_table)}.{qn('id')} {op} %s", (value,), output_field=BooleanField())


def queue_page(*, user: AbstractBaseUser, run: EngineRun, tag_group_id: int,
               queue_filter: QueueFilter = PENDING, after: int | None = None, before: int | None = None,
               limit: int = PAGE_SIZE) -> QueuePage:
    """One keyset page of the reviewer's queue in flag order: after flag ``after`` or before flag ``before``.

    PostgreSQL (pending, no reason/cluster filter)::

        SELECT t.*, f.*, i.*, g.* FROM review_reviewtask t
          JOIN engine_flag f ON f.id = t.flag_id
          JOIN datasets_image i ON i.id = f.image_id
          LEFT JOIN labels_taggroup g ON g.id = t.new_tag_group_id
         WHERE t.reviewer_id = $1 AND t.run_id = $2 AND t.tag_group_id = $3 AND t.decision = ''
           AND t.flag_id > $4 AND f.id > $4
         ORDER BY t.flag_id ASC LIMIT 21

    an index range scan on ``review_task_queue`` that stops after 21 rows, however long the queue. The cursor
    is also stated on ``f.id`` (see ``_flag_id``); the first page (no cursor) first reads the first task's flag
    id from the same index.
    """
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    tasks = queue_tasks(user=user, run=run, tag_group_id=tag_group_id, queue_filter=queue_filter)
    tasks = tasks.select_related("flag", "flag__image", "new_tag_group")
    version = run.dataset_version
    captions = Caption.objects.filter(Q(removed_in_seq__isnull=True) | Q(removed_in_seq__gt=version.seq),
                                      added_in_seq__lte=version.seq).order_by("id")
    tasks = tasks.prefetch_related(Prefetch("flag__image__captions", queryset=captions, to_attr="visible_captions"))
    if before is not None:
        rows = list(tasks.filter(flag_id__lt=before).filter(_flag_id("<", before)).order_by("-flag_id")[:limit + 1])
        has_previous, has_next = len(rows) > limit, True
        rows = list(reversed(rows[:limit]))
    else:
        if after is not None:
            tasks = tasks.filter(flag_id__gt=after).filter(_flag_id(">", after))
        else:  # the first page: bound engine_flag's side by the first task of this state (one index probe)
            first = (ReviewTask.objects.filter(reviewer_id=user.pk, run_id=run.pk, tag_group_id=tag_group_id,
                                               decision=STATUS_FILTERS[queue_filter.status])
                     .order_by("flag_id").values_list("flag_id", flat=True).first())
            if first is None:
                return QueuePage([], has_next=False, has_previous=False,
                                 names=group_names(ids=[tag_group_id]))
            tasks = tasks.filter(_flag_id(">=", first))
        rows = list(tasks.order_by("flag_id")[:limit + 1])
        has_next, has_previous = len(rows) > limit, bool(after)
        rows = rows[:limit]
    names = group_names(ids=[tag_group_id, *(t.new_tag_group_id for t in rows)])
    return QueuePage(rows, has_next=has_next, has_previous=has_previous, names=names)


def queue_task(*, user: AbstractBaseUser, flag_id: int) -> ReviewTask | None:
    """The reviewer's task on one flag, with what a queue card shows (None when the flag is not theirs)."""
    task = (ReviewTask.objects.filter(reviewer_id=user.pk, flag_id=flag_id)
            .select_related("flag", "flag__image", "flag__run__dataset_version", "new_tag_group").first())
    if task is None:
        return None
    version = task.flag.run.dataset_version
    image = task.flag.image
    image.visible_captions = list(Caption.objects.filter(
        Q(removed_in_seq__isnull=True) | Q(removed_in_seq__gt=version.seq), image=image,
        added_in_seq__lte=version.seq).order_by("id"))
    return task


def queue_counts(*, user: AbstractBaseUser, run: EngineRun, tag_group_id: int) -> dict[str, int]:
    """The reviewer's tasks of one category by decision (an index-only scan of ``review_task_queue``)."""
    rows = dict(ReviewTask.objects.filter(reviewer_id=user.pk, run=run, tag_group_id=tag_group_id)
                .values_list("decision").annotate(n=Count("id")).order_by())
    counts = {name: rows.get(value, 0) for name, value in STATUS_FILTERS.items()}
    counts["total"] = sum(rows.values())
    counts["decided"] = counts["total"] - counts["pending"]
    return counts


def reviewer_categories(*, user: AbstractBaseUser, run: EngineRun) -> list[dict[str, Any]]:
    """The categories the reviewer has work in, with their counts by decision."""
    per: dict[int, dict[str, int]] = {}
    for group_id, decision, n in (ReviewTask.objects.filter(reviewer_id=user.pk, run=run)
                                  .values_list("tag_group_id", "decision").annotate(n=Count("id")).order_by()):
        row = per.setdefault(group_id, {"total": 0, "pending": 0})
        row["total"] += n
        if decision == "":
            row["pending"] += n
    names = group_names(ids=per)
    return sorted(({"tag_group_id": gid, "name": names.get(gid, f"#{gid}"), **row,
                    "decided": row["total"] - row["pending"]} for gid, row in per.items()),
                  key=lambda r: (-r["pending"], r["name"]))


def flag_neighbours(*, flag: Flag, limit: int = 6) -> list[Flag]:
    """A few other flags of the same run, category and cluster (index ``engine_flag_cluster``)."""
    if flag.cluster is None:
        return []
    return list(Flag.objects.filter(run_id=flag.run_id, tag_group_id=flag.tag_group_id, cluster=flag.cluster)
                .exclude(pk=flag.pk).select_related("image").order_by("id")[:limit])


def tag_search(*, flag: Flag, query: str, limit: int = 12) -> list[dict[str, Any]]:
    """Tag groups of the flag's label-system version whose tags match ``query`` (for "change tag")."""
    version_id = TagGroup.objects.filter(pk=flag.tag_group_id).values_list("version_id", flat=True).first()
    tags = Tag.objects.filter(version_id=version_id).exclude(group_id=flag.tag_group_id)
    query = query.strip()
    if query:
        tags = tags.filter(text__icontains=query)
    found: dict[int, dict[str, Any]] = {}
    for group_id, text in tags.order_by("group__index", "position", "id").values_list("group_id", "text")[:200]:
        found.setdefault(group_id, {"tag_group_id": group_id, "matches": []})["matches"].append(text)
        if len(found) >= limit:
            break
    names = group_names(ids=found)
    return [{**row, "name": names.get(gid, "")} for gid, row in found.items()]


# --- batches, progress, agreement --------------------------------------------------------------------------


def run_batches(*, run: EngineRun, reviewer: AbstractBaseUser | None = None) -> list[ReviewBatch]:
    """Batches of a run (of one reviewer), newest first, each with ``decided`` (its decided tasks)."""
    batches = ReviewBatch.objects.filter(run=run).select_related("reviewer", "tag_group")
    if reviewer is not None:
        batches = batches.filter(reviewer_id=reviewer.pk)
    batches = list(batches[:200])
    decided = dict(ReviewTask.objects.filter(batch__in=[b.pk for b in batches]).exclude(decision="")
                   .values_list("batch_id").annotate(n=Count("id")).order_by())
    names = group_names(ids=[b.tag_group_id for b in batches])
    for batch in batches:
        batch.decided = decided.get(batch.pk, 0)
        batch.category = names.get(batch.tag_group_id, "") if batch.tag_group_id else ""
    return batches


def run_progress(*, run: EngineRun) -> dict[str, Any]:
    """Flags per category and review status (index ``engine_flag_queue``), and tasks decided / assigned."""
    per: dict[int, dict[str, int]] = {}
    for group_id, status, n in (Flag.objects.filter(run=run).values_list("tag_group_id", "status")
                                .annotate(n=Count("id")).order_by()):
        row = per.setdefault(group_id, {s: 0 for s in FlagStatus.values})
        row[status] = n
    tasks = dict(ReviewTask.objects.filter(run=run).values_list("decision").annotate(n=Count("id")).order_by())
    names = group_names(ids=per)
    categories = []
    for gid, row in per.items():
        total = sum(row.values())
        categories.append({"tag_group_id": gid, "name": names.get(gid, f"#{gid}"), "total": total,
                           "decided": total - row[FlagStatus.OPEN], **row})
    categories.sort(key=lambda r: (-r["total"], r["name"]))
    flags = sum(c["total"] for c in categories)
    decided = sum(c["decided"] for c in categories)
    task_total = sum(tasks.values())
    return {"flags": flags, "decided": decided, "open": flags - decided,
            "percent": round(100 * decided / flags, 1) if flags else 0.0, "categories": categories,
            "tasks": {"total": task_total, "decided": task_total - tasks.get("", 0), "pending": tasks.get("", 0)}}


def _overlapped_flags_sql() -> str:
    """Per flag of a run assigned to 2+ reviewers who all decided: its tag and whether they were unanimous."""
    return (
        "SELECT t.flag_id, t.tag_group_id, COUNT(*) AS n, "
        "SUM(CASE WHEN t.decision <> '' THEN 1 ELSE 0 END) AS decided, "
        "CASE WHEN MIN(t.decision) = MAX(t.decision) AND MIN(COALESCE(t.new_tag_group_id, 0)) = "
        "MAX(COALESCE(t.new_tag_group_id, 0)) THEN 1 ELSE 0 END AS unanimous "
        f"FROM {ReviewTask._meta.db_table} t WHERE t.run_id = %s GROUP BY t.flag_id, t.tag_group_id "
        "HAVING COUNT(*) >= 2 AND SUM(CASE WHEN t.decision <> '' THEN 1 ELSE 0 END) = COUNT(*)"
    )


def run_agreement(*, run: EngineRun) -> dict[str, Any]:
    """Agreement on overlapped flags (assigned to 2+ reviewers, all of whom decided).

    - per reviewer: the share of their decisions on such flags that equal the flag's majority outcome (a flag
      without a strict majority — a tie — agrees with nobody);
    - per tag: the share of such flags whose reviewers were unanimous.
    """
    overlapped = _overlapped_flags_sql()
    task, flag = ReviewTask._meta.db_table, Flag._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT o.tag_group_id, COUNT(*), SUM(o.unanimous) FROM ({overlapped}) o "
                       "GROUP BY o.tag_group_id", [run.pk])
        tag_rows = cursor.fetchall()
        cursor.execute(
            f"SELECT t.reviewer_id, COUNT(*), SUM(CASE WHEN "
            f"(f.status = 'accepted' AND t.decision = 'accept') OR (f.status = 'rejected' AND t.decision = 'reject') "
            f"OR (f.status = 'changed' AND t.decision = 'change' AND t.new_tag_group_id = f.resolved_tag_group_id) "
            f"THEN 1 ELSE 0 END) FROM {task} t JOIN ({overlapped}) o ON o.flag_id = t.flag_id "
            f"JOIN {flag} f ON f.id = t.flag_id WHERE t.run_id = %s GROUP BY t.reviewer_id", [run.pk, run.pk])
        reviewer_rows = cursor.fetchall()
    from django.contrib.auth import get_user_model

    users = dict(get_user_model().objects.filter(pk__in=[r[0] for r in reviewer_rows])
                 .values_list("pk", "username"))
    names = group_names(ids=[r[0] for r in tag_rows])
    reviewers = sorted(({"reviewer_id": uid, "username": users.get(uid, str(uid)), "decisions": int(n),
                         "agreeing": int(ok or 0), "agreement": round((ok or 0) / n, 4) if n else None}
                        for uid, n, ok in reviewer_rows), key=lambda r: r["username"])
    tags = sorted(({"tag_group_id": gid, "name": names.get(gid, f"#{gid}"), "flags": int(n),
                    "unanimous": int(u or 0), "agreement": round((u or 0) / n, 4) if n else None}
                   for gid, n, u in tag_rows), key=lambda r: (r["agreement"] or 0, r["name"]))
    return {"reviewers": reviewers, "tags": tags}


def run_applications(*, run: EngineRun) -> QuerySet[ReviewApplication]:
    return ReviewApplication.objects.filter(run=run).select_related("output_version__dataset", "job", "created_by")
