"""``manage.py export_label_system VERSION_ID --out DIR``: write a version's RAM files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...models import LabelSystemVersion
from ...selectors import label_system_version_files
from ...services.document import DOCUMENT_FILE, document_bytes


class Command(BaseCommand):
    help = ("Write ram_tag_list.txt, ram_tag_list_chinese.txt and ram_tag_list_threshold.txt of a label system "
            "version (one line per tag ID; a synonym group as its primary tag), or its JSON document, into --out.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version_id", type=int)
        parser.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
        parser.add_argument("--format", choices=["ram", "json"], default="ram",
                            help="ram: the three RAM text files (default); json: label_system.json with groups, "
                                 "synonyms, categories and descriptions")

    def handle(self, *args: Any, **options: Any) -> None:
        version = LabelSystemVersion.objects.select_related("label_system").filter(pk=options["version_id"]).first()
        if version is None:
            raise CommandError(f"no label system version with id {options['version_id']}")
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        files = (label_system_version_files(version) if options["format"] == "ram"
                 else {DOCUMENT_FILE: document_bytes(version)})
        for name, data in files.items():
            (out / name).write_bytes(data)
            self.stdout.write(f"wrote {out / name} ({len(data)} bytes)")
