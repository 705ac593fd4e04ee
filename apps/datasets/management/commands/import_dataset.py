"""``manage.py import_dataset``: import a corpus into a new dataset version (the import job, run in-process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.datasets.formats.readers import IMPORT_FORMATS
from apps.datasets.formats.readers_text import TSV_LAYOUTS
from apps.datasets.services.context import run_inline
from apps.datasets.services.imports import ImportOptions, dataset_import_run
from apps.jobs.models import Job, JobState


class Command(BaseCommand):
    help = ("Import captions (and tags) from files into a new version of dataset NAME (created if new, else a "
            "child of its sealed tip). Prints the version id and counts as JSON. Images are referenced by path "
            "under the image root, never copied.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", metavar="PATH", help="input files (several are read in order)")
        parser.add_argument("--name", help="dataset name (required unless --resume)")
        parser.add_argument("--format", choices=IMPORT_FORMATS, help="input format (required unless --resume)")
        parser.add_argument("--image-root", default="", help="directory image paths are relative to "
                            "(inside LABELHUB_IMAGE_ROOTS; default: the first configured root)")
        parser.add_argument("--label-system-version", type=int, default=None,
                            help="label-system version id that tag indices/texts refer to")
        parser.add_argument("--strict", action="store_true", help="write nothing when any record is malformed")
        parser.add_argument("--rejects", default="", help="JSONL file for malformed records (non-strict)")
        parser.add_argument("--tsv-layout", default="auto", choices=TSV_LAYOUTS,
                            help="column order of TSV files without a header")
        parser.add_argument("--shard-size", type=int, default=5000, help="records per committed shard")
        parser.add_argument("--note", default="")
        parser.add_argument("--no-seal", action="store_true", help="leave the new version open")
        parser.add_argument("--resume", type=int, metavar="JOB_ID", default=None,
                            help="continue a crashed or failed import job from its last committed shard "
                                 "(its stored parameters are used; the other options are ignored)")

    def handle(self, *args: Any, **options: Any) -> None:
        job = self._resumed_job(options["resume"]) if options["resume"] is not None else None
        params = {} if job is not None else self._options(options).as_params()
        try:
            job, result = run_inline(kind="import_dataset", params=params, body=dataset_import_run, job=job)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)[:2000]) from exc
        self.stdout.write(json.dumps({"job_id": job.pk, **result}, sort_keys=True))

    @staticmethod
    def _resumed_job(job_id: int) -> Job:
        job = Job.objects.filter(pk=job_id, kind="import_dataset").first()
        if job is None:
            raise CommandError(f"no import_dataset job #{job_id}")
        if job.state == JobState.SUCCEEDED:
            raise CommandError(f"job #{job.pk} has already succeeded")
        return job

    @staticmethod
    def _options(options: dict[str, Any]) -> ImportOptions:
        if not (options["paths"] and options["name"] and options["format"]):
            raise CommandError("PATH…, --name and --format are required (or --resume JOB_ID)")
        return ImportOptions(
            # Absolute paths: the job's parameters must mean the same thing when a worker resumes it elsewhere.
            dataset_name=options["name"], format=options["format"], paths=[_absolute(p) for p in options["paths"]],
            image_root=_absolute(options["image_root"]), label_system_version_id=options["label_system_version"],
            strict=options["strict"], rejects=_absolute(options["rejects"]), tsv_layout=options["tsv_layout"],
            shard_size=options["shard_size"], note=options["note"], seal=not options["no_seal"])


def _absolute(path: str) -> str:
    return str(Path(path).absolute()) if path else ""
