"""Factories for dataset tests: label systems with a few tags, datasets, versions, rows."""

from __future__ import annotations

import factory

from apps.datasets.models import Dataset, DatasetVersion, Image
from apps.labels.models import LabelSystem, LabelSystemVersion, Tag, TagGroup

TAGS = ["dog", "cat", "grass", "play", "man", "horse", "beach"]


class LabelSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabelSystem

    name = factory.Sequence(lambda n: f"tags-{n}")


class LabelSystemVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabelSystemVersion

    label_system = factory.SubFactory(LabelSystemFactory)
    number = 1


def label_system_version_with_tags(tags: list[str] | None = None,
                                   synonyms: dict[str, list[str]] | None = None) -> LabelSystemVersion:
    """A draft label-system version whose tag index i is ``tags[i]`` (plus synonyms in the same group)."""
    version = LabelSystemVersionFactory()
    for index, text in enumerate(tags or TAGS):
        group = TagGroup.objects.create(version=version, index=index)
        for position, word in enumerate([text, *(synonyms or {}).get(text, [])]):
            Tag.objects.create(version=version, group=group, text=word, position=position)
    return version


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"dataset-{n}")
    image_root = "/tmp"


class DatasetVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DatasetVersion

    dataset = factory.SubFactory(DatasetFactory)
    seq = 1


class ImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Image

    dataset = factory.SubFactory(DatasetFactory)
    uri = factory.Sequence(lambda n: f"img/{n:06d}.jpg")
    added_in_seq = 1
