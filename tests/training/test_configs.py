"""Training defaults come from the official RAM configs, with per-size platform defaults laid over them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import user_create
from apps.training.configs import default_config, effective_config


def test_finetune_defaults_are_the_official_finetune_yaml():
    config = default_config("finetune", "swin_l_384")

    assert config["init_lr"] == 5e-06 and config["batch_size"] == 26 and config["max_epoch"] == 2
    assert config["schedule"] == "epoch_cosine" and config["distill"] is False
    assert "train_file" not in config and "class_num" not in config


def test_pretrain_defaults_decay_per_epoch_and_a_tiny_run_gets_cpu_sized_batches():
    assert default_config("pretrain", "swin_l_224")["schedule"] == "step_decay"
    tiny = default_config("pretrain", "tiny")
    assert tiny["batch_size"] == 8 and tiny["num_workers"] == 0


def test_user_overrides_win():
    assert effective_config("finetune", "tiny", {"batch_size": 3})["batch_size"] == 3


@pytest.mark.django_db
def test_launch_page_shows_the_defaults_of_the_chosen_mode_and_size():
    client = Client()
    client.force_login(user_create(username="t", password="pw-12345678", roles=["trainer"]))

    html = client.get(reverse("training:run-defaults"), {"mode": "pretrain", "size": "swin_l_224"}).content.decode()

    assert "step_decay" in html and "&quot;batch_size&quot;: 52" in html
