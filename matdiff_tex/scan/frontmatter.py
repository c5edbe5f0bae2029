"""Document-wide options: the ``matdiff:`` key of front matter, ``% matdiff:`` lines in LaTeX.

Markdown (YAML front matter between ``---`` lines) accepts any of::

    matdiff: {layout: denominator, lang: en}
    matdiff: layout=denominator, steps=brief
    matdiff:
      layout: denominator
      shapes: {A: 3x4, X: n x n}     # or a nested block of NAME: SHAPE lines

TOML front matter (between ``+++`` lines) takes a ``[matdiff]`` table or
``matdiff = { layout = "denominator" }``.  LaTeX has no front matter: lines
``% matdiff: layout=denominator, lang=en`` in the leading block of comment and
blank lines at the very top of the file play its part.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from ..options import DIRECTIVE_KEYS, DOCUMENT_CHOICES, OptionItem, check_items, check_value, parse_items
from .text import BOM

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FRONT_MATTER_KEYS = (*(key for key in DIRECTIVE_KEYS if key != "label"), *DOCUMENT_CHOICES)

_YAML_OPEN = re.compile(r"---[ \t]*\r?\n")
_YAML_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
_TOML_OPEN = re.compile(r"\+\+\+[ \t]*\r?\n")
_TOML_CLOSE = re.compile(r"^\+\+\+[ \t]*\r?$", re.MULTILINE)
_YAML_KEY = re.compile(r"^matdiff[ \t]*:[ \t]*(.*?)[ \t]*\r?$", re.MULTILINE)
_INDENTED = re.compile(r"([ \t]+)([^\s:#][^:]*?)[ \t]*:[ \t]*(.*?)[ \t]*\r?$")
_TEX_LINE = re.compile(r"[ \t]*%[ \t]*matdiff[ \t]*:(.*?)\r?$")


@dataclass(slots=True)
class DocumentOptions:
    """Options read from the top of a document, where its front matter ends, and problems."""

    values: dict[str, Any] = field(default_factory=dict)
    end: int = 0  # offset just past the front matter (0: none)
    problems: list[tuple[int, str]] = field(default_factory=list)


def _unquote(value: str) -> str:
    """Strip one pair of YAML quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _block_items(text: str, start: int, end: int) -> list[OptionItem]:
    """The indented ``key: value`` lines under ``matdiff:``; a nested block becomes ``{...}``."""
    items: list[OptionItem] = []
    pos = start
    parent: tuple[OptionItem, int, list[str]] | None = None
    for line in text[start:end].splitlines(keepends=True):
        match = _INDENTED.fullmatch(line.rstrip("\n"))
        if not line.strip() or line.lstrip().startswith("#"):
            pos += len(line)
            continue
        if match is None:
            break
        indent, key, value = len(match.group(1)), match.group(2).strip(), match.group(3)
        item = OptionItem(key, _unquote(value), pos + match.start(2), pos + match.start(3))
        if parent is not None and indent > parent[1]:
            parent[2].append(f"{key}: {_unquote(value)}")
        else:
            if parent is not None:
                items.append(_with_nested(parent))
                parent = None
            if value:
                items.append(item)
            else:
                parent = (item, indent, [])
        pos += len(line)
    if parent is not None:
        items.append(_with_nested(parent))
    return items


def _with_nested(parent: tuple[OptionItem, int, list[str]]) -> OptionItem:
    """A key whose value was a nested block, written as ``{a: b, c: d}``."""
    item, _, lines = parent
    return OptionItem(item.key, "{" + ", ".join(lines) + "}", item.key_offset, item.value_offset)


def _yaml_options(text: str, start: int, end: int) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """The ``matdiff:`` key of YAML front matter between ``start`` and ``end``."""
    key = _YAML_KEY.search(text, start, end)
    if key is None:
        return {}, []
    value, value_start = key.group(1), key.start(1)
    if not value:
        items = _block_items(text, key.end() + 1, end)
        problems: list[tuple[int, str]] = []
    else:
        if value.startswith("{") and value.endswith("}"):
            value, value_start = value[1:-1], value_start + 1
        found, rel = parse_items(value, assign=":=")
        items = [OptionItem(i.key, _unquote(i.value), value_start + i.key_offset,
                            value_start + i.value_offset) for i in found]
        problems = [(value_start + off, msg) for off, msg in rel]
    values, bad = check_items(items, FRONT_MATTER_KEYS)
    return values, problems + bad


def _toml_options(text: str, start: int, end: int) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """The ``matdiff`` table of TOML front matter between ``start`` and ``end``."""
    where = text.find("matdiff", start, end)
    if where < 0:
        return {}, []
    try:
        table = tomllib.loads(text[start:end].replace("\r\n", "\n")).get("matdiff")
    except tomllib.TOMLDecodeError as exc:
        return {}, [(start, f"cannot read the TOML front matter: {exc}")]
    if table is None:
        return {}, []
    if not isinstance(table, dict):
        return {}, [(where, "matdiff in the front matter must be a table of options")]
    values: dict[str, Any] = {}
    problems: list[tuple[int, str]] = []
    for key, value in table.items():
        if key not in FRONT_MATTER_KEYS:
            problems.append((where, f"unknown option {key!r}; known options: {', '.join(FRONT_MATTER_KEYS)}"))
            continue
        try:
            values[key] = check_value(key, value)
        except ValueError as exc:
            problems.append((where, str(exc)))
    return values, problems


def markdown_front_matter(text: str) -> DocumentOptions:
    """YAML (``---``) or TOML (``+++``) front matter at the top of a Markdown file."""
    head = 1 if text.startswith(BOM) else 0
    for opener, closer, reader in ((_YAML_OPEN, _YAML_CLOSE, _yaml_options),
                                   (_TOML_OPEN, _TOML_CLOSE, _toml_options)):
        opened = opener.match(text, head)
        if opened is None:
            continue
        closed = closer.search(text, opened.end())
        if closed is None:
            return DocumentOptions()
        newline = text.find("\n", closed.end())
        end = len(text) if newline < 0 else newline + 1
        values, problems = reader(text, opened.end(), closed.start())
        return DocumentOptions(values, end, problems)
    return DocumentOptions()


def latex_header(text: str) -> DocumentOptions:
    """``% matdiff: key=value, ...`` lines in the leading comment block of a LaTeX file."""
    items: list[OptionItem] = []
    problems: list[tuple[int, str]] = []
    pos = 1 if text.startswith(BOM) else 0
    for line in text[pos:].splitlines(keepends=True):
        stripped = line.strip()
        if stripped and not stripped.startswith("%"):
            break
        match = _TEX_LINE.match(line.rstrip("\n"))
        if match is not None:
            found, rel = parse_items(match.group(1), assign="=:")
            base = pos + match.start(1)
            items += [OptionItem(i.key, i.value, base + i.key_offset, base + i.value_offset) for i in found]
            problems += [(base + off, msg) for off, msg in rel]
        pos += len(line)
    values, bad = check_items(items, FRONT_MATTER_KEYS)
    return DocumentOptions(values, 0, problems + bad)
