"""The scanner: each recogniser alone, directive reading, block structure, placements."""

from __future__ import annotations

import pytest

from matdiff_tex.scan import scan
from matdiff_tex.scan import recognisers as rec
from matdiff_tex.scan.directive import Problem, read_directive
from matdiff_tex.scan.frontmatter import latex_header, markdown_front_matter
from matdiff_tex.scan.markdown import code_blocks, hexo_raw, merge
from matdiff_tex.scan.model import MarkerStyle, Placement
from matdiff_tex.scan.text import LineIndex, continuation, line_prefix, paragraph_end
from matdiff_tex.scan.walk import Ctx, Walker


def walker(text: str, fmt: str = "markdown") -> Walker:
    """A walker over ``text`` with nothing protected."""
    return Walker(text, fmt)


def claim(recogniser: rec.Recogniser, text: str, at: int = 0, fmt: str = "markdown", **ctx: object) -> int | None:
    """What one recogniser claims at ``at``."""
    return recogniser(walker(text, fmt), at, Ctx(limit=len(text), **ctx))  # type: ignore[arg-type]


# ---------------------------------------------------------------- reading one directive


def test_directive_parts_and_offsets() -> None:
    text = r"x \deriv[layout=denominator, shapes={A: 3x4}]<\boldsymbol{A}X><X> y"
    d = read_directive(text, 2, len(text), Placement.PROSE)
    assert d is not None
    assert (d.kind, d.f, d.x) == ("deriv", r"\boldsymbol{A}X", "X")
    assert text[d.start:d.end] == text[2:-2]
    assert text[d.f_start:d.f_start + len(d.f)] == d.f and text[d.x_start] == "X"
    assert [(o.key, o.value, text[o.key_offset], text[o.value_offset]) for o in d.options] == [
        ("layout", "denominator", "l", "d"), ("shapes", "{A: 3x4}", "s", "{")]


@pytest.mark.parametrize("f", [r"\left|\boldsymbol{X}\right|", r"\|\boldsymbol{x}\|_2^2", r"\langle a, b \rangle",
                               r"\frac{a>b}{c}", r"e^{\boldsymbol{X}}", r"\boldsymbol{x}^{\top}"])
def test_directive_f_with_awkward_latex(f: str) -> None:
    text = rf"\hessian<{f}><\boldsymbol{{x}}>"
    d = read_directive(text, 0, len(text), Placement.DISPLAY)
    assert d is not None and d.kind == "hessian" and d.f == f and d.x == r"\boldsymbol{x}"


@pytest.mark.parametrize("text", [r"\deriv{f}{x}", r"\derivative<A><X>", r"\deriv <A><X>", r"\deriv", r"\hessians<a><b>"])
def test_not_a_directive(text: str) -> None:
    assert read_directive(text, 0, len(text), Placement.PROSE) is None


@pytest.mark.parametrize("text, offset, words", [
    (r"\deriv<A><X", 9, "unclosed '<' of X"),
    (r"\deriv<A", 6, "unclosed '<' of F"),
    (r"\deriv<A}><X>", 6, "unbalanced braces"),
    (r"\deriv< ><X>", 6, "empty <F>"),
    (r"\deriv<A>", 9, "expected <X>"),
    (r"\deriv[layout=x<A><X>", 6, "unclosed '['"),
    (r"\deriv[layout]<A><X>", 7, "has no value"),
    (r"\hessian<f> x", 12, "expected <X>"),
    (r"\deriv<A \deriv<B><X>", 6, "another '<'"),
])
def test_malformed_directive_points_at_the_problem(text: str, offset: int, words: str) -> None:
    with pytest.raises(Problem) as caught:
        read_directive(text, 0, len(text), Placement.PROSE)
    assert caught.value.offset == offset and words in caught.value.message


def test_unclosed_group_stops_at_the_paragraph_end() -> None:
    text = "\\deriv<A><X\n\nlater > here\n"
    result = scan(text, "markdown")
    assert result.directives == [] and len(result.problems) == 1 and result.problems[0][0] == 9


# ---------------------------------------------------------------- recognisers alone


@pytest.mark.parametrize("text, end", [
    ("`a` b", 3), ("``a ` b`` c", 9), ("```x``y``` z", 10), ("`no closer", 1), ("``a`", 2),
    ("`a\n\nb`", 1),  # a code span does not cross a blank line
])
def test_code_span(text: str, end: int) -> None:
    assert claim(rec.code_span, text) == end


@pytest.mark.parametrize("text, end", [
    ("<!-- x --> y", 10), ("<!--> y", 5), ("a <!-- open", None), ("<p>", None),
    ("<!-- open", 9),  # opening a line, an unclosed comment hides the rest (an HTML block)
])
def test_html_comment(text: str, end: int | None) -> None:
    assert claim(rec.html_comment, text, at=text.index("<")) == end


@pytest.mark.parametrize("text, fmt, end, math", [
    ("$x$ y", "markdown", 3, True),
    ("$5 and $10", "markdown", 1, False),  # pandoc rules: no space after the opener ...
    ("$x $ y$", "markdown", 7, True),  # ... none before the closer
    ("$x$5", "markdown", 1, False),  # no digit right after the closer
    ("$ x $", "latex", 5, True),  # TeX has no such rules
    ("$x % $ comment\n y$", "latex", 18, True),  # a TeX comment hides a dollar
    ("$x\n\ny$", "markdown", 1, False),
    (r"$a\$b$", "markdown", 6, True),
])
def test_dollar_inline(text: str, fmt: str, end: int, math: bool) -> None:
    w = walker(text, fmt)
    w.walk = lambda *args: None  # type: ignore[method-assign]  # do not look inside
    assert rec.dollar_inline(w, 0, Ctx(limit=len(text))) == end


@pytest.mark.parametrize("recogniser, text, end", [
    (rec.dollar_display, "$$\na\n$$ b", 7),
    (rec.dollar_display, "$$ open", 2),
    (rec.bracket_math, r"\[ a \] b", 7),
    (rec.bracket_math, r"\( a \) b", 7),
    (rec.bracket_math, r"\[ open", None),
    (rec.env_math, r"\begin{equation*} a \end{equation*}", 35),
    (rec.env_math, r"\begin{itemize} a \end{itemize}", None),
    (rec.escape, r"\\deriv", 2),
    (rec.line_comment, "% c\r\nx", 3),
])
def test_region_recognisers(recogniser: rec.Recogniser, text: str, end: int | None) -> None:
    assert claim(recogniser, text) == end


@pytest.mark.parametrize("text, end", [
    (r"\verb|\deriv<A><X>| x", 19), (r"\verb*+a+ x", 9), (r"\lstinline[language=TeX]!a! x", 27),
    (r"\verbatim", None),
])
def test_verb(text: str, end: int | None) -> None:
    assert claim(rec.verb, text, fmt="latex") == end


@pytest.mark.parametrize("env", ["verbatim", "verbatim*", "lstlisting", "minted", "Verbatim", "comment"])
def test_verbatim_environments(env: str) -> None:
    text = f"\\begin{{{env}}}\n\\deriv<A><X> % $ \\end{{x}}\n\\end{{{env}}} after"
    assert claim(rec.verbatim_env, text, fmt="latex") == len(text) - len(" after")


def test_environment_stack_inside_math() -> None:
    text = r"\begin{aligned} \deriv<A><X> \end{aligned} \deriv<B><X>"
    w = walker(text)
    w.walk(0, Ctx(limit=len(text), math="display"), rec.MATH)
    assert [d.placement for d in w.result.directives] == [Placement.ALIGNED_LINES, Placement.ALIGNED_BLOCK]


def test_directive_recogniser_records_problems_and_moves_on() -> None:
    text = r"\deriv<A \deriv<B><X>"
    w = walker(text)
    w.walk(0, Ctx(limit=len(text)), rec.MARKDOWN)
    assert len(w.result.problems) == 1 and [d.f for d in w.result.directives] == ["B"]


# ---------------------------------------------------------------- Markdown blocks (markdown-it)


def spans_text(text: str) -> list[str]:
    """The protected code blocks of a Markdown text."""
    return [text[a:b] for a, b in code_blocks(text, [])]


def test_fences_of_any_length_and_kind() -> None:
    text = "a\n\n````\n```\nx\n```\n````\n\n~~~\ny\n~~~\n\nb\n"
    assert spans_text(text) == ["````\n```\nx\n```\n````\n", "~~~\ny\n~~~\n"]


def test_indented_code_is_list_aware() -> None:
    text = "- item\n    still the item\n\n      code in the item\n\n    real code? no, item text\n\nz\n\n    code\n"
    assert spans_text(text) == ["      code in the item\n", "    code\n"]


def test_unclosed_fence_runs_to_the_end() -> None:
    text = "a\n\n```\n\\deriv<A><X>\n"
    assert spans_text(text) == ["```\n\\deriv<A><X>\n"]


def test_opaque_and_live_html_blocks() -> None:
    text = "<pre>\n\\deriv<A><X>\n</pre>\n\n<div>\n\\deriv<B><X>\n</div>\n"
    result = scan(text, "markdown")
    assert [d.f for d in result.directives] == ["B"]


def test_hexo_raw_and_front_matter_lines_do_not_shift_markdown_it() -> None:
    text = "---\na: 1\n---\n{% raw %}\n```\n{% endraw %}\n\\deriv<A><X>\n\n```\n\\deriv<B><X>\n```\n"
    assert hexo_raw(text) == [(13, 39)]
    result = scan(text, "markdown")
    assert [d.f for d in result.directives] == ["A"]


def test_merge_joins_overlaps() -> None:
    assert merge([(5, 9), (0, 3), (2, 4), (9, 9)]) == [(0, 4), (5, 9)]


# ---------------------------------------------------------------- placements


@pytest.mark.parametrize("fmt, text, expected", [
    ("markdown", "\\deriv<A><X>\n", ["display"]),
    ("markdown", "  \\deriv<A><X>  \n", ["display"]),
    ("markdown", "- \\deriv<A><X>\n", ["display"]),
    ("markdown", "> 1. \\deriv<A><X>\n", ["display"]),
    ("markdown", "# \\deriv<A><X>\n", ["prose"]),
    ("markdown", "see \\deriv<A><X>\n", ["prose"]),
    ("markdown", "\\deriv<A><X>.\n", ["prose"]),
    ("markdown", "$\\deriv<A><X>$\n", ["inline"]),
    ("markdown", "\\(\\deriv<A><X>\\)\n", ["inline"]),
    ("markdown", "$$\\deriv<A><X>$$\n", ["aligned_block"]),
    ("markdown", "\\begin{equation}\\deriv<A><X>\\end{equation}\n", ["aligned_block"]),
    ("markdown", "\\begin{align}\\deriv<A><X>\\end{align}\n", ["aligned_lines"]),
    ("markdown", "$$\\begin{split}\\deriv<A><X>\\end{split} \\deriv<B><X>$$\n", ["aligned_lines", "aligned_block"]),
    ("markdown", "$\\begin{aligned}\\deriv<A><X>\\end{aligned}$\n", ["aligned_lines"]),
    ("markdown", "$$ x % \\deriv<A><X>\n$$\n", []),
    ("latex", "\\deriv<A><X>\n", ["display"]),
    ("latex", "\\item \\deriv<A><X>\n", ["display"]),
    ("latex", "text \\deriv<A><X>\n", ["prose"]),
    ("latex", "\\begin{gather*}\\deriv<A><X>\\end{gather*}", ["aligned_block"]),
    ("latex", "\\begin{alignat*}{2}\\deriv<A><X>\\end{alignat*}", ["aligned_lines"]),
    ("latex", "\\begin{math}\\deriv<A><X>\\end{math}", ["inline"]),
    ("latex", "$$\\deriv<A><X>$$", ["aligned_block"]),
])
def test_placement(fmt: str, text: str, expected: list[str]) -> None:
    result = scan(text, fmt)
    assert result.problems == []
    assert [d.placement.value for d in result.directives] == expected


def test_inline_math_region_is_recorded() -> None:
    text = "a $y = \\deriv<A><X>$ b"
    (d,) = scan(text, "markdown").directives
    assert d.math_region is not None and text[slice(*d.math_region)] == "$y = \\deriv<A><X>$"


# ---------------------------------------------------------------- markers


def test_marker_blocks_are_read_with_their_source() -> None:
    text = ("<!-- matdiff-tex: \\deriv<A><X> -->\nBODY\n<!-- /matdiff-tex 0123abcd -->\n"
            "$$\n% matdiff-tex: \\deriv<B><X>\nBODY\n% /matdiff-tex 89abcdef\n$$\n"
            "x <!-- matdiff-tex: $y=\\deriv<C><X>$ -->$y=R$<!-- /matdiff-tex 00000000 -->\n")
    result = scan(text, "markdown")
    assert result.directives == [] and result.problems == []
    styles = [(m.style, m.placement, m.stored_hash, [d.f for d in m.directives]) for m in result.markers]
    assert styles == [
        (MarkerStyle.HTML, Placement.DISPLAY, "0123abcd", ["A"]),
        (MarkerStyle.PERCENT, Placement.ALIGNED_BLOCK, "89abcdef", ["B"]),
        (MarkerStyle.HTML, Placement.INLINE, "00000000", ["C"]),
    ]
    first = result.markers[0]
    assert text[first.body_start:first.body_end] == "\nBODY\n"
    assert text[first.source_start:first.source_end] == "\\deriv<A><X>"


def test_latex_inline_marker_body_is_a_brace_group() -> None:
    text = "a % matdiff-tex inline 0123abcd: \\deriv<A><X>\n  {$R_{1}$}, b\n"
    (marker,) = scan(text, "latex").markers
    assert marker.style is MarkerStyle.PERCENT_INLINE and marker.placement is Placement.PROSE
    assert text[marker.body_start:marker.body_end] == "{$R_{1}$}" and text[marker.end:] == ", b\n"


def test_marker_must_keep_one_directive() -> None:
    text = "<!-- matdiff-tex: \\deriv<A><X> x --> B <!-- /matdiff-tex 0123abcd -->\n"
    result = scan(text, "markdown")
    assert result.markers == [] and "exactly one" in result.problems[0][1].message


# ---------------------------------------------------------------- front matter


@pytest.mark.parametrize("front", [
    "matdiff: {layout: denominator, shapes: {A: 3x4}}",
    "matdiff: \"layout=denominator, shapes={A: 3x4}\"",
    "matdiff:\n  layout: denominator  # a comment after the value\n  shapes: {A: 3x4}",
    "matdiff: {lang: en}\nmatdiff:\n  layout: denominator\n  shapes: {A: '3x4'}",  # the last key wins
    "matdiff:\n  layout: denominator\n  shapes: {A: 3x4}",
    "matdiff:\n  layout: \"denominator\"\n  # a comment\n  shapes:\n    A: 3x4",
])
def test_yaml_front_matter_forms(front: str) -> None:
    text = f"---\ntitle: t\n{front}\nother: 1\n---\nbody\n"
    options = markdown_front_matter(text)
    assert options.problems == []
    assert options.values == {"layout": "denominator", "shapes": (("A", (3, 4)),)}
    assert text[options.end:] == "body\n"


def test_toml_front_matter() -> None:
    text = "+++\ntitle = \"t\"\n[matdiff]\nlang = \"en\"\nshapes = { X = \"n x n\" }\n+++\nbody\n"
    options = markdown_front_matter(text)
    assert options.values == {"lang": "en", "shapes": (("X", ("n", "n")),)} and text[options.end:] == "body\n"


def test_front_matter_problem_offsets() -> None:
    text = "---\nmatdiff: {lang: fr, colour: red}\n---\n"
    problems = markdown_front_matter(text).problems
    assert [text[offset:offset + 3] for offset, _ in problems] == ["fr,", "col"]


def test_front_matter_needs_its_closing_line() -> None:
    assert markdown_front_matter("---\nmatdiff: {lang: en}\n").values == {}


def test_latex_header_lines() -> None:
    text = "\ufeff% matdiff: layout=denominator\r\n%  matdiff: lang=en, steps=brief\r\n\\documentclass{article}\r\n% matdiff: lang=zh\r\n"
    header = latex_header(text)
    assert header.values == {"layout": "denominator", "lang": "en", "steps": "brief"} and header.problems == []


def test_front_matter_problems_reach_the_scan() -> None:
    result = scan("---\nmatdiff: {layout: up}\n---\n\\deriv<A><X>\n", "markdown")
    assert len(result.problems) == 1 and "layout=up" in result.problems[0][1].message


# ---------------------------------------------------------------- positions and prefixes


def test_line_index_counts_bom_and_crlf() -> None:
    text = "\ufeffab\r\ncd\n"
    index = LineIndex.of(text)
    assert index.locate(1) == (1, 1, "ab") and index.locate(2) == (1, 2, "ab") and index.locate(5) == (2, 1, "cd")


@pytest.mark.parametrize("line, fmt, prefix, cont", [
    ("- > 12. x", "markdown", "- > 12. ", "  >     "),
    ("\t> x", "markdown", "\t> ", "\t> "),
    ("    x", "latex", "    ", "    "),
    ("  \\item[a] x", "latex", "  \\item[a] ", "           "),
])
def test_line_prefix_and_continuation(line: str, fmt: str, prefix: str, cont: str) -> None:
    assert line_prefix(line, len(line) - 1, fmt) == prefix
    assert continuation(prefix, fmt) == cont


def test_paragraph_end() -> None:
    assert paragraph_end("a\nb\n\nc", 0, "markdown") == 3
    assert paragraph_end("> a\n>\n> b", 0, "markdown") == 3
    assert paragraph_end("a\r\n \r\nb", 0, "latex") == 2
    assert paragraph_end("a", 0, "latex") == 1


def test_fence_on_the_first_line_after_a_bom() -> None:
    text = "\ufeff```\n\\deriv<A><X>\n```\n\\deriv<B><X>\n"
    assert [d.f for d in scan(text, "markdown").directives] == ["B"]
