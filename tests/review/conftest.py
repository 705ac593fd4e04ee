"""Fixtures of the review tests: a tagged version whose images exist on disk, a flagged cleaning run, users."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from apps.accounts.services import user_create
from apps.engine.models import EngineRun, Flag
from apps.review.services.work import review_batches_create, run_reviewer_add
from tests.engine.factories import TaggedVersion, flagged_run, tagged_version, write_images


@pytest.fixture
def image_root(settings, tmp_path):
    """A configured image root under tmp_path (thumbnails cached under tmp_path too)."""
    root = tmp_path / "images"
    root.mkdir()
    settings.LABELHUB_IMAGE_ROOTS = [root]
    settings.LABELHUB_THUMBNAIL_DIR = tmp_path / "thumbnails"
    return root


@pytest.fixture
def tagged(db, image_root) -> TaggedVersion:
    """Six 64×48 images on disk, each tagged dog and grass (sealed v1)."""
    tagged = tagged_version(images=6, image_root=str(image_root / "ds"))
    write_images(tagged)
    return tagged


@pytest.fixture
def run(tagged) -> EngineRun:
    """A cleaning run flagging all 12 assignments; dog flags fall in clusters 0, 2, 1, 0, 2, 1."""
    return flagged_run(tagged, clusters=3)


@pytest.fixture
def make_user(db):
    def make(username: str, role: str | None = "reviewer"):
        return user_create(username=username, password="pw-12345678", roles=[role] if role else [])

    return make


@pytest.fixture
def reviewer(make_user):
    return make_user("rita")


@pytest.fixture
def curator(make_user):
    return make_user("carl", "curator")


@dataclass
class Work:
    run: EngineRun
    tagged: TaggedVersion

    @property
    def dog(self) -> int:
        return self.tagged.groups["dog"].pk

    @property
    def grass(self) -> int:
        return self.tagged.groups["grass"].pk

    def flags(self, tag: str = "dog") -> list[Flag]:
        return list(Flag.objects.filter(run=self.run, tag_group=self.tagged.groups[tag]).order_by("id"))


@pytest.fixture
def work(run, tagged, reviewer) -> Work:
    """``reviewer`` assigned to ``run`` and holding every flag of it (one batch, no overlap)."""
    run_reviewer_add(run=run, user=reviewer)
    review_batches_create(run=run, reviewers=[reviewer], size=100)
    return Work(run, tagged)
