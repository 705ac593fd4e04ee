"""Normalise noisy web captions (alt text, social posts) into plain English before parsing.

Removes what carries no visual content and confuses a parser trained on edited text: URLs, @mentions,
trailing hashtag runs, emoji and emoticons, HTML tags/entities, stock-photo boilerplate and photo credits.
It also expands a few chat spellings ("w/", "thru", "teh"), squeezes letter runs ("sooo"), and lower-cases
SHOUTED or Title Cased captions, which the tagger would otherwise read as proper-noun chains.
Inline hashtags keep their word ("a #sunset at sea" -> "a sunset at sea"). Pure string code, no spaCy.
"""

from __future__ import annotations

import html
import re
import unicodedata

from ram_model.text.lexicon import words

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|net|org|io|ly|co|jpg|jpeg|png|gif)(?:/\S*)?\b", re.I)
_HTML_TAG = re.compile(r"<[^>]{1,200}>")
_MENTION = re.compile(r"(?<![\w@])@\w+:?")
_RETWEET = re.compile(r"^\s*RT\b:?", re.I)
_TRAILING_HASHTAGS = re.compile(r"(?:\s*#\w+)+[\s.!]*$")
_HASH = re.compile(r"#(\w+)")
_EMOTICON = re.compile(r"(?:(?<=\s)|^)(?:[:;=8][-'^]?[()\[\]dDpPoO/\\|*3]+|<3|\^_*\^|xD|XD)(?=\s|$)")
_BOILERPLATE = re.compile(
    r"\b(?:stock\s+(?:photo|image|picture|footage|illustration|vector)s?(?:\s+of\b)?|royalty[- ]free|"
    r"image may contain|high[- ]resolution|click here|free download)\b:?",
    re.I,
)
_CREDIT = re.compile(
    r"\s*(?:\b(?:photo|image|picture|pic)s?\s+(?:by|credit|courtesy)\b|\bvia\s+@?\w+$|©|\(c\)\s).*$", re.I
)
_DIGIT = re.compile(r"\d")
_EMOTICON_HINT = re.compile(r"[:;=^<]|xD|XD")
_PUNCT_HINT = re.compile(r"([!?.,])\1")
_UPPER = re.compile(r"[A-Z]")
_CREDIT_HINTS = ("by", "credit", "courtesy", "via", "©", "(c)")
_BOILERPLATE_HINTS = ("stock", "royalty", "image may", "resolution", "click", "download")
_LABEL_PREFIX = re.compile(r"^\s*(?:photo|image|picture|pic|img|caption)\s*:\s*", re.I)
_FILENAME = re.compile(r"\b(?:img|dsc|dscn|pxl)[_-]?\d+\w*\b", re.I)
_CLOSEUP = re.compile(r"\bclose[- ]up\b", re.I)
_LETTER_RUN = re.compile(r"([a-zA-Z])\1{2,}")
_PUNCT_RUN = re.compile(r"([!?.,])\1+")
_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = " \t-|:;,~*_/\\"

# Chat spellings and g-dropping with an unambiguous expansion.
_SPELLINGS = {
    "w/": "with", "w/o": "without", "&": "and", "thru": "through", "teh": "the", "u": "you", "ur": "your",
    "pic": "picture", "pics": "pictures", "b/c": "because", "bc": "because", "n": "and", "bday": "birthday",
    "playin": "playing", "chillin": "chilling", "goin": "going", "walkin": "walking", "runnin": "running",
    "sittin": "sitting", "eatin": "eating", "hangin": "hanging", "lookin": "looking", "relaxin": "relaxing",
    "doin": "doing", "swimmin": "swimming", "cookin": "cooking", "fishin": "fishing", "ridin": "riding",
}
_SPELLING_RE = re.compile(r"(?<![\w/])(" + "|".join(re.escape(k) for k in _SPELLINGS) + r")(?![\w/])", re.I)
_KEEP_CATEGORIES = frozenset({"L", "N", "P", "Z"})
_FUNCTION_WORDS = words("a an the of in on at with and or for to by from into over under near")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."})


def clean_caption(text: str) -> str:
    """Return the caption with web noise removed; plain edited captions come back unchanged but trimmed.

    Each rule runs only when a cheap substring test says it could match: most captions are clean, and this
    runs once per caption of a million-caption corpus.
    """
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    if not text.isascii():
        text = _strip_symbols(text.translate(_QUOTES))
    if "." in text or "/" in text:
        text = _URL.sub(" ", text)
    lower = text.lower()
    if lower.lstrip().startswith("rt"):
        text = _RETWEET.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if "#" in text:
        text = _HASH.sub(r"\1", _TRAILING_HASHTAGS.sub("", text))
    if ":" in text:
        text = _LABEL_PREFIX.sub("", text)
    if any(k in lower for k in _CREDIT_HINTS):
        text = _CREDIT.sub("", text)
    if any(k in lower for k in _BOILERPLATE_HINTS):
        text = _BOILERPLATE.sub(" ", text)
    if _DIGIT.search(text):
        text = _FILENAME.sub(" ", text)
    if _EMOTICON_HINT.search(text):
        text = _EMOTICON.sub(" ", text)
    if "close" in lower:
        text = _CLOSEUP.sub("closeup", text)
    text = _LETTER_RUN.sub(r"\1\1", text)
    if _PUNCT_HINT.search(text):
        text = _PUNCT_RUN.sub(r"\1", text)
    text = _SPELLING_RE.sub(lambda m: _SPELLINGS[m.group(1).lower()], text)
    text = _SPACES.sub(" ", text).strip(_EDGE_PUNCT)
    return _fix_case(text)


def _strip_symbols(text: str) -> str:
    """Drop emoji, pictographs, variation selectors and joiners; keep letters, digits, punctuation, spaces."""
    out = []
    for ch in text:
        if unicodedata.category(ch)[0] in _KEEP_CATEGORIES or ch in "&$%+=":
            out.append(ch)
        else:
            out.append(" ")
    return "".join(out)


def _fix_case(text: str) -> str:
    """Lower-case SHOUTED or Title Cased captions; leave ordinary sentence case alone."""
    if len(_UPPER.findall(text)) < 2:
        return text
    words = [w for w in text.split() if w[:1].isalpha()]
    if len(words) < 2:
        return text
    letters = [c for c in text if c.isalpha()]
    if sum(c.isupper() for c in letters) >= 0.7 * len(letters):
        return text.lower()
    content = [w for w in words if w.lower() not in _FUNCTION_WORDS]
    if len(content) >= 2 and len(words) >= 3 and sum(w[0].isupper() for w in content) >= 0.7 * len(content):
        return text.lower()
    return text
