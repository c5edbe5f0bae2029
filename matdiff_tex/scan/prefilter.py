"""A cheap look before the Markdown parser: is every mention of a directive plainly code?

A note that names ``\\deriv`` only inside a code span or a fenced code block holds no
directive, and should not pay a full Markdown parse for it (markdown-it reads about
half a megabyte a second).  :func:`no_live_directive` answers True only when it can
*prove* that every occurrence of ``\\deriv``, ``\\hessian`` and ``matdiff-tex`` lies in
code, with regular expressions over the text and a look at the paragraph around each
mention; whenever the text holds anything it does not model exactly (HTML blocks or
comments, front matter options, indented or nested fences, math or several blocks in
the paragraph before the mention, Hexo tags) it answers False and the full scanner, whose
:func:`~matdiff_tex.scan.markdown.code_blocks` decides what is code, runs as before.  A
wrong True would hide a directive, so every doubt goes to False.
"""

from __future__ import annotations

import bisect
import re

from .directive import DIRECTIVE_START
from .frontmatter import markdown_front_matter

# Searched as literals with str.find, several times faster over a long note than one alternation.
_TRIGGERS = ("\\deriv", "\\hessian", "\\answer", "matdiff-tex")
# Anything whose Markdown meaning this module does not follow: HTML blocks and comments, Hexo
# tags, front matter options, MkDocs containers.  (Patterns that start with a line end run at C
# speed over a text with one line end put in front.)
_UNMODELLED_ANYWHERE = ("<!", "<?", "{%", "matdiff:")
_UNMODELLED_LINE = re.compile(r"\n[ \t]*(?:<|!!!|\?\?\?|===)")
_FENCE = re.compile(r"\n([ \t>]*(?:[-*+][ \t]+|\d+[.)][ \t]+)?)(`{3,}|~{3,})([^\n]*)")
_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")
# A line (not the first of its paragraph) that starts another block: the paragraph is not one block.
_BLOCK_START = re.compile(r"\n[ \t]*(?:[-*+>#=|_]|\d+[.)])")
_MATH_OR_TAG = re.compile(r"\$|\\\(|\\\[|\\begin|<")
_TICKS_OR_ESCAPE = re.compile(r"\\[\s\S]|`+")
# What display math is made of, read within one paragraph.
_DISPLAY_OPENERS = ("$$", "\\[", "\\begin{")
_MATH_TOKEN = re.compile(r"\\(?:begin|end)\{|\\[\[\]]|\\[\s\S]|\$\$|\$|`")


def no_live_directive(text: str) -> bool:
    """True only when every directive-like mention in ``text`` is provably inside code."""
    return code_mentions(text) is not None


def code_mentions(text: str) -> list[int] | None:
    """The offsets of the directives left in code (for the notices ``--check`` prints) when every
    directive-like mention in ``text`` is provably inside code; None when that is not proven."""
    if any(marker in text for marker in _UNMODELLED_ANYWHERE):
        return None
    padded = "\n" + text  # offsets in ``padded`` are one more than in ``text``
    if _UNMODELLED_LINE.search(padded):
        return None
    front_end = markdown_front_matter(text).end
    fences = _fenced_spans(padded, front_end)
    if fences is None:
        return None
    fence_starts = [start for start, _ in fences]
    triggers = _find_all(text, _TRIGGERS)
    blanks = [m.span() for m in _BLANK_LINE.finditer(text, front_end)]
    blank_starts, blank_ends = [start for start, _ in blanks], [end for _, end in blanks]
    for at in triggers:
        if at < front_end:
            return None
        fence = bisect.bisect_right(fence_starts, at) - 1
        if fence >= 0 and at < fences[fence][1]:
            continue  # inside a fenced code block
        before = bisect.bisect_right(blank_ends, at) - 1
        after = bisect.bisect_right(blank_starts, at)
        start = max(front_end, blank_ends[before] if before >= 0 else 0,
                    fences[fence][1] if fence >= 0 else 0)
        stop = min(blank_starts[after] if after < len(blanks) else len(text),
                   fence_starts[fence + 1] if fence + 1 < len(fences) else len(text))
        if text[start:start + 1] in (" ", "\t") or not _in_code_span(text[start:stop], at - start):
            return None  # an indented paragraph (a code block, or a container's body), or live text
    if triggers and _math_may_cross_paragraphs(text, front_end, triggers[-1], fences, fence_starts,
                                               blank_starts, blank_ends):
        return None  # display math may reach over a blank line into a mention's paragraph
    return [at for at in triggers if DIRECTIVE_START.match(text, at)]  # all past the front matter


def _find_all(text: str, words: tuple[str, ...], start: int = 0, stop: int | None = None) -> list[int]:
    """Sorted offsets in ``text[start:stop]`` where one of ``words`` begins (each word's matches do not
    overlap, as with a regular expression; the words cannot overlap one another)."""
    stop = len(text) if stop is None else stop
    found = []
    for word in words:
        at = text.find(word, start, stop)
        while at >= 0:
            found.append(at)
            at = text.find(word, at + len(word), stop)
    found.sort()
    return found


def _math_may_cross_paragraphs(text: str, start: int, stop: int, fences: list[tuple[int, int]],
                               fence_starts: list[int], blank_starts: list[int], blank_ends: list[int]) -> bool:
    """True unless every paragraph between ``start`` and ``stop`` (outside fenced code) plainly
    closes the display math it opens: the scanner lets ``$$``, ``\\[`` and environments run over
    blank lines, so a paragraph that leaves one open (or mixes it with backticks, whose reading this
    module does not follow) puts later mentions out of reach of a proof.  Only paragraphs holding a
    display opener are read token by token."""
    done: set[int] = set()
    for at in _find_all(text, _DISPLAY_OPENERS, start, stop):
        fence = bisect.bisect_right(fence_starts, at) - 1
        if fence >= 0 and at < fences[fence][1]:
            continue
        before = bisect.bisect_right(blank_ends, at) - 1
        first = max(start, blank_ends[before] if before >= 0 else start)
        if first in done:
            continue
        done.add(first)
        after = bisect.bisect_right(blank_starts, at)
        last = min(stop, blank_starts[after] if after < len(blank_starts) else len(text))
        if _left_open(text, first, last, fences, fence_starts):
            return True
    return False


def _left_open(text: str, start: int, stop: int, fences: list[tuple[int, int]], fence_starts: list[int]) -> bool:
    """Whether the paragraph ``text[start:stop]`` may leave display math open at its end."""
    state = ""  # "", "$" (inline), "$$" (display)
    depth = 0  # \\[ and \\begin{...} minus their closers
    has_display = has_ticks = False

    for token in _MATH_TOKEN.finditer(text, start, stop):
        at = token.start()
        fence = bisect.bisect_right(fence_starts, at) - 1
        if fence >= 0 and at < fences[fence][1]:
            continue
        word = token.group(0)
        if word == "`":
            has_ticks = True
        elif word in ("$$", "$"):
            has_display = has_display or word == "$$"
            if not state:
                state = word
            elif state == "$" or word == "$$":
                state = ""
        elif word in ("\\[", "\\begin{"):
            has_display = True
            depth += 1
        elif word in ("\\]", "\\end{"):
            depth -= 1
    # An unclosed inline $ is literal text and cannot leave its paragraph, unless display math in
    # the same paragraph makes the reading uncertain.
    return bool(depth or state == "$$" or (state and has_display) or (has_display and has_ticks))


def _fenced_spans(padded: str, start: int) -> list[tuple[int, int]] | None:
    """Spans (in the text without the leading line end of ``padded``) of top-level fenced code
    blocks, opening line to closing line; None when a fence is indented, nested in a list or
    quote, or otherwise not plainly at the top level."""
    spans: list[tuple[int, int]] = []
    opener: re.Match[str] | None = None
    for match in _FENCE.finditer(padded, start):
        prefix, ticks, rest = match.groups()
        if prefix:
            return None
        if opener is None:
            if ticks[0] == "`" and "`" in rest:
                continue  # not a fence: an inline code span at the start of a line
            opener = match
        elif ticks[0] == opener.group(2)[0] and len(ticks) >= len(opener.group(2)) and not rest.strip():
            spans.append((opener.start(), match.end() - 1))
            opener = None
    if opener is not None:
        spans.append((opener.start(), len(padded) - 1))
    return spans


def _in_code_span(paragraph: str, offset: int) -> bool:
    """Is ``offset`` inside an inline code span of ``paragraph`` (which must be a single block)?"""
    if _BLOCK_START.search(paragraph):
        return False
    math = _MATH_OR_TAG.search(paragraph)
    pos = 0
    while True:
        token = _TICKS_OR_ESCAPE.search(paragraph, pos)
        if token is None or token.start() > offset:
            return False
        if token.group(0).startswith("\\"):
            pos = token.end()
            continue
        if math is not None and math.start() < token.start():
            return False  # math (or HTML) opened first: its reading of the backticks is not modelled
        run = len(token.group(0))
        closer = re.compile(r"(?<!`)`{%d}(?!`)" % run).search(paragraph, token.end())
        if closer is None:
            pos = token.end()  # a literal run of backticks
            continue
        if token.end() <= offset < closer.start():
            return True
        pos = closer.end()
