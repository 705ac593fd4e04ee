"""Suggest synonym merges over a whole tag vocabulary (the RAM paper merged its raw 6,449 tags this way).

Three reasons, each with a confidence in (0, 1]:

* ``synset``: two tags share a WordNet synset among their first ``max_senses`` senses. The confidence falls
  with the sense ranks: ``0.95 * 0.75 ** (rank_a + rank_b)`` (both first senses → 0.95).
* ``plural``: two tags have the same noun base form ("dog" / "dogs", also "CD" / "cd"): 0.9.
* ``translation``: two tags have the same translation (Chinese name, surrounding spaces ignored): 0.6.

It indexes once (synset → tags, base form → tags, translation → tags) and pairs tags only inside an index
bucket, so the cost grows with the vocabulary, not with its square.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .wordnet import DEFAULT_MAX_SENSES, WordNet, first_senses, singular

SYNSET, PLURAL, TRANSLATION = "synset", "plural", "translation"
REASONS = (SYNSET, PLURAL, TRANSLATION)
PLURAL_CONFIDENCE = 0.9
TRANSLATION_CONFIDENCE = 0.6


@dataclass(frozen=True, order=True)
class MergeProposal:
    """Tags ``tag_a`` and ``tag_b`` (in vocabulary order) may be one tag ID, because of ``reason``."""

    tag_a: str
    tag_b: str
    reason: str
    confidence: float
    detail: str


def synset_confidence(rank_a: int, rank_b: int) -> float:
    return round(0.95 * 0.75 ** (rank_a + rank_b), 4)


def _unique(vocabulary: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(vocabulary))


def _pairs(members: list[str], order: dict[str, int]) -> Iterable[tuple[str, str]]:
    ordered = sorted(set(members), key=order.__getitem__)
    for i, first in enumerate(ordered):
        for second in ordered[i + 1:]:
            yield first, second


def synset_index(wn: WordNet, vocabulary: list[str],
                 max_senses: int = DEFAULT_MAX_SENSES) -> dict[str, dict[str, int]]:
    """synset name → {tag: best sense rank of that synset for the tag}, over the first senses of each tag."""
    index: dict[str, dict[str, int]] = defaultdict(dict)
    for tag in vocabulary:
        for synset, rank in first_senses(wn, tag, max_senses):
            ranks = index[synset.name()]
            ranks[tag] = min(rank, ranks.get(tag, rank))
    return index


def suggest_synset_merges(wn: WordNet, vocabulary: list[str],
                          max_senses: int = DEFAULT_MAX_SENSES) -> list[MergeProposal]:
    order = {tag: i for i, tag in enumerate(vocabulary)}
    best: dict[tuple[str, str], MergeProposal] = {}
    for name, ranks in synset_index(wn, vocabulary, max_senses).items():
        if len(ranks) < 2:
            continue
        for a, b in _pairs(list(ranks), order):
            confidence = synset_confidence(ranks[a], ranks[b])
            if (a, b) not in best or best[(a, b)].confidence < confidence:
                detail = f"share {name} (sense {ranks[a] + 1} of '{a}', sense {ranks[b] + 1} of '{b}')"
                best[(a, b)] = MergeProposal(a, b, SYNSET, confidence, detail)
    return list(best.values())


def suggest_plural_merges(wn: WordNet, vocabulary: list[str]) -> list[MergeProposal]:
    order = {tag: i for i, tag in enumerate(vocabulary)}
    by_base: dict[str, list[str]] = defaultdict(list)
    for tag in vocabulary:
        by_base[singular(wn, tag)].append(tag)
    return [MergeProposal(a, b, PLURAL, PLURAL_CONFIDENCE,
                          "same tag up to letter case" if a.lower() == b.lower() else f"same noun base form '{base}'")
            for base, members in by_base.items() if len(members) > 1
            for a, b in _pairs(members, order)]


def suggest_translation_merges(vocabulary: list[str], translations: Mapping[str, str]) -> list[MergeProposal]:
    order = {tag: i for i, tag in enumerate(vocabulary)}
    by_name: dict[str, list[str]] = defaultdict(list)
    for tag in vocabulary:
        name = (translations.get(tag) or "").strip()
        if name:
            by_name[name].append(tag)
    return [MergeProposal(a, b, TRANSLATION, TRANSLATION_CONFIDENCE, f"same translation '{name}'")
            for name, members in by_name.items() if len(members) > 1
            for a, b in _pairs(members, order)]


def suggest_merges(wn: WordNet, vocabulary: Iterable[str], translations: Mapping[str, str] | None = None,
                   max_senses: int = DEFAULT_MAX_SENSES,
                   reasons: Iterable[str] = REASONS) -> list[MergeProposal]:
    """All merge proposals for ``vocabulary``, best confidence first (then vocabulary order).

    ``translations`` maps a tag to its translation (e.g. the Chinese name); tags without one are skipped.
    A pair found for several reasons gets one proposal per reason.
    """
    tags = _unique(vocabulary)
    wanted = set(reasons)
    unknown = wanted - set(REASONS)
    if unknown:
        raise ValueError(f"unknown reason(s) {sorted(unknown)}; choose from {list(REASONS)}")
    proposals: list[MergeProposal] = []
    if SYNSET in wanted:
        proposals += suggest_synset_merges(wn, tags, max_senses)
    if PLURAL in wanted:
        proposals += suggest_plural_merges(wn, tags)
    if TRANSLATION in wanted and translations:
        proposals += suggest_translation_merges(tags, translations)
    order = {tag: i for i, tag in enumerate(tags)}
    return sorted(proposals, key=lambda p: (-p.confidence, order[p.tag_a], order[p.tag_b], p.reason))
