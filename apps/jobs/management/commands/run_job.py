"""Launch any job kind through the queue from the command line, and optionally follow it to its end."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.jobs import services
from apps.jobs.kinds import all_kinds
from apps.jobs.models import Job, JobState


def parse_param(text: str) -> tuple[str, Any]:
    """``key=value``; the value is read as JSON when it parses (numbers, booleans, lists), else as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise CommandError(f"--param {text!r}: expected key=value")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


class Command(BaseCommand):
    help = "Launch a job of any kind on its queue (a worker runs it); --wait follows its progress to the end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[k.name for k in all_kinds()])
        parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                            help="a job parameter (repeatable); values are JSON where they parse")
        parser.add_argument("--wait", action="store_true", help="block until the job ends; exit 1 unless it succeeds")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between progress reads with --wait")

    def handle(self, *args: Any, kind: str, param: list[str], wait: bool, poll: float, **options: Any) -> None:
        params = dict(parse_param(p) for p in param)
        try:
            job = services.job_launch(kind=kind, params=params)
        except ValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            raise CommandError(f"bad parameters for {kind}: {detail}") from exc
        self.stdout.write(f"job {job.pk} queued on '{job.queue}'")
        if not wait:
            return
        job = self._follow(job.pk, poll)
        self.stdout.write(f"job {job.pk} {job.state}")
        if job.result:
            self.stdout.write(json.dumps(job.result, indent=2, sort_keys=True))
        if job.state != JobState.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.state}: {job.error.splitlines()[0] if job.error else ''}".strip())

    def _follow(self, job_id: int, poll: float) -> Job:
        last = None
        while True:
            job = Job.objects.get(pk=job_id)
            line = f"{job.state} {job.progress_done}/{job.progress_total or '?'} {job.progress_unit}"
            if line != last:
                self.stdout.write(line)
                last = line
            if job.is_terminal:
                return job
            time.sleep(poll)
