"""Region sources: where in an image a tag is, as (image key, tag, box xywh, score).

Cleaning looks at the part of an image a tag is about, so every (image, tag) assignment gets one region from
the first source that has one: a detections file in COCO results format from any open-set detector, Grounding
DINO run locally when its package and a checkpoint directory are present, and finally the whole image.
Sources share one small interface, so a new detector is one more class.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from PIL import Image

Box = tuple[float, float, float, float]  # x, y, width, height in pixels (COCO order)
TagMap = Mapping[str, str] | Callable[[str], str | None]


@dataclass(frozen=True)
class Region:
    """One region for one (image, tag); ``box`` None means the whole image of unknown size."""

    image_key: str
    tag: str
    box: Box | None
    score: float | None
    source: str


@dataclass(frozen=True)
class Availability:
    """Whether a source can run here, and if not, why (shown to the user instead of an exception)."""

    available: bool
    reason: str = ""


@runtime_checkable
class RegionSource(Protocol):
    """Anything that proposes regions for some tags of one image (``needs_image``: only with the image)."""

    name: str
    needs_image: bool

    def availability(self) -> Availability: ...

    def regions(self, image_key: str, tags: Sequence[str], image: Image.Image | None = None) -> list[Region]: ...


def normalise_tag(text: str) -> str:
    """Lower case, single spaces: how detector phrases and tag names are compared."""
    return " ".join(str(text).lower().replace("_", " ").split())


def _map_tag(name: str, tag_map: TagMap | None) -> str | None:
    key = normalise_tag(name)
    if tag_map is None:
        return key
    if callable(tag_map):
        return tag_map(key)
    return tag_map.get(key)


def _valid_box(raw: Any) -> Box:
    if not isinstance(raw, (list, tuple)) or len(raw) != 4:
        raise ValueError(f"bbox must be [x, y, w, h], got {raw!r}")
    box = tuple(float(v) for v in raw)
    if not all(math.isfinite(v) for v in box):
        raise ValueError(f"bbox has a non-finite value: {raw!r}")
    if box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"bbox has no area: {raw!r}")
    return box  # type: ignore[return-value]


class DetectionsFileSource:
    """Regions from a COCO results list: ``[{image_id, category_id | phrase | tag, bbox, score}, …]``.

    ``categories`` maps COCO category ids to names (a dict, or the ``categories`` list of a COCO file);
    ``image_keys`` maps ``image_id`` to the caller's image key (default ``str(image_id)``); ``tag_map`` maps a
    normalised name to a tag of the label system (dict or function returning None for "not ours"), so
    detector phrases such as "Dining Table" meet the tag "dining table". Unmappable entries are counted in
    ``skipped``; malformed ones raise unless ``strict=False`` (then they are counted in ``invalid``).
    """

    name = "detections"
    needs_image = False

    def __init__(
        self,
        detections: str | Path | Iterable[Mapping[str, Any]],
        *,
        categories: Mapping[int, str] | Sequence[Mapping[str, Any]] | None = None,
        image_keys: Mapping[Any, str] | None = None,
        tag_map: TagMap | None = None,
        min_score: float = 0.0,
        strict: bool = True,
    ) -> None:
        self.categories = _category_names(categories)
        self.image_keys = image_keys
        self.tag_map = tag_map
        self.min_score = float(min_score)
        self.strict = strict
        self.skipped = 0
        self.invalid = 0
        self._by_image: dict[str, dict[str, Region]] = defaultdict(dict)
        entries = _read_detections(detections) if isinstance(detections, (str, Path)) else detections
        for index, entry in enumerate(entries):
            self._add(index, entry)

    def _add(self, index: int, entry: Mapping[str, Any]) -> None:
        try:
            region = self._parse(entry)
        except (KeyError, TypeError, ValueError) as exc:
            if self.strict:
                raise ValueError(f"detection {index}: {exc}") from exc
            self.invalid += 1
            return
        if region is None:
            self.skipped += 1
            return
        best = self._by_image[region.image_key].get(region.tag)
        if best is None or (region.score or 0.0) > (best.score or 0.0):
            self._by_image[region.image_key][region.tag] = region

    def _parse(self, entry: Mapping[str, Any]) -> Region | None:
        image_id = entry["image_id"]
        key = self.image_keys.get(image_id) if self.image_keys is not None else str(image_id)
        name = self._name(entry)
        if key is None or name is None:
            return None
        mapped = _map_tag(name, self.tag_map)
        tag = normalise_tag(mapped) if mapped else None
        score = float(entry.get("score", 1.0))
        if not math.isfinite(score):
            raise ValueError(f"score is not finite: {entry.get('score')!r}")
        if tag is None or score < self.min_score:
            return None
        return Region(str(key), tag, _valid_box(entry["bbox"]), score, self.name)

    def _name(self, entry: Mapping[str, Any]) -> str | None:
        for field in ("tag", "phrase", "category_name"):
            if entry.get(field):
                return str(entry[field])
        if "category_id" not in entry:
            raise KeyError("needs one of tag, phrase, category_name or category_id")
        category = entry["category_id"]
        if self.categories is None:
            return str(category)
        return self.categories.get(int(category))

    def availability(self) -> Availability:
        return Availability(True)

    def regions(self, image_key: str, tags: Sequence[str], image: Image.Image | None = None) -> list[Region]:
        """The best-scoring detection of each asked tag in this image (tags without one are left out)."""
        found = self._by_image.get(str(image_key), {})
        return [found[normalise_tag(tag)] for tag in tags if normalise_tag(tag) in found]

    def __len__(self) -> int:
        return sum(len(tags) for tags in self._by_image.values())


def _category_names(categories: Mapping[int, str] | Sequence[Mapping[str, Any]] | None) -> dict[int, str] | None:
    if categories is None:
        return None
    if isinstance(categories, Mapping):
        return {int(k): str(v) for k, v in categories.items()}
    return {int(c["id"]): str(c["name"]) for c in categories}


def _read_detections(path: str | Path) -> Iterator[Mapping[str, Any]]:
    """Stream a (possibly huge) JSON list with ijson; numbers arrive as Decimal and are converted later."""
    import ijson

    with Path(path).open("rb") as fh:
        try:
            yield from ijson.items(fh, "item", use_float=True)
        except ijson.JSONError as exc:
            raise ValueError(f"{path}: not a JSON list of detections: {exc}") from exc


class WholeImageSource:
    """The last resort: the whole image (box = full size when the image is given, else None)."""

    name = "whole_image"
    needs_image = False

    def availability(self) -> Availability:
        return Availability(True)

    def regions(self, image_key: str, tags: Sequence[str], image: Image.Image | None = None) -> list[Region]:
        box = (0.0, 0.0, float(image.width), float(image.height)) if image is not None else None
        return [Region(str(image_key), normalise_tag(tag), box, None, self.name) for tag in tags]


class GroundingDinoSource:
    """Grounding DINO from a local checkpoint directory (``*.pth`` + its ``*.py`` config), when installed.

    Never raises at construction: :meth:`availability` says why it cannot run (files missing, package not
    installed or failing to import), and the model loads on first use. The prompt is the asked tags joined by
    " . "; returned phrases are matched back to the tags by their normalised text. The config's text encoder
    must be a local path too, since nothing may be downloaded at run time.
    """

    name = "grounding_dino"
    needs_image = True
    package = "groundingdino"

    def __init__(
        self,
        checkpoint_dir: str | Path | None,
        *,
        box_threshold: float = 0.35,
        text_threshold: float = 0.25,
        device: str = "cpu",
    ) -> None:
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.box_threshold = box_threshold
        self.text_threshold = text_threshold
        self.device = device
        self._model: Any = None
        self._predict: Callable[..., Any] | None = None

    def _files(self) -> tuple[Path, Path] | str:
        if self.checkpoint_dir is None:
            return "no Grounding DINO checkpoint directory configured"
        if not self.checkpoint_dir.is_dir():
            return f"checkpoint directory {self.checkpoint_dir} does not exist"
        weights = sorted(self.checkpoint_dir.glob("*.pth"))
        configs = sorted(self.checkpoint_dir.glob("*.py"))
        if not weights or not configs:
            return f"{self.checkpoint_dir} needs a *.pth checkpoint and its *.py config"
        return configs[0], weights[0]

    def availability(self) -> Availability:
        files = self._files()
        if isinstance(files, str):
            return Availability(False, files)
        try:
            spec = importlib.util.find_spec(self.package)
        except (ImportError, ValueError) as exc:
            return Availability(False, f"package {self.package!r} cannot be found: {exc}")
        if spec is None:
            return Availability(False, f"package {self.package!r} is not installed")
        try:  # installed is not enough: its compiled ops or text encoder dependencies may be missing
            importlib.import_module(f"{self.package}.util.inference")
        except Exception as exc:
            return Availability(False, f"package {self.package!r} does not import: {type(exc).__name__}: {exc}")
        return Availability(True)

    def _load(self) -> None:
        state = self.availability()
        if not state.available:
            raise RuntimeError(f"Grounding DINO is unavailable: {state.reason}")
        config, weights = self._files()  # type: ignore[misc]
        inference = importlib.import_module(f"{self.package}.util.inference")
        self._model = inference.load_model(str(config), str(weights), device=self.device)
        self._predict = inference.predict

    def regions(self, image_key: str, tags: Sequence[str], image: Image.Image | None = None) -> list[Region]:
        if image is None:
            raise ValueError("Grounding DINO needs the image")
        if not tags:
            return []
        if self._model is None:
            self._load()
        wanted = {normalise_tag(tag): normalise_tag(tag) for tag in tags}
        boxes, logits, phrases = self._predict(  # type: ignore[misc]
            model=self._model,
            image=_dino_tensor(image),
            caption=" . ".join(wanted) + " .",
            box_threshold=self.box_threshold,
            text_threshold=self.text_threshold,
            device=self.device,
        )
        best: dict[str, Region] = {}
        for box, score, phrase in zip(boxes.tolist(), logits.tolist(), phrases):
            tag = wanted.get(normalise_tag(phrase))
            if tag is None:
                continue
            region = Region(str(image_key), tag, _cxcywh_to_xywh(box, image.width, image.height), float(score),
                            self.name)
            if tag not in best or region.score > best[tag].score:  # type: ignore[operator]
                best[tag] = region
        return list(best.values())


def _dino_tensor(image: Image.Image) -> Any:
    """Grounding DINO's test transform: shorter side 800 (longer ≤ 1333), ImageNet normalisation."""
    import torchvision.transforms.functional as TF

    width, height = image.size
    scale = min(800 / min(width, height), 1333 / max(width, height))
    size = [max(1, round(height * scale)), max(1, round(width * scale))]
    tensor = TF.to_tensor(TF.resize(image.convert("RGB"), size, antialias=True))
    return TF.normalize(tensor, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def _cxcywh_to_xywh(box: Sequence[float], width: int, height: int) -> Box:
    """Normalised centre boxes (what Grounding DINO returns) → pixel COCO boxes clipped to the image."""
    cx, cy, w, h = box
    x0 = max(0.0, (cx - w / 2) * width)
    y0 = max(0.0, (cy - h / 2) * height)
    x1 = min(float(width), (cx + w / 2) * width)
    y1 = min(float(height), (cy + h / 2) * height)
    return (x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


def available_sources(sources: Iterable[RegionSource]) -> tuple[list[RegionSource], dict[str, str]]:
    """Split sources into those that can run and, for the others, the reason (for the run's log)."""
    usable: list[RegionSource] = []
    skipped: dict[str, str] = {}
    for source in sources:
        state = source.availability()
        if state.available:
            usable.append(source)
        else:
            skipped[source.name] = state.reason
    return usable, skipped


def resolve_regions(
    image_key: str,
    tags: Sequence[str],
    sources: Sequence[RegionSource],
    image: Image.Image | None = None,
) -> list[Region]:
    """One region per tag, in the order of ``tags``: the first source with one wins, else the whole image.

    Sources see and return normalised tags; the regions returned here carry the caller's own tag text.
    """
    wanted = [normalise_tag(tag) for tag in tags]
    chosen: dict[str, Region] = {}
    for source in sources:
        missing = list(dict.fromkeys(tag for tag in wanted if tag not in chosen))
        if not missing:
            break
        for region in source.regions(image_key, missing, image):
            chosen.setdefault(normalise_tag(region.tag), region)
    fallback = {r.tag: r for r in WholeImageSource().regions(image_key, wanted, image)}
    return [replace(chosen.get(key, fallback[key]), tag=tag) for key, tag in zip(wanted, tags)]


def write_detections(path: str | Path, regions: Iterable[Region], image_ids: Mapping[str, Any] | None = None) -> int:
    """Regions back to a COCO results file (tag as ``phrase``), e.g. to cache a Grounding DINO run."""
    rows = []
    for region in regions:
        if region.box is None:
            continue
        image_id = image_ids[region.image_key] if image_ids is not None else region.image_key
        rows.append({"image_id": image_id, "phrase": region.tag, "bbox": list(region.box),
                     "score": 1.0 if region.score is None else region.score})
    Path(path).write_text(json.dumps(rows), encoding="utf-8")
    return len(rows)
