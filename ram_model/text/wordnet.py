"""WordNet 3.0 helpers for curating a tag vocabulary: lemmas, in-vocabulary synonyms, browsing, categories.

Pure: nltk only (no Django, no torch). WordNet comes from Debian's ``wordnet-base`` + ``wordnet-sense-index``
copied into an nltk data directory by ``scripts/setup_wordnet.py``; ``nltk.download`` cannot work offline.
Tags are free text ("ice cream"); WordNet spells collocations with underscores ("ice_cream").

Category rules (``suggest_category``), from the lexicographer file of the tag's first sense:

* ``noun.artifact/object/animal/plant/food/body/person/substance/group/communication`` → ``object``
  (things one can point at in an image: "car", "rock", "water", "crowd", "sign");
* ``noun.location/phenomenon/event/time`` → ``scene`` ("beach", "sunset", "wedding", "night");
* ``noun.act`` and every ``verb.*`` → ``action`` ("swimming", "run");
* ``adj.*``, ``noun.attribute/state/feeling/shape`` → ``attribute`` ("red", "darkness", "happy", "circle");
* anything else (``noun.cognition``, ``noun.quantity``, ``noun.Tops`` …) → ``other``.

A gerund ("running") whose first noun sense is not ``noun.act`` but which has a verb sense counts as an action.
A multi-word tag unknown to WordNet ("red car") falls back to its last word (the head noun).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_HINT = "apt-get install wordnet-base wordnet-sense-index && python scripts/setup_wordnet.py"
DEFAULT_MAX_SENSES = 3
POS_ORDER = ("n", "v", "a")  # nouns first: most tags are things; "a" also covers satellite adjectives

OBJECT, ATTRIBUTE, SCENE, ACTION, OTHER = "object", "attribute", "scene", "action", "other"
LEXNAME_CATEGORY: dict[str, str] = {
    **dict.fromkeys(
        ["noun.artifact", "noun.object", "noun.animal", "noun.plant", "noun.food", "noun.body", "noun.person",
         "noun.substance", "noun.group", "noun.communication"], OBJECT),
    **dict.fromkeys(["noun.location", "noun.phenomenon", "noun.event", "noun.time"], SCENE),
    **dict.fromkeys(["noun.act"], ACTION),
    **dict.fromkeys(["noun.attribute", "noun.state", "noun.feeling", "noun.shape"], ATTRIBUTE),
}


class WordNetMissingError(RuntimeError):
    """WordNet 3.0 is not installed where nltk looks; the message says how to install it."""


@dataclass(frozen=True)
class WordNet:
    """A loaded WordNet reader and the data directory it came from (pass it around; no module global)."""

    reader: Any  # nltk.corpus.reader.wordnet.WordNetCorpusReader
    data_dir: Path


def default_data_dir() -> Path | None:
    """The first ``$NLTK_DATA`` entry, or None."""
    first = os.environ.get("NLTK_DATA", "").split(os.pathsep)[0]
    return Path(first) if first else None


def load_wordnet(data_dir: str | Path | None = None) -> WordNet:
    """Open WordNet 3.0 from ``data_dir/corpora/wordnet`` (default ``$NLTK_DATA``).

    Raises :class:`WordNetMissingError` with the install command when the files are absent or unreadable.
    """
    import nltk

    chosen = Path(data_dir) if data_dir is not None else default_data_dir()
    if chosen is None:
        raise WordNetMissingError(f"WordNet 3.0 not found: NLTK_DATA is not set. Install it with: {INSTALL_HINT}")
    root = chosen.resolve()
    corpus = root / "corpora" / "wordnet"
    if not (corpus / "data.noun").is_file() or not (corpus / "lexnames").is_file():
        raise WordNetMissingError(f"WordNet 3.0 not found in {corpus}. Install it with: {INSTALL_HINT}")
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))  # nltk only opens corpora under one of its data roots
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "multilingual functions are not available": we use none
            reader = _english_reader_class()(nltk.data.find("corpora/wordnet", paths=[str(root)]), None)
    except (LookupError, OSError) as exc:
        raise WordNetMissingError(f"WordNet 3.0 in {corpus} cannot be read ({exc}). "
                                  f"Install it with: {INSTALL_HINT}") from None
    return WordNet(reader=reader, data_dir=root)


def _english_reader_class() -> type:
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class EnglishWordNetReader(WordNetCorpusReader):
        """nltk's reader without the synset map for multilingual (OMW) data, which we never use.

        Building that map reads index.sense twice and takes about 60 % of the load time.
        """

        def map_wn(self, version: str = "wordnet") -> None:
            return None

    return EnglishWordNetReader


def wordnet_key(tag: str) -> str:
    """WordNet's spelling of a tag: lower case, words joined by underscores ("Ice cream" → "ice_cream")."""
    return "_".join(tag.lower().split())


def tag_text(lemma_name: str) -> str:
    """The tag spelling of a WordNet lemma name ("ice_cream" → "ice cream")."""
    return lemma_name.replace("_", " ")


def _known(wn: WordNet, key: str) -> bool:
    return any(wn.reader.synsets(key, pos) for pos in POS_ORDER)


def lookup_key(wn: WordNet, tag: str) -> str:
    """The WordNet key to look ``tag`` up with: the whole tag if WordNet knows it, else its last word."""
    key = wordnet_key(tag)
    if "_" in key and not _known(wn, key):
        return key.rsplit("_", 1)[1]
    return key


def lemma_forms(wn: WordNet, tag: str) -> list[str]:
    """Base forms of ``tag`` by WordNet morphology per part of speech ("dogs" → ["dog"]; "ran" → ["run"]).

    For a multi-word tag only the last word is inflected ("sports cars" → "sports car").
    """
    key = wordnet_key(tag)
    forms: list[str] = []
    for pos in POS_ORDER:
        base = wn.reader.morphy(key, pos)
        if base is None and "_" in key:
            head, last = key.rsplit("_", 1)
            last_base = wn.reader.morphy(last, pos)
            base = f"{head}_{last_base}" if last_base else None
        if base and tag_text(base) not in forms:
            forms.append(tag_text(base))
    return forms


def singular(wn: WordNet, tag: str) -> str:
    """The noun base form of ``tag`` ("dogs" → "dog", "glasses" → "glasses"), or the tag itself."""
    key = wordnet_key(tag)
    base = wn.reader.morphy(key, "n")
    if base is None and "_" in key:
        head, last = key.rsplit("_", 1)
        last_base = wn.reader.morphy(last, "n")
        base = f"{head}_{last_base}" if last_base else None
    return tag_text(base) if base else " ".join(tag.lower().split())


def first_senses(wn: WordNet, tag: str, max_senses: int = DEFAULT_MAX_SENSES) -> list[tuple[Any, int]]:
    """The tag's first ``max_senses`` synsets with their sense rank (0 = first), nouns before verbs and adjectives.

    Ranks run across parts of speech, so a noun tag's rare verb senses ("dog" = to chase) do not count.
    Only synsets of the tag's own base form are used: "glasses" means spectacles, not several glasses.
    """
    key = wordnet_key(tag)
    senses: list[Any] = []
    for pos in POS_ORDER:
        base = wn.reader.morphy(key, pos)
        if base is None:
            continue
        senses.extend(s for s in wn.reader.synsets(base, pos)
                      if base in (name.lower() for name in s.lemma_names()))
        if len(senses) >= max_senses:
            break
    return [(synset, rank) for rank, synset in enumerate(senses[:max_senses])]


def synonyms_in_vocabulary(wn: WordNet, tag: str, vocabulary: list[str] | set[str],
                           max_senses: int = DEFAULT_MAX_SENSES) -> list[tuple[str, str, int]]:
    """Tags of ``vocabulary`` sharing one of ``tag``'s first senses: ``(other tag, synset name, sense rank)``.

    The rank is the sense rank of the shared synset for ``tag``; for a whole vocabulary use
    :func:`ram_model.text.synonyms.suggest_merges`, which indexes once instead of per tag.
    """
    by_key: dict[str, list[str]] = {}
    for other in vocabulary:
        by_key.setdefault(wordnet_key(other), []).append(other)
    own = wordnet_key(tag)
    found: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    for synset, rank in first_senses(wn, tag, max_senses):
        for lemma in synset.lemma_names():
            key = lemma.lower()
            if key == own:
                continue
            for other in by_key.get(key, []):
                other_ranks = [r for s, r in first_senses(wn, other, max_senses) if s == synset]
                if other_ranks and other not in seen:
                    seen.add(other)
                    found.append((other, synset.name(), rank))
    return found


def related_terms(wn: WordNet, tag: str, max_senses: int = 1, limit: int = 25) -> dict[str, list[str]]:
    """Hypernyms and hyponyms of the tag's first senses, as tag spellings, for browsing."""
    hypernyms: list[str] = []
    hyponyms: list[str] = []
    for synset, _rank in first_senses(wn, tag, max_senses):
        for target, related in ((hypernyms, synset.hypernyms()), (hyponyms, synset.hyponyms())):
            for other in related:
                name = tag_text(other.lemma_names()[0])
                if name not in target and len(target) < limit:
                    target.append(name)
    return {"hypernyms": hypernyms, "hyponyms": hyponyms}


def suggest_category(wn: WordNet, tag: str) -> tuple[str, str | None]:
    """``(category, lexicographer file)`` of the tag's first sense; ``("other", None)`` when WordNet lacks it."""
    key = lookup_key(wn, tag)
    synsets = wn.reader.synsets(key)
    if not synsets:
        return OTHER, None
    first = synsets[0]
    lexname = first.lexname()
    if key.endswith("ing") and lexname.startswith("noun.") and lexname != "noun.act" \
            and wn.reader.synsets(key, "v"):
        return ACTION, wn.reader.synsets(key, "v")[0].lexname()
    return category_of_lexname(lexname), lexname


def category_of_lexname(lexname: str) -> str:
    """Map a lexicographer file name to a tag category (see the module docstring)."""
    if lexname.startswith("verb."):
        return ACTION
    if lexname.startswith("adj."):
        return ATTRIBUTE
    return LEXNAME_CATEGORY.get(lexname, OTHER)
