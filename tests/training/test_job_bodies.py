"""The training job bodies run in this process (the real-worker path is in test_worker.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.labels.services import LabelFiles, label_system_import
from apps.training.models import Checkpoint, EvalResult, TrainingRun
from apps.training.services import checkpoint_register
from workers.base import JobParameterError
from workers.training import run_evaluate, run_extend_checkpoint, run_train, torchrun_command

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_train_with_a_config_key_the_trainer_does_not_know_is_a_parameter_error(job_context, train_params):
    ctx = job_context("train", {**train_params, "config": {"max_stepz": 3}})

    with pytest.raises(JobParameterError, match="unknown training config keys"):
        run_train(ctx)


def test_evaluate_records_map_and_per_tag_ap_on_a_dataset_version(job_context, demo, trained_model_file):
    checkpoint = checkpoint_register(path=trained_model_file, variant="ram", size="tiny",
                                     label_system_version=demo.label_system_version)
    ctx = job_context("evaluate", {"checkpoint": checkpoint.pk, "dataset_version": demo.heldout.pk})

    result = run_evaluate(ctx)

    evaluation = EvalResult.objects.get(pk=result["eval_result"])
    assert evaluation.num_images == 8
    assert 0 <= evaluation.mAP <= 1
    assert set(evaluation.per_tag_ap) <= {"red", "green", "blue", "yellow", "purple",
                                          "circle", "square", "triangle", "star"}
    assert evaluation.dataset_version == demo.heldout


def test_evaluate_reads_a_benchmark_annotation_file(job_context, demo, trained_model_file, tmp_path):
    checkpoint = checkpoint_register(path=trained_model_file, variant="ram", size="tiny")
    image_root = Path(demo.heldout.dataset.image_root)
    lines = [json.dumps({"image": p.name, "tags": ["red"]}) for p in sorted((image_root / "images").glob("*.png"))]
    (tmp_path / "bench.jsonl").write_text("\n".join(lines))
    ctx = job_context("evaluate", {"checkpoint": checkpoint.pk, "annotations": str(tmp_path / "bench.jsonl"),
                                   "image_root": str(image_root / "images")})

    result = run_evaluate(ctx)

    evaluation = EvalResult.objects.get(pk=result["eval_result"])
    assert list(evaluation.per_tag_ap) == ["red"]
    assert evaluation.annotations.endswith("bench.jsonl")


def test_extend_adds_new_tags_to_the_head_and_registers_a_new_checkpoint(job_context, demo, trained_model_file):
    from ram_model import load_model

    base = checkpoint_register(path=trained_model_file, variant="ram", size="tiny",
                               label_system_version=demo.label_system_version)
    tags = "red\ngreen\nblue\nyellow\npurple\ncircle\nsquare\ntriangle\nstar\nhexagon\norange"
    newer = label_system_import(name="demo-shapes", label_files=LabelFiles(tags=tags.encode()), publish=True)
    ctx = job_context("extend_checkpoint", {"checkpoint": base.pk, "label_system_version": newer.pk,
                                            "clip_tiny": True})

    result = run_extend_checkpoint(ctx)

    extended = Checkpoint.objects.get(pk=result["checkpoint"])
    assert result["added"] == ["hexagon", "orange"]
    assert extended.parent == base and extended.label_system_version == newer
    old, new = load_model(base.path), load_model(extended.path)
    assert new.num_classes == 11
    assert (new.label_embed[:9] == old.label_embed).all()


def test_torchrun_command_runs_the_training_cli_on_every_gpu_resuming_the_run_dir(tmp_path):
    command = torchrun_command(tmp_path / "c.json", tmp_path, 4)

    assert command[1:5] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4"]
    assert command[-4:] == ["--config", str(tmp_path / "c.json"), "--resume", str(tmp_path)]


def test_fine_tuning_on_a_worker_with_several_gpus_runs_ddp_through_torchrun(job_context, train_params, demo,
                                                                            trained_model_file, monkeypatch):
    """Two torchrun processes on CPU (gloo) stand in for two GPUs, fine-tuning a registered checkpoint."""
    monkeypatch.setattr("workers.training.gpu_count", lambda: 2)
    start = checkpoint_register(path=trained_model_file, variant="ram", size="tiny",
                                label_system_version=demo.label_system_version)
    ctx = job_context("train", {**train_params, "init_checkpoint": start.pk,
                                "config": {"max_steps": 2, "batch_size": 2, "eval_every": 0}})

    result = run_train(ctx)

    run = TrainingRun.objects.get(job=ctx.job)
    assert run.init_checkpoint == start
    assert json.loads((Path(run.run_dir) / "config.json").read_text())["init_checkpoint"] == start.path
    assert result["steps"] == 2 and Path(result["run_dir"], "model.pth").is_file()
    assert "training with DDP on 2 GPUs" in " ".join(ctx.job.log_lines.values_list("message", flat=True))
    assert Checkpoint.objects.get(pk=result["checkpoint"]).training_run == run
    ctx.job.refresh_from_db()
    assert ctx.job.progress_done == 2
