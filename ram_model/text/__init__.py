"""Caption text tools: scene-graph parsing, web-caption cleaning and tag mapping (torch-free).

Attributes are imported lazily so `import ram_model.text` stays cheap (spaCy loads only when a parser is built).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CaptionParser": "ram_model.text.parser",
    "ParseResult": "ram_model.text.parser",
    "load_nlp": "ram_model.text.parser",
    "clean_caption": "ram_model.text.noise",
    "Lexicon": "ram_model.text.lexicon",
    "Lemmatizer": "ram_model.text.lemmas",
    "TagMapper": "ram_model.text.tag_mapping",
    "MappingResult": "ram_model.text.tag_mapping",
    "parse_stream": "ram_model.text.parallel",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ram_model.text' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
