"""The cleaning job bodies in this process: region features, rejection and cluster flags with evidence, resume."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from apps.engine.models import Flag
from apps.engine.services import engine_cleaning_launch, engine_cluster_launch
from apps.jobs.models import Job
from ram_model.engine.store import FeatureStore
from tests.engine.conftest import run_body
from tests.engine.synthetic import shapes_version
from tests.helpers import CrashAfter
from workers.engine import run_dir, run_engine_cluster, run_engine_features

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _features(run, **kwargs):
    return run_body("engine_features", lambda ctx: run_engine_features(ctx, **kwargs), job=run.job)[1]


def _cluster(run):
    run.refresh_from_db()
    return run_body("engine_cluster", run_engine_cluster, job=run.job)[1]


def _whole_image_scores(shapes, model_file) -> dict[int, float]:
    """Assignment id → the model's probability of its tag on the whole image."""
    import torch

    from ram_model import load_model
    from ram_model.inference import load_image, preprocess

    model = load_model(str(model_file)).eval()
    images = torch.stack([preprocess(load_image(shapes.root / i.uri), 64) for i in shapes.images])
    with torch.inference_mode():
        probs = torch.sigmoid(model.tagging_logits(images)).numpy()
    row = {image.pk: r for r, image in enumerate(shapes.images)}
    index = {g.pk: g.index for g in shapes.groups.values()}
    return {a.pk: float(probs[row[a.image_id], index[a.tag_group_id]]) for a in shapes.assignments}


def test_features_store_one_region_feature_per_assignment(engine_params, shapes):
    run = engine_cleaning_launch(params={**engine_params, "shard_size": 7})

    result = _features(run)

    store = FeatureStore(run_dir(run) / "features")
    sizes = store.category_sizes()
    assert result["regions"] == sum(sizes.values()) == len(shapes.assignments)
    assert sizes == {str(g): n for g, n in Counter(a.tag_group_id for a in shapes.assignments).items()}
    features, ids = next((f, i) for c, f, i in store.category_groups() if c == str(shapes.groups["red"].pk))
    assert np.allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-2)
    assert set(ids.tolist()) == {a.pk for a in shapes.assignments if a.tag_group_id == shapes.groups["red"].pk}


def test_baseline_rejection_flags_tags_scored_under_threshold_with_their_score(engine_params, shapes, tiny_model_file):
    run = engine_cleaning_launch(params={**engine_params, "default_threshold": 0.55, "cluster": False})

    result = _features(run)

    expected = {a: s for a, s in _whole_image_scores(shapes, tiny_model_file).items() if s < 0.55}
    flags = {f.assignment_id: f for f in Flag.objects.filter(run=run)}
    assert expected and set(flags) == set(expected) and result["rejected"] == len(expected)
    some = next(iter(flags.values()))
    assert some.by_rejection and not some.by_cluster
    assert some.score == pytest.approx(expected[some.assignment_id], abs=1e-4)
    assert (some.threshold, some.region_source, some.box) == (0.55, "image", None)
    assert some.tag_group_id == some.assignment.tag_group_id and some.image_id == some.assignment.image_id


def test_flags_carry_the_box_of_the_detections_file(engine_params, shapes, tmp_path):
    detections = []
    for n, ((image_id, tag), box) in enumerate(sorted(shapes.boxes.items())):
        uri = next(i.uri for i in shapes.images if i.pk == image_id)
        key = {"image_id": image_id} if n % 2 else {"file_name": uri}  # an image id or its file name
        name = {"phrase": tag} if n % 3 else {"category_id": shapes.groups[tag].index}  # a phrase or a tag ID
        detections.append({**key, **name, "bbox": box, "score": 0.9})
    (tmp_path / "det.json").write_text(json.dumps(detections))
    run = engine_cleaning_launch(params={**engine_params, "default_threshold": 0.999, "cluster": False,
                                         "detections_file": str(tmp_path / "det.json")})

    _features(run)

    flags = Flag.objects.filter(run=run).select_related("assignment__tag_group")
    assert flags.count() == len(shapes.assignments)  # everything is under 0.999
    group_tag = {g.pk: t for t, g in shapes.groups.items()}
    for flag in flags:
        assert flag.region_source == "detections"
        assert flag.box == [float(v) for v in shapes.boxes[(flag.image_id, group_tag[flag.tag_group_id])]]


def test_a_missing_grounding_dino_dir_is_skipped_with_a_logged_reason(engine_params, shapes, tmp_path):
    run = engine_cleaning_launch(params={**engine_params, "cluster": False,
                                         "grounding_dino_dir": str(tmp_path / "no-such-dir")})

    result = _features(run)

    run.refresh_from_db()
    assert result["regions"] == len(shapes.assignments)
    assert "does not exist" in run.report["features"]["skipped_sources"]["grounding_dino"]
    log = " ".join(run.job.log_lines.values_list("message", flat=True))
    assert "region source grounding_dino skipped" in log


def test_the_features_job_launches_the_clustering_job_once(engine_params, shapes):
    run = engine_cleaning_launch(params={**engine_params, "fraction": 0.2, "fast": True})
    features_job = run.job

    result = _features(run)
    _features(run)  # a resumed (or redelivered) features job

    cluster_jobs = Job.objects.filter(kind="engine_cluster")
    assert cluster_jobs.count() == 1 and result["cluster_job"] == cluster_jobs.get().pk
    assert cluster_jobs.get().params["run"] == run.pk
    assert cluster_jobs.get().params["fraction"] == 0.2 and cluster_jobs.get().params["fast"] is True
    run.refresh_from_db()
    assert run.job == cluster_jobs.get()
    assert run.report["jobs"] == {"features": features_job.pk, "cluster": cluster_jobs.get().pk}


@pytest.fixture
def bigger(db, engine_dirs, tiny_model_file):
    """60 images: every colour and shape category has well over 10 regions."""
    from apps.training.services import checkpoint_register

    shapes = shapes_version(engine_dirs / "images", images=60, seed=2)
    checkpoint = checkpoint_register(path=tiny_model_file, variant="ram", size="tiny",
                                     label_system_version=shapes.version.label_system_version)
    return shapes, {"dataset_version": shapes.version.pk, "checkpoint": checkpoint.pk, "default_threshold": 0.01}


@pytest.mark.parametrize("fast", [False, True])
def test_clustering_flags_the_fraction_of_each_category(bigger, fast):
    shapes, params = bigger
    run = engine_cleaning_launch(params={**params, "fraction": 0.1, "fast": fast, "shard_size": 50})
    _features(run)

    result = _cluster(run)

    sizes = Counter(a.tag_group_id for a in shapes.assignments)
    flagged = Counter(Flag.objects.filter(run=run, by_cluster=True).values_list("tag_group_id", flat=True))
    assert flagged == Counter({g: int(0.1 * n + 0.5) for g, n in sizes.items() if n >= 10 and int(0.1 * n + 0.5)})
    assert result["flags"] == sum(flagged.values())
    run.refresh_from_db()
    assert run.report["clustering"]["fast"] is fast
    assert run.report["clusters"][str(shapes.groups["red"].pk)]["regions"] == sizes[shapes.groups["red"].pk]


def test_cluster_flags_carry_cluster_distance_percentile_and_the_regions_evidence(bigger):
    _, params = bigger
    run = engine_cleaning_launch(params={**params, "default_threshold": 0.5})
    _features(run)

    _cluster(run)

    flags = list(Flag.objects.filter(run=run, by_cluster=True))
    assert flags
    for flag in flags:
        assert flag.cluster is not None and flag.cluster >= 0 and flag.distance > 0
        assert 0.9 <= flag.percentile <= 1.0
        assert flag.region_source == "image" and 0 <= flag.score <= 1 and flag.threshold == 0.5
    both = [f for f in flags if f.by_rejection]
    assert all(f.score < 0.5 for f in both)  # one row per assignment, whichever methods flagged it


def test_a_killed_features_job_resumes_without_duplicate_features_or_flags(engine_params, shapes, tiny_model_file):
    run = engine_cleaning_launch(params={**engine_params, "default_threshold": 0.55, "shard_size": 5,
                                         "cluster": False})
    with pytest.raises(RuntimeError, match="killed"):
        run_engine_features(CrashAfter(Job.objects.get(pk=run.job_id), n=3))  # dies after writing shard 3's files
    assert Job.objects.get(pk=run.job_id).cursor["assignments"] == 10
    assert len(FeatureStore(run_dir(run) / "features")) == 3  # one chunk more than committed

    result = _features(run)

    store = FeatureStore(run_dir(run) / "features")
    ids = np.concatenate([i for _, _, i in store.category_groups()])
    assert sorted(ids.tolist()) == sorted(a.pk for a in shapes.assignments)
    expected = {a for a, s in _whole_image_scores(shapes, tiny_model_file).items() if s < 0.55}
    assert set(Flag.objects.filter(run=run).values_list("assignment_id", flat=True)) == expected
    assert result["rejected"] == len(expected) and result["regions"] == len(shapes.assignments)


def test_a_killed_clustering_resumes_with_the_categories_left(bigger):
    shapes, params = bigger
    run = engine_cleaning_launch(params={**params, "fraction": 0.1})
    _features(run)
    run.refresh_from_db()
    with pytest.raises(RuntimeError, match="killed"):
        run_engine_cluster(CrashAfter(Job.objects.get(pk=run.job_id), n=4))  # reset + 2 categories, dies in the 3rd
    assert Job.objects.get(pk=run.job_id).cursor["done"] == 2

    _cluster(run)

    sizes = Counter(a.tag_group_id for a in shapes.assignments)
    flagged = Counter(Flag.objects.filter(run=run, by_cluster=True).values_list("tag_group_id", flat=True))
    assert flagged == Counter({g: int(0.1 * n + 0.5) for g, n in sizes.items()})


def test_clustering_again_with_another_fraction_replaces_the_cluster_flags(bigger):
    shapes, params = bigger
    run = engine_cleaning_launch(params={**params, "fraction": 0.2})
    _features(run)
    _cluster(run)
    before = Flag.objects.filter(run=run, by_cluster=True).count()

    engine_cluster_launch(run=run, params={"fraction": 0.05})
    _cluster(run)

    sizes = Counter(a.tag_group_id for a in shapes.assignments)
    assert Flag.objects.filter(run=run, by_cluster=True).count() == sum(int(0.05 * n + 0.5) for n in sizes.values())
    assert Flag.objects.filter(run=run, by_cluster=True).count() < before


def test_only_the_runs_categories_are_cleaned(engine_params, shapes):
    red, star = shapes.groups["red"].pk, shapes.groups["star"].pk
    run = engine_cleaning_launch(params={**engine_params, "categories": [red, star], "default_threshold": 0.999,
                                         "cluster": False})

    _features(run)

    assert set(FeatureStore(run_dir(run) / "features").category_sizes()) == {str(red), str(star)}
    assert set(Flag.objects.filter(run=run).values_list("tag_group_id", flat=True)) == {red, star}


def test_confident_learning_flags_carry_their_label_quality(bigger):
    _, params = bigger
    run = engine_cleaning_launch(params={**params, "confident": True, "cluster": False})

    result = _features(run)

    flags = Flag.objects.filter(run=run, by_confident=True)
    assert result["confident"] == flags.count() > 0
    assert all(0 <= f.label_quality <= 1 for f in flags)


def test_a_clustering_job_launched_from_the_jobs_page_becomes_the_runs_job(engine_params, shapes):
    from apps.jobs.services import job_launch

    run = engine_cleaning_launch(params={**engine_params, "cluster": False})
    _features(run)
    job = job_launch(kind="engine_cluster", params={"run": run.pk, "min_regions": 1, "fraction": 0.5})

    run_body("engine_cluster", run_engine_cluster, job=job)

    run.refresh_from_db()
    assert run.job == job and run.report["jobs"]["cluster"] == job.pk
    assert Flag.objects.filter(run=run, by_cluster=True).exists()


def test_a_clustering_job_needs_the_features_first(engine_params, shapes):
    from apps.datasets.services.context import run_inline
    from workers.base import JobParameterError

    run = engine_cleaning_launch(params=engine_params)

    with pytest.raises(JobParameterError, match="no region features yet"):
        run_inline(kind="engine_cluster", params={"run": run.pk}, body=run_engine_cluster)
