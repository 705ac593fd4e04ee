"""The RAM label file formats: one tag per line, one Chinese name per line, one threshold per line.

Line ``i`` of every file describes tag ID ``i``. Files are UTF-8 with ``\\n`` line ends; whether the last line
ends with a newline is remembered so that an export is byte-identical to what was imported (the upstream tag
list has no final newline, the Chinese and threshold lists have one). Chinese names are kept verbatim,
trailing spaces included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import LabelFileError

TAGS_FILE = "ram_tag_list.txt"
CHINESE_FILE = "ram_tag_list_chinese.txt"
THRESHOLDS_FILE = "ram_tag_list_threshold.txt"


@dataclass(frozen=True)
class LabelFile:
    lines: list[str]
    final_newline: bool


def split_lines(data: bytes, file: str) -> LabelFile:
    """Decode and split a label file; refuses invalid UTF-8, CR line ends and blank lines."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LabelFileError(file, line, f"invalid UTF-8 (byte 0x{data[exc.start]:02x} at column {column})") \
            from None
    if not text:
        raise LabelFileError(file, 0, "the file is empty")
    final_newline = text.endswith("\n")
    lines = (text[:-1] if final_newline else text).split("\n")
    for number, line in enumerate(lines, start=1):
        if "\r" in line:
            raise LabelFileError(file, number, "carriage return in line (use \\n line ends, not \\r\\n)")
        if not line.strip():
            raise LabelFileError(file, number, "blank line")
    return LabelFile(lines, final_newline)


def parse_tag_list(data: bytes, file: str = TAGS_FILE, allow_duplicates: bool = False) -> LabelFile:
    """Tags, one per line: no surrounding whitespace, no duplicates (unless ``allow_duplicates``)."""
    parsed = split_lines(data, file)
    first_seen: dict[str, int] = {}
    for number, tag in enumerate(parsed.lines, start=1):
        if tag != tag.strip():
            raise LabelFileError(file, number, f"tag {tag!r} has leading or trailing whitespace")
        if tag in first_seen and not allow_duplicates:
            raise LabelFileError(file, number, f"duplicate tag {tag!r} (first on line {first_seen[tag]})")
        first_seen.setdefault(tag, number)
    return parsed


def _check_count(parsed: LabelFile, file: str, expected: int) -> None:
    if len(parsed.lines) != expected:
        raise LabelFileError(file, min(len(parsed.lines), expected) + 1,
                             f"has {len(parsed.lines)} lines but the tag list has {expected}")


def parse_chinese_list(data: bytes, expected: int, file: str = CHINESE_FILE) -> LabelFile:
    """Chinese names, one per tag ID, kept verbatim (some upstream names end with a space)."""
    parsed = split_lines(data, file)
    _check_count(parsed, file, expected)
    return parsed


def parse_thresholds(data: bytes, expected: int, file: str = THRESHOLDS_FILE) -> tuple[LabelFile, list[float]]:
    """Per-class thresholds, one per tag ID, each a number in (0, 1]."""
    parsed = split_lines(data, file)
    _check_count(parsed, file, expected)
    values = []
    for number, text in enumerate(parsed.lines, start=1):
        try:
            value = float(text)
        except ValueError:
            raise LabelFileError(file, number, f"threshold {text!r} is not a number") from None
        if not (math.isfinite(value) and 0 < value <= 1):
            raise LabelFileError(file, number, f"threshold {text!r} is outside (0, 1]")
        values.append(value)
    return parsed, values


def format_threshold(value: float) -> str:
    """The shortest text of a threshold as the upstream file writes it (0.65, 0.8, 1)."""
    return f"{value:.6g}"


def threshold_text(value: float, written: str) -> str:
    """The imported text when it still says ``value``, else a fresh formatting."""
    if written:
        try:
            if float(written) == value:
                return written
        except ValueError:
            pass
    return format_threshold(value)


def render_lines(lines: list[str], final_newline: bool) -> bytes:
    body = "\n".join(lines)
    return (body + "\n" if final_newline and lines else body).encode("utf-8")
