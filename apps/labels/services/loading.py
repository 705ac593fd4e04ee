"""Load the upstream RAM (and Tag2Text) label systems from their files, idempotently."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ram_model.text.wordnet import WordNet, suggest_category

from ..models import LabelSystem, LabelSystemVersion
from . import files
from .importing import LabelFiles, label_system_import

TAG2TEXT_FILE = "tag2text_ori_tag_list.txt"


def default_ram_data_dir() -> Path:
    """The copies shipped in ``ram_model/assets`` when present, else ``../shared/ram/data``."""
    assets = Path(settings.BASE_DIR) / "ram_model" / "assets"
    if (assets / files.TAGS_FILE).is_file():
        return assets
    return Path(settings.BASE_DIR).parent / "shared" / "ram" / "data"


@dataclass(frozen=True)
class LoadResult:
    version: LabelSystemVersion
    created: bool


def _matching_version(name: str, label_files: LabelFiles) -> LabelSystemVersion | None:
    from ..selectors import label_system_version_files

    system = LabelSystem.objects.filter(name=name).first()
    if system is None:
        return None
    wanted = {files.TAGS_FILE: label_files.tags, files.CHINESE_FILE: label_files.chinese,
              files.THRESHOLDS_FILE: label_files.thresholds}
    for version in system.versions.filter(status="published").order_by("-number"):
        exported = label_system_version_files(version)
        if all(data is None or exported.get(name) == data for name, data in wanted.items()):
            return version
    return None


def _categories(wordnet: WordNet | None, tags: bytes) -> dict[str, str] | None:
    if wordnet is None:
        return None
    texts = tags.decode("utf-8", errors="replace").split("\n")
    return {text: suggest_category(wordnet, text)[0] for text in texts if text.strip()}


@transaction.atomic
def label_system_load(*, name: str, label_files: LabelFiles,
                      wordnet: WordNet | Callable[[], WordNet | None] | None = None,
                      allow_duplicate_tags: bool = False, description: str = "",
                      user: AbstractBaseUser | None = None) -> LoadResult:
    """Import and publish ``label_files`` as label system ``name`` unless a published version already has them.

    With ``wordnet`` (or a function returning it, called only when something is imported), each tag's
    category is suggested from WordNet's lexicographer files.
    """
    existing = _matching_version(name, label_files)
    if existing is not None:
        return LoadResult(existing, created=False)
    if callable(wordnet):
        wordnet = wordnet()
    version = label_system_import(
        name=name, label_files=label_files, user=user, description=description, publish=True,
        allow_duplicate_tags=allow_duplicate_tags, categories=_categories(wordnet, label_files.tags))
    return LoadResult(version, created=True)


def ram_label_files(data_dir: Path) -> LabelFiles:
    return LabelFiles(
        tags=(data_dir / files.TAGS_FILE).read_bytes(), chinese=(data_dir / files.CHINESE_FILE).read_bytes(),
        thresholds=(data_dir / files.THRESHOLDS_FILE).read_bytes(), tags_name=str(data_dir / files.TAGS_FILE),
        chinese_name=str(data_dir / files.CHINESE_FILE), thresholds_name=str(data_dir / files.THRESHOLDS_FILE))


def tag2text_label_files(data_dir: Path) -> LabelFiles:
    path = data_dir / TAG2TEXT_FILE
    return LabelFiles(tags=path.read_bytes(), tags_name=str(path))
