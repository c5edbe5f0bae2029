"""Markdown block structure from markdown-it-py: the blocks that are never touched.

markdown-it (CommonMark) decides what is a fenced code block (backticks or
tildes, any length), an indented code block (list-aware: a line indented under a
list item is the item's text, not code) and a raw HTML block, and gives each its
source lines.  Hexo ``{% raw %}...{% endraw %}`` and the front matter are cut
out first and blanked in the copy markdown-it reads, so its line numbers match
the original file.  HTML comments are left to the inline recogniser (it also
reads the ``--in-place`` markers), and HTML blocks such as ``<div>`` stay live:
math inside them is still typeset by MathJax or KaTeX.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from .text import BOM, LineIndex

if TYPE_CHECKING:  # pragma: no cover
    from markdown_it import MarkdownIt

HEXO_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}.*?(?:\{%-?\s*endraw\s*-?%\}|\Z)", re.DOTALL)
_OPAQUE_HTML = re.compile(r"\s*<(?:script|pre|style|textarea)(?:\s|>|$)|\s*<[?!]", re.IGNORECASE)
_LONE_CR = re.compile(r"\r(?!\n)")
_NOT_NEWLINE = re.compile(r"[^\r\n]")


@functools.lru_cache(maxsize=1)
def _parser() -> "MarkdownIt":
    """One CommonMark block parser, made on first use (inline parsing is off: only blocks matter)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").disable("inline")


def hexo_raw(text: str) -> list[tuple[int, int]]:
    """Spans of Hexo ``{% raw %}...{% endraw %}`` (an unclosed one runs to the end)."""
    return [match.span() for match in HEXO_RAW.finditer(text)]


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with ``spans`` turned into spaces (line ends kept) and no BOM, for markdown-it."""
    pieces, pos = [], 0
    for start, end in spans:
        pieces += [text[pos:start], _NOT_NEWLINE.sub(" ", text[start:end])]
        pos = end
    pieces.append(text[pos:])
    return _LONE_CR.sub(" ", "".join(pieces)).removeprefix(BOM)


def _opaque(token_type: str, content: str) -> bool:
    """True for blocks whose text must not be touched."""
    if token_type in ("fence", "code_block"):
        return True
    if token_type == "html_block":
        return not content.lstrip().startswith("<!--") and _OPAQUE_HTML.match(content) is not None
    return False


def code_blocks(text: str, blank: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of fenced and indented code blocks and opaque HTML blocks, whole lines each."""
    index = LineIndex.of(text)
    spans = []
    for token in _parser().parse(_blanked(text, blank)):
        if token.map is not None and _opaque(token.type, token.content):
            first, last = token.map
            spans.append((index.offset_of_line(first), index.offset_of_line(last)))
    return spans


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif end > start:
            merged.append((start, end))
    return merged
