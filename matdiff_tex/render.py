"""Writing a derivation out: the Jinja2 environment, the notes, and :func:`expand`.

Templates live in ``templates/`` (installed as ``matdiff_tex/templates``).  Their
delimiters cannot clash with LaTeX braces: ``<< var >>``, ``<% block %>``,
``<# comment #>``.  A user folder (``templates_dir``) is searched first, so it
overrides any single template; its ``notes.toml``, if any, overrides single notes.

A template is looked up as ``<format>/<placement>.j2`` and then
``common/<placement>.j2``; the placements are ``display``, ``prose``,
``aligned_block``, ``aligned_lines`` and ``inline``.  Templates get ``rows``
(each with ``lhs``, ``rhs`` and ``note`` text), ``lhs``, ``result``, ``layout``,
``layout_tag``, ``label``, ``lang``, ``kind``, ``f``, ``x`` and ``steps``.

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
from .options import ResolvedOptions
from .scan.model import Placement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:  # pragma: no cover
    from jinja2 import Environment

    from .derivation import Derivation, Row

_FORBIDDEN = re.compile(r"\{(?=[{#%])|\}(?=\})")


def templates_root() -> Path:
    """The built-in templates: inside the installed package, else the repository's ``templates/``."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "templates"


@dataclass(frozen=True, slots=True)
class RowView:
    """One row as the templates see it: note already in words, ``rhs`` wrapped into ``lines``."""

    lhs: str | None
    rhs: str
    note: str | None
    lines: tuple[str, ...] = ()


#: How wide a row may be, in rough math glyphs (see :func:`visual_width`), before its sum is
#: wrapped: about the text width of an 11pt article with 2.5 cm margins (and of a blog column).
WRAP_WIDTH = 56

_STYLE_MACROS = re.compile(r"\\(?:boldsymbol|mathbf|bm|mathrm|operatorname|text|left|right|vec|textcolor\{\w+\})")
_SCRIPT = re.compile(r"[_^]\{[^{}]*\}")
_FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
_BINARY = re.compile(r"\\otimes|\\odot|[+=-]")


def visual_width(latex: str) -> int:
    """A rough width of ``latex`` in math glyphs: a macro counts one, scripts a third, a fraction
    its wider part, a binary operator two (its spacing)."""
    text = _STYLE_MACROS.sub("", latex)
    for _ in range(3):
        text = _FRAC.sub(lambda m: max(m.group(1), m.group(2), key=len), text)
    operators = len(_BINARY.findall(text))
    text = _SCRIPT.sub(lambda m: "x" * max(1, len(m.group(0)) // 3), text)
    text = re.sub(r"\\[a-zA-Z]+", "x", text)
    text = re.sub(r"[{}\s]", "", text)
    return len(text) + operators


def note_width(note: str | None) -> int:
    """The width of ``\\Longrightarrow \\text{note}`` in the same units (text is narrower, CJK wider)."""
    if not note:
        return 0
    return 3 + round(sum(1.4 if ord(ch) > 0x2E80 else 0.6 for ch in note))


def wrap_terms(terms: Sequence[str], lead: int, note: str | None, width: int = WRAP_WIDTH) -> tuple[str, ...]:
    """Group a sum's terms into lines that fit ``width`` after the ``lead`` of the alignment column
    (the widest left-hand side); the last line also holds the note. A term too wide stays whole."""
    if not terms:
        return ()
    tail = note_width(note)
    if lead + sum(visual_width(t) for t in terms) + tail <= width:
        return (" ".join(terms),)
    lines: list[list[str]] = [[]]
    used = lead
    for term in terms:
        size = visual_width(term)
        if lines[-1] and used + size > width:
            lines.append([])
            used = lead + 4  # the \quad indent
        lines[-1].append(term)
        used += size
    if len(lines[-1]) > 1 and used + tail > width:  # the note does not fit: its line keeps the last term
        lines.append([lines[-1].pop()])
    return tuple(" ".join(group) for group in lines)


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


def note_text(key: str, args: Mapping[str, str], *, lang: str = "zh", templates_dir: str | None = None) -> str:
    """The note ``key`` in ``lang`` with its arguments filled in; InternalError if it is missing."""
    from jinja2 import TemplateError
    from jinja2.exceptions import SecurityError

    texts = notes_table(templates_dir)["notes"].get(lang, {})
    if key not in texts:
        raise InternalError(f"no {lang} text for the note {key!r}: add it to templates/notes.toml")
    try:
        return _safe(environment(templates_dir).from_string(texts[key]).render(**args))
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


def render_derivation(derivation: "Derivation", options: ResolvedOptions, placement: Placement, fmt: str,
                      kind: str = "deriv") -> str:
    """The text one directive becomes (lines joined by ``\\n``, no surrounding indentation)."""
    from jinja2 import TemplateError

    env = environment(options.templates_dir)
    selected = select_rows(derivation, options.steps)
    notes = [None if row.note is None else note_text(row.note, row.note_args, lang=options.lang,
                                                      templates_dir=options.templates_dir) for row in selected]
    lead = max(visual_width(row.lhs or "") for row in selected)  # aligned: every rhs starts after the widest lhs
    # A row that cannot wrap sets the block's width anyway: sums no wider than it stay whole.
    width = max([WRAP_WIDTH] + [lead + visual_width(row.rhs) + note_width(note)
                                for row, note in zip(selected, notes) if len(row.terms) <= 1])
    rows = [RowView(row.lhs, row.rhs, note, wrap_terms(row.terms or (row.rhs,), lead, note, width))
            for row, note in zip(selected, notes)]
    name = placement.value
    try:
        folder = flavor(options.flavor).templates
        template = env.select_template(([f"{folder}/{fmt}/{name}.j2"] if folder else [])
                                       + [f"{fmt}/{name}.j2", f"common/{name}.j2"])
        text = template.render(
            rows=rows, lhs=derivation.lhs_latex, result=derivation.result_latex, layout=derivation.layout,
            layout_tag=layout_tag(derivation.layout, options.lang, options.templates_dir),
            label=options.label, lang=options.lang, kind=kind, f=derivation.f_latex,
            x=derivation.x_latex, steps=options.steps,
        )
    except TemplateError as exc:
        raise ConfigError(f"template {fmt}/{name}.j2: {exc}") from None
    return _safe(text.strip("\n"))


def expand(kind: str, f: str, x: str, options: ResolvedOptions, placement: Placement, fmt: str) -> str:
    """Derive and write out one directive: the unit a cache can key on its (hashable) arguments."""
    from .engine import derive

    derivation = derive(f, x, layout=options.layout, shapes=options.shapes_dict(),
                        order=2 if kind == "hessian" else 1, symmetric=options.symmetric)
    return render_derivation(derivation, options, placement, fmt, kind)
