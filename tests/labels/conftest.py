"""Fixtures of the label-system tests: WordNet (session), the upstream RAM files, small versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from apps.labels.services.loading import default_ram_data_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def wordnet_dir() -> Path:
    """The site's nltk data dir holding WordNet 3.0 (``python scripts/setup_wordnet.py`` creates it)."""
    path = Path(settings.LABELHUB_NLTK_DATA)
    if not (path / "corpora" / "wordnet" / "lexnames").is_file():
        pytest.skip(f"WordNet 3.0 is not installed in {path}: run "
                    "apt-get install wordnet-base wordnet-sense-index && python scripts/setup_wordnet.py")
    return path


@pytest.fixture(scope="session")
def wordnet(wordnet_dir):
    """The same (cached) WordNet the site's services use."""
    from apps.labels.services import wordnet_for_site

    return wordnet_for_site()


@pytest.fixture(scope="session")
def ram_data_dir() -> Path:
    return default_ram_data_dir()


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The upstream files as copied to ../shared (the originals the exports must equal)."""
    shared = ROOT.parent / "shared" / "ram" / "data"
    return shared if shared.is_dir() else default_ram_data_dir()


@pytest.fixture
def ram_version(db, ram_data_dir):
    """The RAM label system as ``load_ram_label_system`` leaves it (v1, published; categories not set)."""
    from apps.labels.services.loading import label_system_load, ram_label_files

    return label_system_load(name="ram", label_files=ram_label_files(ram_data_dir)).version
