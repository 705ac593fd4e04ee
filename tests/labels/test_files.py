"""The RAM file parsers: every malformed input is refused with file, line and reason."""

from __future__ import annotations

import pytest

from apps.labels.errors import LabelFileError
from apps.labels.services.files import (
    format_threshold,
    parse_chinese_list,
    parse_tag_list,
    parse_thresholds,
    render_lines,
    threshold_text,
)


def _refusal(call, *args, **kwargs) -> LabelFileError:
    with pytest.raises(LabelFileError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_tag_list_keeps_order_and_missing_final_newline():
    parsed = parse_tag_list(b"dog\ncat\nice cream")

    assert parsed.lines == ["dog", "cat", "ice cream"]
    assert parsed.final_newline is False


def test_tag_list_remembers_a_final_newline():
    parsed = parse_tag_list(b"dog\ncat\n")

    assert parsed.lines == ["dog", "cat"]
    assert parsed.final_newline is True


def test_render_lines_reverses_parsing_byte_for_byte():
    for data in (b"a\nb", b"a\nb\n"):
        parsed = parse_tag_list(data)

        assert render_lines(parsed.lines, parsed.final_newline) == data


def test_duplicate_tag_names_file_line_and_first_occurrence():
    error = _refusal(parse_tag_list, b"dog\ncat\ndog", "tags.txt")

    assert (error.file, error.line) == ("tags.txt", 3)
    assert "duplicate tag 'dog' (first on line 1)" in error.reason
    assert error.messages == ["tags.txt, line 3: duplicate tag 'dog' (first on line 1)"]


def test_duplicates_pass_when_allowed():
    assert parse_tag_list(b"black\nwhite\nblack", allow_duplicates=True).lines == ["black", "white", "black"]


def test_blank_line_is_refused():
    error = _refusal(parse_tag_list, b"dog\n\ncat", "tags.txt")

    assert (error.line, error.reason) == (2, "blank line")


def test_whitespace_only_line_is_refused_as_blank():
    assert _refusal(parse_tag_list, b"dog\n  \ncat").reason == "blank line"


def test_two_final_newlines_leave_a_blank_last_line():
    assert _refusal(parse_tag_list, b"dog\ncat\n\n").line == 3


def test_invalid_utf8_reports_line_and_byte():
    error = _refusal(parse_tag_list, b"dog\nca\xfft\n", "tags.txt")

    assert error.line == 2
    assert "invalid UTF-8 (byte 0xff at column 3)" in error.reason


def test_crlf_line_ends_are_refused():
    assert "carriage return" in _refusal(parse_tag_list, b"dog\r\ncat").reason


def test_tag_with_surrounding_spaces_is_refused():
    assert "leading or trailing whitespace" in _refusal(parse_tag_list, b"dog \ncat").reason


def test_empty_file_is_refused():
    assert _refusal(parse_tag_list, b"", "tags.txt").reason == "the file is empty"


def test_chinese_names_keep_trailing_spaces():
    assert parse_chinese_list("狗 \n猫\n".encode(), expected=2).lines == ["狗 ", "猫"]


def test_chinese_list_with_fewer_lines_is_refused():
    error = _refusal(parse_chinese_list, "狗\n".encode(), 2, "zh.txt")

    assert (error.file, error.line) == ("zh.txt", 2)
    assert error.reason == "has 1 lines but the tag list has 2"


def test_chinese_list_with_more_lines_is_refused():
    assert _refusal(parse_chinese_list, "狗\n猫\n鸟\n".encode(), 2).line == 3


def test_threshold_file_with_other_line_count_is_refused():
    assert "but the tag list has 3" in _refusal(parse_thresholds, b"0.5\n0.6\n", 3).reason


@pytest.mark.parametrize("value", ["0", "1.01", "-0.5", "nan", "inf"])
def test_threshold_outside_zero_one_is_refused(value):
    error = _refusal(parse_thresholds, f"0.5\n{value}\n".encode(), 2, "thr.txt")

    assert (error.file, error.line) == ("thr.txt", 2)
    assert error.reason == f"threshold '{value}' is outside (0, 1]"


def test_threshold_that_is_not_a_number_is_refused():
    assert _refusal(parse_thresholds, b"0.5\nhigh\n", 2).reason == "threshold 'high' is not a number"


def test_threshold_one_is_accepted():
    assert parse_thresholds(b"1\n0.65\n", 2)[1] == [1.0, 0.65]


@pytest.mark.parametrize(("value", "text"), [(0.65, "0.65"), (1.0, "1"), (0.8, "0.8"), (0.45, "0.45")])
def test_thresholds_format_as_upstream_writes_them(value, text):
    assert format_threshold(value) == text


def test_threshold_text_keeps_the_written_form_while_it_still_holds():
    assert threshold_text(0.8, "0.80") == "0.80"
    assert threshold_text(0.7, "0.80") == "0.7"
