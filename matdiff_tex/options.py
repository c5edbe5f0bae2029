"""Directive options: reading ``key=value`` lists and resolving them to one value each.

Precedence, strongest first: the directive's ``[options]``, the document's front
matter (``matdiff:``), the site / command-line options handed to
:func:`matdiff_tex.document.process_document`, the built-in defaults
(``layout=numerator``, ``steps=full``, ``lang=zh``, ``number=true``, ``width=56``,
``solutions=show``).  ``shapes`` merge symbol by
symbol across the same layers.  :class:`ResolvedOptions` is frozen and hashable:
it is part of the key of one expansion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .flavors import FLAVORS

Dim = int | str
Shape = tuple[Dim, Dim]

CHOICES: dict[str, tuple[str, ...]] = {
    "layout": ("numerator", "denominator"),
    "steps": ("full", "brief", "none"),
    "lang": ("zh", "en"),
    "method": ("integral", "series"),  # e^{X}: the integral rule, or seed 000's power series
    "solutions": ("show", "hide"),  # hide: the question and blank space (a student's copy)
}

#: The default line width, in rough math glyphs (see :func:`matdiff_tex.render.visual_width`):
#: what fits an 800 px blog column (16 px text) with the equation number, and the text width of
#: an 11pt LaTeX article.
DEFAULT_WIDTH = 52
#: ``width=600px``: CSS pixels per glyph (KaTeX at 1.21 em of a 16 px font) and the pixels kept for
#: the equation number on both sides of a centred display; measured in headless Chromium
#: (tests/test_seed_widths.py).
PX_PER_GLYPH = 13.5
PX_FOR_NUMBER = 84
MIN_WIDTH = 24
_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_WIDTH = re.compile(r"\s*([0-9]+)\s*(px)?\s*")
#: Document-wide choices (front matter, configuration, command line; not a directive's options):
#: how Markdown is read (``mkdocs``: admonitions, details and tabs are containers, not code)
#: and the output flavour (``pandoc``: display math as pandoc reads it).
DOCUMENT_CHOICES: dict[str, tuple[str, ...]] = {
    "markdown": ("commonmark", "mkdocs"),
    "flavor": tuple(FLAVORS),
}
DIRECTIVE_KEYS = (*CHOICES, "number", "width", "shapes", "symmetric", "vech", "functions", "where", "label")
SITE_KEYS = (*CHOICES, *DOCUMENT_CHOICES, "number", "width", "shapes", "symmetric", "functions", "templates_dir",
             "templates")

_DIM = re.compile(r"[A-Za-z][A-Za-z0-9_]*|[1-9][0-9]*")
_TIMES = re.compile(r"\s*(?:×|\\times|\*)\s*|\s+[xX]\s+|(?<=[0-9A-Za-z])[xX](?=[0-9A-Za-z])")
_SYMBOL = re.compile(r"\\?[A-Za-z][A-Za-z0-9_]*(?:\{[A-Za-z0-9_]+\})?")
# A label is written into \label{...} and into an HTML id="...": nothing TeX or HTML would read.
_LABEL = re.compile(r"[^\s{}\\%$#&\"'<>`=]+")


@dataclass(frozen=True, slots=True)
class ResolvedOptions:
    """Everything besides F and X that decides what a directive becomes."""

    layout: str = "numerator"
    steps: str = "full"
    lang: str = "zh"
    shapes: tuple[tuple[str, Shape], ...] = ()
    label: str | None = None
    templates_dir: str | None = None
    number: bool = True
    width: int = DEFAULT_WIDTH
    flavor: str = "default"
    symmetric: tuple[str, ...] = ()  # names of symmetric matrices (merged across the layers)
    functions: tuple[tuple[str, str], ...] = ()  # abstract functions: (name, scalar | elementwise)
    where: tuple[str, ...] = ()  # stated assumptions, each "L = R" in LaTeX
    vech: bool = False  # the derivative by vech(X) of a symmetric X (with the duplication matrix D_n)
    method: str = "integral"  # how e^{X} is differentiated (engine.METHODS)
    solutions: str = "show"  # "hide": the question (the derivative to find) and blank space
    claimed: str | None = None  # \answer<F><X><R>: the result R someone claims (set by the document)

    def shapes_dict(self) -> dict[str, Shape] | None:
        """``shapes`` as the engine takes them (None when there are none)."""
        return dict(self.shapes) or None


@dataclass(frozen=True, slots=True)
class OptionItem:
    """One ``key=value`` of an option list, with offsets into the text it came from."""

    key: str
    value: str
    key_offset: int
    value_offset: int


# ---------------------------------------------------------------- reading option lists


def split_top_level(text: str, sep: str = ",") -> list[tuple[int, str]]:
    """Split at ``sep`` outside braces; each piece with its offset in ``text``."""
    pieces: list[tuple[int, str]] = []
    depth, start, i = 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth = max(depth - 1, 0)
        elif ch == sep and depth == 0:
            pieces.append((start, text[start:i]))
            start = i + 1
        i += 1
    pieces.append((start, text[start:]))
    return pieces


def parse_items(text: str, *, assign: str = "=") -> tuple[list[OptionItem], list[tuple[int, str]]]:
    """``a=1, b={x: 2}`` -> items and (offset, message) problems; offsets into ``text``.

    ``assign`` lists the characters that may separate a key from its value
    (``"="`` in directives, ``"=:"`` in front matter); the first one found counts.
    """
    items: list[OptionItem] = []
    problems: list[tuple[int, str]] = []
    for offset, piece in split_top_level(text):
        if not piece.strip():
            if text.strip():
                problems.append((offset, "empty option: write key=value, separated by commas"))
            continue
        lead = len(piece) - len(piece.lstrip())
        cut = min((piece.find(ch) for ch in assign if ch in piece), default=-1)
        key, sep, value = (piece[:cut], piece[cut], piece[cut + 1 :]) if cut >= 0 else (piece, "", "")
        if not sep:
            problems.append((offset + lead, f"option {piece.strip()!r} has no value: write key{assign[0]}value"))
            continue
        value_lead = len(value) - len(value.lstrip())
        items.append(
            OptionItem(
                key=key.strip(),
                value=value.strip(),
                key_offset=offset + lead,
                value_offset=offset + len(key) + len(sep) + value_lead,
            )
        )
    return items, problems


# ---------------------------------------------------------------- checking values


def parse_shape(text: str) -> Shape:
    """``3x4``, ``n x n``, ``m×n``, ``3 \\times 4``, ``3*4`` -> (rows, cols); ValueError if not."""
    parts = _TIMES.split(text.strip())
    if len(parts) != 2 or not all(_DIM.fullmatch(p.strip()) for p in parts):
        raise ValueError(f"cannot read the shape {text.strip()!r}: write rows x cols, e.g. 3x4 or n x n")
    rows, cols = (p.strip() for p in parts)
    return (int(rows) if rows.isdigit() else rows, int(cols) if cols.isdigit() else cols)


def parse_shapes(text: str) -> tuple[tuple[str, Shape], ...]:
    """``{A: 3x4, X: n x n}`` -> ``(("A", (3, 4)), ("X", ("n", "n")))``; ValueError if not."""
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError(f"shapes must be written in braces, e.g. shapes={{A: 3x4, X: n x n}}, not {text!r}")
    entries: dict[str, Shape] = {}
    for _, piece in split_top_level(body[1:-1]):
        if not piece.strip():
            continue
        name, sep, spec = piece.partition(":")
        if not sep:
            name, sep, spec = piece.partition("=")
        if not sep or not _SYMBOL.fullmatch(name.strip()):
            raise ValueError(f"cannot read {piece.strip()!r} in shapes: write NAME: ROWS x COLS")
        entries[name.strip()] = parse_shape(spec)
    return tuple(entries.items())


def shapes_value(value: Any) -> tuple[tuple[str, Shape], ...]:
    """Shapes given from Python or TOML: a dict of strings, pairs, or a ``{...}`` string."""
    if isinstance(value, str):
        return parse_shapes(value)
    if isinstance(value, Mapping):
        out: dict[str, Shape] = {}
        for name, spec in value.items():
            if isinstance(spec, str):
                out[str(name)] = parse_shape(spec)
            elif isinstance(spec, Sequence) and len(spec) == 2:
                out[str(name)] = parse_shape(f"{spec[0]}x{spec[1]}")
            else:
                raise ValueError(f"the shape of {name} must be like '3x4' or (3, 4), not {spec!r}")
        return tuple(out.items())
    if isinstance(value, Sequence):
        return shapes_value(dict(value))
    raise ValueError(f"shapes must be a mapping like {{A: 3x4}}, not {value!r}")


def parse_bool(key: str, value: Any) -> bool:
    """``true``/``false`` (also yes/no, on/off, and real booleans from YAML or TOML)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    raise ValueError(f"{key}={value} is not allowed: {key} is true or false")


def parse_width(value: Any) -> int:
    """A line width in glyphs: ``60`` (glyphs) or ``600px`` (the width of the column, in CSS px)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    match = _WIDTH.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"width={value} is not allowed: write a number of characters (width=60) "
                         "or a column size in pixels (width=600px)")
    amount = int(match.group(1))
    glyphs = round((amount - PX_FOR_NUMBER) / PX_PER_GLYPH) if match.group(2) else amount
    if glyphs < MIN_WIDTH:
        smallest = f"{round(MIN_WIDTH * PX_PER_GLYPH + PX_FOR_NUMBER)}px" if match.group(2) else str(MIN_WIDTH)
        raise ValueError(f"width={value} is too narrow for a derivation: the smallest is {smallest}")
    return glyphs
def symmetric_value(value: Any) -> tuple[str, ...]:
    """``X``, ``{X, S}``, ``[X, S]`` or a list of names -> sorted symbol names (``\\boldsymbol{S}`` is ``S``)."""
    from .expr.shapes import symbol_key

    if isinstance(value, str):
        body = value.strip()
        if body[:1] in "{[" and body[-1:] == {"{": "}", "[": "]"}[body[:1]]:
            body = body[1:-1]
        names = [piece.strip() for _, piece in split_top_level(body) if piece.strip()]
    elif isinstance(value, Sequence) or isinstance(value, (set, frozenset)):
        names = [str(v).strip() for v in value]
    else:
        raise ValueError(f"symmetric must name matrices, e.g. symmetric={{X, S}}, not {value!r}")
    for name in names:
        if not _SYMBOL.fullmatch(name) and not re.fullmatch(r"\\[A-Za-z]+\{[A-Za-z]\}", name):
            raise ValueError(f"cannot read {name!r} in symmetric: write the names of matrices, e.g. symmetric={{X, S}}")
    return tuple(sorted({symbol_key(name) for name in names}))


def functions_value(value: Any) -> tuple[tuple[str, str], ...]:
    """``{\\ell: scalar, f: elementwise}`` (text, or a mapping) -> sorted (name, kind) pairs."""
    from .expr.shapes import symbol_key

    if isinstance(value, str):
        body = value.strip()
        if not (body.startswith("{") and body.endswith("}")):
            raise ValueError(f"functions must be written in braces, e.g. functions={{\\ell: scalar}}, not {value!r}")
        pairs = []
        for _, piece in split_top_level(body[1:-1]):
            if piece.strip():
                name, sep, kind = piece.partition(":")
                if not sep:
                    raise ValueError(f"cannot read {piece.strip()!r} in functions: write NAME: scalar|elementwise")
                pairs.append((name.strip(), kind.strip()))
    elif isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    else:
        raise ValueError(f"functions must be a mapping like {{\\ell: scalar}}, not {value!r}")
    out: dict[str, str] = {}
    for name, kind in pairs:
        if kind not in ("scalar", "elementwise"):
            raise ValueError(f"functions: {name} is {kind!r}; a function is scalar or elementwise")
        if not _SYMBOL.fullmatch(name):
            raise ValueError(f"functions: {name!r} is not a function name such as \\ell or f")
        out[symbol_key(name)] = kind
    return tuple(sorted(out.items()))


def where_value(value: Any) -> tuple[str, ...]:
    """``{\\boldsymbol{1}^{\\top}\\boldsymbol{y} = 1, \\boldsymbol{Q}^{\\top}\\boldsymbol{Q} = \\boldsymbol{I}}`` -> the equations."""
    if isinstance(value, str):
        body = value.strip()
        if body.startswith("{") and body.endswith("}"):
            body = body[1:-1]
        items = [piece.strip() for _, piece in split_top_level(body) if piece.strip()]
    elif isinstance(value, Sequence):
        items = [str(v).strip() for v in value]
    else:
        raise ValueError(f"where must hold equations, e.g. where={{A^T = A}}, not {value!r}")
    for item in items:
        if item.count("=") != 1:
            raise ValueError(f"where: {item!r} is not an equation L = R")
    return tuple(items)


def check_value(key: str, value: Any) -> Any:
    """The checked value of one option; ValueError (a user-facing message) when it is wrong."""
    allowed = CHOICES.get(key) or DOCUMENT_CHOICES.get(key)
    if allowed is not None:
        if value not in allowed:
            choices = "|".join(allowed)
            raise ValueError(f"{key}={value} is not allowed: {key} is one of {choices}")
        return value
    if key in ("number", "vech"):
        return parse_bool(key, value)
    if key == "width":
        return parse_width(value)
    if key == "shapes":
        return shapes_value(value)
    if key == "symmetric":
        return symmetric_value(value)
    if key == "functions":
        return functions_value(value)
    if key == "where":
        return where_value(value)
    if key == "label":
        if not isinstance(value, str) or not _LABEL.fullmatch(value):
            raise ValueError(f"label={value!r} is not a usable \\label name (no spaces, braces, backslashes, "
                             "quotes, < > & = or TeX specials)")
        return value
    if key in ("templates_dir", "templates"):
        return None if value is None else str(value)
    raise ValueError(f"unknown option {key!r}")


def check_items(items: Sequence[OptionItem], allowed: Sequence[str]) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """Checked values of ``items`` and (offset, message) for every bad key or value."""
    values: dict[str, Any] = {}
    problems: list[tuple[int, str]] = []
    for item in items:
        if item.key not in allowed:
            problems.append((item.key_offset, f"unknown option {item.key!r}; known options: {', '.join(allowed)}"))
            continue
        try:
            values[item.key] = check_value(item.key, item.value)
        except ValueError as exc:
            problems.append((item.value_offset, str(exc)))
    return values, problems


def site_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check options passed from Python or the command line; ConfigError when one is wrong."""
    checked: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if value is None:
            continue
        if key not in SITE_KEYS:
            raise ConfigError(f"unknown option {key!r}; known options: {', '.join(SITE_KEYS[:-1])}")
        try:
            checked["templates_dir" if key == "templates" else key] = check_value(key, value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return checked


# ---------------------------------------------------------------- resolving


def resolve(*layers: Mapping[str, Any]) -> ResolvedOptions:
    """Merge checked option layers, strongest first, over the built-in defaults."""
    merged: dict[str, Any] = {}
    shapes: dict[str, Shape] = {}
    symmetric: set[str] = set()
    functions: dict[str, str] = {}
    where: list[str] = []
    for layer in reversed(layers):
        for key, value in layer.items():
            if key == "shapes":
                shapes.update(dict(value))
            elif key == "symmetric":
                symmetric.update(value)
            elif key == "functions":
                functions.update(dict(value))
            elif key == "where":
                where.extend(v for v in value if v not in where)
            else:
                merged[key] = value
    return ResolvedOptions(
        layout=merged.get("layout", "numerator"),
        steps=merged.get("steps", "full"),
        lang=merged.get("lang", "zh"),
        shapes=tuple(sorted(shapes.items())),
        label=merged.get("label"),
        templates_dir=merged.get("templates_dir"),
        number=merged.get("number", True),
        width=merged.get("width", DEFAULT_WIDTH),
        flavor=merged.get("flavor", "default"),
        symmetric=tuple(sorted(symmetric)),
        functions=tuple(sorted(functions.items())),
        where=tuple(where),
        vech=merged.get("vech", False),
        method=merged.get("method", "integral"),
        solutions=merged.get("solutions", "show"),
    )
