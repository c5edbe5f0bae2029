"""Positions in a document: lines, columns, paragraph ends, line prefixes."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

BOM = "\ufeff"

# A Markdown line's container prefix: blockquote markers and list markers.
_MD_PREFIX = re.compile(r"(?:[ \t]*(?:>|[-+*][ \t]|[0-9]{1,9}[.)][ \t]))*[ \t]*")
_MD_LIST_MARKER = re.compile(r"[-+*](?=[ \t])|[0-9]{1,9}[.)](?=[ \t])")
# A LaTeX line's prefix: indentation, optionally an \item with its [label].
_TEX_PREFIX = re.compile(r"[ \t]*(?:\\item(?![A-Za-z])(?:\[[^\]\n]*\])?[ \t]*)?")
_MD_BLANK = re.compile(r"\n(?:[ \t]*>)*[ \t]*\r?(?=\n|\Z)")
_TEX_BLANK = re.compile(r"\n[ \t]*\r?(?=\n|\Z)")


@dataclass(frozen=True, slots=True)
class LineIndex:
    """Maps offsets in the original text to 1-based (line, column) and the line's text."""

    text: str
    starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> "LineIndex":
        """Index the line starts of ``text``."""
        return cls(text, (0, *(m.end() for m in re.finditer("\n", text))))

    def line_of(self, offset: int) -> int:
        """0-based line number holding ``offset``."""
        return bisect.bisect_right(self.starts, offset) - 1

    def offset_of_line(self, line: int) -> int:
        """Offset of the start of 0-based ``line`` (the text's end past the last line)."""
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def locate(self, offset: int) -> tuple[int, int, str]:
        """1-based line and column of ``offset`` (a BOM is not a column) and that line's text."""
        line = self.line_of(offset)
        start = self.starts[line]
        end = line_end(self.text, start)
        source = self.text[start:end]
        col = offset - start + 1
        if line == 0 and source.startswith(BOM):
            source = source[1:]
            col = max(col - 1, 1)
        return line + 1, col, source


def line_start(text: str, offset: int) -> int:
    """Offset of the first character of the line holding ``offset``."""
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """Offset of the line terminator (``\\r\\n`` or ``\\n``) after ``offset``, or the text's end."""
    end = text.find("\n", offset)
    if end < 0:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def newline_at(text: str, offset: int) -> str:
    """The line terminator used at ``offset`` (its line's, else the file's first, else LF)."""
    end = text.find("\n", offset)
    if end < 0:
        end = text.find("\n")
    if end < 0:
        return "\n"
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def paragraph_end(text: str, offset: int, fmt: str) -> int:
    """Offset where the paragraph holding ``offset`` ends (a blank line, or the text's end)."""
    blank = (_MD_BLANK if fmt == "markdown" else _TEX_BLANK).search(text, offset)
    return len(text) if blank is None else blank.start()


def paragraph_breaks(text: str, fmt: str) -> list[int]:
    """Where each blank line starts (the offsets :func:`paragraph_end` can return), in order."""
    return [match.start() for match in (_MD_BLANK if fmt == "markdown" else _TEX_BLANK).finditer(text)]


def line_prefix(text: str, offset: int, fmt: str) -> str:
    """The container prefix (indentation, ``>``, list marker, ``\\item``) of the line of ``offset``."""
    start = line_start(text, offset)
    head = text[start:offset]
    if start == 0 and head.startswith(BOM):
        head = head[1:]
    pattern = _MD_PREFIX if fmt == "markdown" else _TEX_PREFIX
    return pattern.match(head).group(0)  # type: ignore[union-attr]


def is_prefix_only(text: str, offset: int, fmt: str) -> bool:
    """True when nothing but a container prefix stands before ``offset`` on its line."""
    start = line_start(text, offset)
    head = text[start:offset]
    if start == 0 and head.startswith(BOM):
        head = head[1:]
    pattern = _MD_PREFIX if fmt == "markdown" else _TEX_PREFIX
    return pattern.fullmatch(head) is not None


def rest_is_blank(text: str, offset: int) -> bool:
    """True when only spaces and tabs follow ``offset`` on its line."""
    return not text[offset : line_end(text, offset)].strip(" \t")


def continuation(prefix: str, fmt: str) -> str:
    """The prefix for the following lines: list markers and ``\\item`` become spaces."""
    if fmt == "markdown":
        return _MD_LIST_MARKER.sub(lambda m: " " * len(m.group(0)), prefix)
    return re.sub(r"\\item(?:\[[^\]\n]*\])?", lambda m: " " * len(m.group(0)), prefix)
