"""``manage.py import_label_system --name NAME (--tags FILE [--chinese FILE] [--thresholds FILE] | --json FILE)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...errors import LabelFileError
from ...services import LabelFiles, label_system_import, label_system_import_document


class Command(BaseCommand):
    help = ("Import RAM label files as a new version of label system NAME (created if missing). Every file is "
            "checked first; a bad line is reported as 'file, line N: reason' and nothing is written.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", help="label system name (a slug); required with --tags, "
                                           "default for --json: the name in the document")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--tags", type=Path, help="tag list, one tag per line")
        source.add_argument("--json", type=Path, help="a label_system.json document (export --format json)")
        parser.add_argument("--chinese", type=Path, help="Chinese names, one per tag")
        parser.add_argument("--thresholds", type=Path, help="per-class thresholds in (0, 1], one per tag")
        parser.add_argument("--allow-duplicate-tags", action="store_true",
                            help="accept repeated tags as separate tag IDs (the Tag2Text list repeats 114)")
        parser.add_argument("--publish", action="store_true", help="publish the new version at once")

    def handle(self, *args: Any, **options: Any) -> None:
        def read(path: Path | None) -> bytes | None:
            if path is None:
                return None
            try:
                return path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror}") from None

        if options["json"] is not None:
            try:
                version = label_system_import_document(data=read(options["json"]), name=options["name"],
                                                       file=str(options["json"]), publish=options["publish"])
            except LabelFileError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(f"imported {version} (id {version.pk}, {version.groups.count()} tags)")
            return
        if not options["name"]:
            raise CommandError("--name is required with --tags")
        label_files = LabelFiles(
            tags=read(options["tags"]), chinese=read(options["chinese"]), thresholds=read(options["thresholds"]),
            tags_name=str(options["tags"]), chinese_name=str(options["chinese"]),
            thresholds_name=str(options["thresholds"]))
        try:
            version = label_system_import(name=options["name"], label_files=label_files,
                                          publish=options["publish"],
                                          allow_duplicate_tags=options["allow_duplicate_tags"])
        except LabelFileError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"imported {version} (id {version.pk}, {version.groups.count()} tags)")
