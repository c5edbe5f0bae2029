"""Project-wide defaults from ``matdiff-tex.toml`` or ``[tool.matdiff-tex]`` in pyproject.toml.

Precedence, strongest first: a directive's own options, the document's front
matter (``matdiff:``), command-line flags, this configuration file, built-in
defaults.  This module handles the configuration file and the values that the
command line shares with it; the document layer applies the first two.

Lookup walks up from a folder (the input file's, or the current one for
stdin): in each folder ``matdiff-tex.toml`` wins over ``pyproject.toml``; a
pyproject.toml without a ``[tool.matdiff-tex]`` table is passed over; the walk
stops after the folder that holds ``.git`` (the repository root).

    # matdiff-tex.toml (top-level keys)       # pyproject.toml
    layout = "denominator"                    [tool.matdiff-tex]
    lang = "en"                               layout = "denominator"
    steps = "full"                            shapes = { A = "3x4", X = "n x n" }
    number = false               # unnumbered displays; width = 48 or "600px": narrower lines
    templates = "my-templates"   # relative to the config file
    shapes = { A = "3x4", X = [3, 3] }
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from . import options as option_choices
from .options import check_value, symmetric_value

CONFIG_FILENAME = "matdiff-tex.toml"
PYPROJECT_FILENAME = "pyproject.toml"
TOOL_TABLE = "matdiff-tex"

CHOICES: dict[str, tuple[str, ...]] = {**option_choices.CHOICES, **option_choices.DOCUMENT_CHOICES}
KNOWN_KEYS = (*CHOICES, "number", "width", "shapes", "symmetric", "templates")

Dim = int | str
Shape = tuple[Dim, Dim]

_DIM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SHAPE_SPLIT = re.compile(r"\s*(?:×|\\times|\*|\s[xX]\s)\s*")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_SYMBOL_NAME = re.compile(r"\\?[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Config:
    """Options read from one configuration file (``path`` None: no file found)."""

    path: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- shapes


def parse_shape(text: str) -> Shape:
    """``"3x4"``, ``"n x n"``, ``"m×n"``, ``"3*4"`` -> ``(rows, cols)``; ints stay ints.

    Raises ValueError with a message meant for the user.
    """
    spec = text.strip()
    parts = _SHAPE_SPLIT.split(spec)
    if len(parts) != 2 and " " not in spec:
        parts = re.split(r"[xX]", spec)
    if len(parts) != 2:
        raise ValueError(f"cannot read the shape {text!r}: write rows x cols, e.g. 3x4 or n x n")
    return _dim(parts[0], text), _dim(parts[1], text)


def _dim(part: str, whole: str) -> Dim:
    """One dimension: a positive integer or a name such as ``n``."""
    part = part.strip()
    if part.isdigit():
        value = int(part)
        if value < 1:
            raise ValueError(f"a dimension must be at least 1 in the shape {whole!r}")
        return value
    if _DIM_NAME.fullmatch(part):
        return part
    raise ValueError(f"{part!r} is not a dimension in the shape {whole!r}: use a number or a name")


def shape_value(value: Any) -> Shape:
    """A shape from a TOML value: a string such as ``"3x4"`` or a two-item list."""
    if isinstance(value, str):
        return parse_shape(value)
    if isinstance(value, list) and len(value) == 2:
        return _dim(str(value[0]), str(value)), _dim(str(value[1]), str(value))
    raise ValueError(f"a shape is a string like \"3x4\" or a list like [3, 4], not {value!r}")


def parse_shape_assignment(text: str) -> tuple[str, Shape]:
    """``"A=3x4"`` (the command line's ``--shape``) -> ``("A", (3, 4))``."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not _SYMBOL_NAME.fullmatch(name):
        raise ValueError(f"cannot read {text!r}: write NAME=ROWSxCOLS, e.g. A=3x4")
    return name, parse_shape(spec)


# ---------------------------------------------------------------- finding


def find_config(start: Path) -> Path | None:
    """The configuration file that applies to notes in ``start`` (a folder), if any."""
    for folder in (start, *start.parents):
        own = folder / CONFIG_FILENAME
        if own.is_file():
            return own
        pyproject = folder / PYPROJECT_FILENAME
        if pyproject.is_file() and _mentions_tool_table(pyproject):
            return pyproject
        if (folder / ".git").exists():
            return None
    return None


def _mentions_tool_table(pyproject: Path) -> bool:
    """Cheap test before parsing: does this pyproject.toml say ``matdiff-tex`` at all?"""
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(r"^\s*\[\s*tool\s*\.\s*[\"']?matdiff-tex", text, re.MULTILINE) is not None


class ConfigFinder:
    """Finds and loads the configuration of each folder once per run."""

    def __init__(self) -> None:
        self._by_path: dict[Path, Config] = {}
        self._by_folder: dict[Path, Path | None] = {}

    def for_folder(self, folder: Path) -> Config:
        """The configuration for notes in ``folder`` (an empty one when there is no file)."""
        if folder not in self._by_folder:  # a site's notes share a few folders: look each up once
            self._by_folder[folder] = find_config(folder.resolve())
        found = self._by_folder[folder]
        if found is None:
            return Config()
        if found not in self._by_path:
            self._by_path[found] = load_config(found)
        return self._by_path[found]


# ---------------------------------------------------------------- loading


def load_config(path: Path) -> Config:
    """Read and check one configuration file; any problem is a :class:`ConfigError`."""
    from .fsio import ReadError, read_file

    try:
        text = read_file(path, str(path), what="configuration file", fifo_ok=False)[0].decode("utf-8")
    except ReadError as exc:
        raise ConfigError(f"cannot read the configuration file: {exc.message}", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read the configuration file: {exc}", path=str(path)) from None
    data = _parse_toml(text, path)
    if path.name == PYPROJECT_FILENAME:
        table = data.get("tool", {}).get(TOOL_TABLE)
        if table is None:
            return Config(path, {})
        section = rf"\[\s*tool\s*\.\s*[\"']?{re.escape(TOOL_TABLE)}[\"']?\s*\]"
    else:
        table, section = data, None
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.{TOOL_TABLE}] must be a table", path=str(path))
    return Config(path, _check_table(table, _Locator(path, text, section)))


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    """Parse TOML, turning a syntax error into a located :class:`ConfigError`."""
    if sys.version_info >= (3, 11):  # imported here: most builds find no configuration file
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        if match is None:
            raise ConfigError(f"invalid TOML: {message}", path=str(path)) from None
        line, col = int(match.group(1)), int(match.group(2))
        lines = text.splitlines()
        source = lines[line - 1] if 0 < line <= len(lines) else None
        raise ConfigError(
            f"invalid TOML: {message[: match.start()]}",
            path=str(path),
            line=line,
            col=col,
            source_line=source,
        ) from None


@dataclass(frozen=True)
class _Locator:
    """Finds the line of a key in the configuration text, for error messages."""

    path: Path
    text: str
    section: str | None

    def error(self, message: str, *keys: str) -> ConfigError:
        """A :class:`ConfigError` at the first of ``keys`` found in the relevant section."""
        lines = self.text.splitlines()
        start, end = self._section_bounds(lines)
        for key in keys:
            pattern = re.compile(rf"(?:^|[\s{{,])[\"']?({re.escape(key)})[\"']?\s*=")
            for number in range(start, end):
                match = pattern.search(lines[number])
                if match:
                    return ConfigError(
                        message,
                        path=str(self.path),
                        line=number + 1,
                        col=match.start(1) + 1,
                        source_line=lines[number],
                    )
        return ConfigError(message, path=str(self.path))

    def _section_bounds(self, lines: list[str]) -> tuple[int, int]:
        """Line range of the table holding our keys (sub-tables included)."""
        if self.section is None:
            return 0, len(lines)
        start = next(
            (i for i, line in enumerate(lines) if re.match(rf"\s*{self.section}", line)), 0
        )
        own_prefix = re.compile(rf"\s*\[\s*tool\s*\.\s*[\"']?{re.escape(TOOL_TABLE)}")
        for number in range(start + 1, len(lines)):
            line = lines[number]
            if re.match(r"\s*\[", line) and not own_prefix.match(line):
                return start, number
        return start, len(lines)


def _check_table(table: dict[str, Any], where: _Locator) -> dict[str, Any]:
    """Validate every key of the configuration table and normalise its values."""
    options: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KNOWN_KEYS:
            raise where.error(
                f"unknown key {key!r}; known keys: {', '.join(KNOWN_KEYS)}", key
            )
        if key in CHOICES:
            options[key] = _check_choice(key, value, where)
        elif key in ("number", "width"):
            try:
                options[key] = check_value(key, value)
            except ValueError as exc:
                raise where.error(str(exc), key) from None
        elif key == "shapes":
            options["shapes"] = _check_shapes(value, where)
        elif key in ("symmetric", "functions"):
            try:
                options[key] = (symmetric_value if key == "symmetric" else functions_value)(value)
            except ValueError as exc:
                raise where.error(str(exc), key) from None
        elif key == "templates":
            options["templates_dir"] = _check_templates(value, where)
    return options


def _check_choice(key: str, value: Any, where: _Locator) -> str:
    """One of the allowed words for ``layout``, ``steps`` or ``lang``."""
    if value not in CHOICES[key]:
        raise where.error(
            f"{key} = {value!r} is not allowed; use one of: {', '.join(CHOICES[key])}", key
        )
    return value


def _check_shapes(value: Any, where: _Locator) -> dict[str, Shape]:
    """``shapes = { A = "3x4", X = [3, 3] }`` -> ``{"A": (3, 4), "X": (3, 3)}``."""
    if not isinstance(value, dict):
        raise where.error('shapes must be a table, e.g. shapes = { A = "3x4" }', "shapes")
    shapes: dict[str, Shape] = {}
    for name, spec in value.items():
        if not _SYMBOL_NAME.fullmatch(name):
            raise where.error(f"{name!r} is not a symbol name", name, "shapes")
        try:
            shapes[name] = shape_value(spec)
        except ValueError as exc:
            raise where.error(f"shapes.{name}: {exc}", name, "shapes") from None
    return shapes


def _check_templates(value: Any, where: _Locator) -> Path:
    """The template folder, relative to the configuration file; it must exist."""
    if not isinstance(value, str) or not value:
        raise where.error("templates must be a folder name (a string)", "templates")
    folder = (where.path.parent / value).resolve()
    if not folder.is_dir():
        raise where.error(f"templates folder {str(folder)!r} does not exist", "templates")
    return folder
