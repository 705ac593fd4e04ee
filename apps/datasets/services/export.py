"""Snapshot export of a sealed version into files + manifest, and their verification.

Reading a version is three streaming queries (images, captions, assignments, each ordered by image id) merged
per image, so memory stays flat. Output is deterministic (see :mod:`apps.datasets.formats.writers`), and the
manifest (format, counts, dataset version, label-system version, per-file size and sha256) carries no
timestamp, so exporting the same version twice gives byte-identical directories. Files are written into a
hidden sibling directory and renamed into place at the end, so a crashed export leaves no half snapshot and
a retried job simply starts over.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import selectors
from ..formats.export_item import ExportAssignment, ExportItem
from ..formats.recount import recount
from ..formats.writers import EXPORT_FORMATS, WRITERS, ExportOptions
from ..models import DatasetVersion, Snapshot
from .context import ShardContext
from .images import image_read

MANIFEST = "manifest.json"
CHUNK = 5000


@dataclass
class SnapshotOptions:
    version_id: int
    format: str
    out: str = ""
    shard_size: int = 1000

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def version_export_items(*, version: DatasetVersion) -> Iterator[ExportItem]:
    """Every image of a version with its captions and tags, in image-id order (three merged streams)."""
    images = (selectors.version_images(version=version).order_by("id")
              .values_list("id", "uri", "width", "height").iterator(chunk_size=CHUNK))
    captions = (selectors.version_captions(version=version).order_by("image_id", "id")
                .values_list("image_id", "id", "text").iterator(chunk_size=CHUNK))
    assignments = (selectors.version_assignments(version=version).order_by("image_id", "id")
                   .values_list("image_id", "tag_group__index", "source", "score", "caption_id")
                   .iterator(chunk_size=CHUNK))
    next_caption = next(captions, None)
    next_assignment = next(assignments, None)
    for image_id, uri, width, height in images:
        item = ExportItem(image_id, uri, width, height)
        positions: dict[int, int] = {}
        while next_caption is not None and next_caption[0] <= image_id:
            if next_caption[0] == image_id:
                positions[next_caption[1]] = len(item.captions)
                item.captions.append(next_caption[2])
            next_caption = next(captions, None)
        while next_assignment is not None and next_assignment[0] <= image_id:
            if next_assignment[0] == image_id:
                _, index, source, score, caption_id = next_assignment
                item.assignments.append(ExportAssignment(index, source, score, positions.get(caption_id)))
            next_assignment = next(assignments, None)
        item.assignments.sort(key=lambda a: (a.tag_index, a.source, -1 if a.caption_pos is None else a.caption_pos))
        yield item


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _default_out(version: DatasetVersion, fmt: str) -> Path:
    return Path(settings.LABELHUB_EXPORT_DIR) / f"{version.dataset.name}-v{version.seq}-{fmt}"


def snapshot_export(*, version: DatasetVersion, format: str, out: str | Path = "", shard_size: int = 1000,
                    job: Any = None, user: Any = None) -> Snapshot:
    """Export a sealed version to ``out`` (must not exist or be empty); records a Snapshot row."""
    if format not in EXPORT_FORMATS:
        raise ValidationError(f"unknown snapshot format {format!r} (choose from {', '.join(EXPORT_FORMATS)})")
    if not version.sealed:
        raise ValidationError(f"version {version} is open; seal it first (only sealed versions export reproducibly)")
    if shard_size < 1:
        raise ValidationError("shard_size must be at least 1")
    target = Path(out) if out else _default_out(version, format)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ValidationError(f"output directory {target} is not empty")
    partial = target.parent / f".{target.name}.partial"
    if partial.exists():
        shutil.rmtree(partial)  # left by a crashed attempt of this export
    partial.mkdir(parents=True)
    image_root = version.dataset.image_root
    options = ExportOptions(
        tag_names=selectors.tag_names(label_system_version_id=version.label_system_version_id),
        shard_size=shard_size, open_image=lambda uri: image_read(uri, image_root),
        info={"dataset": version.dataset.name, "dataset_version_id": version.pk, "version_seq": version.seq,
              "label_system_version_id": version.label_system_version_id})
    with transaction.atomic():  # one consistent read for the three streams
        written = WRITERS[format](version_export_items(version=version), partial, options)
    manifest = {
        "manifest_version": 1,
        "format": format,
        "dataset": version.dataset.name,
        "dataset_id": version.dataset_id,
        "dataset_version_id": version.pk,
        "version_seq": version.seq,
        "label_system_version_id": version.label_system_version_id,
        "image_root": image_root,
        "options": {"shard_size": shard_size} if format == "wds" else {},
        "counts": dict(sorted(written.counts.items())),
        "files": [{"name": name, "bytes": (partial / name).stat().st_size, "sha256": _sha256(partial / name)}
                  for name in written.files],
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if target.exists():
        target.rmdir()
    partial.rename(target)
    return Snapshot.objects.create(version=version, format=format, path=str(target.resolve()), manifest=manifest,
                                   job=job, created_by=user if user is not None and user.is_authenticated else None)


def snapshot_export_run(ctx: ShardContext) -> dict[str, Any]:
    """The body of an ``export_snapshot`` job."""
    opts = SnapshotOptions(**ctx.params)
    version = DatasetVersion.objects.select_related("dataset").filter(pk=opts.version_id).first()
    if version is None:
        raise ValidationError(f"dataset version {opts.version_id} does not exist")
    snapshot = snapshot_export(version=version, format=opts.format, out=opts.out, shard_size=opts.shard_size,
                               job=ctx.job, user=ctx.job.user)
    ctx.commit({"snapshot_id": snapshot.pk}, done=snapshot.manifest["counts"].get("records", 0))
    return {"snapshot_id": snapshot.pk, "path": snapshot.path, "counts": snapshot.manifest["counts"]}


def snapshot_verify(*, path: str | Path) -> dict[str, Any]:
    """Recompute every file's size and sha256 and the record/caption counts; ``ok`` says whether all match."""
    folder = Path(path)
    problems: list[str] = []
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return {"ok": False, "problems": [f"cannot read {folder / MANIFEST}: {exc}"], "counts": {}}
    listed = {f["name"] for f in manifest.get("files", [])}
    for entry in manifest.get("files", []):
        file = folder / entry["name"]
        if not file.is_file():
            problems.append(f"{entry['name']}: missing")
        elif file.stat().st_size != entry["bytes"]:
            problems.append(f"{entry['name']}: size {file.stat().st_size} != {entry['bytes']} in the manifest")
        elif _sha256(file) != entry["sha256"]:
            problems.append(f"{entry['name']}: sha256 differs from the manifest")
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed and p.name != MANIFEST)
    problems += [f"{name}: not listed in the manifest" for name in extra]
    counts: dict[str, int] = {}
    if not problems:
        try:
            counts = recount(manifest["format"], folder, [f["name"] for f in manifest["files"]])
        except Exception as exc:  # any unreadable file is a failed verification
            problems.append(f"cannot read the files back: {type(exc).__name__}: {exc}")
        for key, value in counts.items():
            expected = manifest.get("counts", {}).get(key)
            if expected != value:
                problems.append(f"{key}: {value} in the files, {expected} in the manifest")
    ok = not problems
    if ok:
        Snapshot.objects.filter(path=str(folder.resolve())).update(verified_at=timezone.now())
    return {"ok": ok, "problems": problems, "counts": counts, "format": manifest.get("format"),
            "dataset_version_id": manifest.get("dataset_version_id")}
