"""Document-wide options: the ``matdiff:`` key of front matter, ``% matdiff:`` lines in LaTeX.

Markdown YAML front matter (between ``---`` lines) is read with PyYAML's safe loader,
imported only when a ``matdiff`` key is present, as Hexo and MkDocs read it (comments,
quoting, flow and block style; a repeated key: the last one wins).  It accepts any of::

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
from typing import Any, Callable

from ..options import DIRECTIVE_KEYS, DOCUMENT_CHOICES, OptionItem, check_items, check_value, parse_items
from .text import BOM

FRONT_MATTER_KEYS = (*(key for key in DIRECTIVE_KEYS if key != "label"), *DOCUMENT_CHOICES)

_YAML_OPEN = re.compile(r"---[ \t]*\r?\n")
_YAML_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
_TOML_OPEN = re.compile(r"\+\+\+[ \t]*\r?\n")
_TOML_CLOSE = re.compile(r"^\+\+\+[ \t]*\r?$", re.MULTILINE)
_YAML_KEY = re.compile(r"^matdiff[ \t]*:[ \t]*(.*?)[ \t]*\r?$", re.MULTILINE)
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


def _yaml_options(text: str, start: int, end: int) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """The ``matdiff:`` key of YAML front matter between ``start`` and ``end``, read by PyYAML's
    safe loader as Hexo and MkDocs read it (comments, quoting, a repeated key: the last wins)."""
    keys = list(_YAML_KEY.finditer(text, start, end))
    if not keys:
        return {}, []
    import yaml

    try:
        data = yaml.safe_load(text[start:end])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        offset = start if mark is None else _offset_of(text, start, mark.line, mark.column)
        return {}, [(offset, f"cannot read the YAML front matter: {getattr(exc, 'problem', None) or exc}")]
    table = data.get("matdiff") if isinstance(data, dict) else None
    key = keys[-1]
    if table is None:
        return {}, []
    if isinstance(table, str):  # matdiff: layout=denominator, steps=brief
        value_start = text.find(table, key.start(1), end)
        value_start = key.start(1) if value_start < 0 else value_start
        found, rel = parse_items(table, assign=":=")
        items = [OptionItem(i.key, _unquote(i.value), value_start + i.key_offset,
                            value_start + i.value_offset) for i in found]
        values, bad = check_items(items, FRONT_MATTER_KEYS)
        return values, [(value_start + off, msg) for off, msg in rel] + bad
    if not isinstance(table, dict):
        return {}, [(key.start(), "matdiff in the front matter must be a mapping of options")]
    def locate(name: str) -> tuple[int, int]:
        where = re.compile(rf"(?<![\w-]){re.escape(name)}[ \t]*:[ \t]*").search(text, key.start(1), end)
        return (where.start(), where.end()) if where else (key.start(), key.start())

    return _checked_table(table, locate)


def _checked_table(table: dict[Any, Any], locate: Callable[[str], tuple[int, int]]
                   ) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """The options of a front-matter table, checked; ``locate(name)`` gives the offsets of a key and of
    its value for the messages."""
    values: dict[str, Any] = {}
    problems: list[tuple[int, str]] = []
    for name, value in table.items():
        name = str(name)
        key_at, value_at = locate(name)
        if name not in FRONT_MATTER_KEYS:
            problems.append((key_at, f"unknown option {name!r}; known options: {', '.join(FRONT_MATTER_KEYS)}"))
            continue
        try:
            values[name] = check_value(name, value)
        except ValueError as exc:
            problems.append((value_at, str(exc)))
    return values, problems


def _offset_of(text: str, start: int, line: int, column: int) -> int:
    """The offset of 0-based ``line`` and ``column`` counted from ``start``."""
    offset = start
    for _ in range(line):
        newline = text.find("\n", offset)
        if newline < 0:
            break
        offset = newline + 1
    return offset + column


def _toml_options(text: str, start: int, end: int) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """The ``matdiff`` table of TOML front matter between ``start`` and ``end``."""
    where = text.find("matdiff", start, end)
    if where < 0:
        return {}, []
    if sys.version_info >= (3, 11):  # imported here: few notes have TOML front matter
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        table = tomllib.loads(text[start:end].replace("\r\n", "\n")).get("matdiff")
    except tomllib.TOMLDecodeError as exc:
        return {}, [(start, f"cannot read the TOML front matter: {exc}")]
    if table is None:
        return {}, []
    if not isinstance(table, dict):
        return {}, [(where, "matdiff in the front matter must be a table of options")]
    return _checked_table(table, lambda name: (where, where))


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
