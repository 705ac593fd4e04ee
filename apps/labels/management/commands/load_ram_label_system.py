"""``manage.py load_ram_label_system``: load and publish the RAM label system (idempotent)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ram_model.text.wordnet import WordNet, WordNetMissingError

from ...errors import LabelFileError
from ...services import wordnet_for_site
from ...services.loading import (
    TAG2TEXT_FILE,
    default_ram_data_dir,
    label_system_load,
    ram_label_files,
    tag2text_label_files,
)


class Command(BaseCommand):
    help = ("Load the RAM label system (4,585 tags, Chinese names, thresholds) as version 1, published. "
            "Does nothing when a published version already holds exactly these files.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", type=Path, default=None,
                            help="folder with ram_tag_list.txt, ram_tag_list_chinese.txt, "
                                 "ram_tag_list_threshold.txt (default: ram_model/assets, else ../shared/ram/data)")
        parser.add_argument("--name", default="ram", help="label system name (default: ram)")
        parser.add_argument("--with-tag2text", action="store_true",
                            help=f"also load {TAG2TEXT_FILE} (3,429 tags) as the label system 'tag2text'")
        parser.add_argument("--no-categories", action="store_true",
                            help="do not suggest categories from WordNet (all tags get 'other')")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        data_dir = options["path"] or default_ram_data_dir()
        loaded: list[WordNet | None] = []

        def wordnet() -> WordNet | None:
            """Loaded on first need (a few seconds), and only once for both label systems."""
            if options["no_categories"]:
                return None
            if not loaded:
                try:
                    loaded.append(wordnet_for_site())
                except WordNetMissingError as exc:
                    self.stderr.write(f"note: categories left as 'other': {exc}")
                    loaded.append(None)
            return loaded[0]

        jobs = [(options["name"], ram_label_files, False, "Recognize Anything (RAM/RAM++) tags")]
        if options["with_tag2text"]:
            jobs.append(("tag2text", tag2text_label_files, True, "Tag2Text tags (3,429, with repeats)"))
        for name, reader, duplicates, description in jobs:
            try:
                result = label_system_load(name=name, label_files=reader(data_dir), wordnet=wordnet,
                                           allow_duplicate_tags=duplicates, description=description)
            except FileNotFoundError as exc:
                raise CommandError(f"label file missing: {exc.filename} (use --path)") from None
            except LabelFileError as exc:
                raise CommandError(exc.message) from None
            count = result.version.groups.count()
            state = "loaded" if result.created else "already loaded"
            self.stdout.write(f"{state}: {result.version} (id {result.version.pk}, {count} tags)")
        self.stdout.write(f"done in {time.perf_counter() - started:.1f} s")
