"""Synthetic coloured-shape datasets for engine tests: image files on disk, tags from the scenes, known wrong tags."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from apps.datasets.models import AssignmentSource, Image, TagAssignment
from apps.datasets.services.versions import dataset_version_create, dataset_version_seal
from apps.labels.models import TagGroup
from ram_model.synthetic import SyntheticConfig, make_example
from tests.datasets.factories import DatasetFactory, label_system_version_with_tags

SHAPE_TAGS = SyntheticConfig().tag_list()  # red green blue yellow purple circle square triangle star


@dataclass
class ShapesVersion:
    version: object
    images: list[Image]
    groups: dict[str, TagGroup]  # tag text → group
    assignments: list[TagAssignment]
    boxes: dict[tuple[int, str], list[float]] = field(default_factory=dict)  # (image id, tag) → group box xywh
    wrong: set[int] = field(default_factory=set)  # ids of the deliberately wrong assignments

    @property
    def root(self) -> Path:
        return Path(self.version.dataset.image_root)


def shapes_version(root: Path, *, images: int = 12, seed: int = 0, kinds: tuple[str, ...] = ("colour", "shape"),
                   two_group_prob: float = 0.6, wrong_fraction: float = 0.0, lsv=None,
                   image_size: int = 64) -> ShapesVersion:
    """A sealed v1 of ``images`` synthetic images (files under ``root``) tagged with what they show.

    ``wrong_fraction`` of the assignments get another tag of the same kind that the image does not show.
    """
    config = SyntheticConfig(image_size=image_size, two_group_prob=two_group_prob, tag_kinds=kinds)
    lsv = lsv or label_system_version_with_tags(SHAPE_TAGS)
    groups = {g.tags.order_by("position").first().text: g for g in TagGroup.objects.filter(version=lsv)}
    folder = root / f"shapes-{seed}-{images}"
    (folder / "img").mkdir(parents=True, exist_ok=True)
    dataset = DatasetFactory(image_root=str(folder))
    version = dataset_version_create(dataset=dataset, label_system_version=lsv)
    scenes, boxes = [], {}
    for i in range(images):
        image, scene = make_example(seed, i, config)
        image.save(folder / "img" / f"{i:06d}.png")
        scenes.append(scene)
    rows = Image.objects.bulk_create(Image(dataset=dataset, uri=f"img/{i:06d}.png", added_in_seq=version.seq,
                                           width=image_size, height=image_size) for i in range(images))
    rows = list(Image.objects.filter(dataset=dataset).order_by("id"))
    pairs = [(image, tag) for image, scene in zip(rows, scenes) for tag in scene.tags(kinds)]
    for image, scene in zip(rows, scenes):
        half = image_size / 2
        spans = {1: [[0, 0, image_size, image_size]]}
        regions = spans[1] if len(scene.groups) == 1 else {
            "above": [[0, 0, image_size, half], [0, half, image_size, half]],
            "below": [[0, half, image_size, half], [0, 0, image_size, half]],
            "left of": [[0, 0, half, image_size], [half, 0, half, image_size]],
            "right of": [[half, 0, half, image_size], [0, 0, half, image_size]]}[scene.relation]
        for group, box in zip(scene.groups, regions):
            boxes[(image.pk, group.colour)] = box
            boxes[(image.pk, group.shape)] = box
    rng = random.Random(seed)
    wrong_rows = set(rng.sample(range(len(pairs)), round(wrong_fraction * len(pairs)))) if wrong_fraction else set()
    vocab = {kind: list(config.colours if kind == "colour" else config.shapes) for kind in kinds}
    assigned: dict[int, set[str]] = {}
    for image, tag in pairs:
        assigned.setdefault(image.pk, set()).add(tag)
    final = []
    for n, (image, tag) in enumerate(pairs):
        if n in wrong_rows:
            kind = "colour" if tag in config.colours else "shape"
            tag = rng.choice([t for t in vocab[kind] if t not in assigned[image.pk]])
            assigned[image.pk].add(tag)
        final.append((image, tag, n in wrong_rows))
    assignments = TagAssignment.objects.bulk_create(
        TagAssignment(dataset=dataset, image=image, tag_group=groups[tag], source=AssignmentSource.PARSED,
                      added_in_seq=version.seq) for image, tag, _ in final)
    version = dataset_version_seal(version=version)
    assignments = list(TagAssignment.objects.filter(dataset=dataset).order_by("id"))
    wrong = {a.pk for a, (_, _, bad) in zip(assignments, final) if bad}
    return ShapesVersion(version, rows, groups, assignments, boxes, wrong)
