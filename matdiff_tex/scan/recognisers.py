"""The recognisers: one small function per construct, and the tables that order them.

Each recogniser looks at the text at ``i`` and either claims a span (returning
the offset after it, after recording any directive, marker block or problem on
the walker) or returns None.  Tables at the bottom say which run where.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from collections.abc import Callable

from ..errors import DirectiveError
from . import markers
from .directive import DIRECTIVE_START, Problem, error_of, read_directive
from .model import Directive, MarkerBlock, MarkerStyle, Placement
from .text import is_prefix_only, line_end, line_start, rest_is_blank
from .walk import Ctx, Table, Walker

ALIGN_ENVS = frozenset(
    {"aligned", "alignedat", "align", "align*", "alignat", "alignat*", "flalign", "flalign*",
     "split", "eqnarray", "eqnarray*"}
)
MATH_ENVS = re.compile(
    r"\\begin\{((?:equation|align|alignat|gather|multline|flalign|eqnarray|displaymath)\*?|math)\}"
)
VERBATIM_ENVS = re.compile(r"\\begin\{(verbatim\*?|Verbatim\*?|BVerbatim|LVerbatim|lstlisting|minted|comment)\}")
_VERB = re.compile(r"\\(?:verb\*?|lstinline(?:\[[^\]\n]*\])?)(?![A-Za-z])([^\sA-Za-z{])")
_BEGIN = re.compile(r"\\begin\{([^{}\n]*)\}")
_END = re.compile(r"\\end\{([^{}\n]*)\}")


# ---------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=None)
def _closer_pattern(closer: str, comments: bool) -> re.Pattern[str]:
    """Finds ``closer`` while stepping over ``\\x`` escapes (and ``%`` comments)."""
    return re.compile(re.escape(closer) + r"|\\[\s\S]" + (r"|%[^\n]*" if comments else ""))


def find_closer(
    text: str, start: int, limit: int, closer: str, *, comments: bool = False,
    accept: Callable[[int], bool] | None = None,
) -> int:
    """Offset of the first ``closer`` in ``text[start:limit]`` outside escapes (-1: none)."""
    for match in _closer_pattern(closer, comments).finditer(text, start, limit):
        if match.group(0) == closer and (accept is None or accept(match.start())):
            return match.start()
    return -1


def remembered(w: Walker, key: object, start: int, search: Callable[[], int]) -> int:
    """``search()`` (the first closer at or after ``start``, -1: none), remembered per ``key``.

    Whether a closer qualifies never depends on where its opener stood, so the answer of a
    search from an earlier offset holds for every later start up to that answer: a run of
    openers without closers (``$a $a $a ...``) is then searched once, not once per opener.
    ``key`` must name the closer and the limit.
    """
    known = w.memo.get(key)
    if known is not None:
        searched_from, found = known  # type: ignore[misc]
        if searched_from <= start and (found < 0 or found >= start):
            return found
    found = search()
    w.memo[key] = (start, found)
    return found


def closer_after(w: Walker, start: int, limit: int, closer: str, *, comments: bool = False,
                 accept: Callable[[int], bool] | None = None, accept_name: str = "") -> int:
    """:func:`find_closer` remembered on the walker (see :func:`remembered`)."""
    return remembered(w, ("closer", closer, comments, accept_name, limit), start,
                      lambda: find_closer(w.text, start, limit, closer, comments=comments, accept=accept))


def _marker_tokens(w: Walker) -> tuple[list[int], list[str]]:
    """Offsets and kinds (``html``, ``inline``, ``open``, ``close``) of every marker in the text."""
    tokens = w.memo.get("marker tokens")
    if tokens is None:
        starts, kinds = [], []
        for match in markers.TOKEN.finditer(w.text):
            at = match.start()
            if w.text.startswith("<", at):
                kind = "html"
            elif markers.PERCENT_CLOSE.match(w.text, at):
                kind = "close"
            else:
                opened = markers.PERCENT_OPEN.match(w.text, at)
                kind = "" if opened is None else "inline" if opened.group(1) else "open"
            if kind:
                starts.append(at)
                kinds.append(kind)
        tokens = w.memo["marker tokens"] = (starts, kinds)
    return tokens  # type: ignore[return-value]


def holds_foreign_marker(w: Walker, start: int, end: int) -> bool:
    """Would a region of the author's text from ``start`` to ``end`` reach into a marker?

    A math region, or an HTML comment, of the author's may hold whole ``%`` marker blocks
    (a directive inside display math), but never an HTML marker, a one-line ``%`` marker or
    half a block: a ``$`` in prose (``US$5``) must not pair with the ``$`` of an expansion.
    """
    starts, kinds = _marker_tokens(w)
    lo, hi = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
    depth = 0
    for kind in kinds[lo:hi]:
        if kind in ("html", "inline"):
            return True
        depth += 1 if kind == "open" else -1
        if depth not in (0, 1):
            return True
    return depth != 0


def prose_limit(w: Walker, i: int, ctx: Ctx) -> int:
    """How far an inline construct starting at ``i`` may reach: the paragraph, before a code block."""
    return min(w.paragraph_end(i), w.next_protected(i), ctx.limit)


def block_limit(w: Walker, i: int, ctx: Ctx) -> int:
    """How far display math starting at ``i`` may reach: up to the next protected block."""
    return min(w.next_protected(i), ctx.limit)


def math_placement(ctx: Ctx) -> Placement:
    """Placement of a directive inside math, from the innermost environment."""
    if ctx.envs and ctx.envs[-1] in ALIGN_ENVS:
        return Placement.ALIGNED_LINES
    return Placement.INLINE if ctx.math == "inline" else Placement.ALIGNED_BLOCK


_SETEXT_UNDERLINE = re.compile(r"(?:[ \t]*>)*[ ]{0,3}(?:=+|-+)[ \t]*\r?$")
_TABULAR = re.compile(r"\\(begin|end)\{(tabular\*?|tabularx|tabulary|longtable|array)\}")
_TEXT_GROUP = re.compile(r"\\(?:text|mbox|hbox|textrm|textbf|textit|textsf|texttt|textnormal)\s*\{")


def prose_placement(w: Walker, start: int, end: int) -> Placement:
    """DISPLAY when the span stands alone on its line(s), else PROSE.

    Also PROSE where a display block cannot stand: on a Markdown line that a ``===``/``---``
    line below makes a heading, and in a LaTeX table cell.
    """
    alone = is_prefix_only(w.text, start, w.fmt) and rest_is_blank(w.text, end)
    if alone and w.fmt == "markdown":
        after = w.text.find("\n", end)
        alone = after < 0 or _SETEXT_UNDERLINE.match(w.text[after + 1:line_end(w.text, after + 1) + 1]) is None
    if alone and w.fmt == "latex":
        alone = not _in_table(w.text, start)
    return Placement.DISPLAY if alone else Placement.PROSE


def _in_table(text: str, at: int) -> bool:
    """Is ``at`` inside a tabular-like environment?"""
    depth = 0
    for match in _TABULAR.finditer(text, 0, at):
        depth = max(0, depth + (1 if match.group(1) == "begin" else -1))
    return depth > 0


def in_text_group(w: Walker, at: int, ctx: Ctx) -> bool:
    """Is ``at`` inside ``\\text{...}`` (or ``\\mbox``, ...) of the math region ``ctx`` walks?"""
    if ctx.region is None:
        return False
    for match in _TEXT_GROUP.finditer(w.text, ctx.region[0], at):
        if _brace_end(w.text, match.end() - 1, at) < 0:
            return True
    return False


def enter_math(w: Walker, inner: tuple[int, int], region: tuple[int, int], kind: str,
               envs: list[str] | None = None) -> int:
    """Walk the inside of a math region; returns the region's end."""
    w.result.math.append((inner[0], inner[1], region[0], region[1], kind))
    w.walk(inner[0], Ctx(limit=inner[1], math=kind, envs=list(envs or []), region=region), MATH)
    return region[1]


# ---------------------------------------------------------------- shared


def escape(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``\\x``: an escaped character or a control symbol such as ``\\\\``, ``\\$``, ``\\%``."""
    return i + 2


def line_comment(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``% ...`` to the end of the line (LaTeX, and TeX math in Markdown)."""
    return min(line_end(w.text, i), ctx.limit)


def directive(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``\\deriv[...]<F><X>`` / ``\\hessian``: record it with its placement."""
    head = DIRECTIVE_START.match(w.text, i, ctx.limit)
    if head is None:
        return None
    limit = prose_limit(w, i, ctx) if ctx.math is None else ctx.limit
    try:
        found = read_directive(w.text, i, limit, Placement.PROSE)
    except Problem as problem:
        w.problem(problem.offset, error_of(problem))
        return head.end()
    assert found is not None
    if ctx.math is not None and in_text_group(w, i, ctx):
        w.problem(i, DirectiveError(
            "a directive inside \\text{...} or \\mbox{...} in math is in text mode, where its math "
            "cannot stand: put it outside the \\text{...} group"))
        return found.end
    if ctx.math is None:
        placement, region = prose_placement(w, found.start, found.end), None
    else:
        placement = math_placement(ctx)
        region = ctx.region if ctx.math == "inline" else None
    start = None if ctx.region is None else ctx.region[0]
    w.add_directive(dataclasses.replace(found, placement=placement, math_region=region, math_start=start))
    return found.end


# ---------------------------------------------------------------- math regions


def dollar_display(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``$$ ... $$``."""
    if not w.text.startswith("$$", i):
        return None
    limit = block_limit(w, i, ctx) if w.fmt == "markdown" else prose_limit(w, i, ctx)
    close = closer_after(w, i + 2, limit, "$$", comments=w.fmt == "latex")
    if close < 0 or holds_foreign_marker(w, i, close + 2):
        return i + 2
    return enter_math(w, (i + 2, close), (i, close + 2), "display")


def dollar_inline(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``$ ... $``; in Markdown (as pandoc): no space inside the dollars, no digit after the closer."""
    text = w.text
    limit = prose_limit(w, i, ctx)
    if w.fmt == "markdown":
        if i + 1 >= limit or text[i + 1].isspace():
            return i + 1

        def accept(j: int) -> bool:
            return not text[j - 1].isspace() and not (j + 1 < len(text) and text[j + 1].isdigit())

        close = closer_after(w, i + 1, limit, "$", accept=accept, accept_name="pandoc")
    else:
        close = closer_after(w, i + 1, limit, "$", comments=True)
    if close < 0 or holds_foreign_marker(w, i, close + 1):
        return i + 1
    return enter_math(w, (i + 1, close), (i, close + 1), "inline")


def bracket_math(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``\\[ ... \\]`` and ``\\( ... \\)``."""
    opener = w.text[i : i + 2]
    if opener not in ("\\[", "\\("):
        return None
    display = opener == "\\["
    limit = (block_limit(w, i, ctx) if w.fmt == "markdown" else ctx.limit) if display else prose_limit(w, i, ctx)
    close = closer_after(w, i + 2, limit, "\\]" if display else "\\)", comments=w.fmt == "latex")
    if close < 0 or holds_foreign_marker(w, i, close + 2):
        return None
    return enter_math(w, (i + 2, close), (i, close + 2), "display" if display else "inline")


def env_math(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``\\begin{equation} ... \\end{equation}`` and the other math environments."""
    opened = MATH_ENVS.match(w.text, i, ctx.limit)
    if opened is None:
        return None
    name = opened.group(1)
    limit = block_limit(w, i, ctx) if w.fmt == "markdown" else ctx.limit
    closer = f"\\end{{{name}}}"
    close = closer_after(w, opened.end(), limit, closer, comments=w.fmt == "latex")
    if close < 0 or holds_foreign_marker(w, i, close + len(closer)):
        return opened.end()
    kind = "inline" if name == "math" else "display"
    return enter_math(w, (opened.end(), close), (i, close + len(closer)), kind, [name])


def begin_env(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``\\begin{name}`` inside math: remember the environment."""
    opened = _BEGIN.match(w.text, i, ctx.limit)
    if opened is None:
        return None
    ctx.envs.append(opened.group(1))
    return opened.end()


def end_env(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``\\end{name}`` inside math: forget the environment."""
    closed = _END.match(w.text, i, ctx.limit)
    if closed is None:
        return None
    if ctx.envs and ctx.envs[-1] == closed.group(1):
        ctx.envs.pop()
    return closed.end()


# ---------------------------------------------------------------- Markdown only


def code_span(w: Walker, i: int, ctx: Ctx) -> int | None:
    """An inline code span of any backtick count; unmatched backticks are literal."""
    text = w.text
    run = i
    while run < len(text) and text[run] == "`":
        run += 1
    width = run - i
    limit = prose_limit(w, i, ctx)
    close = remembered(w, ("code span", width, limit), run, lambda: _backticks(text, run, limit, width))
    if close < 0:
        return run
    w.result.skipped += [found.start() for found in DIRECTIVE_START.finditer(text, run, close)]
    return close


def _backticks(text: str, start: int, limit: int, width: int) -> int:
    """Offset just past the first run of exactly ``width`` backticks after ``start`` (-1: none)."""
    close = re.compile(rf"(?<!`)`{{{width}}}(?!`)").search(text, start, limit)
    return -1 if close is None else close.end()


def _indented_four(text: str, i: int) -> bool:
    """True when only white space stands before ``i`` on its line and it spans four columns or more
    (tabs to the next multiple of four, as CommonMark counts them)."""
    head = text[line_start(text, i):i]
    if head.strip(" \t"):
        return False  # a container prefix: leave it to the conservative reading
    return len(head.expandtabs(4)) >= 4


def html_comment(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``<!-- ... -->`` (also ``<!-->``)."""
    if not w.text.startswith("<!--", i):
        return None
    close = remembered(w, ("comment", ctx.limit), i + 2, lambda: w.text.find("-->", i + 2, ctx.limit))
    if close < 0:
        # Opening a line, an unclosed comment is an HTML block that hides the rest of the note
        # (CommonMark); inside a line it is literal text, and so it is on a line indented by four
        # columns or more (a paragraph's continuation, or an indented code block).
        opens_block = (w.fmt == "markdown" and is_prefix_only(w.text, i, w.fmt)
                       and not _indented_four(w.text, i))
        return ctx.limit if opens_block else None
    if holds_foreign_marker(w, i, close + 3):
        return None
    return close + 3


# ---------------------------------------------------------------- LaTeX only


def verb(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``\\verb|...|`` and ``\\lstinline|...|``: literal to the closing delimiter."""
    opened = _VERB.match(w.text, i, ctx.limit)
    if opened is None:
        return None
    delimiter = "}" if opened.group(1) == "{" else opened.group(1)
    close = w.text.find(delimiter, opened.end(), line_end(w.text, i))
    return opened.end() if close < 0 else close + 1


def verbatim_env(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``verbatim``, ``lstlisting``, ``minted``, ``Verbatim``, ``comment``: literal to their end."""
    opened = VERBATIM_ENVS.match(w.text, i, ctx.limit)
    if opened is None:
        return None
    closer = f"\\end{{{opened.group(1)}}}"
    close = w.text.find(closer, opened.end(), ctx.limit)
    return ctx.limit if close < 0 else close + len(closer)


# ---------------------------------------------------------------- markers of --in-place


def _marker_source(w: Walker, start: int, end: int, placement: Placement) -> list[Directive]:
    """Read the one directive a marker keeps; raises :class:`Problem`."""
    while start < end and w.text[start] in " \t":
        start += 1
    found = read_directive(w.text, start, end, placement)
    if found is None or w.text[found.end : end].strip():
        raise Problem(start, "a matdiff-tex marker must keep exactly one \\deriv, \\hessian or \\answer directive")
    return [found]


def _marker_region(w: Walker, start: int, end: int) -> list[Directive]:
    """Read the inline math region (``$...$``) a Markdown marker keeps."""
    text = w.text
    if text.startswith("$", start) and end - start >= 2 and text[end - 1] == "$":
        inner = (start + 1, end - 1)
    elif text.startswith("\\(", start) and text.startswith("\\)", end - 2):
        inner = (start + 2, end - 2)
    else:
        raise Problem(start, "a matdiff-tex marker must keep a directive or an inline math region")
    return w.collect(lambda: enter_math(w, inner, (start, end), "inline"))


def _unclosed(w: Walker, i: int, end: int, kind: str) -> int:
    """Record an opening marker that has no closing marker."""
    w.problem(i, DirectiveError(
        f"this matdiff-tex marker has no closing {kind} marker: restore it, or delete the "
        "marker and the expansion and write the directive again"))
    return end


def _closing(w: Walker, pattern: re.Pattern[str], opener: re.Pattern[str], start: int,
             limit: int) -> re.Match[str] | None:
    """The closing marker after ``start``: the first one outside code and other protected text,
    provided no other opening marker comes first (None: unclosed)."""
    pos = start
    while pos < limit:
        close = pattern.search(w.text, pos, limit)
        skip = None if close is None else w.protected_end(close.start())
        if skip is not None:
            pos = skip
            continue
        if opener.search(w.text, start, close.start() if close else limit) is not None:
            return None
        return close
    return None


def _mismatch(w: Walker, i: int, end: int, opener_id: str | None, close: re.Match[str]) -> int | None:
    """Record an opening marker whose closing marker holds another id; None when they belong together."""
    if opener_id is None or opener_id == close.group(1):
        return None
    w.problem(i, DirectiveError(
        f"this matdiff-tex marker ({opener_id}) is closed by the marker of another expansion "
        f"({close.group(1)}): its own closing marker is lost; restore it, or delete the marker and "
        "its expansion and write the directive again (nothing is rewritten until then)"))
    return end


def html_marker(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``<!-- matdiff-tex ID: SRC -->BODY<!-- /matdiff-tex ID -->`` in Markdown."""
    text = w.text
    opened = markers.HTML_OPEN.match(text, i, ctx.limit)
    if opened is None:
        return None
    open_end = markers.HTML_OPEN_END.search(text, opened.end(), ctx.limit)
    if open_end is None:
        return None
    close = _closing(w, markers.HTML_CLOSE, markers.HTML_OPEN, open_end.end(), ctx.limit)
    if close is None:
        return _unclosed(w, i, open_end.end(), "<!-- /matdiff-tex ... -->")
    mismatch = _mismatch(w, i, open_end.end(), opened.group(1), close)
    if mismatch is not None:
        return mismatch
    src = (opened.end(), open_end.start())
    region = text[src[0]:src[1]].lstrip(" \t").startswith(("$", "\\("))
    try:
        if region:
            found = _marker_region(w, *src)
            placement = Placement.INLINE
        else:
            placement = prose_placement(w, i, close.end())
            found = _marker_source(w, src[0], src[1], placement)
    except Problem as problem:
        w.problem(problem.offset, error_of(problem))
        return close.end()
    w.add_marker(MarkerBlock(MarkerStyle.HTML, i, close.end(), *src, open_end.end(), close.start(),
                             close.group(1), tuple(found), placement, region, opened.group(1)))
    return close.end()


def percent_marker(w: Walker, i: int, ctx: Ctx) -> int | None:
    """``% matdiff-tex ID: SRC`` ... ``% /matdiff-tex ID`` (and the one-line inline form)."""
    text = w.text
    opened = markers.PERCENT_OPEN.match(text, i, line_end(text, i) + 1)
    if opened is None:
        return None
    src = (opened.start(3), opened.end(3))
    open_end = line_end(text, i)
    if opened.group(1) is not None:
        if opened.group(2) is None:
            return None
        return _percent_inline(w, i, ctx, src, opened.group(2))
    close = _closing(w, markers.PERCENT_CLOSE, markers.PERCENT_OPEN, open_end, ctx.limit)
    if close is None:
        return _unclosed(w, i, open_end, "% /matdiff-tex ...")
    mismatch = _mismatch(w, i, open_end, opened.group(2), close)
    if mismatch is not None:
        return mismatch
    placement = Placement.DISPLAY if ctx.math is None else math_placement(ctx)
    try:
        found = _marker_source(w, src[0], src[1], placement)
    except Problem as problem:
        w.problem(problem.offset, error_of(problem))
        return close.end()
    if ctx.region is not None:
        region = ctx.region if placement is Placement.INLINE else None
        found = [dataclasses.replace(found[0], math_region=region, math_start=ctx.region[0])]
    w.add_marker(MarkerBlock(MarkerStyle.PERCENT, i, close.end(), *src, open_end, close.start(),
                             close.group(1), tuple(found), placement, opener_id=opened.group(2)))
    return close.end()


def _percent_inline(w: Walker, i: int, ctx: Ctx, src: tuple[int, int], stored: str) -> int:
    """``% matdiff-tex inline HASH: SRC`` then ``{BODY}`` on the next line."""
    text = w.text
    body = text.find("\n", i) + 1
    while 0 < body < ctx.limit and text[body] in " \t":
        body += 1
    end = _brace_end(text, body, ctx.limit) if 0 < body < ctx.limit and text[body] == "{" else -1
    if end < 0:
        w.problem(i, DirectiveError("expected the expansion in braces {...} on the line after this marker"))
        return line_end(text, i)
    try:
        found = _marker_source(w, src[0], src[1], Placement.PROSE)
    except Problem as problem:
        w.problem(problem.offset, error_of(problem))
        return end
    w.add_marker(MarkerBlock(MarkerStyle.PERCENT_INLINE, i, end, *src, body, end, stored,
                             tuple(found), Placement.PROSE, opener_id=stored))
    return end


def _brace_end(text: str, start: int, limit: int) -> int:
    """Offset just past the group ``{...}`` opening at ``start`` (-1: unclosed; escapes skipped)."""
    depth, i = 0, start
    while i < limit:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            return i + 1
        i += 1
    return -1


# ---------------------------------------------------------------- tables

MATH: Table = {
    "\\": (directive, begin_env, end_env, escape),
    "%": (percent_marker, line_comment),
}
MARKDOWN: Table = {
    "\\": (directive, bracket_math, env_math, escape),
    "`": (code_span,),
    "<": (html_marker, html_comment),
    "$": (dollar_display, dollar_inline),
}
LATEX: Table = {
    "\\": (directive, verb, verbatim_env, bracket_math, env_math, escape),
    "%": (percent_marker, line_comment),
    "$": (dollar_display, dollar_inline),
}
