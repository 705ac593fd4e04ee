"""Data-engine job bodies: ``engine_generate`` and ``engine_features`` (gpu), ``engine_cluster`` (cpu).

The only place where the engine meets the model code (torch, ``ram_model.engine``). Every body is sharded
and resumable like the parse job: a shard's rows and the job cursor are committed in one transaction, so a
killed worker's job continues after its last committed shard and never writes a row twice; cancellation is
checked between shards; progress is the cursor's count.

- generation: the baseline tags every image of the version, batch by batch; tags above their threshold that
  an image lacks become ``generated`` assignments (with their score) in a child version; captions (from the
  checkpoint's caption branch, or a captions file) become ``generated`` captions, parsed into ``parsed``
  assignments linked to them. The before/after report is counted in SQL, then the child is sealed.
- features: one region per assignment of the run's categories (detections file, Grounding DINO, whole image),
  cropped through the checkpoint's image encoder: L2-normalised pooled features go to a
  ``ram_model.engine.store.FeatureStore`` (files), each region's evidence (box, source, baseline score) to
  ``evidence-NNNNN.npy`` beside it, and assignments whose own-region score is under threshold are flagged
  (baseline rejection). Files are written before the shard's transaction; a resumed job first drops chunks
  past the cursor. Optionally confident learning on whole-image probabilities. Then the clustering job is
  launched (once).
- clustering: per-category K-Means++ over the store; each category's outlier flags (with cluster, distance,
  percentile and the region's evidence) are committed with the cursor.
"""

from __future__ import annotations

import io
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction

from apps.datasets import selectors as dataset_selectors
from apps.datasets.models import AssignmentSource, CaptionSource, DatasetVersion, Image
from apps.datasets.services import bulk
from apps.datasets.services.context import ShardContext
from apps.datasets.services.images import image_read
from apps.datasets.services.parsing import tag_mapper_for
from apps.datasets.services.versions import (
    AssignmentRow,
    CaptionRow,
    assignments_add,
    captions_add,
    dataset_version_create_child,
    dataset_version_seal,
)
from apps.engine import selectors, services
from apps.engine.models import EngineRun, EngineRunKind
from apps.engine.services import FlagRow
from apps.labels.models import TagGroup
from apps.training.models import Checkpoint

from .base import JobParameterError
from .training import _device, load_registered_model

FEATURE_CHUNK = 256  # regions preprocessed and encoded together (one store chunk each)
DECODE_THREADS = 2
REGION_SOURCES = ("image", "detections", "grounding_dino")  # evidence codes; Region.source "whole_image" → image
MAX_LOGGED_ERRORS = 5


def run_dir(run: EngineRun) -> Path:
    """Where a run's files live: ``LABELHUB_JOB_DIR/run-<id>`` (features/ and the evidence beside them)."""
    return Path(settings.LABELHUB_JOB_DIR) / f"run-{run.pk}"


# --- the baseline model -----------------------------------------------------------------------------------


@dataclass
class Baseline:
    """A checkpoint loaded for the engine: its columns per tag group and each group's threshold."""

    model: Any
    image_size: int
    device: str
    columns: dict[int, int]  # tag group id → model column
    names: dict[int, str]  # tag group id → primary tag text
    thresholds: dict[int, float]  # tag group id → threshold

    def probabilities(self, images: Any) -> Any:
        """Preprocessed images ``(B, 3, S, S)`` → sigmoid tag probabilities ``(B, num_classes)`` on the CPU."""
        import torch

        with torch.inference_mode():
            return torch.sigmoid(self.model.tagging_logits(images.to(self.device))).float().cpu()


def load_baseline(checkpoint: Checkpoint, version: DatasetVersion, params: Mapping[str, Any]) -> Baseline:
    """The checkpoint's model on this worker's device, its classes matched to the version's tag groups.

    A checkpoint of the version's own label system matches by tag ID; any other by tag text (synonyms too).
    """
    model, class_names = load_registered_model(checkpoint)
    device = _device()
    model = model.eval().to(device)
    lsv_id = version.label_system_version_id
    groups = dict(TagGroup.objects.filter(version_id=lsv_id).values_list("index", "pk"))
    columns: dict[int, int] = {}
    if checkpoint.label_system_version_id == lsv_id:
        columns = {groups[i]: i for i in range(model.num_classes) if i in groups}
    elif class_names:
        mapper = tag_mapper_for(lsv_id)
        for column, name in enumerate(class_names):
            gid = mapper.lookup(name)
            if gid is not None:
                columns.setdefault(gid, column)
    if not columns:
        raise JobParameterError(f"no class of checkpoint {checkpoint} is a tag of {version.label_system_version}")
    thresholds = selectors.group_thresholds(label_system_version_id=lsv_id, checkpoint=checkpoint,
                                            overrides=params.get("thresholds") or {},
                                            default=float(params.get("default_threshold", 0.65)))
    names = selectors.group_names(label_system_version_id=lsv_id)
    return Baseline(model, int(model.image_size), device, columns, names, thresholds)


def image_opener(image_root: str) -> Callable[[str], Any]:
    """``uri → RGB PIL image`` under the dataset's image root; OSError for a missing or unreadable file."""
    from PIL import Image as PILImage

    def open_image(uri: str) -> Any:
        found = image_read(uri, image_root)
        if found is None:
            raise OSError(f"image {uri} is missing or remote")
        try:
            with PILImage.open(io.BytesIO(found[0])) as image:
                image.load()
                return image.convert("RGB")
        except OSError:
            raise
        except Exception as exc:  # decompression bombs, broken headers
            raise OSError(f"image {uri} cannot be read: {type(exc).__name__}: {exc}") from exc

    return open_image


def _load_images(rows: Sequence[tuple[int, str]], open_image: Callable[[str], Any],
                 image_size: int) -> tuple[list[int], list[Any], list[Any], dict[int, str]]:
    """(ids, preprocessed tensors, PIL images, {id: reason}) of the readable images among ``rows``."""
    from ram_model.inference import preprocess

    def load(row: tuple[int, str]) -> tuple[int, Any, Any, str]:
        try:
            image = open_image(row[1])
            return row[0], image, preprocess(image, image_size), ""
        except (OSError, ValueError) as exc:
            return row[0], None, None, str(exc)

    with ThreadPoolExecutor(DECODE_THREADS) as pool:
        loaded = list(pool.map(load, rows))
    ok = [(i, image, tensor) for i, image, tensor, _ in loaded if tensor is not None]
    failed = {i: reason for i, _, tensor, reason in loaded if tensor is None}
    return [i for i, _, _ in ok], [t for _, _, t in ok], [image for _, image, _ in ok], failed


def _batched_probabilities(baseline: Baseline, tensors: list[Any], batch_size: int) -> np.ndarray:
    import torch

    out = [baseline.probabilities(torch.stack(tensors[b:b + batch_size])).numpy()
           for b in range(0, len(tensors), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


def _log_failures(ctx: ShardContext, failed: dict[int, str], already: int) -> None:
    for image_id, reason in list(failed.items())[:max(0, MAX_LOGGED_ERRORS - already)]:
        ctx.log(f"image {image_id} skipped: {reason}", level="warning")


# --- generation -------------------------------------------------------------------------------------------


def run_engine_generate(ctx: ShardContext, *, parser: Any = None) -> dict[str, Any]:
    """The body of an ``engine_generate`` job (``parser``: a ``ram_model.text`` parser stand-in for tests)."""
    run = services.engine_run_for_job(job=ctx.job)
    parent = DatasetVersion.objects.select_related("dataset", "label_system_version").get(pk=run.dataset_version_id)
    cursor = dict(ctx.cursor)
    if not cursor.get("child_id"):
        cursor = _generation_start(ctx, run, parent)
    child = DatasetVersion.objects.get(pk=cursor["child_id"])
    if not child.sealed:
        baseline = load_baseline(_checkpoint(run), parent, ctx.params)
        captions = _caption_source(ctx, parent, baseline)
        _generate_shards(ctx, run, parent, child, baseline, captions, parser, cursor)
        with transaction.atomic():
            report = selectors.generation_report_compute(parent=parent, child=child)
            report["images"] = {"total": cursor["images"], "tagged": cursor["images"] - cursor["unreadable"],
                                "unreadable": cursor["unreadable"]}
            report["captions"] = {"source": captions.name, "added": cursor["captions"],
                                  "parsed_assignments": cursor["parsed"]}
            services.engine_run_report_update(run=run, values=report)
            child = dataset_version_seal(version=child)
    run.refresh_from_db()
    total = run.report.get("total") or {}
    ctx.log(f"generation: {total.get('before')} → {total.get('after')} assignments in {child}")
    return {"run": run.pk, "version_id": child.pk, "parent_id": parent.pk, "images": cursor["images"],
            "unreadable": cursor["unreadable"], "generated": cursor["generated"], "captions": cursor["captions"],
            "parsed": cursor["parsed"], "total": total}


def _checkpoint(run: EngineRun) -> Checkpoint:
    checkpoint = Checkpoint.objects.filter(pk=run.checkpoint_id).select_related("label_system_version").first()
    if checkpoint is None:
        raise JobParameterError(f"the checkpoint of run {run} no longer exists")
    if not os.path.isfile(checkpoint.path):
        raise JobParameterError(f"the file of checkpoint {checkpoint} is missing: {checkpoint.path}")
    return checkpoint


def _generation_start(ctx: ShardContext, run: EngineRun, parent: DatasetVersion) -> dict[str, Any]:
    with transaction.atomic():
        child = dataset_version_create_child(parent=parent, job=ctx.job, user=ctx.job.user,
                                             note=f"tags and captions generated by engine run #{run.pk}")
        services.engine_run_set_output(run=run, version=child)
        cursor = {"run": run.pk, "child_id": child.pk, "last_image_id": 0, "images": 0, "unreadable": 0,
                  "generated": 0, "captions": 0, "parsed": 0}
        ctx.commit(cursor, 0)
    return cursor


@dataclass
class CaptionSourceInfo:
    """Where generated captions come from: ``file`` (uri → captions), ``model`` or ``none``."""

    name: str
    by_uri: dict[str, list[str]] | None = None


def _caption_source(ctx: ShardContext, parent: DatasetVersion, baseline: Baseline) -> CaptionSourceInfo:
    path = ctx.params.get("captions_file") or ""
    if path:
        by_uri: dict[str, list[str]] = defaultdict(list)
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                uri, text = str(record["image"]), str(record["caption"]).strip()
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise JobParameterError(f"{path} line {number}: expected {{\"image\", \"caption\"}}: {exc}") from None
            if text:
                by_uri[uri.removeprefix("./")].append(text)
        ctx.log(f"captions file: {sum(map(len, by_uri.values()))} captions for {len(by_uri)} images")
        return CaptionSourceInfo("file", dict(by_uri))
    if ctx.params.get("model_captions"):
        if getattr(baseline.model, "has_captions", False):
            return CaptionSourceInfo("model")
        ctx.log("the checkpoint has no caption branch; no captions are generated", level="warning")
    return CaptionSourceInfo("none")


def _generate_shards(ctx: ShardContext, run: EngineRun, parent: DatasetVersion, child: DatasetVersion,
                     baseline: Baseline, captions: CaptionSourceInfo, parser: Any, cursor: dict[str, Any]) -> None:
    p = ctx.params
    images = dataset_selectors.version_images(version=parent).order_by("id")
    total = images.count()
    open_image = image_opener(parent.dataset.image_root)
    gids = np.array(sorted(baseline.columns), dtype=np.int64)
    cols = np.array([baseline.columns[g] for g in gids], dtype=np.int64)
    limits = np.array([baseline.thresholds.get(int(g), 0.65) for g in gids], dtype=np.float32)
    mapper = tag_mapper_for(parent.label_system_version_id) if captions.name != "none" else None
    while True:
        ctx.check_cancel()
        shard = list(images.filter(id__gt=cursor["last_image_id"]).values_list("id", "uri")[:p["shard_size"]])
        if not shard:
            break
        ids, tensors, _, failed = _load_images(shard, open_image, baseline.image_size)
        _log_failures(ctx, failed, cursor["unreadable"])
        current: dict[int, set[int]] = defaultdict(set)
        for image_id, gid in (dataset_selectors.version_assignments(version=parent)
                              .filter(image_id__in=[i for i, _ in shard]).values_list("image_id", "tag_group_id")):
            current[image_id].add(gid)
        generated: list[AssignmentRow] = []
        if ids:
            probs = _batched_probabilities(baseline, tensors, p["batch_size"])[:, cols]  # (n, groups)
            for row, column in zip(*np.nonzero(probs > limits[None, :])):
                image_id, gid = ids[row], int(gids[column])
                if gid not in current[image_id]:
                    generated.append(AssignmentRow(image_id, gid, AssignmentSource.GENERATED,
                                                   round(float(probs[row, column]), 6)))
        texts = _captions_for(shard, ids, tensors, current, generated, baseline, captions, p["batch_size"])
        parsed = _parse(texts, mapper, parser)
        with transaction.atomic():
            bulk.shard_commit_async()
            assignments_add(version=child, rows=generated)
            caption_ids = captions_add(version=child, rows=[CaptionRow(image_id, text, CaptionSource.GENERATED)
                                                            for image_id, text in texts])
            parsed_rows = [AssignmentRow(image_id, gid, AssignmentSource.PARSED, None, caption_id)
                           for (image_id, _), caption_id, groups in zip(texts, caption_ids, parsed)
                           for gid in groups]
            assignments_add(version=child, rows=parsed_rows)
            cursor.update(last_image_id=shard[-1][0], images=cursor["images"] + len(shard),
                          unreadable=cursor["unreadable"] + len(failed),
                          generated=cursor["generated"] + len(generated), captions=cursor["captions"] + len(texts),
                          parsed=cursor["parsed"] + len(parsed_rows))
            ctx.commit(dict(cursor), done=cursor["images"], total=total)


def _captions_for(shard: list[tuple[int, str]], ids: list[int], tensors: list[Any], current: dict[int, set[int]],
                  generated: list[AssignmentRow], baseline: Baseline, captions: CaptionSourceInfo,
                  batch_size: int) -> list[tuple[int, str]]:
    """(image id, caption) pairs to add for this shard."""
    if captions.name == "file":
        return [(image_id, text) for image_id, uri in shard for text in captions.by_uri.get(uri, [])]
    if captions.name != "model" or not ids:
        return []
    import torch

    tags = {image_id: set(groups) for image_id, groups in current.items()}
    for row in generated:
        tags.setdefault(row.image_id, set()).add(row.tag_group_id)
    out: list[tuple[int, str]] = []
    for b in range(0, len(ids), batch_size):
        batch_ids = ids[b:b + batch_size]
        tag_texts = [" | ".join(baseline.names[g] for g in sorted(tags.get(i, ())) if g in baseline.names)
                     for i in batch_ids]
        with torch.inference_mode():
            texts = baseline.model.generate_captions(torch.stack(tensors[b:b + batch_size]).to(baseline.device),
                                                     tag_texts, num_beams=3, max_length=30, min_length=5)
        out += [(i, text.strip()) for i, text in zip(batch_ids, texts) if text.strip()]
    return out


def _parse(texts: list[tuple[int, str]], mapper: Any, parser: Any) -> list[list[int]]:
    """Tag groups of each caption (parsed with ``ram_model.text``, mapped like the parse job does)."""
    if not texts:
        return []
    if parser is None:
        from ram_model.text.parser import CaptionParser

        parser = CaptionParser()
    results = parser.parse_many([text for _, text in texts], batch_size=256)
    return [list(mapper.map_tags(result["tags"]).tag_ids) for result in results]


# --- cleaning: region features ----------------------------------------------------------------------------


EVIDENCE = np.dtype([("id", "<i8"), ("image", "<i8"), ("group", "<i8"), ("box", "<f4", (4,)), ("score", "<f4"),
                     ("threshold", "<f4"), ("source", "i1")])


class EvidenceStore:
    """Per chunk of the feature store, each region's evidence as one structured ``.npy`` (rows by id).

    Chunks are numbered like the store's and their ids ascend (assignments are read in id order), so an id is
    found by two binary searches in memory-mapped files.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._chunks: list[np.ndarray] | None = None
        self._starts = np.zeros(0, dtype=np.int64)

    def path(self, number: int) -> Path:
        return self.root / f"evidence-{number:05d}.npy"

    def write(self, number: int, rows: np.ndarray) -> None:
        temporary = self.root / f".evidence-{number:05d}.tmp"
        with temporary.open("wb") as fh:
            np.save(fh, rows, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, self.path(number))

    def _load(self) -> tuple[list[np.ndarray], np.ndarray]:
        if self._chunks is None:
            chunks = [np.load(p, mmap_mode="r", allow_pickle=False) for p in sorted(self.root.glob("evidence-*.npy"))]
            self._chunks = [c for c in chunks if len(c)]
            self._starts = np.array([int(c["id"][0]) for c in self._chunks], dtype=np.int64)
        return self._chunks, self._starts

    def lookup(self, ids: Sequence[int]) -> np.ndarray:
        """The evidence rows of ``ids`` in their order (KeyError for an id no chunk holds)."""
        chunks, starts = self._load()
        wanted = np.asarray(ids, dtype=np.int64)
        numbers = np.searchsorted(starts, wanted, side="right") - 1
        out = np.zeros(len(wanted), dtype=EVIDENCE)
        for number in np.unique(numbers).tolist():
            rows = np.nonzero(numbers == number)[0]
            chunk = chunks[number] if number >= 0 else None
            found = np.searchsorted(chunk["id"], wanted[rows]) if chunk is not None else None
            if chunk is None or (found >= len(chunk)).any() or (chunk["id"][found] != wanted[rows]).any():
                raise KeyError(f"no region evidence for some of the assignments {wanted[rows][:5].tolist()}")
            out[rows] = chunk[found]
        return out


def _truncate(root: Path, keep: int) -> int:
    """Delete chunk files numbered ``keep`` or more (and temporary files): what a killed attempt left."""
    removed = 0
    for path in list(root.glob("*")):
        digits = path.stem.rsplit("-", 1)[-1]
        if path.name.startswith(".") or (digits.isdigit() and int(digits) >= keep):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def run_engine_features(ctx: ShardContext, *, feature_encoder: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """The body of an ``engine_features`` job.

    ``feature_encoder`` replaces the checkpoint's pooled image token as the region feature (tests only: the
    baseline's probabilities, and so rejection, still come from the checkpoint).
    """
    from ram_model.engine.store import FeatureStore

    run = services.engine_run_for_job(job=ctx.job)
    version = DatasetVersion.objects.select_related("dataset", "label_system_version").get(pk=run.dataset_version_id)
    cursor = {"run": run.pk, "last_assignment_id": 0, "assignments": 0, "regions": 0, "chunks": 0, "unreadable": 0,
              "rejected": 0, "confident": 0, "phase": "regions", **ctx.cursor}
    folder = run_dir(run)
    dropped = _truncate(folder / "features", cursor["chunks"]) if (folder / "features").is_dir() else 0
    dropped += _truncate(folder / "evidence", cursor["chunks"]) if (folder / "evidence").is_dir() else 0
    if dropped:
        ctx.log(f"resuming: dropped {dropped} file(s) written after the last committed shard")
    store = FeatureStore(folder / "features")
    evidence = EvidenceStore(folder / "evidence")
    baseline = None
    if cursor["phase"] in ("regions", "confident"):
        baseline = load_baseline(_checkpoint(run), version, ctx.params)
    open_image = image_opener(version.dataset.image_root)
    if cursor["phase"] == "regions":
        sources, skipped = _region_sources(ctx, version, baseline)
        services.engine_run_report_update(run=run, section="features", values={
            "sources": [s.name for s in sources], "skipped_sources": skipped})
        _feature_shards(ctx, run, version, baseline, sources, open_image, store, evidence, cursor, feature_encoder)
        _set_phase(ctx, cursor, "confident" if ctx.params.get("confident") else "cluster")
    if cursor["phase"] == "confident":
        _confident(ctx, run, version, baseline, open_image, cursor)
        _set_phase(ctx, cursor, "cluster")
    services.engine_run_report_update(run=run, section="features", values={
        key: cursor[key] for key in ("assignments", "regions", "unreadable", "rejected", "confident", "chunks")})
    cluster_job = None
    if cursor["phase"] == "cluster" and ctx.params.get("cluster", True):
        cluster_job = services.engine_cluster_launch_once(run=run, features_job=ctx.job).pk
    return {"run": run.pk, "assignments": cursor["assignments"], "regions": cursor["regions"],
            "unreadable": cursor["unreadable"], "rejected": cursor["rejected"], "confident": cursor["confident"],
            "chunks": cursor["chunks"], "cluster_job": cluster_job, "features": str(store.root)}


def _set_phase(ctx: ShardContext, cursor: dict[str, Any], phase: str) -> None:
    cursor["phase"] = phase
    ctx.commit(dict(cursor), done=cursor["assignments"])


class ImageKeys(Mapping):
    """Detections' ``image_id`` → image key (uri): an int is an image id of the dataset, a string a uri."""

    def __init__(self, dataset_id: int) -> None:
        self.dataset_id = dataset_id
        self._by_id: dict[int, str] | None = None

    def _uri(self, image_id: int) -> str | None:
        if self._by_id is None:
            self._by_id = dict(Image.objects.filter(dataset_id=self.dataset_id).values_list("pk", "uri"))
        return self._by_id.get(image_id)

    def __getitem__(self, key: Any) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        if isinstance(key, bool):
            return default
        if isinstance(key, int):
            return self._uri(key) or default
        text = str(key).strip()
        return text.removeprefix("./") if text else default

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _detections(path: str) -> Iterator[dict[str, Any]]:
    """Entries of a COCO results file; ``file_name`` stands in for ``image_id`` where that is missing."""
    import ijson

    with Path(path).open("rb") as fh:
        try:
            for entry in ijson.items(fh, "item", use_float=True):
                if isinstance(entry, dict) and "image_id" not in entry and "file_name" in entry:
                    entry["image_id"] = str(entry["file_name"])
                yield entry
        except ijson.JSONError as exc:
            raise JobParameterError(f"{path}: not a JSON list of detections: {exc}") from None


def _region_sources(ctx: ShardContext, version: DatasetVersion, baseline: Baseline) -> tuple[list[Any], dict]:
    """The usable region sources, in order, and why the others were skipped (logged)."""
    from ram_model.engine.regions import DetectionsFileSource, GroundingDinoSource, available_sources, normalise_tag

    p = ctx.params
    mapper = tag_mapper_for(version.label_system_version_id)
    names = baseline.names
    by_index = dict(TagGroup.objects.filter(version_id=version.label_system_version_id).values_list("index", "pk"))

    def tag_map(phrase: str) -> str | None:
        gid = mapper.lookup(phrase)
        return normalise_tag(names[gid]) if gid in names else None

    sources: list[Any] = []
    if p.get("detections_file"):
        try:
            detections = DetectionsFileSource(
                _detections(p["detections_file"]), image_keys=ImageKeys(version.dataset_id), tag_map=tag_map,
                categories={index: names[gid] for index, gid in by_index.items() if gid in names}, strict=False)
        except ValueError as exc:
            raise JobParameterError(f"detections file: {exc}") from None
        ctx.log(f"detections file: {len(detections)} regions ({detections.skipped} not of this label system, "
                f"{detections.invalid} malformed)")
        sources.append(detections)
    if p.get("grounding_dino_dir"):
        sources.append(GroundingDinoSource(p["grounding_dino_dir"], device=baseline.device))
    usable, skipped = available_sources(sources)
    for name, reason in skipped.items():
        ctx.log(f"region source {name} skipped: {reason}", level="warning")
    return usable, skipped


def _resolve_regions(shard: list[tuple[int, int, str, int]], sources: list[Any], names: dict[int, str],
                     open_image: Callable[[str], Any]) -> list[Any]:
    """One region per assignment of the shard, in shard order (images opened only for sources that need them)."""
    from ram_model.engine.regions import resolve_regions

    need_image = any(getattr(s, "needs_image", False) for s in sources)
    by_image: dict[str, list[int]] = defaultdict(list)
    for row, (_, _, uri, _) in enumerate(shard):
        by_image[uri].append(row)
    regions: list[Any] = [None] * len(shard)
    for uri, rows in by_image.items():
        image = None
        if need_image:
            try:
                image = open_image(uri)
            except (OSError, ValueError):
                image = None  # the features step reports the image as unreadable
        asked = [s for s in sources if image is not None or not getattr(s, "needs_image", False)]
        tags = [names.get(shard[r][3], str(shard[r][3])) for r in rows]
        for row, region in zip(rows, resolve_regions(uri, tags, asked, image)):
            regions[row] = region
    return regions


def _encoder(baseline: Baseline, feature_encoder: Callable[[Any], Any] | None, dims: dict[str, int]) -> Callable:
    """Images → ``[features | probabilities]`` in one pass over the model (features: the pooled image token)."""
    import torch

    model = baseline.model

    def encode(images: Any) -> Any:
        if feature_encoder is None:
            embeds = model.image_embeddings(images)
            features = embeds[:, 0]
            probabilities = torch.sigmoid(model.tagging_logits_from_embeddings(embeds))
        else:
            features = feature_encoder(images)
            probabilities = torch.sigmoid(model.tagging_logits(images))
        dims["features"] = int(features.shape[1])
        return torch.cat([features.float(), probabilities.float()], dim=1)

    return encode


def _feature_shards(ctx: ShardContext, run: EngineRun, version: DatasetVersion, baseline: Baseline,
                    sources: list[Any], open_image: Callable[[str], Any], store: Any, evidence: EvidenceStore,
                    cursor: dict[str, Any], feature_encoder: Callable[[Any], Any] | None) -> None:
    from ram_model.engine.features import l2_normalise, region_outputs

    p = ctx.params
    assignments = dataset_selectors.version_assignments(version=version)
    if run.categories:
        assignments = assignments.filter(tag_group_id__in=run.categories)
    assignments = assignments.order_by("id")
    total = assignments.count()
    dims: dict[str, int] = {}
    encode = _encoder(baseline, feature_encoder, dims)
    while True:
        ctx.check_cancel()
        shard = list(assignments.filter(id__gt=cursor["last_assignment_id"])
                     .values_list("id", "image_id", "image__uri", "tag_group_id")[:p["shard_size"]])
        if not shard:
            break
        regions = _resolve_regions(shard, sources, baseline.names, open_image)
        columns = np.array([baseline.columns.get(gid, -1) for _, _, _, gid in shard])
        limits = np.array([baseline.thresholds.get(gid, 0.65) for _, _, _, gid in shard], dtype=np.float32)
        scores = np.full(len(shard), np.nan, dtype=np.float32)
        valid = np.zeros(len(shard), dtype=bool)
        for chunk in region_outputs(regions, open_image, encode, image_size=baseline.image_size,
                                    batch_size=p["batch_size"], chunk_size=FEATURE_CHUNK, device=baseline.device,
                                    threads=DECODE_THREADS):
            rows = np.arange(chunk.start, chunk.start + len(chunk.valid))[chunk.valid]
            if not len(rows):
                continue
            outputs = chunk.outputs[chunk.valid]
            features = l2_normalise(outputs[:, :dims["features"]])
            probabilities = outputs[:, dims["features"]:]
            known = columns[rows] >= 0
            scores[rows[known]] = probabilities[np.nonzero(known)[0], columns[rows[known]]]
            valid[rows] = True
            evidence.write(len(store), _evidence_rows(shard, regions, rows, scores, limits))
            store.append([shard[r][0] for r in rows], [str(shard[r][3]) for r in rows], features)
        rejected = [_flag_row(shard[r], regions[r], score=round(float(scores[r]), 6),
                              threshold=round(float(limits[r]), 6))
                    for r in np.nonzero(valid & np.isfinite(scores) & (scores < limits))[0]]
        with transaction.atomic():
            bulk.shard_commit_async()
            services.flags_record(run=run, method="rejection", rows=rejected)
            cursor.update(last_assignment_id=shard[-1][0], assignments=cursor["assignments"] + len(shard),
                          regions=cursor["regions"] + int(valid.sum()), chunks=len(store),
                          unreadable=cursor["unreadable"] + int((~valid).sum()),
                          rejected=cursor["rejected"] + len(rejected))
            ctx.commit(dict(cursor), done=cursor["assignments"], total=total)


def _source_code(region: Any) -> int:
    name = "image" if region.source == "whole_image" else region.source
    return REGION_SOURCES.index(name) if name in REGION_SOURCES else 0


def _evidence_rows(shard: list[tuple[int, int, str, int]], regions: list[Any], rows: np.ndarray,
                   scores: np.ndarray, limits: np.ndarray) -> np.ndarray:
    out = np.zeros(len(rows), dtype=EVIDENCE)
    for i, r in enumerate(rows):
        assignment_id, image_id, _, gid = shard[r]
        box = regions[r].box
        out[i] = (assignment_id, image_id, gid, box if box is not None else (np.nan,) * 4, scores[r], limits[r],
                  _source_code(regions[r]))
    return out


def _flag_row(row: tuple[int, int, str, int], region: Any, **evidence: Any) -> FlagRow:
    assignment_id, image_id, _, gid = row
    source = "image" if region.source == "whole_image" else region.source
    box = list(region.box) if region.box is not None else None
    return FlagRow(assignment_id, image_id, gid, region_source=source, box=box, **evidence)


def _confident(ctx: ShardContext, run: EngineRun, version: DatasetVersion, baseline: Baseline,
               open_image: Callable[[str], Any], cursor: dict[str, Any]) -> None:
    """Confident learning on whole-image probabilities of the run's categories (one pass; redone if killed).

    Holds ``images × categories`` probabilities in memory; categories without both a positive and a negative
    image are left out (cleanlab cannot estimate their noise).
    """
    from ram_model.engine.confident import availability, confident_learning_flags

    state = availability()
    if not state.available:
        ctx.log(f"confident learning skipped: {state.reason}", level="warning")
        services.engine_run_report_update(run=run, section="features", values={"confident_skipped": state.reason})
        return
    groups = [g for g in (run.categories or sorted(baseline.columns)) if g in baseline.columns]
    assignments = dataset_selectors.version_assignments(version=version).filter(tag_group_id__in=groups)
    by_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
    for assignment_id, image_id, gid in assignments.values_list("id", "image_id", "tag_group_id").order_by("id"):
        by_pair[(image_id, gid)].append(assignment_id)
    images = dataset_selectors.version_images(version=version).order_by("id")
    image_ids: list[int] = []
    blocks: list[np.ndarray] = []
    columns = np.array([baseline.columns[g] for g in groups])
    last = 0
    while shard := list(images.filter(id__gt=last).values_list("id", "uri")[:ctx.params["shard_size"]]):
        ctx.check_cancel()
        last = shard[-1][0]
        ids, tensors, _, _ = _load_images(shard, open_image, baseline.image_size)
        if ids:
            blocks.append(_batched_probabilities(baseline, tensors, ctx.params["batch_size"])[:, columns])
            image_ids += ids
    if not image_ids:
        return
    probs = np.concatenate(blocks)
    row_of = {image_id: i for i, image_id in enumerate(image_ids)}
    given = np.zeros(probs.shape, dtype=bool)
    col_of = {g: j for j, g in enumerate(groups)}
    for image_id, gid in by_pair:
        if image_id in row_of:
            given[row_of[image_id], col_of[gid]] = True
    keep = np.nonzero(given.any(axis=0) & ~given.all(axis=0))[0]
    if not len(keep):
        ctx.log("confident learning skipped: no category has both tagged and untagged images", level="warning")
        return
    labels = [np.nonzero(given[i, keep])[0].tolist() for i in range(len(image_ids))]
    try:
        found = confident_learning_flags(labels, probs[:, keep], n_jobs=1)
    except (ValueError, RuntimeError) as exc:
        ctx.log(f"confident learning failed and is skipped: {exc}", level="warning")
        return
    rows = []
    for flag in found:
        image_id, gid = image_ids[flag.image], groups[int(keep[flag.tag])]
        rows += [FlagRow(a, image_id, gid, label_quality=round(flag.probability, 6))
                 for a in by_pair.get((image_id, gid), [])]
    with transaction.atomic():
        services.flags_record(run=run, method="confident", rows=rows)
        cursor["confident"] = len(rows)
        ctx.commit(dict(cursor), done=cursor["assignments"])
    ctx.log(f"confident learning flagged {len(rows)} assignments")


# --- cleaning: clustering ---------------------------------------------------------------------------------


def cluster_config(params: Mapping[str, Any]) -> Any:
    from ram_model.engine.clustering import ClusterConfig

    options = {"flag_fraction": float(params.get("fraction", 0.10)), "k": int(params.get("k", 8)),
               "min_per_cluster": int(params.get("min_per_cluster", 50)),
               "min_regions": int(params.get("min_regions", 10)), "seed": int(params.get("seed", 0))}
    return ClusterConfig.fast(**options) if params.get("fast") else ClusterConfig(**options)


def run_engine_cluster(ctx: ShardContext) -> dict[str, Any]:
    """The body of an ``engine_cluster`` job: one committed transaction of outlier flags per category."""
    from ram_model.engine.clustering import cluster_flags, cluster_groups
    from ram_model.engine.store import FeatureStore

    p = ctx.params
    run = EngineRun.objects.filter(pk=p["run"]).first()
    if run is None or run.kind != EngineRunKind.CLEANING:
        raise JobParameterError(f"engine run {p['run']} does not exist or is not a cleaning run")
    folder = run_dir(run)
    if not (folder / "features").is_dir() or not len(FeatureStore(folder / "features")):
        raise JobParameterError(f"run {run} has no region features yet; its features job must run first")
    store = FeatureStore(folder / "features")
    evidence = EvidenceStore(folder / "evidence")
    config = cluster_config(p)
    cursor = dict(ctx.cursor)
    if "done" not in cursor:  # a fresh clustering replaces an earlier one's verdict
        with transaction.atomic():
            services.engine_run_attach_job(run=run, job=ctx.job)  # also when launched from the jobs page
            cleared = services.flags_clear_method(run=run, method="cluster")
            services.engine_run_report_update(run=run, values={"clusters": {}, "clustering": {
                "job": ctx.job.pk, "fraction": config.flag_fraction, "fast": bool(p.get("fast")), "k": config.k}})
            cursor = {"done": 0, "flags": 0}
            ctx.commit(dict(cursor), done=0)
        if cleared:
            ctx.log(f"removed {cleared} cluster flags of an earlier clustering")
    categories = sorted(store.category_sizes())
    remaining = categories[cursor["done"]:]
    groups = cluster_groups(store.category_groups(only=remaining), config)
    for result in groups:
        flags = cluster_flags([result])
        found = evidence.lookup([f.id for f in flags])
        rows = [_cluster_row(flag, row) for flag, row in zip(flags, found)]
        with transaction.atomic():
            services.flags_record(run=run, method="cluster", rows=rows)
            services.engine_run_report_update(run=run, section="clusters", values={result.category: {
                "regions": len(result.ids), "k": result.k, "algorithm": result.algorithm,
                "flagged": int(result.flagged.sum())}})
            cursor.update(done=cursor["done"] + 1, flags=cursor["flags"] + len(rows))
            ctx.commit(dict(cursor), done=cursor["done"], total=len(categories))
        ctx.check_cancel()
    ctx.log(f"clustering flagged {cursor['flags']} regions in {len(categories)} categories")
    return {"run": run.pk, "categories": len(categories), "flags": cursor["flags"]}


def _cluster_row(flag: Any, row: np.ndarray) -> FlagRow:
    box = [float(v) for v in row["box"]]
    score, threshold = float(row["score"]), float(row["threshold"])
    return FlagRow(int(flag.id), int(row["image"]), int(row["group"]), region_source=REGION_SOURCES[int(row["source"])],
                   box=None if any(np.isnan(box)) else box, cluster=flag.cluster, distance=round(flag.distance, 6),
                   percentile=round(flag.percentile, 6), score=None if np.isnan(score) else round(score, 6),
                   threshold=None if np.isnan(threshold) else round(threshold, 6))
