"""Writing a derivation out: the Jinja2 environment, the notes, and :func:`expand`.

Templates live in ``templates/`` (installed as ``matdiff_tex/templates``).  Their
delimiters cannot clash with LaTeX braces: ``<< var >>``, ``<% block %>``,
``<# comment #>``.  A user folder (``templates_dir``) is searched first, so it
overrides any single template; its ``notes.toml``, if any, overrides single notes.

A template is looked up as ``<format>/<placement>.j2`` and then
``common/<placement>.j2``; the placements are ``display``, ``prose``,
``aligned_block``, ``aligned_lines`` and ``inline``.  Templates get ``rows``
(each with ``lhs``, ``rhs`` and ``note`` text), ``lhs``, ``result``, ``layout``,
``layout_tag``, ``label``, ``lang``, ``kind``, ``f``, ``x``, ``steps`` and ``number`` (False:
an unnumbered display, ``number=false``).

``steps=full`` prints every row; ``brief`` keeps, of each chain of rows (a row
with its own left-hand side and the ``&=`` rows after it), the first and the last
row; ``none`` prints only ``lhs &= result``.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, InternalError
from .flavors import flavor
from .options import DEFAULT_WIDTH, ResolvedOptions
from .resources import templates_root
from .scan.model import Placement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:  # pragma: no cover
    from jinja2 import Environment

    from .derivation import Derivation, Row

_FORBIDDEN = re.compile(r"\{(?=[{#%])|\}(?=\})")


@dataclass(frozen=True, slots=True)
class RowView:
    """One row as the templates see it: note already in words, ``rhs`` wrapped into ``lines``."""

    lhs: str | None
    rhs: str
    note: str | None
    lines: tuple[str, ...] = ()
    #: a note too long for one line, cut into lines (the last row's layout tag included); else ()
    note_lines: tuple[str, ...] = ()


#: How wide a row may be by default, in rough math glyphs (see :func:`visual_width`), before it
#: is wrapped (the ``width`` option changes it).
WRAP_WIDTH = DEFAULT_WIDTH

_TOKEN = re.compile(r"\\[a-zA-Z]+|\\.|.", re.S)
_WRAPPERS = frozenset({"vec", "mathsf", "mathit", "mathcal", "mathbb"})
_BOLD = frozenset({"boldsymbol", "mathbf", "bm"})
BOLD = 1.15  # bold letters are wider
_WORDS = frozenset({"text", "mathrm", "operatorname"})
_SIZES = {"quad": 1.7, "qquad": 3.4, ",": 0.3, ";": 0.4, "!": 0.0, " ": 0.4, "Longrightarrow": 3.0,
          "otimes": 2.2, "odot": 2.2, "times": 2.2, "cdot": 1.2, "int": 1.4, "|": 0.5,
          "left": 0.0, "right": 0.0}
_FUNCTION_NAMES = frozenset({"log", "ln", "exp", "det", "sin", "cos", "tan", "tanh", "max", "min", "tr"})
_WIDE_CHARS = 1.7  # a CJK character in \text, in glyphs


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The tokens of the brace group (or single token) starting at ``i``, and the index after it."""
    if i >= len(tokens):
        return [], i
    if tokens[i] != "{":
        return [tokens[i]], i + 1
    depth, j = 0, i
    while j < len(tokens):
        depth += {"{": 1, "}": -1}.get(tokens[j], 0)
        if depth == 0:
            return tokens[i + 1 : j], j + 1
        j += 1
    return tokens[i + 1 :], len(tokens)


def _text_width(tokens: list[str]) -> float:
    """Text in ``\\text{...}``: letters 0.8, CJK characters 1.7, ``$...$`` measured as math."""
    width, math, inside = 0.0, [], False
    for token in tokens:
        if token == "$":
            if inside:
                width += _tokens_width(math)
                math = []
            inside = not inside
        elif inside:
            math.append(token)
        elif token not in "{} ":
            width += _WIDE_CHARS if ord(token[0]) > 0x2E80 else 0.8
        elif token == " ":
            width += 0.4
    return width


def _tokens_width(tokens: list[str]) -> float:
    width, i = 0.0, 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token in ("^", "_"):
            group, i = _group(tokens, i)
            width += 0.7 * _tokens_width(group)
        elif token == "\\frac":
            top, i = _group(tokens, i)
            bottom, i = _group(tokens, i)
            width += max(_tokens_width(top), _tokens_width(bottom)) + 0.4
        elif token == "\\textcolor":
            _, i = _group(tokens, i)
        elif token[1:] in _BOLD:
            group, i = _group(tokens, i)
            width += BOLD * _tokens_width(group)
        elif token[1:] in _WRAPPERS:
            pass  # the group that follows is measured as it comes
        elif token[1:] in _WORDS:
            group, i = _group(tokens, i)
            width += _text_width(group) if token == "\\text" else 0.8 * len("".join(group))
        elif token[1:] in _SIZES:
            width += _SIZES[token[1:]]
        elif token[1:] in _FUNCTION_NAMES:
            width += 0.8 * len(token[1:])
        elif token.startswith("\\"):
            width += 1.0
        elif token in "+-=<>":
            width += 2.2
        elif token in "()[]|,.;:":
            width += 0.6
        elif token in "{} &\n\t":
            pass
        elif ord(token) > 0x2E80:
            width += _WIDE_CHARS
        else:
            width += 1.0
    return width


def visual_width(latex: str) -> int:
    """A rough width of ``latex`` in math glyphs (an italic letter is 1; scripts count 0.7, a
    fraction its wider part, a binary operator with its spacing, text in ``\\text`` by its letters,
    CJK characters 1.7), calibrated against KaTeX in tests/test_seed_widths.py."""
    return round(_tokens_width(_TOKEN.findall(latex)))


def note_width(note: str | None) -> int:
    """The width of ``\\Longrightarrow \\text{note}`` in the same units."""
    if not note:
        return 0
    return 4 + round(_text_width(_TOKEN.findall(note)))


def _note_words(note: str) -> list[str]:
    """A note's text cut where a line may end: after a space, before a bracket (never in ``$...$``)."""
    words, current, math = [], "", False
    for ch in note:
        if ch == "$":
            math = not math
        if not math and ch in "（(" and current.strip():
            words.append(current)
            current = ""
        current += ch
        if not math and ch == " ":
            words.append(current)
            current = ""
    return [word for word in [*words, current] if word]


def note_parts(note: str, lead: int, width: int = WRAP_WIDTH) -> tuple[str, ...]:
    """A note on a line of its own, cut into as few lines as fit ``width`` after ``lead`` (the first
    follows ``\\quad \\Longrightarrow``, the others ``\\quad \\phantom{\\Longrightarrow}``), of
    widths as even as possible (in two lines, cut before a closing bracket such as the layout tag when
    it fits).  A word (or a formula) is never cut, so a line may still be too wide."""
    room = width - lead - 4 - 4  # the \quad indent and the arrow (or its phantom) with its spaces
    words = _note_words(note)
    count = len(words)

    def size(start: int, end: int) -> int:
        return round(_text_width(_TOKEN.findall("".join(words[start:end]).strip())))

    lines, first = 1, 0  # the fewest lines: greedy filling
    for at in range(count):
        if at > first and size(first, at + 1) > room:
            lines, first = lines + 1, at
    bracket = max((at for at, word in enumerate(words) if at and word.startswith(("（", "("))), default=0)
    if lines == 2 and bracket and size(0, bracket) <= room and size(bracket, count) <= room:
        return "".join(words[:bracket]).strip(), "".join(words[bracket:]).strip()  # the bracket (a layout tag) moves
    # the most even cut into that many lines: widest[k][end] = (its widest line, where its last line starts)
    widest = [[(0 if end == 0 else 1 << 30, 0) for end in range(count + 1)]]
    for k in range(1, lines + 1):
        row = [(1 << 30, 0)] * (count + 1)
        for end in range(1, count + 1):
            row[end] = min(((max(widest[k - 1][start][0], size(start, end)), start) for start in range(end)),
                           default=(1 << 30, 0))
        widest.append(row)
    cuts, end = [], count
    for k in range(lines, 0, -1):
        start = widest[k][end][1]
        cuts.append((start, end))
        end = start
    return tuple("".join(words[a:b]).strip() for a, b in reversed(cuts) if b > a)


def note_after(note: str, used: int, lead: int, width: int = WRAP_WIDTH) -> tuple[str, ...] | None:
    """A long note begun after an expression line that already takes ``used`` glyphs and continued
    on lines of its own (``\\quad \\phantom{\\Longrightarrow}``), when that fits; else None."""
    words = _note_words(note)
    first = 0
    while first < len(words) and used + 4 + round(_text_width(_TOKEN.findall("".join(words[: first + 1]).rstrip()))) <= width:
        first += 1
    opened = [at for at in range(first) if words[at].startswith(("（", "(")) and not any(
        close in "".join(words[at:first]) for close in "）)")]
    if opened:  # never inside a bracket (the layout tag): it moves to the next line whole
        first = opened[0]
    if first == 0 or first == len(words):
        return None
    rest = note_parts("".join(words[first:]), lead, width)
    if any(lead + 8 + round(_text_width(_TOKEN.findall(part))) > width for part in rest):
        return None
    return ("".join(words[:first]).strip(), *rest)


def wrap_terms(terms: Sequence[str], lead: int, note: str | None, width: int = WRAP_WIDTH) -> tuple[str, ...]:
    """Group a sum's terms into lines (see :func:`wrap_row`; each term may start a line)."""
    from .expr.writer import BREAK

    return wrap_row((" " + BREAK).join(terms), lead, note, width)


#: What a line break costs when wrapping a row: every line costs, a break inside parentheses
#: more for each level, a break between the factors of a product more than one at a + or ⊗.
BREAK_COST, DEPTH_COST, PRODUCT_COST, OVERFLOW_COST = 100, 70, 40, 10_000
SHORT_ROW = 12  # glyphs: an expression this short stays on one line
#: A product is not split where it would leave a few factors (``A dx``, ``K vec(dX)``, ``s^T``: at
#: most this many glyphs of the product) on one side of the break, unless nothing else fits: such
#: a break costs more than several extra lines (the note on a line of its own, a break at a sum),
#: less than any overflow.  A long product split between wide factors costs PRODUCT_COST.
SHORT_FACTORS, SHORT_FACTORS_COST = 12, 1_000


#: A derivation longer than this many lines (issue 7's target) may cut products next to a few factors
#: after all, in the rows nearest its result, when that saves lines (see :func:`render_derivation`).
ROW_BUDGET = 14


def wrap_row(marked: str, lead: int, note: str | None, width: int = WRAP_WIDTH,
             keep_products: bool = True) -> tuple[str, ...]:
    """Break a row written with break marks (:func:`matdiff_tex.expr.writer.to_latex_breakable`)
    into lines that fit ``width`` after the ``lead`` of the alignment column (the widest left-hand
    side); continuation lines are indented by a ``\\quad``, the last line also holds the note.

    The breaks are chosen together (dynamic programming): as few lines as possible, then breaks
    outside parentheses and at sums rather than inside products; a product is cut next to a few
    factors only when no other choice fits.  When giving the note a line of its own is cheaper than breaking the row
    for it, it gets one (the last line is then empty); a short expression is never cut.  A piece too
    wide for any line stays whole.  ``keep_products=False`` prices every cut in a product alike
    (PRODUCT_COST), for a derivation over its ROW_BUDGET."""
    pieces, marks, sizes = (list(part) for part in _measured(marked))
    if sum(sizes) <= SHORT_ROW:  # a short expression is never cut: the note moves instead
        pieces, marks, sizes = [" ".join(pieces)], [], [sum(sizes)]
    lines, cost = _pack(pieces, marks, sizes, lead, note_width(note), width, keep_products)
    if cost and note:
        alone, alone_cost = _pack(pieces, marks, sizes, lead, 0, width, keep_products)  # the note on a line of its own
        parts = note_parts(note, lead, width)  # the note's own lines
        alone_cost += BREAK_COST * len(parts) + OVERFLOW_COST * sum(
            max(0, lead + 8 + round(_text_width(_TOKEN.findall(part))) - width) for part in parts)
        if alone_cost < cost:
            return (*alone, "")
    return lines


@functools.lru_cache(maxsize=4096)
def _measured(marked: str) -> tuple[tuple[str, ...], tuple[tuple[int, bool], ...], tuple[int, ...]]:
    """A marked row's pieces, break marks and piece widths (measured once per process: a derivation
    shown in several forms writes the same rows with other notes and lead widths)."""
    from .expr.writer import break_points

    pieces, marks = break_points(marked)
    return tuple(pieces), tuple(marks), tuple(visual_width(piece) for piece in pieces)


def product_sides(marks: Sequence[tuple[int, bool]], sizes: Sequence[int]) -> list[int]:
    """For each break mark of :func:`matdiff_tex.expr.writer.break_points`: how wide the narrower of
    the two parts of the product it would split is (0 for a mark at a sum).  A product is the run of
    pieces around the mark joined by product marks at its depth (deeper marks are inside its
    factors); a sum at that depth or a mark outside its parentheses ends it."""
    def inside(other: tuple[int, bool], depth: int) -> bool:
        return other[0] > depth or (other[0] == depth and other[1])

    sides = []
    for at, (depth, product) in enumerate(marks):
        if not product:
            sides.append(0)
            continue
        first = at
        while first > 0 and inside(marks[first - 1], depth):
            first -= 1
        last = at + 1
        while last < len(marks) and inside(marks[last], depth):
            last += 1
        # mark k lies between pieces k and k + 1
        sides.append(min(sum(sizes[first : at + 1]), sum(sizes[at + 1 : last + 1])))
    return sides


def _pack(pieces: list[str], marks: list[tuple[int, bool]], sizes: list[int], lead: int, tail: int,
          width: int, keep_products: bool = True) -> tuple[tuple[str, ...], int]:
    """The cheapest lines for :func:`wrap_row` and what they cost."""
    count = len(pieces)
    sides = product_sides(marks, sizes)

    def line_cost(start: int, end: int) -> int:
        used = lead + (4 if start else 0) + sum(sizes[start:end]) + (tail if end == count else 0)
        return OVERFLOW_COST * (used - width) if used > width else 0

    def break_cost(at: int) -> int:
        depth, product = marks[at - 1]
        if product:
            extra = SHORT_FACTORS_COST if keep_products and sides[at - 1] <= SHORT_FACTORS else PRODUCT_COST
        else:
            extra = 0
        return BREAK_COST + DEPTH_COST * depth + extra

    best: list[tuple[int, int]] = [(0, -1)] + [(1 << 62, -1)] * count  # (cost, where the line starts)
    for end in range(1, count + 1):
        for start in range(end):
            cost = best[start][0] + line_cost(start, end) + (break_cost(start) if start else 0)
            if cost < best[end][0]:
                best[end] = (cost, start)
    cuts: list[int] = []
    end = count
    while end > 0:
        start = best[end][1]
        cuts.append(start)
        end = start
    bounds = sorted(cuts) + [count]
    return tuple(" ".join(pieces[a:b]) for a, b in zip(bounds, bounds[1:])), best[count][0]


# ---------------------------------------------------------------- environment and notes


@functools.lru_cache(maxsize=8)
def environment(templates_dir: str | None = None) -> "Environment":
    """The Jinja2 environment with LaTeX-safe delimiters; a user folder comes first.

    It is Jinja2's sandbox: a template folder may come from a repository's configuration
    file, which ``render --check`` reads in CI for a stranger's pull request, so a template
    can fill in values but never reach Python internals, files or processes.
    """
    from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loaders = [FileSystemLoader(str(templates_root()))]
    if templates_dir is not None:
        if not Path(templates_dir).is_dir():
            raise ConfigError(f"the templates folder {templates_dir} does not exist")
        loaders.insert(0, FileSystemLoader(templates_dir))
    return ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=StrictUndefined,
        autoescape=False,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse one notes file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the notes file {path}: {exc}") from None


@functools.lru_cache(maxsize=8)
def notes_table(templates_dir: str | None = None) -> dict[str, dict[str, dict[str, str]]]:
    """``{"notes": {lang: {key: text}}, "layout": {lang: {layout: text}}}``, user texts on top."""
    table = _read_toml(templates_root() / "notes.toml")
    user = Path(templates_dir) / "notes.toml" if templates_dir else None
    if user is not None and user.is_file():
        for section, by_lang in _read_toml(user).items():
            for lang, texts in by_lang.items():
                table.setdefault(section, {}).setdefault(lang, {}).update(texts)
    return table


def note_keys(lang: str = "zh", templates_dir: str | None = None) -> frozenset[str]:
    """The note keys that have a text in ``lang``."""
    return frozenset(notes_table(templates_dir)["notes"].get(lang, {}))


@functools.lru_cache(maxsize=1024)
def _note_template(templates_dir: str | None, source: str) -> Any:
    """A note's text compiled once per process (keyed on the text itself, so an edit is seen)."""
    return environment(templates_dir).from_string(source)


def note_text(key: str, args: Mapping[str, str], *, lang: str = "zh", templates_dir: str | None = None) -> str:
    """The note ``key`` in ``lang`` with its arguments filled in; InternalError if it is missing."""
    from jinja2 import TemplateError
    from jinja2.exceptions import SecurityError

    texts = notes_table(templates_dir)["notes"].get(lang, {})
    if key not in texts:
        raise InternalError(f"no {lang} text for the note {key!r}: add it to templates/notes.toml")
    try:
        return _safe(_note_template(templates_dir, texts[key]).render(**args))
    except SecurityError as exc:
        raise ConfigError(f"the {lang} note {key!r} of {templates_dir}/notes.toml is not allowed: {exc}") from None
    except TemplateError as exc:
        raise InternalError(f"the {lang} note {key!r} cannot be filled in: {exc}") from None


def layout_tag(layout: str, lang: str, templates_dir: str | None = None) -> str:
    """The words saying which layout a result is in, e.g. ``(分子布局)``."""
    return notes_table(templates_dir).get("layout", {}).get(lang, {}).get(layout, "")


# ---------------------------------------------------------------- rows


def select_rows(derivation: "Derivation", steps: str) -> list["Row"]:
    """The rows ``steps`` asks for (see the module docs)."""
    from .derivation import Row, chains

    rows = derivation.rows()
    if steps == "none" or not rows:
        return [Row(derivation.lhs_latex, derivation.result_latex, None, {}, "result")]
    if steps == "brief":
        return [row for chain in chains(rows) for row in (chain if len(chain) <= 2 else (chain[0], chain[-1]))]
    return rows


def _safe(text: str) -> str:
    """Break ``{{``, ``}}``, ``{#`` and ``{%`` apart, for Nunjucks and mkdocs-macros."""
    return _FORBIDDEN.sub(lambda m: m.group(0) + " ", text)


def _row_note(row: "Row", options: ResolvedOptions) -> str | None:
    """A row's note in words, with the names it introduces ("记 $s = ...$") after it."""
    def text(key: str, args: Mapping[str, str]) -> str:
        return note_text(key, args, lang=options.lang, templates_dir=options.templates_dir)

    parts = [] if row.note is None else [text(row.note, row.note_args)]
    parts += [text("define", {"name": name, "value": value}) for name, value in row.defines]
    return text("define_after", {}).join(parts) if parts else None


def render_derivation(derivation: "Derivation", options: ResolvedOptions, placement: Placement, fmt: str,
                      kind: str = "deriv") -> str:
    """The text one directive becomes (lines joined by ``\\n``, no surrounding indentation)."""
    selected = select_rows(derivation, options.steps)
    notes = [_row_note(row, options) for row in selected]
    lead = max(visual_width(row.lhs or "") for row in selected)  # aligned: every rhs starts after the widest lhs
    tag = layout_tag(derivation.layout, options.lang, options.templates_dir)
    measured = [*notes[:-1], ((notes[-1] or "") + tag) or None]  # the last row also carries the layout tag
    style = flavor(options.flavor)
    wrapped = [wrap_row(row.marked or row.rhs, lead, size, options.width) for row, size in zip(selected, measured)]
    extra, shorter = sum(map(len, wrapped)) - ROW_BUDGET, {}
    for at in reversed(range(len(selected))):  # over the budget: rows nearest the result may cut a product
        if extra <= 0:
            break
        loose = wrap_row(selected[at].marked or selected[at].rhs, lead, measured[at], options.width, keep_products=False)
        if len(loose) < len(wrapped[at]):
            extra -= len(wrapped[at]) - len(loose)
            shorter[at] = loose
    if extra <= 0:  # only when that brings the derivation within the budget
        wrapped = [shorter.get(at, lines) for at, lines in enumerate(wrapped)]
    rows = []
    for row, note, size, lines in zip(selected, notes, measured, wrapped):
        parts = note_parts(size, lead, options.width) if size and lines[-1] == "" else ()
        if len(parts) > 1:  # begun on the expression's last line, the note may need a line less
            used = lead + (4 if len(lines) > 2 else 0) + visual_width(lines[-2])
            after = note_after(size, used, lead, options.width)
            if after is not None and len(after) <= len(parts):
                lines, parts = lines[:-1], after
        rows.append(RowView(row.lhs, row.rhs, style.note(note), lines,
                            tuple(map(style.note, parts)) if len(parts) > 1 else ()))
    return _fill(derivation, rows, derivation.result_latex, options, placement, fmt, kind)


def _fill(derivation: "Derivation", rows: list[RowView], result: str, options: ResolvedOptions,
          placement: Placement, fmt: str, kind: str) -> str:
    """The template of ``placement`` filled with ``rows`` (and ``result`` for the inline forms)."""
    from jinja2 import TemplateError

    if fmt == "latex" and placement is Placement.DISPLAY and options.label and not options.number:
        raise ConfigError(f"label={options.label} needs a numbered equation: drop number=false or the label")
    env = environment(options.templates_dir)
    style = flavor(options.flavor)
    name = placement.value
    try:
        template = env.select_template(([f"{style.templates}/{fmt}/{name}.j2"] if style.templates else [])
                                       + [f"{fmt}/{name}.j2", f"common/{name}.j2"])
        text = template.render(
            rows=rows, lhs=derivation.lhs_latex, result=result, layout=derivation.layout,
            layout_tag=style.note(layout_tag(derivation.layout, options.lang, options.templates_dir)),
            label=options.label, lang=options.lang, kind=kind, f=derivation.f_latex,
            x=derivation.x_latex, steps=options.steps, number=options.number,
        )
    except TemplateError as exc:
        raise ConfigError(f"template {fmt}/{name}.j2: {exc}") from None
    return _safe(text.strip("\n"))


# ---------------------------------------------------------------- answers and hidden solutions

#: What an answer that was checked is stamped with (``\\checkmark`` needs amssymb in LaTeX).
STAMP = r"\quad \checkmark"
#: The blank a student fills in, and the height (em) kept free per row of the hidden derivation.
BLANK = r"\underline{\hspace{10em}}"
ROOM_PER_ROW = 2


def render_answer(derivation: "Derivation", claimed: str, options: ResolvedOptions, placement: Placement,
                  fmt: str) -> str:
    """An answer that was checked: ``\\frac{\\partial F}{\\partial X} = R`` as written, with a ✓."""
    shown = " ".join(claimed.split()) + " " + STAMP
    return _fill(derivation, [RowView(derivation.lhs_latex, shown, None, (shown,))], shown, options,
                 placement, fmt, "answer")


def render_question(derivation: "Derivation", options: ResolvedOptions, placement: Placement, fmt: str,
                    kind: str) -> str:
    """``solutions=hide``: the derivative to find and blank space where the solution would stand.

    Nothing of the solution is written: the blank is as tall as the rows it replaces."""
    rows = 0 if kind == "answer" else len(select_rows(derivation, options.steps)) - 1
    room = ROOM_PER_ROW * rows
    blank = BLANK + (rf" \rule[-{room}em]{{0pt}}{{{room}em}}" if room and placement is not Placement.INLINE
                     and placement is not Placement.PROSE else "")
    return _fill(derivation, [RowView(derivation.lhs_latex, blank, None, (blank,))], BLANK, options,
                 placement, fmt, kind)


def expand(kind: str, f: str, x: str, options: ResolvedOptions, placement: Placement, fmt: str) -> str:
    """Derive and write out one directive: the unit a cache can key on its (hashable) arguments.

    An ``\\answer`` (``options.claimed`` holds its R) is graded first: a wrong R is an error."""
    derivation = derived(2 if kind == "hessian" else 1, f, x, options.layout, options.shapes, options.symmetric,
                         options.functions, options.where, options.method, options.vech)
    if kind == "answer":
        from .check.answer import grade_answer

        grade_answer(f, x, options.claimed or "", layout=options.layout, shapes=options.shapes_dict(),
                     symmetric=options.symmetric, correct=derivation.result_latex,
                     assumptions=bool(options.functions or options.where))
    if options.solutions == "hide":
        return render_question(derivation, options, placement, fmt, kind)
    if kind == "answer":
        return render_answer(derivation, options.claimed or "", options, placement, fmt)
    return render_derivation(derivation, options, placement, fmt, kind)


@functools.lru_cache(maxsize=256)
def derived(order: int, f: str, x: str, layout: str, shapes: tuple[Any, ...], symmetric: tuple[str, ...],
            functions: tuple[tuple[str, str], ...], where: tuple[str, ...], method: str,
            vech: Any) -> "Derivation":
    """The checked derivation of a directive, computed once per process for all the directives that
    differ only in how it is written out (steps, lang, placement, label, templates, an answer or a
    hidden solution): a note or a site that shows one derivative in several forms derives and checks
    it once.  A failure is not remembered (it is raised again, and reported at each directive)."""
    from .engine import derive

    return derive(f, x, layout=layout, shapes=dict(shapes) or None, order=order, symmetric=symmetric,
                  functions=dict(functions) or None, where=where, vech=vech, method=method)
