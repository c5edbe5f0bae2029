"""Processing a whole document: scan, resolve options, expand, splice, report every error.

:func:`process_document` never stops at the first error: it collects all of them,
each placed at ``path:line:col`` of the original file (front matter included,
columns 1-based), and then returns the text unchanged, so a caller that writes
files writes nothing.  Text outside directives is kept byte for byte: the BOM, CRLF
line ends (expansions use the line end of the line they stand on), tabs, trailing
spaces.  An expansion spanning several lines repeats the container prefix of its
line (indentation, blockquote ``>``, a list item's indentation) on every line.

Where a directive stands decides what it becomes (SPEC section 2):

* alone on its line (after a list marker, ``>``, or ``\\item`` at most): a display
  block, ``$$``/``equation`` in Markdown, a bare ``equation`` environment in LaTeX;
* in running text with other words on its line: the inline result in ``$...$``;
* inside display math: an ``aligned`` block; inside ``aligned``/``align``/``split``:
  only the lines; inside inline math: ``\\frac{\\partial F}{\\partial X} = R``.
  ``label=`` is only allowed where a display block is written.

``markers=True`` is ``--in-place``: each expansion keeps its source in marker
comments so the next run can refresh it (formats in :mod:`matdiff_tex.scan.markers`):

* Markdown, running text: ``<!-- matdiff-tex: \\deriv<F><X> -->`` before and
  ``<!-- /matdiff-tex HASH -->`` after the expansion;
* Markdown, inline math: HTML comments cannot stand inside ``$...$``, and a TeX
  ``%`` comment would push the closing ``$`` onto a new line, which Markdown math
  rejects; so the markers wrap the whole inline math region, keeping its source
  (``<!-- matdiff-tex: $y = \\deriv<F><X>$ -->$y = ...$<!-- /matdiff-tex HASH -->``);
* display math (Markdown or LaTeX) and LaTeX display blocks: ``% matdiff-tex:`` and
  ``% /matdiff-tex HASH`` lines, TeX comments that MathJax, KaTeX and LaTeX ignore;
  text that followed the directive on its line moves to the next line;
* LaTeX running text: ``% matdiff-tex inline HASH: \\deriv<F><X>`` and, on the
  next line, the expansion in a brace group ``{$...$}`` (a comment eats its line
  end, so this keeps TeX's spacing exactly).

A second run changes nothing; an edited directive (inside the opening marker) is
re-expanded; an expansion edited by hand (its hash no longer matches) is an error
unless ``force=True``; an emptied expansion is simply written again.  Without
``markers`` a marker block found in the input is replaced by the plain expansion.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, DirectiveError, InternalError, LimitError, MatdiffError
from .flavors import flavor
from .limits import DirectiveTimeout, seconds, time_limit
from .options import DIRECTIVE_KEYS, ResolvedOptions, check_items, resolve, site_options
from .scan import markers as marker_text
from .scan.model import Directive, MarkerBlock, MarkerStyle, Placement, ScanResult
from .scan.text import BOM, LineIndex, continuation, line_end, line_prefix, line_start, newline_at, rest_is_blank
from .results import FORMATS, DocumentResult, code_notices, quick_result, stored_result

if TYPE_CHECKING:  # pragma: no cover
    from .cache import Cache

Expander = Callable[[str, str, str, ResolvedOptions, Placement, str], str]
NOTEBOOK_FORMATS = ("notebook", "ipynb")  # Jupyter: the Markdown cells (matdiff_tex.notebook)
_FORBIDDEN_PAIRS = ("{{", "}}", "{#", "{%")
_BREAK_IN_QUOTE = re.compile(r"[ \t]*\r?\n[ \t>]*")
#: Errors (and warnings) listed per file; the rest are counted in one more line.
MAX_ERRORS_PER_FILE = 50


def default_expander() -> Expander:
    """The real expander (imported only when a directive is met).

    The engine's heavy dependencies are loaded here, before any directive's time limit is armed:
    a limit that fired in the middle of importing numpy or sympy would leave a half-initialised
    extension module behind ("cannot load module more than once per process") and break every
    later directive of the process.
    """
    import numpy  # noqa: F401
    import sympy  # noqa: F401

    from . import engine  # noqa: F401
    from .check import verify, verify_steps  # noqa: F401
    from .render import expand

    return expand


# ---------------------------------------------------------------- the run


class _Run:
    """State of one document run: the text, options, expander and collected errors."""

    def __init__(self, text: str, fmt: str, path: str | None, site: dict[str, Any],
                 expander: Expander | None, force: bool, strict: bool = False,
                 cache: "Cache | None" = None) -> None:
        self.text, self.fmt, self.path, self.site, self.force = text, fmt, path, site, force
        self.strict = strict
        self.warnings: list[tuple[int, MatdiffError]] = []
        self._expander = expander
        self.disk = cache if expander is None else None  # a caller's own expander is never cached
        self.index = LineIndex.of(text)
        self.errors: list[tuple[int, MatdiffError]] = []
        self.front: dict[str, Any] = {}
        self.count = 0
        self.flavor = flavor(None)  # the document's output flavour, set once its front matter is read
        self._cache: dict[tuple[Any, ...], str] = {}
        self.volatile = False  # an error that another run may not meet (a time limit, a crash): not cached
        self.taken_after: dict[int, int] = {}  # unit start -> characters after its end it also replaced

    # -------------------------------------------------------------- errors

    def fail(self, offset: int, error: MatdiffError) -> None:
        """Record ``error`` at ``offset`` of the text."""
        self.errors.append((offset, error))

    def located(self, which: list[tuple[int, MatdiffError]] | None = None) -> list[MatdiffError]:
        """Every error (or warning) placed at path:line:col, in file order."""
        placed = []
        ordered = sorted(self.errors if which is None else which, key=lambda item: item[0])
        for offset, error in ordered[:MAX_ERRORS_PER_FILE]:
            line, col, source = self.index.locate(offset)
            placed.append(error.located(path=self.path, line=line, col=col, source_line=source))
        if len(ordered) > MAX_ERRORS_PER_FILE:
            rest = ordered[MAX_ERRORS_PER_FILE:]
            line, col, _ = self.index.locate(rest[0][0])
            kind = "errors" if which is None else "warnings"
            more = type(rest[0][1])(f"... and {len(rest)} more {kind} in this file, not shown (the first "
                                    f"{MAX_ERRORS_PER_FILE} are above)")
            more.counts = len(rest)
            placed.append(more.located(path=self.path, line=line, col=col))
        return placed

    # -------------------------------------------------------------- one directive

    def options_for(self, directive: Directive) -> ResolvedOptions | None:
        """The directive's resolved options (None after recording its errors)."""
        values, problems = check_items(directive.options, DIRECTIVE_KEYS)
        for offset, message in problems:
            self.fail(offset, DirectiveError(message))
        if "label" in values and directive.placement is not Placement.DISPLAY:
            label_at = next(item.key_offset for item in directive.options if item.key == "label")
            self.fail(label_at, DirectiveError(
                "label= needs a display block (a directive alone on its line); inside math or "
                "running text put \\label{...} in your own environment"))
            return None
        if problems:
            return None
        resolved = resolve(values, self.front, self.site)
        return resolved if directive.answer is None else replace(resolved, claimed=directive.answer)

    def expand(self, directive: Directive) -> str | None:
        """The expansion of one directive (None after recording its error)."""
        options = self.options_for(directive)
        if options is None:
            return None
        self.guesses(directive, options)
        key = (directive.kind, directive.f, directive.x, options, directive.placement, self.fmt)
        if key in self._cache:
            self.count += 1
            return self._cache[key]
        disk_key = self.disk.expansion_key(*key) if self.disk is not None else None
        if disk_key is not None and (stored := self.disk.get(disk_key)) is not None:
            if not stored.startswith(_FAILURE):
                self.count += 1
                self._cache[key] = stored
                return stored
            if (failure := _failure_restored(stored)) is not None:  # it failed before, same package and templates
                self.fail(self._error_offset(directive, failure), failure)
                return None
            # a failure entry that does not read: computed (and stored) again
        expander = self._expander or default_expander()
        try:
            with time_limit():
                expansion = expander(*key)
        except DirectiveTimeout:
            self.volatile = True
            self.fail(directive.start, LimitError(
                f"this directive took longer than {seconds():g} s of CPU time (MATDIFF_TEX_TIME_LIMIT, or "
                "render --time-limit) and was stopped; split it into smaller directives"))
            return None
        except MatdiffError as error:
            self.fail(self._error_offset(directive, error), error)
            if disk_key is not None:
                self.disk.put(disk_key, _failure_stored(error))
            return None
        except Exception as error:  # a bug: report it at the directive rather than crash the run
            self.volatile = True
            self.fail(directive.start, InternalError(f"{type(error).__name__}: {error}"))
            return None
        self.count += 1
        self._cache[key] = expansion
        if disk_key is not None:
            self.disk.put(disk_key, expansion)
        return expansion

    def guesses(self, directive: Directive, options: ResolvedOptions) -> None:
        """Record the readings of F that are probably not what was meant (errors when strict)."""
        from .expr.reader import read_derivative_input
        from .expr.shapes import symbol_key

        # read as derive() reads it (same symmetric names and function kinds): the reader remembers
        # this reading, so the derivation that follows does not read the directive again
        names = frozenset(symbol_key(name) for name in options.symmetric)
        kinds = {symbol_key(name): kind for name, kind in options.functions}
        try:
            warnings = read_derivative_input(directive.f, directive.x, options.shapes_dict(), names, kinds).warnings
        except MatdiffError:
            return  # the expansion reports it
        for warning in warnings:
            offset = self._error_offset(directive, warning)
            if self.strict:
                self.fail(offset, warning.as_error())
            else:
                self.warnings.append((offset, warning))

    @staticmethod
    def _error_offset(directive: Directive, error: MatdiffError) -> int:
        """Where an engine error points: inside F or X when it says so, at the value of the option it
        names (``where=``), else the directive."""
        option = error.option
        item = next((item for item in directive.options if item.key == option), None) if option else None
        if item is not None:
            return item.value_offset
        if error.field in ("F", "X", "R") and error.span is not None:
            base, content = {"F": (directive.f_start, directive.f), "X": (directive.x_start, directive.x),
                             "R": (directive.answer_start, directive.answer)}[error.field]
            if base is not None and content is not None:
                return base + min(max(error.span[0], 0), max(len(content) - 1, 0))
        return directive.start

    # -------------------------------------------------------------- layout

    def prefix(self, at: int, math_start: int | None = None) -> str:
        """The continuation prefix of the line at ``at``.

        Inside math it is the container prefix of the line where the math region begins (a
        blockquote's ``>``, a list item's indentation) and the indentation after it, never what
        the line's own text happens to start with: text moved to a line of its own by a marker
        must not become a container prefix on the next run.
        """
        if math_start is None:
            return continuation(line_prefix(self.text, at, self.fmt), self.fmt)
        container = continuation(line_prefix(self.text, math_start, self.fmt), self.fmt)
        head = self.text[line_start(self.text, at):at].removeprefix(BOM)
        if not head.startswith(container):
            return container
        rest = head[len(container):]
        return container + rest[: len(rest) - len(rest.lstrip(" \t"))]

    def place(self, expansion: str, at: int, math_start: int | None = None) -> str:
        """``expansion`` with the line end and the continuation prefix of the line at ``at``."""
        prefix = self.prefix(at, math_start)
        newline = newline_at(self.text, at)
        first, *rest = expansion.split("\n")
        return first + "".join(newline + (prefix + line if line.strip() else prefix.rstrip()) for line in rest)

    def region_text(self, region: tuple[int, int], inside: list[Directive]) -> str | None:
        """An inline math region with each directive in it expanded."""
        pieces, pos, ok = [], region[0], True
        for directive in inside:
            expansion = self.expand(directive)
            ok = ok and expansion is not None
            pieces += [self.text[pos:directive.start], self.place(expansion or "", directive.start, directive.math_start)]
            pos = directive.end
        pieces.append(self.text[pos:region[1]])
        return "".join(pieces) if ok else None


# ---------------------------------------------------------------- units


@dataclass(frozen=True, slots=True)
class _Unit:
    """A span of the text to replace and what was found there."""

    start: int
    end: int
    directives: tuple[Directive, ...]
    region: tuple[int, int] | None = None  # a Markdown inline math region (markers, hexo flavour)
    marker: MarkerBlock | None = None


def _units(scan: ScanResult, fmt: str, whole_regions: bool) -> list[_Unit]:
    """Group directives into the spans to replace (``whole_regions``: a Markdown inline math
    region with directives is one unit, for markers and for the hexo flavour's raw guard)."""
    units: list[_Unit] = []
    regions: dict[tuple[int, int], list[Directive]] = {}
    for directive in scan.directives:
        if whole_regions and fmt == "markdown" and directive.math_region is not None:
            regions.setdefault(directive.math_region, []).append(directive)
        else:
            units.append(_Unit(directive.start, directive.end, (directive,)))
    units += [_Unit(*region, tuple(found), region) for region, found in regions.items()]
    for block in scan.markers:
        region = (block.source_start, block.source_end) if block.region else None
        units.append(_Unit(block.start, block.end, block.directives, region, block))
    return sorted(units, key=lambda unit: unit.start)


def _source(run: _Run, unit: _Unit) -> str:
    """The text a marker keeps for ``unit``: the directive, or the inline math region."""
    if unit.region is not None:
        return run.text[unit.region[0]:unit.region[1]]
    directive = unit.directives[0]
    return run.text[directive.start:directive.end]


def _check_hand_edit(run: _Run, block: MarkerBlock) -> bool:
    """False (after recording an error) when the expansion was edited since it was written.

    ``force`` rewrites an edited expansion only when its opening marker holds an id (the pair
    is then certainly one expansion); a marker written before ids is never forced.
    """
    body = run.text[block.body_start:block.body_end]
    if not body.strip(" \t\r\n{}") or marker_text.hash_matches(body, block.stored_hash):
        return True
    if run.force and block.opener_id is not None:
        return True
    hint = ("delete the expansion between the markers to have it written again (this marker was "
            "written by an older matdiff-tex, so force does not rewrite it)" if run.force else
            "delete the expansion between the markers (or use force) to write it again")
    run.fail(block.start, DirectiveError(
        "the expansion after this matdiff-tex marker was edited by hand: put the change into the "
        f"directive, or {hint}"))
    return False


def _plain(run: _Run, unit: _Unit) -> str | None:
    """What ``unit`` becomes without markers."""
    if unit.region is not None:
        return run.region_text(unit.region, list(unit.directives))
    expansion = run.expand(unit.directives[0])
    return None if expansion is None else run.place(expansion, unit.start, unit.directives[0].math_start)


_LEADING_BLANKS = re.compile(r"(?m)(?<=\n)[ \t]+")


def _unindent_after_line_start_marker(run: _Run, start: int, body: str) -> str:
    """``body`` with its later lines indented no deeper than the marker's own line.

    An opening HTML marker that starts its line (in Markdown) is an HTML block of its own, which
    ends at its ``-->``: the text after it no longer continues a paragraph, so a continuation
    line indented four columns deeper would become an indented code block and hide the closing
    marker on the next run.  A paragraph's continuation indentation does not change how it
    renders, and the marker's hash is blind to it, so it is cut back to the marker line's.
    """
    if run.fmt != "markdown" or "\n" not in body:
        return body
    head = run.text[line_start(run.text, start):start]
    if head.strip(" \t"):
        return body
    return _LEADING_BLANKS.sub(lambda m: head if len(m.group(0).expandtabs(4)) > len(head.expandtabs(4)) else m.group(0),
                               body)


def _line_after_becomes_code(run: _Run, unit: _Unit) -> int | None:
    """The offset of the line after ``unit`` when markers would turn it into an indented code block.

    An opening HTML marker that starts its line is an HTML block (CommonMark), so the next line no
    longer continues the paragraph: a line indented four columns deeper than the marker's would
    be read as code from then on (shown as code, and its directives no longer seen by the next
    run).  The author's line is not ours to re-indent, so the directive is refused instead.
    """
    if run.fmt != "markdown":
        return None
    head = run.text[line_start(run.text, unit.start):unit.start]
    if head.strip(" \t"):
        return None
    after = run.text.find("\n", unit.end)
    if after < 0:
        return None
    nxt = after + 1
    line = run.text[nxt:line_end(run.text, nxt)]
    if not line.strip():
        return None
    lead = line[:len(line) - len(line.lstrip(" \t"))]
    if len(lead.expandtabs(4)) >= len(head.expandtabs(4)) + 4:
        return nxt
    return None


def _marked(run: _Run, unit: _Unit) -> str | None:
    """What ``unit`` becomes with markers around it (``--in-place``)."""
    for directive in unit.directives:
        if _hidden_answer(run, directive):
            run.fail(directive.answer_start or directive.start, DirectiveError(
                "with solutions=hide this answer would be kept in its marker comment (--in-place keeps each "
                "directive's source), where a student can read it: write the student's copy with -o instead"))
            return None
    source = _source(run, unit)
    html = unit.region is not None or _style(run.fmt, unit.directives[0].placement) is MarkerStyle.HTML
    code_after = _line_after_becomes_code(run, unit) if html and unit.marker is None else None
    if code_after is not None:
        run.fail(code_after, DirectiveError(
            "this line continues the paragraph of the directive above and is indented four columns or more: "
            "after the directive's marker (--in-place) it would read as an indented code block; put a blank "
            "line before it or indent it less"))
        return None
    if "-->" in source and (unit.region is not None or _style(run.fmt, unit.directives[0].placement)
                            is MarkerStyle.HTML):
        run.fail(unit.start + source.index("-->") if unit.marker is None else unit.marker.source_start,
                 DirectiveError("with markers (--in-place) this text is kept in an HTML comment, which "
                                "'-->' would end: write '- ->' or '\\to' instead"))
        return None
    if unit.region is not None:
        body = run.region_text(unit.region, list(unit.directives))
        if body is None:
            return None
        body = _unindent_after_line_start_marker(run, unit.start, body)
        return marker_text.html_open(source, body) + body + marker_text.html_close(body)
    directive = unit.directives[0]
    expansion = run.expand(directive)
    if expansion is None:
        return None
    newline = newline_at(run.text, unit.start)
    prefix = run.prefix(unit.start, directive.math_start)
    lines = run.place(expansion, unit.start, directive.math_start)
    style = _style(run.fmt, directive.placement)
    if "\n" in source and style is not MarkerStyle.HTML:
        run.fail(directive.start, DirectiveError(
            "with markers (--in-place) a directive in math or LaTeX must fit on one line"))
        return None
    if style is MarkerStyle.PERCENT and run.fmt == "markdown" and run.flavor.name == "pandoc":
        run.fail(directive.start, DirectiveError(
            "with --in-place and the pandoc flavour a directive inside $$...$$ cannot keep its source: "
            "pandoc's HTML writer wraps the % marker line, which spills the directive into the math; "
            "put the directive on a line of its own (it becomes an equation block), or render with -o"))
        return None
    if style is MarkerStyle.HTML:
        if directive.placement is Placement.DISPLAY:
            body = newline + prefix + lines + newline + prefix
        else:
            body = _unindent_after_line_start_marker(run, unit.start, lines)
        return marker_text.html_open(source, body) + body + marker_text.html_close(body)
    if style is MarkerStyle.PERCENT_INLINE:
        body = "{" + lines + "}"
        return marker_text.percent_inline(source, body) + newline + prefix + body
    body = newline + prefix + lines + newline + prefix
    tail = ""
    if not rest_is_blank(run.text, unit.end):
        # The rest of the line moves to a line of its own; blanks that led it stay on the marker's
        # line, so that the new line starts with the same prefix on every later run.
        blanks = _leading_blanks(run.text, unit.end)
        run.taken_after[unit.start] = blanks
        tail = run.text[unit.end:unit.end + blanks] + newline + run.prefix(unit.start)
    return marker_text.percent_open(source, body) + body + marker_text.percent_close(body) + tail


def _hidden_answer(run: _Run, directive: Directive) -> bool:
    """Whether ``directive`` is an ``\\answer`` whose solution is to be hidden."""
    if directive.answer is None:
        return False
    values, problems = check_items(directive.options, DIRECTIVE_KEYS)
    return not problems and resolve(values, run.front, run.site).solutions == "hide"


def _leading_blanks(text: str, offset: int) -> int:
    """How many spaces and tabs stand at ``offset``."""
    end = offset
    while end < len(text) and text[end] in " \t":
        end += 1
    return end - offset


def _hexo_raw(run: _Run, unit: _Unit, replacement: str) -> str:
    """``replacement`` in Hexo ``{% raw %}`` (the ``hexo`` flavour); on one line in a blockquote,
    whose ``>`` markers would otherwise be kept inside the raw block."""
    if ">" in line_prefix(run.text, unit.start, run.fmt):
        replacement = _BREAK_IN_QUOTE.sub(" ", replacement)
    return flavor("hexo").guard(replacement)


def _style(fmt: str, placement: Placement) -> MarkerStyle:
    """Which marker form a directive standing at ``placement`` gets."""
    if fmt == "markdown":
        return MarkerStyle.HTML if placement in (Placement.DISPLAY, Placement.PROSE) else MarkerStyle.PERCENT
    return MarkerStyle.PERCENT_INLINE if placement is Placement.PROSE else MarkerStyle.PERCENT


def _guard(text: str, start: int, end: int, replacement: str) -> str:
    """Pad ``replacement`` with a space where it would form ``{{``, ``}}``, ``{#`` or ``{%`` with its neighbours."""
    if replacement and start > 0 and text[start - 1] + replacement[0] in _FORBIDDEN_PAIRS:
        replacement = " " + replacement
    if replacement and end < len(text) and replacement[-1] + text[end] in _FORBIDDEN_PAIRS:
        replacement += " "
    return replacement


# ---------------------------------------------------------------- API


def process_document(
    text: str,
    fmt: str,
    *,
    path: str | None = None,
    options: Mapping[str, Any] | None = None,
    markers: bool = False,
    expander: Expander | None = None,
    force: bool = False,
    strict: bool = False,
    cache: "Cache | None" = None,
) -> DocumentResult:
    """Expand every directive of ``text`` (``"markdown"`` or ``"latex"``); collect all errors.

    With a ``cache`` (:mod:`matdiff_tex.cache`), a note already rendered with the same text and
    options is read back whole, and each directive's expansion is looked up before it is derived.
    """
    if fmt in NOTEBOOK_FORMATS:
        from .notebook import process_notebook

        return process_notebook(text, path=path, options=options, markers=markers, expander=expander,
                                force=force, strict=strict, cache=cache)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use 'markdown', 'latex' or 'notebook'")
    fmt = FORMATS[fmt]
    try:
        site = site_options(options)
    except ConfigError as error:
        located = copy.copy(error)
        located.path = path
        return DocumentResult(text, [located])
    quick = quick_result(text, fmt, path=path, options=options, markers=markers, force=force, strict=strict,
                         cache=cache if expander is None else None)
    if quick is not None:
        return quick
    disk = cache if expander is None else None
    document_key = disk.document_key(text, fmt, site, markers, (force, strict)) if disk is not None else None
    from .scan import scan

    scanned = scan(text, fmt, markdown=site.get("markdown", "commonmark"))
    run = _Run(text, fmt, path, site, expander, force, strict, disk)
    run.front = scanned.front_matter
    notices = _skipped_notices(run, scanned)
    for offset, error in scanned.problems:
        run.fail(offset, error)
    run.flavor = flavor(scanned.front_matter.get("flavor", site.get("flavor")))  # type: ignore[arg-type]
    guard = not markers and fmt == "markdown" and run.flavor.raw_guard
    pieces, pos = [], 0
    for unit in _units(scanned, fmt, markers or guard):
        if unit.marker is not None and not _check_hand_edit(run, unit.marker):
            continue
        replacement = (_marked if markers else _plain)(run, unit)
        if replacement is None:
            continue
        if guard:
            replacement = _hexo_raw(run, unit, replacement)
        end = unit.end + run.taken_after.get(unit.start, 0)
        pieces += [text[pos:unit.start], _guard(text, unit.start, end, replacement)]
        pos = end
    pieces.append(text[pos:])
    guessed = run.located(run.warnings)
    if run.errors:
        located = run.located()
        if document_key is not None and not run.volatile:  # the same errors, file:line:col, next time
            disk.put(document_key, stored_result(run.count, text, guessed, notices, located))
        return DocumentResult(text, located, run.count, warnings=guessed, notices=notices)
    new_text = "".join(pieces)
    if document_key is not None:
        disk.put(document_key, stored_result(run.count, new_text, guessed, notices))
        if markers and new_text != text and not guessed and not notices:  # --in-place is idempotent:
            # the next --check of the written note finds it current (messages would sit elsewhere)
            disk.put(disk.document_key(new_text, fmt, site, markers, (force, strict)),
                     stored_result(run.count, new_text, guessed, notices))
    return DocumentResult(new_text, [], run.count, new_text != text, guessed, notices)


def _skipped_notices(run: _Run, scanned: ScanResult) -> list[MatdiffError]:
    """A located note for every directive left alone because it stands in code."""
    return code_notices(run.text, run.path, run.index, scanned.skipped, scanned.in_container)


_FAILURE = "\0matdiff-tex failure\n"  # no expansion starts with a NUL character


def _failure_stored(error: MatdiffError) -> str:
    """A directive's error as an expansion entry: its class, message and place in F or X."""
    import json

    return _FAILURE + json.dumps([type(error).__name__, error.message, error.field,
                                  list(error.span) if error.span is not None else None, error.option],
                                 ensure_ascii=False)


def _failure_restored(stored: str) -> MatdiffError | None:
    """The error of a failure entry; None when it does not read."""
    import json

    from . import errors

    try:
        kind, message, field_, span, *option = json.loads(stored[len(_FAILURE):])
        error_class = getattr(errors, kind)
        if not (isinstance(error_class, type) and issubclass(error_class, MatdiffError)):
            raise TypeError(kind)
        error = error_class(message, field=field_, span=tuple(span) if span is not None else None)
        error.option = option[0] if option else None
        return error
    except (ValueError, TypeError, AttributeError):
        return None


def process_body(body: str, fmt: str, *, front_matter: str = "", **kwargs: Any) -> DocumentResult:
    """:func:`process_document` for a page whose front matter a site generator has cut off (MkDocs,
    Hexo): it is put back in front, so its ``matdiff:`` key applies and error lines count it,
    and cut off the result again."""
    result = process_document(front_matter + body, fmt, **kwargs)
    if result.errors:
        return DocumentResult(body, result.errors, result.directives, warnings=result.warnings,
                              notices=result.notices)
    if not result.text.startswith(front_matter):  # front matter is never touched; guard anyway
        raise InternalError("the front matter changed while expanding")
    text = result.text[len(front_matter):]
    return DocumentResult(text, [], result.directives, text != body, result.warnings, result.notices)


def combined_error(errors: list[MatdiffError]) -> MatdiffError:
    """The first error, whose message (and ``str``) lists every error; ``.errors`` holds them all."""
    first = errors[0]
    combined = copy.copy(first)
    combined.errors = list(errors)  # type: ignore[attr-defined]
    if len(errors) > 1:
        bare = copy.copy(first)
        bare.message, bare.source_line = "", None
        full = "\n".join(error.format() for error in errors)
        combined.message = full[len(bare.format()):] if first.line is not None else full
        combined.source_line = None
        combined.args = (full,)
    return combined


def render_text(text: str, fmt: str = "markdown", **options: Any) -> str:
    """Expand every directive of a document held in memory; MatdiffError (all messages) on failure.

    Besides the directive options (``layout``, ``steps``, ``lang``, ``shapes``,
    ``templates_dir``) it takes ``path``, ``markers``, ``force``, ``expander`` and ``strict``
    as :func:`process_document` does; without ``strict`` a guessed reading is a Python warning.
    """
    keywords = {key: options.pop(key) for key in ("path", "markers", "force", "expander", "strict")
                if key in options}
    result = process_document(text, fmt, options=options, **keywords)
    if result.errors:
        raise combined_error(result.errors)
    for warning in result.warnings:
        warnings.warn(warning.format(), stacklevel=2)
    return result.text
