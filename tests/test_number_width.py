"""The author's choices about the display: ``number=`` (numbered or not) and ``width=`` (how long a
line may be), from a directive, the front matter, the command line and the configuration file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from matdiff_tex import render_text
from matdiff_tex.errors import MatdiffError
from matdiff_tex.options import DEFAULT_WIDTH, PX_FOR_NUMBER, PX_PER_GLYPH, check_value, resolve

AX = r"\deriv<\boldsymbol{AX}><\boldsymbol{X}>"
LONG = (r"\deriv<\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}"
        r"\boldsymbol{X}^{\top}\boldsymbol{C})><\boldsymbol{X}>")


def display_block(text: str) -> str:
    found = re.search(r"\$\$\n(.*?)\n\$\$", text, re.S)
    assert found, text
    return found.group(1)


# ---------------------------------------------------------------- number


def test_numbered_by_default_in_markdown_and_latex() -> None:
    assert display_block(render_text(AX + "\n")).startswith("\\begin{equation}\n    \\begin{aligned}")
    assert render_text(AX + "\n", fmt="latex").startswith("\\begin{equation}\n")


def test_number_false_puts_aligned_directly_in_dollars() -> None:
    block = display_block(render_text(AX.replace("deriv<", "deriv[number=false]<") + "\n"))
    assert block.startswith("\\begin{aligned}\n") and block.endswith("\n\\end{aligned}")
    assert "equation" not in block
    # the rows are the same as in the numbered block
    numbered = display_block(render_text(AX + "\n"))
    assert [line.strip() for line in block.splitlines()[1:-1]] == [
        line.strip() for line in numbered.splitlines()[2:-2]]


def test_number_false_in_latex_is_equation_star() -> None:
    text = render_text(AX.replace("deriv<", "deriv[number=false]<") + "\n", fmt="latex")
    assert text.startswith("\\begin{equation*}\n") and text.rstrip().endswith("\\end{equation*}")


def test_number_document_wide_from_front_matter_and_overridden_by_a_directive() -> None:
    note = ("---\nmatdiff:\n  number: false\n---\n\n" + AX + "\n\n"
            + AX.replace("deriv<", "deriv[number=yes]<") + "\n")
    blocks = re.findall(r"\$\$\n(.*?)\n\$\$", render_text(note), re.S)
    assert [b.startswith("\\begin{equation}") for b in blocks] == [False, True]
    tex = "% matdiff: number=false\n" + AX + "\n"
    assert "\\begin{equation*}" in render_text(tex, fmt="latex")


def test_number_site_wide_from_options_config_file_and_command_line(cli, tmp_path: Path) -> None:
    assert "equation" not in render_text(AX + "\n", number=False)
    note = tmp_path / "note.md"
    note.write_text(AX + "\n", encoding="utf-8")
    (tmp_path / "matdiff-tex.toml").write_text("number = false\n", encoding="utf-8")
    assert "equation" not in cli("render", str(note)).output
    assert "\\begin{equation}" in cli("render", "--number", str(note)).output  # the flag beats the file
    (tmp_path / "matdiff-tex.toml").write_text("", encoding="utf-8")
    assert "equation" not in cli("render", "--no-number", str(note)).output


def test_number_bad_values_are_errors_with_a_location(cli, tmp_path: Path) -> None:
    with pytest.raises(MatdiffError, match=r"number=maybe is not allowed: number is true or false"):
        render_text(AX.replace("deriv<", "deriv[number=maybe]<") + "\n")
    (tmp_path / "matdiff-tex.toml").write_text('\nnumber = "sometimes"\n', encoding="utf-8")
    note = tmp_path / "note.md"
    note.write_text(AX + "\n", encoding="utf-8")
    result = cli("render", str(note))
    assert result.exit_code == 2
    assert re.search(r"matdiff-tex\.toml:2:1: error: number=sometimes is not allowed", result.output)


def test_a_latex_label_needs_a_number() -> None:
    with pytest.raises(MatdiffError, match=r"1:1: error: label=eq1 needs a numbered equation"):
        render_text(AX.replace("deriv<", "deriv[number=false, label=eq1]<") + "\n", fmt="latex", path="n.tex")
    # in Markdown the label is an anchor, which an unnumbered display can carry
    assert '<a id="eq1"></a>' in render_text(AX.replace("deriv<", "deriv[number=false, label=eq1]<") + "\n")


# ---------------------------------------------------------------- width


def test_width_values() -> None:
    assert check_value("width", "48") == 48 and check_value("width", 48) == 48
    assert check_value("width", "600px") == round((600 - PX_FOR_NUMBER) / PX_PER_GLYPH)
    assert check_value("width", " 800 px ") == round((800 - PX_FOR_NUMBER) / PX_PER_GLYPH)
    assert resolve().width == DEFAULT_WIDTH
    for bad, words in (("wide", "write a number of characters"), ("10", "too narrow"), ("200px", "too narrow"),
                       ("-5", "write a number"), ("12em", "write a number")):
        with pytest.raises(ValueError, match=words):
            check_value("width", bad)


def _widest_row(block: str) -> int:
    from matdiff_tex.render import visual_width

    rows = [re.sub(r"\\Longrightarrow.*$|\\\\$|&", "", line).strip() for line in block.splitlines()[2:-2]]
    return max(visual_width(row) for row in rows)


def test_a_narrower_width_gives_more_and_shorter_lines() -> None:
    wide = display_block(render_text(LONG + "\n"))
    narrow = display_block(render_text(LONG.replace("deriv<", "deriv[width=34]<") + "\n"))
    assert narrow.count("\\\\") > wide.count("\\\\")
    assert _widest_row(narrow) < _widest_row(wide)
    # front matter and site options set it too
    assert display_block(render_text("---\nmatdiff:\n  width: 34\n---\n\n" + LONG + "\n")) == narrow
    assert display_block(render_text(LONG + "\n", width="34")) == narrow


# ---------------------------------------------------------------- broken rows and names are checked rows


def _seed_directives() -> list[tuple[str, str, int]]:
    text = (Path(__file__).parent / "fixtures" / "seeds" / "worked_examples.md").read_text(encoding="utf-8")
    found = re.findall(r"^\\(deriv|hessian)<(.*)><(.*)>$", text, re.M)
    return [(f, x, 2 if kind == "hessian" else 1) for kind, f, x in found]


@pytest.mark.parametrize("width", [DEFAULT_WIDTH, 30])
def test_broken_rows_are_the_checked_rows_cut_into_lines(width: int) -> None:
    """Breaking a row only cuts its LaTeX: the lines joined again are exactly the row the engine
    wrote (and checked), at every width."""
    from matdiff_tex import derive
    from matdiff_tex.render import _safe, render_derivation
    from matdiff_tex.scan.model import Placement

    options = resolve({"width": width})
    for f, x, order in _seed_directives():
        derivation = derive(f, x, order=order)
        block = render_derivation(derivation, options, Placement.ALIGNED_LINES, "markdown")
        rows = re.split(r" \\\\\n(?!&\\quad )", block)
        assert len(rows) == len(derivation.rows())
        for text, row in zip(rows, derivation.rows()):
            text = re.sub(r" \\Longrightarrow \\text\{.*\}$| \\qquad \\text\{.*\}$", "", text, flags=re.S)
            rhs = text.split("&= ", 1)[1].replace(" \\\\\n&\\quad ", " ").rstrip()
            assert rhs == _safe(row.rhs)
