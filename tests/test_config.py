"""Configuration files: lookup, precedence inputs, validation with file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from matdiff_tex.config import (
    ConfigFinder,
    find_config,
    load_config,
    parse_shape,
    parse_shape_assignment,
)
from matdiff_tex.errors import ConfigError


# ---------------------------------------------------------------- shapes

@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("3x4", (3, 4)),
        ("3X4", (3, 4)),
        ("n x n", ("n", "n")),
        ("nxm", ("n", "m")),
        ("m × n", ("m", "n")),
        ("3*4", (3, 4)),
        (" 2 x k ", (2, "k")),
        ("m \\times 1", ("m", 1)),
    ],
)
def test_parse_shape_accepts_usual_spellings(text: str, shape: tuple) -> None:
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["3", "3x4x5", "0x3", "3x-1", "", "x"])
def test_parse_shape_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_shape(text)


def test_parse_shape_assignment() -> None:
    assert parse_shape_assignment("A=3x4") == ("A", (3, 4))
    assert parse_shape_assignment("X = n x n") == ("X", ("n", "n"))
    with pytest.raises(ValueError, match="NAME=ROWSxCOLS"):
        parse_shape_assignment("3x4")


# ---------------------------------------------------------------- lookup

def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_own_file_wins_over_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[tool.matdiff-tex]\nlayout = "numerator"\n')
    own = _write(tmp_path / "matdiff-tex.toml", 'layout = "denominator"\n')
    assert find_config(tmp_path) == own


def test_lookup_walks_up_and_skips_pyproject_without_our_table(tmp_path: Path) -> None:
    top = _write(tmp_path / "pyproject.toml", '[tool.matdiff-tex]\nlang = "en"\n')
    _write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "x"\n')
    deep = tmp_path / "sub" / "posts" / "2024"
    deep.mkdir(parents=True)
    assert find_config(deep) == top
    assert ConfigFinder().for_folder(deep).options == {"lang": "en"}


def test_lookup_stops_at_the_repository_root(tmp_path: Path) -> None:
    _write(tmp_path / "matdiff-tex.toml", 'lang = "en"\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "docs").mkdir()
    assert find_config(repo / "docs") is None
    assert ConfigFinder().for_folder(repo / "docs").path is None


def test_nearest_file_applies(tmp_path: Path) -> None:
    _write(tmp_path / "matdiff-tex.toml", 'lang = "en"\n')
    near = _write(tmp_path / "a" / "matdiff-tex.toml", 'layout = "denominator"\n')
    assert find_config(tmp_path / "a") == near
    # nearer file replaces, it does not merge
    assert load_config(near).options == {"layout": "denominator"}


# ---------------------------------------------------------------- values

def test_all_keys_are_read_and_normalised(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    path = _write(
        tmp_path / "pyproject.toml",
        "[project]\nname = 'demo'\n\n"
        "[tool.matdiff-tex]\n"
        'layout = "denominator"\nsteps = "brief"\nlang = "en"\ntemplates = "tpl"\n'
        'shapes = { A = "3x4", X = [3, 3], w = "n x 1" }\n',
    )
    config = load_config(path)
    assert config.path == path
    assert config.options == {
        "layout": "denominator",
        "steps": "brief",
        "lang": "en",
        "templates_dir": (tmp_path / "tpl").resolve(),
        "shapes": {"A": (3, 4), "X": (3, 3), "w": ("n", 1)},
    }


def test_shapes_as_a_sub_table(tmp_path: Path) -> None:
    path = _write(tmp_path / "matdiff-tex.toml", '[shapes]\nA = "2x5"\n')
    assert load_config(path).options == {"shapes": {"A": (2, 5)}}


def test_bad_choice_points_at_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "demo"\nlayout = "ignored: not our table"\n\n'
        '[tool.matdiff-tex]\nlang = "en"\nlayout = "sideways"\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert (error.path, error.line, error.col) == (str(path), 7, 1)
    text = error.format()
    assert text.startswith(f"{path}:7:1: error: layout = 'sideways' is not allowed")
    assert "numerator, denominator" in text
    assert '    layout = "sideways"\n    ^' in text


def test_unknown_key_is_named_with_the_known_ones(tmp_path: Path) -> None:
    path = _write(tmp_path / "matdiff-tex.toml", 'lang = "en"\n  lyout = "numerator"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (info.value.line, info.value.col) == (2, 3)
    assert "unknown key 'lyout'" in info.value.message
    assert "layout" in info.value.message


def test_bad_shape_points_at_the_entry(tmp_path: Path) -> None:
    path = _write(tmp_path / "matdiff-tex.toml", 'lang = "en"\n[shapes]\nA = "3x4"\nB = "three"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == 4
    assert "shapes.B" in info.value.message


def test_missing_templates_folder(tmp_path: Path) -> None:
    path = _write(tmp_path / "matdiff-tex.toml", 'templates = "nowhere"\n')
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_config(path)
    assert info.value.line == 1


def test_toml_syntax_error_is_located(tmp_path: Path) -> None:
    path = _write(tmp_path / "matdiff-tex.toml", 'lang = "en"\nlayout = \n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert error.line == 2
    assert error.message.startswith("invalid TOML")
    assert "(at line" not in error.message
    assert error.format().startswith(f"{path}:2:")


def test_table_of_the_wrong_type(tmp_path: Path) -> None:
    path = _write(tmp_path / "pyproject.toml", '[tool]\nmatdiff-tex = "yes"\n')
    with pytest.raises(ConfigError, match="must be a table"):
        load_config(path)


def test_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "matdiff-tex.toml"
    path.write_bytes(b'lang = "\xff"\n')
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)
