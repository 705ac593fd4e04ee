"""``register_checkpoint``: add a checkpoint file (an official release) to the registry by path."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.training.models import Checkpoint

pytestmark = pytest.mark.django_db


def test_register_checkpoint_command_adds_a_file_and_refuses_a_missing_one(tmp_path):
    (tmp_path / "ram_swin_large_14m.pth").write_bytes(b"w")
    call_command("register_checkpoint", str(tmp_path / "ram_swin_large_14m.pth"), "--size", "swin_l_384")

    assert Checkpoint.objects.get().model_name == "ram_swin_l_384"
    with pytest.raises(CommandError, match="no checkpoint file at"):
        call_command("register_checkpoint", str(tmp_path / "missing.pth"))
