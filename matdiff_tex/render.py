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
    """One line as the templates see it: note already in words."""

    lhs: str | None
    rhs: str
    note: str | None


# ---------------------------------------------------------------- environment and notes


@functools.lru_cache(maxsize=8)
def environment(templates_dir: str | None = None) -> "Environment":
    """The Jinja2 environment with LaTeX-safe delimiters; a user folder comes first."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

    loaders = [FileSystemLoader(str(templates_root()))]
    if templates_dir is not None:
        if not Path(templates_dir).is_dir():
            raise ConfigError(f"the templates folder {templates_dir} does not exist")
        loaders.insert(0, FileSystemLoader(templates_dir))
    return Environment(
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

    texts = notes_table(templates_dir)["notes"].get(lang, {})
    if key not in texts:
        raise InternalError(f"no {lang} text for the note {key!r}: add it to templates/notes.toml")
    try:
        return _safe(environment(templates_dir).from_string(texts[key]).render(**args))
    except TemplateError as exc:
        raise InternalError(f"the {lang} note {key!r} cannot be filled in: {exc}") from None


def layout_tag(layout: str, lang: str, templates_dir: str | None = None) -> str:
    """The words saying which layout a result is in, e.g. ``(分子布局)``."""
    return notes_table(templates_dir).get("layout", {}).get(lang, {}).get(layout, "")


# ---------------------------------------------------------------- rows


def _chains(rows: Sequence["Row"]) -> list[list["Row"]]:
    """Rows grouped into chains: a row with a left-hand side and the continuation rows after it."""
    chains: list[list[Row]] = []
    for row in rows:
        if row.lhs is not None or not chains:
            chains.append([])
        chains[-1].append(row)
    return chains


def select_rows(derivation: "Derivation", steps: str) -> list["Row"]:
    """The rows ``steps`` asks for (see the module docs)."""
    from .derivation import Row

    rows = derivation.rows()
    if steps == "none" or not rows:
        return [Row(derivation.lhs_latex, derivation.result_latex, None, {}, "result")]
    if steps == "brief":
        return [row for chain in _chains(rows) for row in (chain if len(chain) <= 2 else (chain[0], chain[-1]))]
    return rows


def _safe(text: str) -> str:
    """Break ``{{``, ``}}``, ``{#`` and ``{%`` apart, for Nunjucks and mkdocs-macros."""
    return _FORBIDDEN.sub(lambda m: m.group(0) + " ", text)


def render_derivation(derivation: "Derivation", options: ResolvedOptions, placement: Placement, fmt: str,
                      kind: str = "deriv") -> str:
    """The text one directive becomes (lines joined by ``\\n``, no surrounding indentation)."""
    from jinja2 import TemplateError

    env = environment(options.templates_dir)
    rows = [
        RowView(row.lhs, row.rhs, None if row.note is None else
                note_text(row.note, row.note_args, lang=options.lang, templates_dir=options.templates_dir))
        for row in select_rows(derivation, options.steps)
    ]
    name = placement.value
    try:
        template = env.select_template([f"{fmt}/{name}.j2", f"common/{name}.j2"])
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
                        order=2 if kind == "hessian" else 1)
    return render_derivation(derivation, options, placement, fmt, kind)
