"""Shared: LSP line splitting and column conversion (``shared/textbuf.py``)."""

from __future__ import annotations

import pytest

from twinls.shared.textbuf import UTF8, UTF16, UTF32, from_codepoints, split_lines, to_codepoints


def check_lines(text: str, expected: list[str]) -> None:
    assert split_lines(text) == expected
    assert "".join(split_lines(text)) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", [""]),
        ("a", ["a"]),
        ("a\n", ["a\n", ""]),
        ("a\nb", ["a\n", "b"]),
        ("a\r\nb", ["a\r\n", "b"]),
        ("a\rb", ["a\r", "b"]),
        ("a\r\r\nb", ["a\r", "\r\n", "b"]),
        # LSP breaks lines at \n, \r\n and \r only; str.splitlines also breaks at these:
        ("a\fb\n", ["a\fb\n", ""]),
        ("a\x0bb", ["a\x0bb"]),
        ("a\x1cb\x1dc\x1ed", ["a\x1cb\x1dc\x1ed"]),
        ("a\x85b", ["a\x85b"]),
        ("a\u2028b\u2029c", ["a\u2028b\u2029c"]),
    ],
)
def test_split_lines(text, expected):
    check_lines(text, expected)


@pytest.mark.parametrize(
    "line, codepoints, encoding, client",
    [
        ("abc", 2, UTF16, 2),
        ("é!", 1, UTF16, 1),
        ("é!", 1, UTF8, 2),
        ("é!", 1, UTF32, 1),
        ("😀x", 1, UTF16, 2),  # outside the BMP: a surrogate pair
        ("😀x", 1, UTF8, 4),
        ("😀x", 2, UTF16, 3),
        ("ab\r\n", 9, UTF16, 2),  # clamped to the line, the line break not counted
    ],
)
def test_columns_from_code_points(line, codepoints, encoding, client):
    assert from_codepoints(line, codepoints, encoding) == client


@pytest.mark.parametrize(
    "line, client, encoding, codepoints",
    [
        ("😀x", 2, UTF16, 1),
        ("😀x", 1, UTF16, 1),  # inside a pair: the character after it (LSP: never split)
        ("😀x", 4, UTF8, 1),
        ("é!", 2, UTF8, 1),
        ("abc", 99, UTF16, 3),
        ("abc\n", 99, UTF32, 3),
        ("abc", -1, UTF16, 0),
    ],
)
def test_columns_to_code_points(line, client, encoding, codepoints):
    assert to_codepoints(line, client, encoding) == codepoints
