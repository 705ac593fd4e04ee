"""``manage.py export_snapshot``: export a sealed dataset version (the export job, run in-process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.datasets.formats.writers import EXPORT_FORMATS
from apps.datasets.services.context import run_inline
from apps.datasets.services.export import SnapshotOptions, snapshot_export_run


class Command(BaseCommand):
    help = ("Export dataset version VERSION_ID to --out DIR (new or empty) with a manifest.json of counts and "
            "per-file sha256; the same version exports byte-identically.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version_id", type=int, metavar="VERSION_ID")
        parser.add_argument("--format", required=True, choices=EXPORT_FORMATS)
        parser.add_argument("--out", required=True, help="output directory (must not exist or be empty)")
        parser.add_argument("--shard-size", type=int, default=1000, help="samples per tar shard (wds)")

    def handle(self, *args: Any, **options: Any) -> None:
        opts = SnapshotOptions(version_id=options["version_id"], format=options["format"],
                               out=str(Path(options["out"]).absolute()),
                               shard_size=options["shard_size"])
        try:
            job, result = run_inline(kind="export_snapshot", params=opts.as_params(), body=snapshot_export_run)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps({"job_id": job.pk, **result}, sort_keys=True))
