"""factory_boy factories for label systems; ``make_version`` builds a whole small version in one call."""

from __future__ import annotations

from collections.abc import Sequence

import factory
from django.utils import timezone

from apps.labels.models import LabelSystem, LabelSystemVersion, Tag, TagGroup, VersionStatus


class LabelSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabelSystem
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"system-{n}")


class LabelSystemVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabelSystemVersion

    label_system = factory.SubFactory(LabelSystemFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = VersionStatus.DRAFT


class TagGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TagGroup

    version = factory.SubFactory(LabelSystemVersionFactory)
    index = factory.Sequence(lambda n: n)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    group = factory.SubFactory(TagGroupFactory)
    version = factory.SelfAttribute("group.version")
    text = factory.Sequence(lambda n: f"tag {n}")
    threshold = 0.65
    threshold_text = "0.65"


def make_version(groups: Sequence[str | Sequence[str]], *, published: bool = False,
                 chinese: dict[str, str] | None = None, thresholds: dict[str, float] | None = None,
                 name: str | None = None) -> LabelSystemVersion:
    """A version whose group ``i`` holds the given tag(s); the first tag of a group is its primary tag."""
    system = LabelSystemFactory(**({"name": name} if name else {}))
    number = (system.versions.count() or 0) + 1
    version = LabelSystemVersionFactory(label_system=system, number=number)
    for index, members in enumerate(groups):
        group = TagGroupFactory(version=version, index=index)
        for position, text in enumerate([members] if isinstance(members, str) else members):
            value = (thresholds or {}).get(text, 0.65)
            TagFactory(group=group, version=version, position=position, text=text, threshold=value,
                       threshold_text=f"{value:g}", name_zh=(chinese or {}).get(text, ""))
    if published:
        LabelSystemVersion.objects.filter(pk=version.pk).update(status=VersionStatus.PUBLISHED,
                                                                published_at=timezone.now())
        version.refresh_from_db()
    return version
