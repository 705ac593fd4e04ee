"""Settings come from the environment with safe defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _settings_probe(env: dict[str, str], expr: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "LABELHUB_TESTING"}}
    code = f"import labelhub.settings as s; print({expr})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=60)


def test_secret_key_is_required_outside_debug():
    result = _settings_probe({}, "s.SECRET_KEY")

    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_debug_runs_without_a_secret_key():
    assert _settings_probe({"DEBUG": "1"}, "s.DEBUG").stdout.strip() == "True"


def test_default_database_is_a_sqlite_file_under_var():
    out = _settings_probe({"DEBUG": "1"}, "s.DATABASES['default']['NAME']").stdout.strip()

    assert out.endswith("var/labelhub.sqlite3")


def test_database_url_and_broker_come_from_the_environment():
    env = {"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgres://u@db:5433/lh", "CELERY_BROKER_URL": "redis://r:6379/2"}
    out = _settings_probe(env, "s.DATABASES['default']['HOST'], s.DATABASES['default']['PORT'], s.CELERY_BROKER_URL")

    assert out.stdout.strip() == "db 5433 redis://r:6379/2"


def test_default_broker_needs_no_server():
    out = _settings_probe({"DEBUG": "1"}, "s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT_OPTIONS['control_folder']")

    assert out.stdout.startswith("filesystem:// ")
    assert out.stdout.strip().endswith("var/broker/control")


def test_image_roots_accept_several_paths():
    out = _settings_probe({"DEBUG": "1", "LABELHUB_IMAGE_ROOTS": "/data/a:/data/b"},
                          "[str(p) for p in s.LABELHUB_IMAGE_ROOTS]")

    assert out.stdout.strip() == "['/data/a', '/data/b']"
