"""``manage.py verify_snapshot DIR``: recompute a snapshot's checksums and counts against its manifest."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.datasets.services.export import snapshot_verify


class Command(BaseCommand):
    help = "Check every file of a snapshot directory against manifest.json (size, sha256, record counts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", metavar="DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        report = snapshot_verify(path=options["path"])
        if not report["ok"]:
            raise CommandError(f"snapshot {options['path']} failed verification: {'; '.join(report['problems'])}")
        self.stdout.write(json.dumps(report, sort_keys=True))
