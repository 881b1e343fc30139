"""Shared: text buffers and position encodings, the same code on the server and the twin.

Both sides apply the *same* code-point edits with the same code, so a twin's copy
can only diverge through a bug or a lost frame, and a CRC of the result catches
both. LSP counts lines by ``\\n``, ``\\r\\n`` and ``\\r`` only (not by every
separator :meth:`str.splitlines` knows), and columns in the negotiated encoding.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"


class EditOutOfRange(ValueError):
    """A strict edit named a position the buffer does not have."""


def split_lines(text: str) -> list[str]:
    """Lines with their endings; always one more line than line breaks."""
    lines = _LINE.findall(text)
    if not lines or lines[-1].endswith(("\n", "\r")):
        lines.append("")
    return lines


def text_crc(text: str) -> int:
    """Cheap fingerprint of a text, sent with every edit to catch divergence."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def text_sha256(text: str) -> str:
    """Content hash shown by twinls.status, to prove server and twin hold the same bytes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _strip_eol(line: str) -> str:
    return line.rstrip("\r\n")


def units(s: str, encoding: str) -> int:
    """Length of ``s`` in code units of ``encoding``."""
    if encoding == UTF32 or s.isascii():
        return len(s)
    if encoding == UTF16:
        return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)
    return len(s.encode("utf-8", "surrogatepass"))


def to_codepoints(line: str, col: int, encoding: str) -> int:
    """Client column -> code-point column, clamped to the line (as the spec asks)."""
    line = _strip_eol(line)
    if encoding == UTF32 or line.isascii():
        return max(0, min(col, len(line)))
    count = 0
    for i, ch in enumerate(line):
        if count >= col:
            return i
        count += units(ch, encoding)
    return len(line)


def from_codepoints(line: str, col: int, encoding: str) -> int:
    """Code-point column (jedi's, ast's after decoding) -> client column."""
    line = _strip_eol(line)
    col = max(0, min(col, len(line)))
    return units(line[:col], encoding)


@dataclass(frozen=True, slots=True)
class Edit:
    """A code-point range replacement; what travels to the twin."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    text: str

    def as_list(self) -> list:
        return [self.start_line, self.start_col, self.end_line, self.end_col, self.text]


class TextBuffer:
    """A document as a list of lines, so a keystroke costs one line, not one file."""

    __slots__ = ("lines", "_text")

    def __init__(self, text: str = "") -> None:
        self.lines = split_lines(text)
        self._text: str | None = text

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self.lines)
        return self._text

    def set_text(self, text: str) -> None:
        self.lines = split_lines(text)
        self._text = text

    def line(self, n: int) -> str:
        return self.lines[n] if 0 <= n < len(self.lines) else ""

    def clamp(self, line: int, col: int) -> tuple[int, int]:
        """Clamp a code-point position into the buffer (lenient, for client input)."""
        if line < 0:
            return 0, 0
        if line >= len(self.lines):
            last = len(self.lines) - 1
            return last, len(_strip_eol(self.lines[last]))
        return line, max(0, min(col, len(_strip_eol(self.lines[line]))))

    def client_position(self, line: int, col: int, encoding: str) -> tuple[int, int]:
        """A client's (line, column) -> clamped code-point position."""
        if line >= len(self.lines):
            return self.clamp(line, col)
        if line < 0:
            return 0, 0
        return line, to_codepoints(self.lines[line], col, encoding)

    def offset(self, line: int, col: int) -> int:
        return sum(map(len, self.lines[:line])) + col

    def apply(self, edit: Edit, strict: bool = False) -> None:
        """Replace a code-point range. ``strict`` refuses positions outside the text."""
        sl, sc, el, ec = edit.start_line, edit.start_col, edit.end_line, edit.end_col
        if strict:
            for ln, c in ((sl, sc), (el, ec)):
                if not (0 <= ln < len(self.lines)) or not (
                    0 <= c <= len(_strip_eol(self.lines[ln]))
                ):
                    raise EditOutOfRange(
                        f"position {ln}:{c} is outside a text of {len(self.lines)} lines"
                    )
        else:
            sl, sc = self.clamp(sl, sc)
            el, ec = self.clamp(el, ec)
        if (el, ec) < (sl, sc):
            if strict:
                raise EditOutOfRange(f"range end {el}:{ec} is before its start {sl}:{sc}")
            sl, sc, el, ec = el, ec, sl, sc
        lines = self.lines
        # Widen by a line where a lone \r and a \n could meet and merge into one break.
        lo, hi = sl, el
        if lo > 0 and lines[lo - 1].endswith("\r"):
            lo -= 1
        if hi + 1 < len(lines) and lines[hi + 1].startswith("\n"):
            hi += 1
        head = "".join(lines[lo:sl]) + lines[sl][:sc]
        tail = lines[el][ec:] + "".join(lines[el + 1 : hi + 1])
        chunk = head + edit.text + tail
        new = _LINE.findall(chunk)
        if hi == len(lines) - 1 and (not new or new[-1].endswith(("\n", "\r"))):
            new.append("")
        lines[lo : hi + 1] = new
        if not lines:
            lines.append("")
        self._text = None
