"""Cached WordNet-morphology lemmas for nouns and verbs.

spaCy's English lemma tables are WordNet's (index, exception lists, morphy suffix rules); we read them once and
memoise per word, which is much faster than running spaCy's lemmatizer pipe on every token and fixes its
known misses ("riding" -> "rid"). Without a fine tag the lemmatiser only trusts the index; with one
(NNS, VBG, ...) it also guesses for out-of-vocabulary words ("selfies" -> "selfie").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

_VOWELS = frozenset("aeiou")
_VERB_TAGS = frozenset({"VBD", "VBG", "VBN", "VBZ"})
_PLURAL_TAGS = frozenset({"NNS", "NNPS"})


class Lemmatizer:
    """Noun and verb lemmas from WordNet-style tables, memoised per (word, tag)."""

    def __init__(
        self,
        *,
        noun_index: Iterable[str],
        verb_index: Iterable[str],
        noun_exc: Mapping[str, list[str]],
        verb_exc: Mapping[str, list[str]],
        noun_rules: list[list[str]],
        verb_rules: list[list[str]],
        adj_index: Iterable[str] = (),
        plural_only: Iterable[str] = (),
    ) -> None:
        self._noun_index = frozenset(noun_index)
        self._adj_index = frozenset(adj_index)
        self._verb_index = frozenset(verb_index)
        self._noun_exc = {k: v[0] for k, v in noun_exc.items() if v}
        self._verb_exc = {k: v[0] for k, v in verb_exc.items() if v}
        # Longest suffix first, so "leaves" tries "ves"->"f" before "s"->"".
        self._noun_rules = sorted(((o, n) for o, n in noun_rules), key=lambda r: -len(r[0]))
        self._verb_rules = [(o, n) for o, n in verb_rules]
        self._plural_only = frozenset(plural_only)
        self._noun_cache: dict[tuple[str, bool | None], str] = {}
        self._verb_cache: dict[tuple[str, bool], str] = {}

    @classmethod
    def from_spacy(cls, nlp, *, plural_only: Iterable[str] = ()) -> Lemmatizer:
        """Read the tables of the pipeline's (possibly disabled) "lemmatizer" component."""
        lookups = nlp.get_pipe("lemmatizer").lookups
        index = lookups.get_table("lemma_index")
        exc = lookups.get_table("lemma_exc")
        rules = lookups.get_table("lemma_rules")
        return cls(
            noun_index=index["noun"],
            verb_index=index["verb"],
            adj_index=index["adj"],
            noun_exc=exc["noun"],
            verb_exc=exc["verb"],
            noun_rules=rules["noun"],
            verb_rules=rules["verb"],
            plural_only=plural_only,
        )

    def is_noun(self, word: str) -> bool:
        return word in self._noun_index

    def is_verb(self, word: str) -> bool:
        return word in self._verb_index

    def is_adjective(self, word: str) -> bool:
        return word in self._adj_index

    def noun(self, word: str, plural: bool | None = None) -> str:
        """Singular lemma; `plural` is the tagger's verdict (None = unknown, trust the index only)."""
        key = (word, plural)
        hit = self._noun_cache.get(key)
        if hit is None:
            hit = self._noun_cache[key] = self._noun(word, plural)
        return hit

    def verb(self, word: str, inflected: bool = False) -> str:
        """Base form; `inflected` (the tag says VBD/VBG/VBN/VBZ) allows a guess for unknown words."""
        key = (word, inflected)
        hit = self._verb_cache.get(key)
        if hit is None:
            hit = self._verb_cache[key] = self._verb(word, inflected)
        return hit

    def lemma(self, word: str, tag: str) -> str:
        """Lemma for a Penn tag: nouns and verbs are reduced, anything else is returned as is."""
        if tag.startswith("NN"):
            if tag.startswith("NNP") and tag != "NNPS":
                return word
            return self.noun(word, tag in _PLURAL_TAGS)
        if tag.startswith("VB"):
            return self.verb(word, tag in _VERB_TAGS)
        return word

    def _noun(self, word: str, plural: bool | None) -> str:
        if word in self._plural_only or plural is False:
            return word
        exc = self._noun_exc.get(word)
        if exc is not None:
            return exc
        if word.endswith(("ss", "us", "is")) and plural is None:
            return word
        if word.endswith("ies") and word[:-1] in self._noun_index:
            return word[:-1]  # "cookies" -> cookie, not the variant spelling "cooky"
        for old, new in self._noun_rules:
            if word.endswith(old):
                form = word[: len(word) - len(old)] + new
                if form and form in self._noun_index:
                    return form
        if plural and word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            return word[:-1]
        return word

    def _verb(self, word: str, inflected: bool) -> str:
        exc = self._verb_exc.get(word)
        if exc is not None:
            return exc
        found: list[str] = []
        for old, new in self._verb_rules:
            if word.endswith(old):
                stem = word[: len(word) - len(old)]
                form = stem + new
                if form in self._verb_index:
                    found.append(form)
                elif not new and _doubled(stem) and stem[:-1] in self._verb_index:
                    found.append(stem[:-1])  # "sitting" -> "sitt" -> "sit"
        if not found:
            if word in self._verb_index or not inflected:
                return word
            return _guess_verb(word)
        if len(found) > 1 and found[0].endswith("e") and found[0][:-1] in found:
            stem = found[0][:-1]
            # "riding": ride/rid; "swinging": swinge/swing. Consonant-vowel-consonant stems take the "e".
            return found[0] if _cvc(stem) else stem
        return found[0]


def _doubled(stem: str) -> bool:
    return len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS and stem[-1] not in "lsz"


def _cvc(stem: str) -> bool:
    return (
        len(stem) >= 3
        and stem[-1] not in _VOWELS
        and stem[-1] not in "wxy"
        and stem[-2] in _VOWELS
        and stem[-3] not in _VOWELS
    )


def _guess_verb(word: str) -> str:
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            return stem[:-1] if _doubled(stem) else stem
    return word
