"""Map parsed phrases to the tag IDs of a label system through its synonym groups.

A vocabulary is plain data: a list of groups `{"id": int, "tags": [synonym, ...]}` (the RAM tag list is one
group per line). Lookup is a precomputed dict of word tuples (tried as written, then with the last word made singular),
scanned longest-match-first over a phrase's words, so "traffic lights near the red fire hydrants" finds "traffic
light" and "fire hydrant" rather than "light" and "hydrant"; words no tag covers are reported as unmapped
phrases with counts. No WordNet work happens per call.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ram_model.text.lexicon import words

# Words that never form a tag on their own and are not reported as unmapped.
STOPWORDS = words(
    "a an the this that these those some any of in on at to with by for from and or but as is "
    "are was were be been being it its their his her my your our one two three four five six "
    "seven eight nine ten"
)
_SPLIT = re.compile(r"[^\w']+")
_IRREGULAR = {  # plural -> singular where suffix rules fail
    "men": "man", "women": "woman", "children": "child", "feet": "foot", "teeth": "tooth", "geese": "goose",
    "mice": "mouse", "knives": "knife", "leaves": "leaf", "wolves": "wolf", "shelves": "shelf",
    "loaves": "loaf", "halves": "half", "calves": "calf", "oxen": "ox", "dice": "die", "lives": "life",
    "wives": "wife", "scarves": "scarf", "thieves": "thief",
}


def singular_candidates(word: str) -> tuple[str, ...]:
    """Possible singulars of a word, most likely first ("buses" -> buse, bus); empty if it looks singular."""
    if word in _IRREGULAR:
        return (_IRREGULAR[word],)
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return ()
    if word.endswith("ies"):
        return (word[:-3] + "y", word[:-1])
    if word.endswith("ves"):
        return (word[:-1], word[:-3] + "f", word[:-3] + "fe")
    if word.endswith("es"):
        return (word[:-1], word[:-2])
    return (word[:-1],)


def normalise(text: str) -> list[str]:
    """Lower-case words; hyphens, underscores and punctuation separate words ("t-shirt" -> t shirt)."""
    return [w for w in _SPLIT.split(text.lower().replace("_", " ")) if w and w != "'"]


@dataclass(frozen=True)
class MappingResult:
    """Tag IDs found in some phrases (first-seen order), what matched, and what stayed unmapped."""

    tag_ids: list[int]
    matched: list[tuple[str, int]]
    unmapped: Counter[str] = field(default_factory=Counter)


@dataclass
class MappingReport:
    """Mapping of many items: per-item tag IDs plus corpus-wide counts of tags and of unmapped phrases."""

    tag_ids: list[list[int]] = field(default_factory=list)
    tag_counts: Counter[int] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)


class TagMapper:
    """Phrase -> tag-ID lookup for one label-system version."""

    def __init__(
        self,
        groups: Iterable[Mapping],
        *,
        singularise: Callable[[str], str] | None = None,
        cache_size: int = 1 << 16,
    ) -> None:
        self._singularise = singularise
        self._raw: dict[str, int] = {}
        self._exact: dict[tuple[str, ...], int] = {}
        self.names: dict[int, str] = {}
        for group in groups:
            gid = group["id"]
            synonyms = list(group["tags"])
            if not isinstance(gid, int) or isinstance(gid, bool):
                raise ValueError(f"tag group id must be an int, got {gid!r}")
            if gid in self.names:
                raise ValueError(f"duplicate tag group id {gid}")
            if not synonyms or not all(isinstance(s, str) and normalise(s) for s in synonyms):
                raise ValueError(f"tag group {gid} needs at least one non-empty tag string")
            self.names[gid] = synonyms[0]
            for synonym in synonyms:
                raw = " ".join(synonym.lower().split())
                other = self._raw.get(raw)
                if other is not None and other != gid:
                    raise ValueError(f"tag {synonym!r} is in groups {other} and {gid}")
                self._raw[raw] = gid
                # Spelling variants ("t shirt" / "t-shirt") share a word key; the first group keeps it.
                self._exact.setdefault(tuple(normalise(synonym)), gid)
        self.max_words = max((len(k) for k in self._exact), default=1)
        self._cache_size = cache_size
        self._lookup_phrase = lru_cache(maxsize=cache_size)(self._map_words)

    def __getstate__(self) -> dict:
        """Picklable (parser worker processes map tags too): the phrase cache is rebuilt, not sent."""
        state = self.__dict__.copy()
        del state["_lookup_phrase"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lookup_phrase = lru_cache(maxsize=self._cache_size)(self._map_words)

    @classmethod
    def from_tag_list(cls, lines: Iterable[str] | str | Path, **kwargs) -> TagMapper:
        """One tag per line, each its own group, id = line number (0-based) — the RAM tag-list layout."""
        if isinstance(lines, str | Path):
            lines = Path(lines).read_text(encoding="utf-8").splitlines()
        tags = [line.strip() for line in lines]
        return cls(({"id": i, "tags": [t]} for i, t in enumerate(tags) if t), **kwargs)

    def __len__(self) -> int:
        return len(self.names)

    def _find(self, key: tuple[str, ...]) -> int | None:
        """Group of a word sequence as written, else with its last word made singular."""
        gid = self._exact.get(key)
        if gid is not None or not key:
            return gid
        last = key[-1]
        candidates = singular_candidates(last)
        if self._singularise is not None:
            candidates = (self._singularise(last), *candidates)
        for candidate in candidates:
            if candidate and candidate != last:
                gid = self._exact.get((*key[:-1], candidate))
                if gid is not None:
                    return gid
        return None

    def lookup(self, phrase: str) -> int | None:
        """The group of a whole phrase (as spelled, then word form, then singular form), or None."""
        gid = self._raw.get(" ".join(phrase.lower().split()))
        if gid is not None:
            return gid
        return self._find(tuple(normalise(phrase)))

    def map_phrase(self, phrase: str) -> tuple[tuple[tuple[str, int], ...], tuple[str, ...]]:
        """Longest-match scan of one phrase: ((matched text, id), ...), (unmapped word runs, ...)."""
        return self._lookup_phrase(tuple(normalise(phrase)))

    def _map_words(self, words: tuple[str, ...]) -> tuple[tuple[tuple[str, int], ...], tuple[str, ...]]:
        matched: list[tuple[str, int]] = []
        unmapped: list[str] = []
        pending: list[str] = []
        i, n = 0, len(words)
        while i < n:
            for size in range(min(self.max_words, n - i), 0, -1):
                key = words[i : i + size]
                gid = self._find(key)
                if gid is not None:
                    if pending:
                        unmapped.append(" ".join(pending))
                        pending = []
                    matched.append((" ".join(key), gid))
                    i += size
                    break
            else:
                word = words[i]
                if word in STOPWORDS or word.isdigit():
                    if pending:
                        unmapped.append(" ".join(pending))
                        pending = []
                else:
                    pending.append(word)
                i += 1
        if pending:
            unmapped.append(" ".join(pending))
        return tuple(matched), tuple(unmapped)

    def map_tags(self, phrases: Iterable[str]) -> MappingResult:
        """Map the tag candidates of one caption (e.g. a ParseResult's "tags")."""
        ids: list[int] = []
        matched: list[tuple[str, int]] = []
        unmapped: Counter[str] = Counter()
        for phrase in phrases:
            found, missing = self.map_phrase(phrase)
            for text, gid in found:
                matched.append((text, gid))
                if gid not in ids:
                    ids.append(gid)
            unmapped.update(missing)
        return MappingResult(tag_ids=ids, matched=matched, unmapped=unmapped)

    def map_all(self, items: Iterable[Iterable[str]]) -> MappingReport:
        """Map many captions' tag candidates; counts tags and unmapped phrases over the whole corpus."""
        report = MappingReport()
        for phrases in items:
            result = self.map_tags(phrases)
            report.tag_ids.append(result.tag_ids)
            report.tag_counts.update(result.tag_ids)
            report.unmapped.update(result.unmapped)
        return report
