"""Factories for engine and review tests: a sealed version with tagged images, a cleaning run and its flags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import factory

from apps.datasets.models import AssignmentSource, Dataset, DatasetVersion, Image, TagAssignment
from apps.datasets.services.versions import dataset_version_create, dataset_version_seal
from apps.engine.models import EngineRun, EngineRunKind, Flag
from apps.labels.models import TagGroup
from tests.datasets.factories import DatasetFactory, label_system_version_with_tags

TAGS = ["dog", "cat", "grass", "play", "man", "horse", "beach"]


class EngineRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EngineRun

    kind = EngineRunKind.CLEANING
    name = factory.Sequence(lambda n: f"cleaning-{n}")


@dataclass
class TaggedVersion:
    version: DatasetVersion
    images: list[Image]
    groups: dict[str, TagGroup]  # tag text → group
    assignments: list[TagAssignment]


def tagged_version(*, images: int = 6, tags_per_image: tuple[str, ...] = ("dog", "grass"),
                   tags: list[str] | None = None, dataset: Dataset | None = None,
                   image_root: str = "/tmp") -> TaggedVersion:
    """A sealed v1 with ``images`` images (``img/000000.jpg`` …), each tagged with ``tags_per_image`` (parsed)."""
    lsv = label_system_version_with_tags(tags or TAGS)
    groups = {g.tags.order_by("position").first().text: g for g in TagGroup.objects.filter(version=lsv)}
    dataset = dataset or DatasetFactory(image_root=image_root)
    version = dataset_version_create(dataset=dataset, label_system_version=lsv)
    rows = Image.objects.bulk_create(Image(dataset=dataset, uri=f"img/{i:06d}.jpg", added_in_seq=version.seq,
                                           width=64, height=48) for i in range(images))
    assignments = TagAssignment.objects.bulk_create(
        TagAssignment(dataset=dataset, image=image, tag_group=groups[tag], source=AssignmentSource.PARSED,
                      added_in_seq=version.seq) for image in rows for tag in tags_per_image)
    version = dataset_version_seal(version=version)
    if not all(a.pk for a in assignments):  # backends without RETURNING ids on bulk insert
        assignments = list(TagAssignment.objects.filter(dataset=dataset).order_by("id"))
    return TaggedVersion(version, rows, groups, assignments)


def flagged_run(tagged: TaggedVersion, *, every: int = 1, clusters: int = 2, **run_fields) -> EngineRun:
    """A cleaning run over ``tagged.version`` flagging every ``every``-th assignment (by cluster, with a box)."""
    run = EngineRunFactory(dataset_version=tagged.version, **run_fields)
    Flag.objects.bulk_create(
        Flag(run=run, assignment=a, image_id=a.image_id, tag_group_id=a.tag_group_id, by_cluster=True,
             region_source="detections", box=[4, 4, 20, 16], cluster=i % clusters, distance=0.5 + i / 100,
             percentile=0.9 + (i % 10) / 100, score=0.3)
        for i, a in enumerate(tagged.assignments) if i % every == 0)
    return run


def write_images(tagged: TaggedVersion) -> Path:
    """Write a small JPEG for every image of ``tagged`` under its dataset's image root (at the stored size).

    Use with ``tagged_version(image_root=…)`` pointing inside ``settings.LABELHUB_IMAGE_ROOTS``.
    """
    from PIL import Image as PILImage

    root = Path(tagged.version.dataset.image_root)
    for i, image in enumerate(tagged.images):
        path = root / image.uri
        path.parent.mkdir(parents=True, exist_ok=True)
        color = ((40 * i) % 256, (90 * i + 60) % 256, (150 + 30 * i) % 256)
        PILImage.new("RGB", (image.width or 64, image.height or 48), color=color).save(path, "JPEG")
    return root
