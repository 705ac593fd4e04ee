"""Property: for any line of versions built from random adds/removes, every version's SQL view equals a model."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.datasets import selectors
from apps.datasets.models import Image, TagAssignment
from apps.datasets.services.versions import (
    AssignmentRow,
    assignments_add,
    assignments_remove,
    dataset_create,
    dataset_version_create,
    dataset_version_create_child,
    dataset_version_seal,
)

from .factories import label_system_version_with_tags

PAIRS = [(image, tag) for image in range(3) for tag in range(4)]
step = st.lists(st.tuples(st.booleans(), st.sampled_from(PAIRS)), max_size=6)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=4))
def test_every_version_sees_exactly_its_model_state(steps, image_root):
    lsv = label_system_version_with_tags(["a", "b", "c", "d"])
    groups = dict(lsv.groups.values_list("index", "id"))
    dataset = dataset_create(name=f"p-{lsv.pk}", image_root=str(image_root))
    version = dataset_version_create(dataset=dataset, label_system_version=lsv)
    images = [Image.objects.create(dataset=dataset, uri=f"{i}.jpg", added_in_seq=1).pk for i in range(3)]
    model: set[tuple[int, int]] = set()
    expected = []
    for number, changes in enumerate(steps):
        if number:
            version = dataset_version_create_child(parent=dataset_version_seal(version=version))
        for add, (image, tag) in changes:
            if add:
                assignments_add(version=version, rows=[AssignmentRow(images[image], groups[tag], "manual")])
                model.add((image, tag))
            else:
                assignments_remove(version=version, assignments=TagAssignment.objects.filter(
                    image_id=images[image], tag_group_id=groups[tag]))
                model.discard((image, tag))
        expected.append((version, set(model)))
    for seen_version, state in expected:
        rows = selectors.version_assignments(version=seen_version).values_list("image__uri", "tag_group__index")
        assert {(int(uri[0]), index) for uri, index in rows} == state
