"""WordNet for the web side: loaded once per process from ``settings.LABELHUB_NLTK_DATA``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from ram_model.text.wordnet import WordNet, load_wordnet


@lru_cache(maxsize=2)
def _load(path: str) -> WordNet:
    return load_wordnet(Path(path))


def wordnet_for_site() -> WordNet:
    """The site's WordNet (raises ``WordNetMissingError`` with the install command when it is absent)."""
    return _load(str(settings.LABELHUB_NLTK_DATA))
