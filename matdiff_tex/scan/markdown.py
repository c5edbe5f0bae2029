"""Markdown block structure from markdown-it-py: the blocks that are never touched.

markdown-it (CommonMark) decides what is a fenced code block (backticks or
tildes, any length), an indented code block (list-aware: a line indented under a
list item is the item's text, not code) and a raw HTML block, and gives each its
source lines.  Hexo ``{% raw %}...{% endraw %}`` and the front matter are cut
out first and blanked in the copy markdown-it reads, so its line numbers match
the original file.

With ``containers=True`` (``markdown: mkdocs``, and the MkDocs plugin when the site
uses admonition, pymdownx.details or pymdownx.tabbed) the copy markdown-it reads
is also opened up the way Python-Markdown opens those containers: a header line
(``!!! note``, ``??? note``, ``???+ note``, ``=== "Tab"``) that markdown-it reads as
paragraph text is blanked and the body indented under it loses those four
columns, so the body is read as ordinary Markdown rather than as an indented
code block; nested containers open on the next pass.  A header inside a fenced
or indented code block is never opened, so real code stays code.  HTML comments are left to the inline recogniser (it also
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
# A Python-Markdown container header: admonition, pymdownx.details, pymdownx.tabbed.
_CONTAINER = re.compile(r"[ \t]*(?:!!!|\?\?\?\+?|===[!+]?)[ \t]+\S")
_MAX_NESTING = 32


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


def _indent(line: str) -> int:
    """Width of ``line``'s leading white space (tabs to multiples of four)."""
    lead = line[: len(line) - len(line.lstrip(" \t"))]
    return len(lead.expandtabs(4))


def _dedent(line: str, col: int) -> str:
    """``line`` without the four columns after column ``col`` of its leading white space."""
    lead_len = len(line) - len(line.lstrip(" \t"))
    lead = line[:lead_len].expandtabs(4)
    return lead[:col] + lead[col + 4:] + line[lead_len:]


def _open_one_level(lines: list[str]) -> bool:
    """Open every outermost container header markdown-it reads as text; False when none."""
    tokens = _parser().parse("\n".join(lines))
    covered, opened = -1, False
    for token in tokens:
        if token.type != "inline" or token.map is None:
            continue
        for number in range(*token.map):
            if number <= covered or not _CONTAINER.match(lines[number]):
                continue
            col = _indent(lines[number])
            lines[number] = ""
            body = number + 1
            while body < len(lines) and (not lines[body].strip() or _indent(lines[body]) >= col + 4):
                if lines[body].strip():
                    lines[body] = _dedent(lines[body], col)
                body += 1
            covered, opened = body - 1, True
    return opened


def open_containers(text: str) -> str:
    """``text`` (line for line) with its admonition/details/tab containers opened up."""
    lines = text.split("\n")
    for _ in range(_MAX_NESTING):
        if not _open_one_level(lines):
            break
    return "\n".join(lines)


def code_blocks(text: str, blank: list[tuple[int, int]], *, containers: bool = False) -> list[tuple[int, int]]:
    """Spans of fenced and indented code blocks and opaque HTML blocks, whole lines each.

    ``containers``: read admonitions, details and tabs as MkDocs does (see the module doc).
    """
    index = LineIndex.of(text)
    spans = []
    source = _blanked(text, blank)
    if containers:
        source = open_containers(source)
    for token in _parser().parse(source):
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
