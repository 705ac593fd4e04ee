"""Import a label system version from the RAM files (tag list, Chinese names, thresholds)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ..models import LabelSystem, LabelSystemVersion, Provenance, Tag, TagGroup
from . import files
from .versions import _user, next_version_number, version_publish

DEFAULT_THRESHOLD = 0.65  # RAM's default class threshold when no threshold file is given


@dataclass(frozen=True)
class LabelFiles:
    """The raw bytes of the files to import and the names to report errors with."""

    tags: bytes
    chinese: bytes | None = None
    thresholds: bytes | None = None
    tags_name: str = files.TAGS_FILE
    chinese_name: str = files.CHINESE_FILE
    thresholds_name: str = files.THRESHOLDS_FILE


@transaction.atomic
def label_system_import(*, name: str, label_files: LabelFiles, user: AbstractBaseUser | None = None,
                        description: str = "", publish: bool = False, allow_duplicate_tags: bool = False,
                        categories: Mapping[str, str] | None = None) -> LabelSystemVersion:
    """Validate all files first, then write the new version (the next number of label system ``name``).

    A malformed file raises :class:`~apps.labels.errors.LabelFileError` (file, line, reason) before anything
    is written. ``allow_duplicate_tags`` admits a list that repeats tags (Tag2Text's): the repeats keep their
    own tag IDs and are told apart by ``Tag.homonym``. ``categories`` maps tag text → category.
    """
    tags = files.parse_tag_list(label_files.tags, label_files.tags_name, allow_duplicate_tags)
    count = len(tags.lines)
    chinese = (files.parse_chinese_list(label_files.chinese, count, label_files.chinese_name)
               if label_files.chinese is not None else None)
    if label_files.thresholds is not None:
        thresholds_file, thresholds = files.parse_thresholds(label_files.thresholds, count,
                                                             label_files.thresholds_name)
        threshold_texts = thresholds_file.lines
    else:
        thresholds_file, thresholds, threshold_texts = None, [DEFAULT_THRESHOLD] * count, [""] * count

    system, _ = LabelSystem.objects.select_for_update().get_or_create(
        name=name, defaults={"description": description})
    file_format = {
        "tags_final_newline": tags.final_newline,
        "chinese_final_newline": chinese.final_newline if chinese else True,
        "thresholds_final_newline": thresholds_file.final_newline if thresholds_file else True,
    }
    version = LabelSystemVersion.objects.create(
        label_system=system, number=next_version_number(system), file_format=file_format,
        notes=f"imported from {label_files.tags_name}", created_by=_user(user))
    groups = TagGroup.objects.bulk_create([TagGroup(version=version, index=i) for i in range(count)],
                                          batch_size=2000)
    seen: dict[str, int] = {}
    rows = []
    for i, text in enumerate(tags.lines):
        homonym = seen.get(text, 0)
        seen[text] = homonym + 1
        rows.append(Tag(
            version=version, group=groups[i], position=0, text=text, homonym=homonym,
            category=(categories or {}).get(text, "other"), name_zh=chinese.lines[i] if chinese else "",
            threshold=thresholds[i], threshold_text=threshold_texts[i], provenance=Provenance.IMPORTED))
    Tag.objects.bulk_create(rows, batch_size=2000)
    if publish:
        version = version_publish(version=version, user=user)
    return version
