"""The training loop: `run_training(config, run_dir, ...)`, used by the CLI and by the platform's workers.

A run directory holds `config.json` (the resolved config), `metrics.jsonl`, `checkpoints/step_*.pt`
(training states) and, at the end, `model.pth` (official-layout weights + model config + tag list, loadable
by `ram_model.load_model`). With `resume=True` a run continues from its newest training state and produces
exactly the loss sequence an uninterrupted run would have produced: the data position, optimizer, RNG states
and schedule position are restored, and every sample's augmentation is a function of (seed, epoch, index).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from ram_model.data.dataset import collate_samples
from ram_model.data.sampler import ResumableDistributedSampler
from ram_model.train.config import resolve_training_config
from ram_model.train.distributed import DistInfo, all_reduce_mean, init_distributed, shutdown_distributed
from ram_model.train.metrics_log import MetricsLog
from ram_model.train.objective import TrainingObjective
from ram_model.train.schedule import Position, learning_rate
from ram_model.train.setup import build_dataset, build_training_model, tag_names_for
from ram_model.train.state import (
    DataPosition,
    list_training_states,
    load_training_state,
    restore_rng_state,
    save_training_state,
)
from ram_model.train.teacher import (
    caption_features,
    image_features,
    load_teacher,
    teacher_image_size,
    teacher_tokenizer,
)

ProgressFn = Callable[[dict[str, Any]], None]
StopFn = Callable[[], bool]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)


def autocast_for(config: dict[str, Any], device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA by default; on CPU only when asked for (`amp: bf16`)."""
    amp = config["amp"]
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def parameter_groups(model: torch.nn.Module, multipliers: dict[str, float]) -> list[dict[str, Any]]:
    """AdamW groups of the trainable parameters: one per lr multiplier prefix (first match wins), plus the rest.

    Frozen parameters (label embeddings) are left out; shared (tied) parameters appear once.
    """
    groups: dict[str, list[torch.nn.Parameter]] = {prefix: [] for prefix in multipliers}
    rest: list[torch.nn.Parameter] = []
    for name, parameter in model.named_parameters():  # yields each shared parameter once
        if not parameter.requires_grad:
            continue
        prefix = next((p for p in multipliers if name.startswith(p)), None)
        (groups[prefix] if prefix is not None else rest).append(parameter)
    out = [{"params": params, "lr_scale": float(multipliers[prefix]), "name": prefix}
           for prefix, params in groups.items() if params]
    if rest:
        out.append({"params": rest, "lr_scale": 1.0, "name": "default"})
    return out


class Trainer:
    """One run; `run()` trains until the configured number of steps or until `should_stop()` says so."""

    def __init__(self, config: dict[str, Any], run_dir: Path, info: DistInfo,
                 progress: ProgressFn | None, should_stop: StopFn | None) -> None:
        self.config = config
        self.run_dir = run_dir
        self.info = info
        self.progress = progress
        self.should_stop = should_stop
        self.device = info.device
        if config["deterministic"]:
            torch.use_deterministic_algorithms(True)
        seed_everything(int(config["seed"]))  # identical initial weights on every rank
        self.model = build_training_model(config).to(self.device)
        seed_everything(int(config["seed"]) + info.rank)
        self.tag_names = tag_names_for(config, self.model)
        if config["caption"] and getattr(self.model, "has_captions", False) and self.tag_names is None:
            raise ValueError("training captions needs the class names: set tag_list")
        self.teacher = load_teacher(config, self.device) if self.model.config["arch"] != "tag2text" else None
        self.clip_tokenizer = self._clip_tokenizer()
        teacher_size = None
        if self.teacher is not None:
            teacher_size = teacher_image_size(self.teacher, config["teacher_image_size"])
        self.dataset = build_dataset(config, self.model.num_classes, self.tag_names, self.model.image_size,
                                     teacher_size)
        self.sampler = ResumableDistributedSampler(
            len(self.dataset), num_replicas=info.world_size, rank=info.rank, seed=int(config["seed"])
        )
        self.loader_generator = torch.Generator()
        self.loader = DataLoader(
            self.dataset, batch_size=int(config["batch_size"]), sampler=self.sampler, drop_last=True,
            num_workers=int(config["num_workers"]), collate_fn=collate_samples, generator=self.loader_generator,
            pin_memory=self.device.type == "cuda",
        )
        self.accum = int(config["grad_accum_steps"])
        self.steps_per_epoch = (self.sampler.num_samples // int(config["batch_size"])) // self.accum
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"{len(self.dataset)} samples give no full optimizer step of batch_size {config['batch_size']}"
                f" × grad_accum_steps {self.accum} × {info.world_size} processes"
            )
        self.total_steps = self.steps_per_epoch * int(config["max_epoch"])
        if config["max_steps"] is not None:  # an exact step budget; epochs repeat as needed
            self.total_steps = int(config["max_steps"])
        self.objective = TrainingObjective(self.model, config).to(self.device)
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            parameter_groups(self.model, config["lr_multipliers"]), lr=config["init_lr"],
            weight_decay=config["weight_decay"],
        )
        self.wrapped: torch.nn.Module = self.objective
        if info.enabled:
            self.wrapped = DistributedDataParallel(
                self.objective, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=bool(config["find_unused_parameters"]),
            )
        self.position = DataPosition()
        self.metrics = MetricsLog(run_dir, enabled=info.is_main)
        self.lr = config["init_lr"]

    def _clip_tokenizer(self) -> Any:
        if self.teacher is None or self.model.config["arch"] != "ram_plus":
            return None
        return teacher_tokenizer(self.teacher)

    # ---- state -------------------------------------------------------------------------------------------
    def restore(self) -> bool:
        """Continue from the newest training state of the run directory; False when there is none."""
        states = list_training_states(self.run_dir)
        if not states:
            return False
        state = load_training_state(states[-1])
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.position = DataPosition(**state["position"])
        self.lr = state["scheduler"]["last_lr"]
        restore_rng_state(state["rng"])
        self.metrics.truncate_after(self.position.global_step)
        return True

    def save_state(self) -> Path | None:
        if not self.info.is_main:
            return None
        return save_training_state(
            self.run_dir, model=self.model, optimizer=self.optimizer, position=self.position,
            scheduler={"name": self.config["schedule"], "last_lr": self.lr, "total_steps": self.total_steps},
            config=self.config, keep=int(self.config["keep_checkpoints"]),
        )

    def save_model(self) -> Path | None:
        """Official-layout model file with the tag list and the training config, for inference/evaluation."""
        if not self.info.is_main:
            return None
        from ram_model import save_checkpoint

        return save_checkpoint(
            self.model, self.run_dir / "model.pth", tag_list=self.tag_names,
            training={"step": self.position.global_step, "config": self.config},
        )

    # ---- steps -------------------------------------------------------------------------------------------
    def _teacher_inputs(self, batch: dict[str, Any]) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if self.teacher is None:
            return None, None
        images = batch.get("image_224", batch["image"])
        feats = image_features(self.teacher, images)
        texts = None
        if self.clip_tokenizer is not None:
            texts = caption_features(self.teacher, batch["caption"], self.clip_tokenizer)
        return feats, texts

    def _optimizer_step(self, batches: list[dict[str, Any]]) -> dict[str, float]:
        self.lr = learning_rate(
            self.config, Position(self.position.global_step, self.position.epoch, self.total_steps)
        )
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr * group["lr_scale"]
        logged: dict[str, float] = {}
        for i, batch in enumerate(batches):
            batch = _to_device(batch, self.device)
            teacher_feats, text_feats = self._teacher_inputs(batch)
            sync = contextlib.nullcontext()
            if isinstance(self.wrapped, DistributedDataParallel) and i < len(batches) - 1:
                sync = self.wrapped.no_sync()
            with sync:
                with autocast_for(self.config, self.device):
                    parts = self.wrapped(batch, teacher_feats, text_feats)
                (parts["loss"] / len(batches)).backward()
            for key, value in parts.items():
                logged[key] = logged.get(key, 0.0) + float(value.detach()) / len(batches)
        if self.config["grad_clip_norm"]:
            torch.nn.utils.clip_grad_norm_(self.trainable, float(self.config["grad_clip_norm"]))
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return logged

    def _evaluate(self) -> dict[str, Any] | None:
        spec = self.config["eval"]
        if not spec or not self.info.is_main:
            return None
        from ram_model.evaluate.annotations import read_benchmark
        from ram_model.evaluate.runner import evaluate_model

        benchmark = read_benchmark(spec["annotations"], spec.get("taglist"), spec.get("image_root", ""))
        report, _, _ = evaluate_model(
            self.model, benchmark, self.tag_names, thresholds=float(spec.get("threshold", 0.5)),
            batch_size=int(spec.get("batch_size", 32)), device=self.device,
        )
        keys = ("mAP", "CP", "CR", "CF1", "OP", "OR", "OF1", "num_images", "per_tag_ap")
        summary = {k: report[k] for k in keys}
        self.metrics.write({"kind": "eval", "step": self.position.global_step, **summary})
        return summary

    def _log(self, logged: dict[str, float], images_per_s: float, elapsed: float) -> dict[str, Any]:
        logged = all_reduce_mean(logged, self.info)
        record = {
            "kind": "train", "step": self.position.global_step, "epoch": self.position.epoch, "lr": self.lr,
            **logged, "images_per_s": images_per_s, "elapsed_s": elapsed,
        }
        every = max(1, int(self.config["log_every"]))
        if self.position.global_step % every == 0 or self.position.global_step == self.total_steps:
            self.metrics.write(record)
        return record

    def run(self, resume: bool) -> dict[str, Any]:
        if self.info.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "config.json").write_text(json.dumps(self.config, indent=2), encoding="utf-8")
        resumed = self.restore() if resume else False
        self.model.train()
        batch_size = int(self.config["batch_size"])
        eval_every = int((self.config["eval"] or {}).get("every", 0) or 0)
        ckpt_every = max(1, int(self.config["checkpoint_every"]))
        status, last, start = "completed", None, time.perf_counter()
        while self.position.global_step < self.total_steps:
            if self.position.step_in_epoch >= self.steps_per_epoch:
                self.position.epoch += 1
                self.position.step_in_epoch = 0
            epoch = self.position.epoch
            self.dataset.set_epoch(epoch)
            self.sampler.set_epoch(epoch, start=self.position.step_in_epoch * self.accum * batch_size)
            self.loader_generator.manual_seed(int(self.config["seed"]) + epoch)
            batches = iter(self.loader)
            while self.position.step_in_epoch < self.steps_per_epoch and self.position.global_step < self.total_steps:
                if self.should_stop is not None and self.should_stop():
                    status = "stopped"
                    break
                tick = time.perf_counter()
                logged = self._optimizer_step([next(batches) for _ in range(self.accum)])
                self.position.global_step += 1
                self.position.step_in_epoch += 1
                seconds = time.perf_counter() - tick
                images = self.accum * batch_size * self.info.world_size
                last = self._log(logged, images / seconds, time.perf_counter() - start)
                if eval_every and self.position.global_step % eval_every == 0:
                    last["eval"] = self._evaluate()
                if self.progress is not None:
                    self.progress({**last, "total_steps": self.total_steps})
                if self.position.global_step % ckpt_every == 0:
                    self.save_state()
            if status == "stopped":
                break
        final_state = self.save_state()
        model_path = None
        if status == "completed":
            if self.config["eval"] and (not eval_every or self.position.global_step % eval_every):
                evaluation = self._evaluate()
                if last is not None:
                    last["eval"] = evaluation
            model_path = self.save_model()
        return {
            "status": status, "resumed": resumed, "step": self.position.global_step,
            "total_steps": self.total_steps, "epoch": self.position.epoch, "last": last,
            "state": str(final_state) if final_state else None, "model": str(model_path) if model_path else None,
        }


def run_training(
    config: dict[str, Any],
    run_dir: str | Path,
    *,
    resume: bool = True,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, Any]:
    """Train per `config` into `run_dir`; continue from its newest training state when `resume`.

    `progress(record)` is called after every optimizer step with the step's metrics (step, total_steps,
    epoch, lr, loss parts, images_per_s); `should_stop()` is checked before every step, and a True answer
    saves a training state and returns with status "stopped" (resume later with the same call).
    """
    resolved = resolve_training_config(config)
    info = init_distributed(resolved["device"])
    try:
        trainer = Trainer(resolved, Path(run_dir), info, progress, should_stop)
        return trainer.run(resume)
    finally:
        shutdown_distributed(info)
