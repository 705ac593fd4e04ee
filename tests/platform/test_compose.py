"""docker-compose.yml describes the production stack (CI also runs `docker-compose config` on it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_stack_has_every_service_with_a_health_check():
    services = COMPOSE["services"]

    assert set(services) == {"postgres", "redis", "web", "worker-cpu", "worker-gpu", "flower"}
    assert all("healthcheck" in service for service in services.values())


def test_gpu_worker_reserves_nvidia_devices_and_consumes_only_the_gpu_queue():
    worker = COMPOSE["services"]["worker-gpu"]

    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert "-Q gpu " in worker["command"]


def test_data_lives_in_volumes():
    assert {"pgdata", "redisdata"} <= set(COMPOSE["volumes"])


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_compose_file_validates():
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            env={"SECRET_KEY": "k", "FLOWER_PASSWORD": "p", "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
