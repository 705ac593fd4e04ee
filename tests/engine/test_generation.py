"""The generation job body in this process: child version, generated tags and captions, report, resume, cancel."""

from __future__ import annotations

import json

import numpy as np
import pytest

from apps.datasets import selectors as dataset_selectors
from apps.datasets.models import Caption, TagAssignment
from apps.datasets.services.context import Cancelled, InlineContext
from apps.engine.models import EngineRun
from apps.engine.services import engine_generation_launch
from apps.jobs.models import Job, JobState
from tests.engine.conftest import FakeParser, run_body
from tests.helpers import CrashAfter
from workers.engine import run_engine_generate

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _generate(run, **kwargs):
    return run_body("engine_generate", lambda ctx: run_engine_generate(ctx, parser=FakeParser(), **kwargs),
                    job=run.job)[1]


def _expected(shapes, model_file, threshold: float) -> set[tuple[int, int]]:
    """(image, tag group) pairs the model scores above ``threshold`` that the image does not have."""
    import torch

    from ram_model import load_model
    from ram_model.inference import load_image, preprocess

    model = load_model(str(model_file)).eval()
    images = torch.stack([preprocess(load_image(shapes.root / i.uri), 64) for i in shapes.images])
    with torch.inference_mode():
        probs = torch.sigmoid(model.tagging_logits(images)).numpy()
    by_index = {g.index: g.pk for g in shapes.groups.values()}
    have = {(a.image_id, a.tag_group_id) for a in shapes.assignments}
    return {(shapes.images[r].pk, by_index[c]) for r, c in zip(*np.nonzero(probs > threshold))} - have


def _generated(version) -> list[tuple[int, int]]:
    rows = TagAssignment.objects.filter(dataset_id=version.dataset_id, added_in_seq=version.seq, source="generated")
    return list(rows.values_list("image_id", "tag_group_id"))


def test_generation_adds_the_tags_above_threshold_the_images_lack_in_a_sealed_child(engine_params, shapes,
                                                                                  tiny_model_file):
    run = engine_generation_launch(params={**engine_params, "default_threshold": 0.55, "shard_size": 5})

    result = _generate(run)

    run.refresh_from_db()
    child = run.output_version
    assert child.sealed and child.parent_id == shapes.version.pk and result["version_id"] == child.pk
    added = _generated(child)
    assert added and set(added) == _expected(shapes, tiny_model_file, 0.55)
    assert len(added) == len(set(added))
    scores = TagAssignment.objects.filter(dataset_id=child.dataset_id, added_in_seq=child.seq).values_list(
        "score", flat=True)
    assert min(scores) > 0.55


def test_the_report_counts_match_what_the_child_added(engine_params, shapes):
    run = engine_generation_launch(params={**engine_params, "default_threshold": 0.55})

    _generate(run)

    run.refresh_from_db()
    report, child = run.report, run.output_version
    added = len(_generated(child))
    assert report["total"] == {"before": len(shapes.assignments), "after": len(shapes.assignments) + added,
                               "added": added, "growth": (len(shapes.assignments) + added) / len(shapes.assignments)}
    assert dataset_selectors.version_assignments(version=child).count() == report["total"]["after"]
    assert report["per_source"]["generated"] == {"before": 0, "after": added}
    assert report["per_source"]["parsed"] == {"before": len(shapes.assignments), "after": len(shapes.assignments)}
    assert sum(sum(row["added"].values()) for row in report["per_tag"]) == added
    red = next(row for row in report["per_tag"] if row["tag"] == "red")
    assert red["after"] - red["before"] == red["added"].get("generated", 0)
    assert child.counts["assignments_added"] == added
    assert report["images"] == {"total": 12, "tagged": 12, "unreadable": 0}


def test_the_label_systems_thresholds_decide_which_tags_are_generated(engine_params, shapes, tiny_model_file):
    shapes.groups["red"].tags.update(threshold=0.01, threshold_text="0.01")  # a draft version may be edited
    run = engine_generation_launch(params={**engine_params, "default_threshold": 0.99})

    _generate(run)

    run.refresh_from_db()
    red = shapes.groups["red"].pk
    have_red = {a.image_id for a in shapes.assignments if a.tag_group_id == red}
    assert {g for _, g in _generated(run.output_version)} == {red}
    assert len(_generated(run.output_version)) == 12 - len(have_red)


def test_unreadable_images_are_skipped_and_counted(engine_params, shapes):
    (shapes.root / shapes.images[0].uri).write_bytes(b"not an image")
    (shapes.root / shapes.images[1].uri).unlink()
    run = engine_generation_launch(params={**engine_params, "default_threshold": 0.5})

    result = _generate(run)

    run.refresh_from_db()
    assert result["unreadable"] == 2
    assert run.report["images"] == {"total": 12, "tagged": 10, "unreadable": 2}
    assert not {i for i, _ in _generated(run.output_version)} & {shapes.images[0].pk, shapes.images[1].pk}
    assert "skipped" in " ".join(run.job.log_lines.values_list("message", flat=True))


def test_a_captions_file_adds_generated_captions_and_tags_parsed_from_them(engine_params, shapes, tmp_path):
    lines = [{"image": "img/000000.png", "caption": "red circle zebra"}, {"image": "img/000001.png", "caption": "star"}]
    (tmp_path / "captions.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    run = engine_generation_launch(params={**engine_params, "default_threshold": 0.99,
                                           "captions_file": str(tmp_path / "captions.jsonl")})

    _generate(run)

    run.refresh_from_db()
    child = run.output_version
    captions = Caption.objects.filter(dataset_id=child.dataset_id, added_in_seq=child.seq)
    assert sorted(captions.values_list("image__uri", "text", "source")) == [
        ("img/000000.png", "red circle zebra", "generated"), ("img/000001.png", "star", "generated")]
    parsed = TagAssignment.objects.filter(dataset_id=child.dataset_id, added_in_seq=child.seq, source="parsed")
    first = captions.get(image__uri="img/000000.png")
    assert sorted(parsed.filter(caption=first).values_list("tag_group__index", flat=True)) == [0, 5]
    assert run.report["captions"] == {"source": "file", "added": 2, "parsed_assignments": 3}


def test_model_captions_come_from_the_checkpoints_caption_branch(engine_params, shapes):
    run = engine_generation_launch(params={**engine_params, "default_threshold": 0.99, "model_captions": True,
                                           "batch_size": 6})

    _generate(run)

    run.refresh_from_db()
    child = run.output_version
    captions = Caption.objects.filter(dataset_id=child.dataset_id, added_in_seq=child.seq)
    assert captions.count() == 12 and set(captions.values_list("source", flat=True)) == {"generated"}
    assert run.report["captions"]["source"] == "model"


def test_a_killed_generation_resumes_without_writing_a_row_twice(engine_params, shapes, tiny_model_file):
    run = engine_generation_launch(params={**engine_params, "default_threshold": 0.55, "shard_size": 4})
    with pytest.raises(RuntimeError, match="killed"):
        run_engine_generate(CrashAfter(Job.objects.get(pk=run.job_id), n=3), parser=FakeParser())
    job = Job.objects.get(pk=run.job_id)
    assert job.cursor["images"] == 4  # the second shard died inside its transaction: rolled back with its rows
    run.refresh_from_db()
    first_four = {i.pk for i in shapes.images[:4]}
    assert {i for i, _ in _generated(run.output_version)} <= first_four

    result = _generate(run)

    run.refresh_from_db()
    added = _generated(run.output_version)
    assert result["images"] == 12 and len(added) == len(set(added))
    assert set(added) == _expected(shapes, tiny_model_file, 0.55)
    assert EngineRun.objects.count() == 1


def test_cancel_stops_at_a_shard_boundary_and_retry_finishes(engine_params, shapes):
    run = engine_generation_launch(params={**engine_params, "default_threshold": 0.55, "shard_size": 4})

    class CancelAfterFirstShard(InlineContext):
        def commit(self, cursor, done, total=None):
            super().commit(cursor, done, total)
            if done:
                Job.objects.filter(pk=self.job.pk).update(cancel_requested=True)

    job = Job.objects.get(pk=run.job_id)
    with pytest.raises(Cancelled):
        run_engine_generate(CancelAfterFirstShard(job), parser=FakeParser())
    job.refresh_from_db()
    assert job.cursor["images"] == 4
    run.refresh_from_db()
    assert not run.output_version.sealed

    Job.objects.filter(pk=job.pk).update(cancel_requested=False, state=JobState.QUEUED)
    result = _generate(run)

    assert result["images"] == 12
    run.refresh_from_db()
    assert run.output_version.sealed
