"""Flag upserts and the reads over them: one flag per (run, assignment) whichever methods flag it."""

from __future__ import annotations

import pytest

from apps.engine import selectors
from apps.engine.models import Flag
from apps.engine.services import FlagRow, flags_clear_method, flags_record
from apps.training.models import Checkpoint
from tests.engine.factories import EngineRunFactory, flagged_run, tagged_version

pytestmark = pytest.mark.django_db


def _row(assignment, **evidence) -> FlagRow:
    return FlagRow(assignment.pk, assignment.image_id, assignment.tag_group_id, **evidence)


@pytest.fixture
def tagged():
    return tagged_version(images=4)


@pytest.fixture
def run(tagged):
    return EngineRunFactory(dataset_version=tagged.version)


def test_a_second_method_on_the_same_assignment_sets_its_boolean_and_evidence_on_the_same_flag(tagged, run):
    a = tagged.assignments[0]
    flags_record(run=run, method="cluster", rows=[_row(a, region_source="detections", box=[1, 2, 3, 4], cluster=1,
                                                      distance=0.8, percentile=0.95, score=0.2, threshold=0.5)])

    flags_record(run=run, method="rejection", rows=[_row(a, region_source="detections", box=[1, 2, 3, 4],
                                                        score=0.2, threshold=0.5)])
    flags_record(run=run, method="confident", rows=[_row(a, label_quality=0.1)])

    flag = Flag.objects.get(run=run)
    assert (flag.by_cluster, flag.by_rejection, flag.by_confident) == (True, True, True)
    assert (flag.cluster, flag.distance, flag.percentile, flag.score, flag.label_quality) == (1, 0.8, 0.95, 0.2, 0.1)
    assert flag.box == [1.0, 2.0, 3.0, 4.0] and flag.region_source == "detections"
    assert flag.reasons == ["cluster_outlier", "baseline_rejection", "confident_learning"]


def test_recording_the_same_flags_twice_writes_no_second_row(tagged, run):
    rows = [_row(a, score=0.1, threshold=0.5) for a in tagged.assignments]

    flags_record(run=run, method="rejection", rows=rows)
    flags_record(run=run, method="rejection", rows=rows)

    assert Flag.objects.filter(run=run).count() == len(tagged.assignments)


def test_a_later_method_keeps_the_review_status(tagged, run):
    a = tagged.assignments[0]
    flags_record(run=run, method="rejection", rows=[_row(a, score=0.1, threshold=0.5)])
    Flag.objects.filter(run=run).update(status="accepted")

    flags_record(run=run, method="cluster", rows=[_row(a, cluster=0, distance=0.4, percentile=0.9)])

    flag = Flag.objects.get(run=run)
    assert flag.status == "accepted" and flag.by_rejection and flag.by_cluster


def test_confident_flags_are_about_the_whole_image(tagged, run):
    flags_record(run=run, method="confident", rows=[_row(tagged.assignments[0], label_quality=0.05)])

    assert Flag.objects.get(run=run).region_source == "image"


def test_clearing_a_method_drops_its_own_open_flags_and_its_boolean_on_shared_ones(tagged, run):
    a, b, c = tagged.assignments[:3]
    flags_record(run=run, method="cluster", rows=[_row(x, cluster=0, distance=1.0) for x in (a, b, c)])
    flags_record(run=run, method="rejection", rows=[_row(b, score=0.1, threshold=0.5)])
    Flag.objects.filter(run=run, assignment=c).update(status="rejected")

    deleted = flags_clear_method(run=run, method="cluster")

    assert deleted == 1
    remaining = {f.assignment_id: f for f in Flag.objects.filter(run=run)}
    assert set(remaining) == {b.pk, c.pk}
    assert not remaining[b.pk].by_cluster and remaining[b.pk].by_rejection
    assert remaining[c.pk].by_cluster  # already reviewed: left as it is


def test_flag_counts_per_reason_status_and_category(tagged):
    run = flagged_run(tagged)  # 8 flags by cluster: dog and grass on 4 images
    Flag.objects.filter(run=run, tag_group=tagged.groups["dog"]).update(by_rejection=True)
    Flag.objects.filter(pk=Flag.objects.filter(run=run).first().pk).update(status="rejected")

    counts = selectors.flag_counts(run=run)

    assert counts["total"] == 8
    assert counts["by_reason"] == {"cluster_outlier": 8, "baseline_rejection": 4, "confident_learning": 0}
    assert counts["by_status"] == {"open": 7, "accepted": 0, "rejected": 1, "changed": 0}
    dog = next(row for row in counts["per_category"] if row["tag"] == "dog")
    assert (dog["tag_group"], dog["total"], dog["baseline_rejection"]) == (tagged.groups["dog"].pk, 4, 4)


def test_flag_list_filters_by_reason_cluster_and_category(tagged):
    run = flagged_run(tagged, clusters=2)
    Flag.objects.filter(run=run, tag_group=tagged.groups["grass"]).update(by_rejection=True)

    rejected = selectors.flag_list(run=run, reason="baseline_rejection")
    in_cluster = selectors.flag_list(run=run, tag_group=tagged.groups["dog"].pk, cluster=0)

    assert {f.tag for f in rejected} == {"grass"} and rejected.count() == 4
    assert {(f.tag, f.cluster) for f in in_cluster} == {("dog", 0)}


def test_thresholds_come_from_the_override_label_system_checkpoint_then_default(tagged):
    lsv = tagged.version.label_system_version
    g = tagged.groups
    g["cat"].tags.update(threshold=0.8, threshold_text="0.8")
    checkpoint = Checkpoint(config={"thresholds": {"grass": 0.3}, "threshold": 0.6})

    thresholds = selectors.group_thresholds(label_system_version_id=lsv.pk, checkpoint=checkpoint,
                                            overrides={str(g["dog"].pk): 0.9}, default=0.5)

    assert thresholds[g["dog"].pk] == 0.9  # the run's override
    assert thresholds[g["cat"].pk] == 0.8  # written in the label system
    assert thresholds[g["grass"].pk] == 0.3  # the checkpoint's per-tag value
    assert thresholds[g["man"].pk] == 0.6  # the checkpoint's global value
    assert selectors.group_thresholds(label_system_version_id=lsv.pk, default=0.5)[g["man"].pk] == 0.5
