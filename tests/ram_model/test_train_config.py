"""Training config resolution and the learning-rate schedules."""

import math

import pytest

from ram_model.train.config import load_training_config, resolve_training_config
from ram_model.train.schedule import Position, learning_rate

DATA = {"train_file": ["x.json"]}


def test_pretrain_base_brings_the_official_hyper_parameters():
    config = resolve_training_config({"base": "pretrain", **DATA})
    assert (config["init_lr"], config["min_lr"], config["warmup_lr"]) == (1e-4, 5e-7, 5e-7)
    assert (config["batch_size"], config["image_size"], config["max_epoch"]) == (52, 224, 5)
    assert (config["weight_decay"], config["warmup_steps"], config["lr_decay_rate"]) == (0.05, 3000, 0.9)
    assert config["schedule"] == "step_decay" and config["model"] == "ram"


def test_finetune_base_reads_the_yaml_string_learning_rate_as_a_float():
    config = resolve_training_config({"base": "finetune", **DATA})
    assert config["init_lr"] == 5e-6 and isinstance(config["init_lr"], float)
    assert config["schedule"] == "epoch_cosine" and config["image_size"] == 384


def test_user_keys_override_the_base_and_merge_nested_dicts():
    config = resolve_training_config({"base": "pretrain", "batch_size": 4, "asl": {"gamma_neg": 4}, **DATA})
    assert config["batch_size"] == 4
    assert config["asl"] == {"gamma_neg": 4, "gamma_pos": 0.0, "clip": 0.05, "eps": 1e-8}


def test_unknown_keys_and_missing_data_are_errors():
    with pytest.raises(ValueError, match="unknown training config keys: \\['batch_sise'\\]"):
        resolve_training_config({"batch_sise": 3, **DATA})
    with pytest.raises(ValueError, match="no training data"):
        resolve_training_config({})


def test_config_file_may_be_yaml_or_json(tmp_path):
    (tmp_path / "a.yaml").write_text("train_file: [a.json]\nbatch_size: 3\n")
    (tmp_path / "b.json").write_text('{"train_shards": "s-{0..1}.tar", "batch_size": 5}')
    assert load_training_config(tmp_path / "a.yaml")["batch_size"] == 3
    assert load_training_config(tmp_path / "b.json")["train_shards"] == ["s-{0..1}.tar"]


def _lr(schedule, step, epoch=0, total=100, **extra):
    config = {"schedule": schedule, "init_lr": 1e-3, "min_lr": 1e-5, "warmup_lr": 1e-6, "warmup_steps": 10,
              "lr_decay_rate": 0.9, "max_epoch": 4, **extra}
    return learning_rate(config, Position(step, epoch, total))


def test_warmup_cosine_rises_linearly_then_decays_to_min_lr():
    assert _lr("warmup_cosine", 0) == pytest.approx(1e-6)
    assert _lr("warmup_cosine", 5) == pytest.approx(1e-6 + (1e-3 - 1e-6) / 2)
    assert _lr("warmup_cosine", 10) == pytest.approx(1e-3)
    mid = 10 + (100 - 10 - 1) / 2
    assert _lr("warmup_cosine", int(mid)) == pytest.approx(
        1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + math.cos(math.pi * int(mid - 10) / 89)))
    assert _lr("warmup_cosine", 99) == pytest.approx(1e-5)


def test_step_decay_warms_up_in_epoch_zero_then_decays_per_epoch():
    assert _lr("step_decay", 5, epoch=0) == pytest.approx(1e-6 + (1e-3 - 1e-6) / 2)
    assert _lr("step_decay", 50, epoch=0) == pytest.approx(1e-3)
    assert _lr("step_decay", 250, epoch=2) == pytest.approx(1e-3 * 0.81)
    assert _lr("step_decay", 10**6, epoch=200) == pytest.approx(1e-5)


def test_epoch_cosine_is_constant_within_an_epoch():
    assert _lr("epoch_cosine", 0, epoch=0) == pytest.approx(1e-3)
    assert _lr("epoch_cosine", 7, epoch=2) == _lr("epoch_cosine", 30, epoch=2)
    assert _lr("epoch_cosine", 7, epoch=2) == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5)
