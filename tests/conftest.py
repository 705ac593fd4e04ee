"""Project-wide fixtures: users per role, API clients, and a real Celery worker process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.roles import ROLES
from apps.accounts.services import user_create

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def role_user(db):
    """Factory: a user holding exactly one role (or none for ``None``)."""

    def make(role: str | None):
        return user_create(username=f"user-{role or 'norole'}", password="pw-12345678",
                           roles=[role] if role else [])

    return make


@pytest.fixture
def api_client_for(role_user):
    """Factory: an API client authenticated as a user of the given role (``"anonymous"`` for none)."""

    def make(role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            client.force_authenticate(role_user(None if role == "norole" else role))
        return client

    return make


@pytest.fixture(params=ROLES)
def role(request) -> str:
    return request.param


def _worker_database_url() -> str:
    """The URL of the test database as pytest-django set it up, for a worker in another process."""
    from django.db import connection

    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    user = cfg.get("USER") or "postgres"
    host = cfg.get("HOST") or "127.0.0.1"
    return f"postgres://{user}@{host}:{cfg.get('PORT') or 5432}/{cfg['NAME']}"


def _start_worker(name: str, log_path: Path, database_url: str) -> subprocess.Popen:
    """Start ``celery worker`` in its own process group, consuming both queues; wait until it is ready."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "LABELHUB_BROKER_DIR": str(settings.BROKER_DIR),
        "LABELHUB_TESTING": "1",
        "PYTHONUNBUFFERED": "1",
        # Fast failure detection so the lost-worker tests take seconds.
        "LABELHUB_JOB_HEARTBEAT_SECONDS": "0.5",
        "LABELHUB_JOB_STALE_SECONDS": "3",
        "LABELHUB_JOB_RETRY_BACKOFF_SECONDS": "0.2",
    })
    for folder in ("queue", "processed", "control"):
        (settings.BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "celery", "-A", "labelhub", "worker", "-Q", "cpu,gpu", "--concurrency", "1",
           "--hostname", f"{name}-{os.getpid()}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"celery worker did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    proc.log_path = log_path  # type: ignore[attr-defined]
    return proc


def _stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def _worker_db_url(django_db_setup, django_db_blocker) -> str:
    with django_db_blocker.unblock():
        url = _worker_database_url()
    _purge_queues()
    return url


@pytest.fixture
def start_worker(_worker_db_url, tmp_path) -> Iterator:
    """Factory: start extra worker processes for one test (stopped, or killed, at its end)."""
    started: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        proc = _start_worker(name, tmp_path / f"{name}.log", _worker_db_url)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        _stop_worker(proc)


@pytest.fixture
def celery_worker_process(start_worker) -> subprocess.Popen:
    """A real ``celery worker`` process on the configured broker, consuming both queues of the test DB.

    One per test, so a test that kills workers knows which ones can pick up its job.
    """
    return start_worker("pytest")


def _purge_queues() -> None:
    """Drop messages left by an earlier run so this session's worker only sees its own tasks."""
    from celery import current_app

    with current_app.connection_for_write() as conn:
        for queue in ("cpu", "gpu"):
            with contextlib.suppress(Exception):  # a queue that does not exist yet has nothing to purge
                conn.default_channel.queue_purge(queue)

