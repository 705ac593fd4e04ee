"""Training job bodies: ``train``, ``evaluate`` and ``extend_checkpoint`` (thin: load rows, call ram_model).

``train`` exports the dataset version into the run directory once (cursor ``exported``), then calls
``ram_model.train.run_training(..., resume=True)``: a retried job or one redelivered after its worker died
continues from the run's newest training state, and its metrics file is cut back to that step. On a worker
with several GPUs the same run goes through ``torchrun`` (one process per GPU, DDP) as a subprocess; the job
follows its metrics file for progress and terminates it on cancel (the run then resumes from its last
periodic training state). Only the single-process path can be tested on CPU machines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.datasets.models import DatasetVersion
from apps.labels.selectors import version_tag_texts
from apps.training.configs import effective_config
from apps.training.exporting import training_files_write
from apps.training.models import Checkpoint, CheckpointSource, ModelSize
from apps.training.services import checkpoint_register, eval_result_record, training_run_for_job

from .base import JobCancelled, JobContext, JobParameterError

PLATFORM_ONLY_KEYS = ("eval_every",)


# --- train ------------------------------------------------------------------------------------------------


def training_config(run: Any, data: dict[str, Any], eval_data: dict[str, Any]) -> dict[str, Any]:
    """The trainer's config: RAM defaults ← the user's overrides ← the run's data, model and classes."""
    config = effective_config(run.mode, run.size, run.config)
    eval_every = int(config.get("eval_every") or 0)
    for key in PLATFORM_ONLY_KEYS:
        config.pop(key, None)
    config.update({
        "model": run.model_name, "train_file": [data["train_json"]], "image_path_root": data["image_root"],
        "tag_list": data["tag_list"], "class_num": len(version_tag_texts(run.label_system_version)),
    })
    if run.size != ModelSize.TINY:
        config["image_size"] = int(run.size.rsplit("_", 1)[-1])
    if run.init_checkpoint_id:
        config["init_checkpoint"] = run.init_checkpoint.path
    # Evaluated while training: the chosen held-out version; a tiny demo run also curves its training data.
    if (run.eval_dataset_version_id or run.size == ModelSize.TINY) and eval_data["counts"].get("records"):
        config["eval"] = {"annotations": eval_data["annotations"], "taglist": None, "image_root": "",
                          "every": eval_every, "batch_size": 32, **(config.get("eval") or {})}
    return config


def _export(ctx: JobContext, run: Any, data_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's training (and evaluation) files, written once; later attempts reuse them."""
    if ctx.cursor.get("exported") and (data_dir / "files.json").is_file():
        saved = json.loads((data_dir / "files.json").read_text(encoding="utf-8"))
        return saved["train"], saved["eval"]
    ctx.log(f"exporting {run.dataset_version} for {run.label_system_version}")
    train = training_files_write(version=run.dataset_version, label_system_version=run.label_system_version,
                                 out_dir=data_dir, prefix="train").as_dict()
    if not train["counts"]["records"]:
        raise JobParameterError(f"dataset version {run.dataset_version} has no image with a caption to train on")
    evaluation = train
    if run.eval_dataset_version_id and run.eval_dataset_version_id != run.dataset_version_id:
        evaluation = training_files_write(version=run.eval_dataset_version,
                                          label_system_version=run.label_system_version, out_dir=data_dir,
                                          prefix="eval").as_dict()
    (data_dir / "files.json").write_text(json.dumps({"train": train, "eval": evaluation}), encoding="utf-8")
    ctx.log(f"exported {train['counts']['records']} training records {train['counts']}")
    ctx.commit({"exported": True, "step": 0}, done=0)
    return train, evaluation


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def run_train(ctx: JobContext) -> dict[str, Any]:
    run = training_run_for_job(job=ctx.job)
    run_dir = Path(run.run_dir)
    train, evaluation = _export(ctx, run, run_dir / "data")
    config = training_config(run, train, evaluation)
    from ram_model.train.config import resolve_training_config

    try:
        resolved = resolve_training_config(config)
    except ValueError as exc:
        raise JobParameterError(f"training config: {exc}") from None
    gpus = gpu_count()
    if gpus > 1 and resolved["device"] in ("auto", "cuda"):
        result = _train_distributed(ctx, config, run_dir, gpus)
    else:
        result = _train_single(ctx, config, run_dir)
    if result["status"] == "stopped":
        raise JobCancelled()
    model_path = result.get("model") or str(run_dir / "model.pth")
    metrics = {k: v for k, v in (result.get("last") or {}).items() if k != "eval" and not isinstance(v, dict)}
    if (result.get("last") or {}).get("eval"):
        metrics["eval"] = result["last"]["eval"]
    checkpoint = checkpoint_register(
        path=model_path, name=f"{run.name} · final", source=CheckpointSource.TRAINED, variant=run.variant,
        size=run.size, label_system_version=run.label_system_version, dataset_version=run.dataset_version,
        training_run=run, config=resolved, metrics=metrics, user=ctx.job.user)
    ctx.log(f"registered checkpoint #{checkpoint.pk} ({model_path})")
    return {"run": run.pk, "checkpoint": checkpoint.pk, "steps": result["step"], "resumed": result["resumed"],
            "final_eval": metrics.get("eval"), "run_dir": str(run_dir)}


def _train_single(ctx: JobContext, config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    from ram_model.train import run_training

    steps = {"done": 0}

    def progress(record: dict[str, Any]) -> None:
        if steps["done"] == 0:
            ctx.progress(record["step"], total=record["total_steps"], unit="steps")
        steps["done"] += 1
        ctx.commit({"exported": True, "step": record["step"]}, done=record["step"], total=record["total_steps"])

    try:
        return run_training(config, run_dir, resume=True, progress=progress, should_stop=ctx.should_stop)
    except (ValueError, FileNotFoundError) as exc:
        if steps["done"]:
            raise
        raise JobParameterError(f"{type(exc).__name__}: {exc}") from None  # the config can never work


def torchrun_command(config_file: Path, run_dir: Path, gpus: int) -> list[str]:
    """``torchrun`` (as ``python -m torch.distributed.run``) of the ram_model training CLI, resuming ``run_dir``."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}",
            "-m", "ram_model.train", "--config", str(config_file), "--resume", str(run_dir)]


def last_progress(log_file: Path, tail_bytes: int = 65536) -> tuple[int, int | None] | None:
    """(step, total_steps) of the newest progress line the training CLI printed into ``log_file``."""
    if not log_file.is_file():
        return None
    with log_file.open("rb") as fh:
        fh.seek(max(0, log_file.stat().st_size - tail_bytes))
        lines = fh.read().decode("utf-8", errors="replace").splitlines()
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "step" in record and "total_steps" in record:
            return int(record["step"]), record["total_steps"]
    return None


def _train_distributed(ctx: JobContext, config: dict[str, Any], run_dir: Path, gpus: int) -> dict[str, Any]:
    """DDP over the worker's GPUs: torchrun in its own process group, followed through the progress lines the
    training CLI prints; a cancel terminates it (the next attempt resumes from the last periodic state)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config_file = run_dir / "job_config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    log_file = run_dir / "torchrun.log"
    ctx.log(f"training with DDP on {gpus} GPUs (log {log_file})")
    ctx.progress(int(ctx.cursor.get("step", 0)), unit="steps")
    with log_file.open("ab") as log:
        proc = subprocess.Popen(torchrun_command(config_file, run_dir, gpus), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "4"})

    def report() -> None:
        seen = last_progress(log_file)
        if seen is not None:
            ctx.commit({"exported": True, "step": seen[0]}, done=seen[0], total=seen[1])

    try:
        while proc.poll() is None:
            time.sleep(2)
            report()
            if ctx.should_stop():
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=120)
                return {"status": "stopped"}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    report()
    if proc.returncode != 0:
        tail = log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"torchrun exited with {proc.returncode}:\n{tail}")
    for line in reversed(log_file.read_text(encoding="utf-8", errors="replace").splitlines()):
        if line.startswith('{"result"'):
            return json.loads(line)["result"]
    raise RuntimeError(f"torchrun ended without a result line; see {log_file}")


# --- loading checkpoints ----------------------------------------------------------------------------------


def _checkpoint(ctx: JobContext, key: str = "checkpoint") -> Checkpoint:
    checkpoint = Checkpoint.objects.filter(pk=ctx.params[key]).select_related("label_system_version").first()
    if checkpoint is None:
        raise JobParameterError(f"checkpoint {ctx.params[key]} no longer exists")
    if not os.path.isfile(checkpoint.path):
        raise JobParameterError(f"the file of checkpoint {checkpoint} is missing: {checkpoint.path}")
    return checkpoint


def load_registered_model(checkpoint: Checkpoint) -> tuple[Any, list[str] | None]:
    """The model of a registered checkpoint and its class names (file's list, label system, or bundled)."""
    from ram_model import load_model
    from ram_model.checkpoint import CheckpointMismatchError, read_checkpoint
    from ram_model.train.setup import tag_names_for

    try:
        payload = read_checkpoint(checkpoint.path)
        variant = None if isinstance(payload.get("config"), dict) else checkpoint.model_name
        model = load_model(payload, variant)
    except (CheckpointMismatchError, ValueError, KeyError) as exc:
        raise JobParameterError(f"checkpoint {checkpoint} cannot be loaded: {exc}") from None
    names = payload.get("tag_list")
    if not names and checkpoint.label_system_version_id:
        names = version_tag_texts(checkpoint.label_system_version)
    if not names:
        names = tag_names_for({"tag_list": None}, model)
    if names is not None and len(names) != model.num_classes:
        raise JobParameterError(f"checkpoint {checkpoint} has {model.num_classes} classes but {len(names)} names")
    return model, list(names) if names else None


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# --- evaluate ---------------------------------------------------------------------------------------------


def _benchmark_files(ctx: JobContext, model_tags: list[str] | None) -> tuple[str, str | None, str]:
    """(annotations, taglist, image_root) of the job: the given benchmark files, or a dataset version written
    as JSONL over the tags that occur in it and that the model knows."""
    p = ctx.params
    if not p.get("dataset_version"):
        return p["annotations"], p.get("taglist") or None, p.get("image_root") or ""
    version = DatasetVersion.objects.select_related("dataset", "label_system_version").get(pk=p["dataset_version"])
    if version.label_system_version is None:
        raise JobParameterError(f"dataset version {version} has no label-system version to name its tags")
    out = Path(settings.LABELHUB_JOB_DIR) / f"job-{ctx.job.pk}"
    files = training_files_write(version=version, label_system_version=version.label_system_version,
                                 out_dir=out, prefix="benchmark")
    present = set()
    for line in files.annotations.read_text(encoding="utf-8").splitlines():
        present.update(json.loads(line)["tags"])
    known = set(model_tags or [])
    classes = [t for t in version_tag_texts(version.label_system_version) if t in present and t in known]
    if not classes:
        raise JobParameterError(f"no tag of {version} is a class of the checkpoint")
    taglist = out / "benchmark_taglist.txt"
    taglist.write_text("\n".join(classes), encoding="utf-8")
    return str(files.annotations), str(taglist), ""


def run_evaluate(ctx: JobContext) -> dict[str, Any]:
    from ram_model.evaluate.annotations import read_benchmark
    from ram_model.evaluate.runner import evaluate_model

    checkpoint = _checkpoint(ctx)
    ctx.progress(0, total=3, unit="stages")
    model, names = load_registered_model(checkpoint)
    annotations, taglist, image_root = _benchmark_files(ctx, names)
    ctx.progress(1, total=3)
    ctx.check_cancel()
    try:
        benchmark = read_benchmark(annotations, taglist, image_root)
        device = _device()
        report, _, _ = evaluate_model(model.to(device), benchmark, names, thresholds=float(ctx.params["threshold"]),
                                      batch_size=int(ctx.params["batch_size"]), device=device)
    except (ValueError, FileNotFoundError) as exc:
        raise JobParameterError(str(exc)) from None
    ctx.progress(2, total=3)
    result = eval_result_record(
        job=ctx.job, checkpoint=checkpoint, report=report, threshold=float(ctx.params["threshold"]),
        dataset_version=DatasetVersion.objects.filter(pk=ctx.params.get("dataset_version")).first(),
        annotations="" if ctx.params.get("dataset_version") else annotations,
        taglist="" if ctx.params.get("dataset_version") else (taglist or ""), image_root=image_root)
    ctx.progress(3, total=3)
    ctx.log(f"mAP {report['mAP']:.4f} on {report['num_images']} images" if report.get("mAP") is not None
            else "no class with a positive image: mAP undefined")
    return {"eval_result": result.pk, "checkpoint": checkpoint.pk, "mAP": report.get("mAP"),
            "num_images": report.get("num_images"), "skipped": len(report.get("skipped") or [])}


# --- extend_checkpoint ------------------------------------------------------------------------------------


def extended_label_embeddings(model: Any, old_names: list[str], new_names: list[str], clip: Any) -> Any:
    """Embeddings of ``new_names``: a known tag keeps its row(s), a new one gets CLIP text embeddings."""
    import torch

    from ram_model.label_embeddings import build_label_embeddings, read_templates

    per_class = int(getattr(model, "num_descriptions", 1) or 1)
    current = model.label_embed.detach().cpu().reshape(len(old_names), per_class, -1)
    old_index = {name: i for i, name in enumerate(old_names)}
    added = [name for name in new_names if name not in old_index]
    fresh: dict[str, torch.Tensor] = {}
    if added:
        if per_class == 1:
            rows = build_label_embeddings(added, clip).reshape(len(added), 1, -1)
        else:  # RAM++: K descriptions per tag, here the first K prompt templates
            rows = build_label_embeddings(added, clip, templates=read_templates()[:per_class], average=False)
            rows = rows.reshape(len(added), per_class, -1)
        fresh = {name: rows[i] for i, name in enumerate(added)}
    stacked = torch.stack([current[old_index[n]] if n in old_index else fresh[n] for n in new_names])
    return stacked if per_class > 1 else stacked[:, 0, :]


def run_extend_checkpoint(ctx: JobContext) -> dict[str, Any]:
    from apps.labels.models import LabelSystemVersion
    from ram_model import save_checkpoint
    from ram_model.clip import load_clip

    checkpoint = _checkpoint(ctx)
    version = LabelSystemVersion.objects.filter(pk=ctx.params["label_system_version"]).first()
    if version is None:
        raise JobParameterError(f"label system version {ctx.params['label_system_version']} no longer exists")
    ctx.progress(0, total=2, unit="stages")
    model, old_names = load_registered_model(checkpoint)
    if old_names is None:
        raise JobParameterError(f"the class names of checkpoint {checkpoint} are unknown")
    new_names = version_tag_texts(version)
    try:
        clip = load_clip(ctx.params.get("clip_checkpoint") or None, tiny=bool(ctx.params.get("clip_tiny")))
    except (FileNotFoundError, ValueError) as exc:
        raise JobParameterError(str(exc)) from None
    ctx.check_cancel()
    model.set_label_embeddings(extended_label_embeddings(model, old_names, new_names, clip))
    ctx.progress(1, total=2)
    added = [n for n in new_names if n not in set(old_names)]
    removed = [n for n in old_names if n not in set(new_names)]
    out = Path(settings.LABELHUB_CHECKPOINT_DIR) / "extended" / f"checkpoint-{checkpoint.pk}-lsv-{version.pk}.pth"
    save_checkpoint(model, out, tag_list=new_names,
                    extended={"from": checkpoint.path, "added": added, "removed": removed})
    new = checkpoint_register(
        path=out, name=ctx.params.get("name") or f"{checkpoint.name} + {len(added)} tags ({version})",
        source=CheckpointSource.EXTENDED, variant=checkpoint.variant, size=checkpoint.size,
        label_system_version=version, dataset_version=checkpoint.dataset_version, parent=checkpoint,
        config=checkpoint.config, metrics={"added_tags": added, "removed_tags": removed}, user=ctx.job.user)
    ctx.progress(2, total=2)
    ctx.log(f"checkpoint #{new.pk}: {len(new_names)} classes ({len(added)} added, {len(removed)} dropped)")
    return {"checkpoint": new.pk, "num_classes": len(new_names), "added": added, "removed": removed}
