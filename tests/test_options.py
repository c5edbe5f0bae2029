"""Option lists, values, shapes and their precedence."""

from __future__ import annotations

import pytest

from matdiff_tex.errors import ConfigError
from matdiff_tex.options import (
    DIRECTIVE_KEYS,
    ResolvedOptions,
    check_items,
    check_value,
    parse_items,
    parse_shape,
    parse_shapes,
    resolve,
    shapes_value,
    site_options,
    split_top_level,
)


def test_split_respects_braces_and_escapes() -> None:
    assert split_top_level(r"a=1, shapes={A: 3x4, B: 2x2}, c=\,") == [
        (0, "a=1"), (4, " shapes={A: 3x4, B: 2x2}"), (29, r" c=\,")]


def test_parse_items_offsets() -> None:
    text = "layout = denominator ,  lang=en"
    items, problems = parse_items(text)
    assert problems == []
    assert [(i.key, i.value, text[i.key_offset], text[i.value_offset]) for i in items] == [
        ("layout", "denominator", "l", "d"), ("lang", "en", "l", "e")]


@pytest.mark.parametrize("text, offset, words", [
    ("layout", 0, "has no value"), ("a=1,", 4, "empty option"), ("a=1,,b=2", 4, "empty option"),
])
def test_parse_items_problems(text: str, offset: int, words: str) -> None:
    _, problems = parse_items(text)
    assert problems[0][0] == offset and words in problems[0][1]


def test_front_matter_items_accept_colons() -> None:
    items, _ = parse_items("layout: denominator, steps=brief", assign=":=")
    assert [(i.key, i.value) for i in items] == [("layout", "denominator"), ("steps", "brief")]


@pytest.mark.parametrize("key, value", [("layout", "denominator"), ("steps", "none"), ("lang", "en"),
                                        ("label", "eq:grad-1")])
def test_good_values(key: str, value: str) -> None:
    assert check_value(key, value) == value


@pytest.mark.parametrize("key, value, words", [
    ("layout", "Numerator", "one of numerator|denominator"),
    ("steps", "all", "one of full|brief|none"),
    ("lang", "fr", "one of zh|en"),
    ("label", "a b", "label"),
    ("label", r"\x", "label"),
    ("colour", "red", "unknown option"),
])
def test_bad_values(key: str, value: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_value(key, value)


@pytest.mark.parametrize("text, shape", [
    ("3x4", (3, 4)), ("n x n", ("n", "n")), ("m×n", ("m", "n")), (r"3 \times 4", (3, 4)), ("3*4", (3, 4)),
    ("mxn", ("m", "n")), (" p X 1 ", ("p", 1)),
])
def test_parse_shape(text: str, shape: tuple[object, object]) -> None:
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["3", "3x4x5", "0x3", "x", "3y4", "-1x2"])
def test_bad_shapes(text: str) -> None:
    with pytest.raises(ValueError, match="rows x cols"):
        parse_shape(text)


def test_parse_shapes() -> None:
    assert parse_shapes(r"{A: 3x4, \boldsymbol{X}: n x n, b=3x1}") == (
        ("A", (3, 4)), (r"\boldsymbol{X}", ("n", "n")), ("b", (3, 1)))
    with pytest.raises(ValueError, match="braces"):
        parse_shapes("A: 3x4")
    with pytest.raises(ValueError, match="NAME: ROWS x COLS"):
        parse_shapes("{3x4}")


def test_shapes_from_python_values() -> None:
    assert shapes_value({"A": "3x4", "X": [2, "n"], "B": (1, 1)}) == (
        ("A", (3, 4)), ("X", (2, "n")), ("B", (1, 1)))
    with pytest.raises(ValueError):
        shapes_value({"A": 3})


def test_check_items_reports_each_problem_at_its_place() -> None:
    text = "lyout=x, steps=some, lang=en"
    items, _ = parse_items(text)
    values, problems = check_items(items, DIRECTIVE_KEYS)
    assert values == {"lang": "en"}
    assert [(text[offset:offset + 4], "lyout" in message or "steps" in message) for offset, message in problems] == [
        ("lyou", True), ("some", True)]


def test_precedence_and_shape_merging() -> None:
    directive = {"layout": "denominator", "shapes": (("A", (3, 4)),)}
    front = {"layout": "numerator", "lang": "en", "shapes": (("A", (2, 2)), ("X", ("n", "n")))}
    site = {"steps": "brief", "lang": "zh", "templates_dir": "t"}
    assert resolve(directive, front, site) == ResolvedOptions(
        layout="denominator", steps="brief", lang="en", shapes=(("A", (3, 4)), ("X", ("n", "n"))),
        label=None, templates_dir="t")
    assert resolve() == ResolvedOptions("numerator", "full", "zh", (), None, None)


def test_resolved_options_are_hashable_and_frozen() -> None:
    options = resolve({"shapes": (("A", (3, 4)),)})
    assert hash(options) == hash(resolve({"shapes": (("A", (3, 4)),)}))
    with pytest.raises(AttributeError):
        options.layout = "denominator"  # type: ignore[misc]
    assert options.shapes_dict() == {"A": (3, 4)} and resolve().shapes_dict() is None


def test_site_options() -> None:
    assert site_options({"layout": "denominator", "templates": "dir", "lang": None, "shapes": {"A": "2x2"}}) == {
        "layout": "denominator", "templates_dir": "dir", "shapes": (("A", (2, 2)),)}
    with pytest.raises(ConfigError, match="unknown option 'label'"):
        site_options({"label": "x"})
    with pytest.raises(ConfigError, match="steps=most"):
        site_options({"steps": "most"})
