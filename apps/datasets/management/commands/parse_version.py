"""``manage.py parse_version VERSION_ID``: parse captions into a child version (the parse job, in-process)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.datasets.services.context import run_inline
from apps.datasets.services.parsing import ParseOptions, dataset_version_parse_run


class Command(BaseCommand):
    help = ("Parse every caption of sealed version VERSION_ID into tags of its label-system version; writes a "
            "sealed child version with 'parsed' assignments and phrase counts, and prints its id as JSON.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version_id", type=int, metavar="VERSION_ID")
        parser.add_argument("--shard-size", type=int, default=2000, help="captions per committed shard")
        parser.add_argument("--workers", type=int, default=1, help="parser processes")

    def handle(self, *args: Any, **options: Any) -> None:
        opts = ParseOptions(version_id=options["version_id"], shard_size=options["shard_size"],
                            workers=options["workers"])
        try:
            job, result = run_inline(kind="parse_version", params=opts.as_params(), body=dataset_version_parse_run)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps({"job_id": job.pk, **result}, sort_keys=True))
