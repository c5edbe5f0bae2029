"""Where a long row is broken (:func:`matdiff_tex.render.wrap_row`): never next to a few factors of a
product (``x^T A / dx``, ``softmax(Wx) / softmax(Wx)^T``, ``(I ⊗ X^T) / vec(dX)``) when another
choice fits the line: the note on a line of its own, or a break at a sum.

The rows are the real ones: every row that the notes below (the homework example, the seed worked
examples, the Hexo and MkDocs example pages) are wrapped into, at several widths.  Whether another
choice fits is decided here independently of the cost model: lines are filled greedily using only
the other break places (greedy filling is the fewest lines of a fixed width), with the note after the
last line or on a line of its own.  A derivation longer than ``ROW_BUDGET`` (14) lines may cut
products in the rows nearest its result when that saves lines (the softmax cross-entropy Hessian).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from matdiff_tex import render as rendering
from matdiff_tex import render_text
from matdiff_tex.expr.writer import break_points

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import integration_pages as pages  # noqa: E402

HOMEWORK = REPO_ROOT / "examples" / "homework.tex"
SEEDS = REPO_ROOT / "tests" / "fixtures" / "seeds" / "worked_examples.md"


def record_wraps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, str | None, int, tuple[str, ...]]]:
    """Every call of wrap_row from now on (rows of a derivation within ROW_BUDGET lines, which must
    keep their products): (marked row, lead, note, width, lines)."""
    calls: list[tuple[str, int, str | None, int, tuple[str, ...]]] = []
    real = rendering.wrap_row

    def spy(marked: str, lead: int, note: str | None, width: int = rendering.WRAP_WIDTH,
            keep_products: bool = True) -> tuple[str, ...]:
        lines = real(marked, lead, note, width, keep_products)
        if keep_products:  # not a row re-wrapped because its derivation is over ROW_BUDGET lines
            calls.append((marked, lead, note, width, lines))
        return lines

    monkeypatch.setattr(rendering, "wrap_row", spy)
    return calls


def chosen_breaks(pieces: list[str], lines: tuple[str, ...]) -> list[int]:
    """The marks (indices into break_points' marks) that ``lines`` were broken at."""
    breaks, at = [], 0
    for line in [line for line in lines if line][:-1]:
        text = ""
        while text != line:
            assert at < len(pieces), (line, pieces)
            text = f"{text} {pieces[at]}" if text else pieces[at]
            at += 1
        breaks.append(at - 1)
    return breaks


def fits_without(sizes: list[int], allowed: list[bool], lead: int, note: int, width: int) -> bool:
    """Whether the pieces fit ``width`` breaking only at ``allowed`` marks (greedy filling), the note
    after the last line or on a line of its own."""
    used = lead + sizes[0]
    if used > width:
        return False
    for at, size in enumerate(sizes[1:]):
        if used + size <= width or not allowed[at]:
            used += size
            if used > width:
                return False
        else:
            used = lead + 4 + size
            if used > width:
                return False
    return used + note <= width or (not note or lead + 4 + note <= width)


def awkward_breaks(calls: list) -> list[str]:
    """The rows broken next to a few factors of a product although another choice fitted."""
    found = []
    for marked, lead, note, width, lines in calls:
        pieces, marks = break_points(marked)
        sizes = [rendering.visual_width(piece) for piece in pieces]
        if len([line for line in lines if line]) < 2 or sum(sizes) <= rendering.SHORT_ROW:
            continue
        sides = rendering.product_sides(marks, sizes)
        few = [marks[at][1] and sides[at] <= rendering.SHORT_FACTORS for at in range(len(marks))]
        bad = [at for at in chosen_breaks(pieces, lines) if few[at]]
        if bad and fits_without(sizes, [not f for f in few], lead, rendering.note_width(note), width):
            found.append(f"width {width}, lead {lead}: " + " // ".join(lines) + f"  ==> {note}")
    return found


def test_the_product_rule_rows_of_the_pages_keep_their_products(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows of docs/hexo-marked.png and docs/mkdocs-material.png as they were written before the
    engine merged d(x^T) into dx^T: the note goes to a line of its own, x^T A dx stays whole."""
    from matdiff_tex.expr.writer import BREAK as SUM
    from matdiff_tex.expr.writer import BREAK_PRODUCT as TIMES

    note = r"product rule: differentiate each $\boldsymbol{x}$ in turn"
    quadratic = (rf"\mathrm{{d}}(\boldsymbol{{x}}^{{\top}}) {TIMES}\boldsymbol{{A}} {TIMES}\boldsymbol{{x}} "
                 rf"{SUM}+ \boldsymbol{{x}}^{{\top}} {TIMES}\boldsymbol{{A}} {TIMES}\mathrm{{d}}\boldsymbol{{x}}")
    trace = (rf"\operatorname{{tr}}(\mathrm{{d}}(\boldsymbol{{X}}^{{\top}}) {TIMES}\boldsymbol{{AX}} "
             rf"{SUM}+ \boldsymbol{{X}}^{{\top}} {TIMES}\boldsymbol{{A}} {TIMES}\mathrm{{d}}\boldsymbol{{X}})")
    for row in (quadratic, trace):
        for width in range(40, 53):
            for lead in (6, 9, 12):
                lines = rendering.wrap_row(row, lead, note, width)
                assert lines[-1] == "" and len(lines) == 2, (width, lead, lines)


@pytest.mark.parametrize(("directive", "width", "whole"), [
    # homework.tex, X^T X by X at a 40-glyph width: was "... + (I_n ⊗ X^T) // vec(dX)"
    (r"\deriv[lang=en]<\boldsymbol{X}^{\top}\boldsymbol{X}><\boldsymbol{X}>", 40,
     r"(\boldsymbol{I}_{n} \otimes \boldsymbol{X}^{\top}) \text{vec}(\mathrm{d}\boldsymbol{X})"),
    # the softmax Jacobian at 44: was "(diag(s) - s // s^T) dW x"
    (r"\deriv<\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})><\boldsymbol{W}>", 44,
     r"\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x}) \operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})^{\top}"),
    # |X| X^{-1} at 44: was "|X| vec(X^{-1}) tr(X^{-1} dX) - |X| // (X^{-T} ⊗ X^{-1}) vec(dX)"
    (r"\deriv<|\boldsymbol{X}|\boldsymbol{X}^{-1}><\boldsymbol{X}>", 44,
     r"|\boldsymbol{X}| (\boldsymbol{X}^{-\top} \otimes \boldsymbol{X}^{-1}) \text{vec}(\mathrm{d}\boldsymbol{X})"),
])
def test_real_rows_that_split_a_short_product(directive: str, width: int, whole: str) -> None:
    text = render_text(directive + "\n", fmt="markdown", width=width)
    assert whole in text, text
    lines = [line.strip() for line in text.splitlines()]
    assert all(not line.endswith(("\\boldsymbol{X}^{\\top}) \\\\", "- |\\boldsymbol{X}| \\\\"))
               for line in lines), text


@pytest.mark.parametrize("width", [52, 48, 44, 40])
def test_no_row_splits_a_few_factors_when_another_choice_fits(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    calls = record_wraps(monkeypatch)
    render_text(HOMEWORK.read_text(encoding="utf-8"), fmt="latex", width=width)
    render_text(HOMEWORK.read_text(encoding="utf-8"), fmt="latex", width=width, lang="zh")
    for layout in ("numerator", "denominator"):
        for lang in ("zh", "en"):
            render_text(SEEDS.read_text(encoding="utf-8"), fmt="markdown", width=width, layout=layout, lang=lang)
    render_text(pages.HEXO_POST, fmt="markdown", width=width)
    render_text(pages.MKDOCS_PAGE, fmt="markdown", width=width, lang="en", markdown="mkdocs")
    assert len(calls) > 200
    assert awkward_breaks(calls) == []


def test_a_product_is_still_split_when_nothing_else_fits() -> None:
    """The cost model does not refuse to break: a long product with no sum and a note that fits
    after it is cut (between its factors), and no line but the pieces' own is too wide."""
    from matdiff_tex.expr.writer import BREAK_PRODUCT as TIMES

    factors = [rf"\boldsymbol{{A}}_{{{i}}}^{{\top}}" for i in range(1, 15)]
    lines = rendering.wrap_row(f" {TIMES}".join(factors), 10, "chain rule", 40)
    assert len(lines) > 1 and " ".join(line for line in lines if line) == " ".join(factors)
    assert all(10 + 4 + rendering.visual_width(line) <= 40 for line in lines[1:] if line)


def test_over_the_row_budget_a_product_may_be_cut_to_save_a_line() -> None:
    """Seed 001's softmax Hessian: the result row keeps 14 lines only by cutting softmax(Wx) softmax(Wx)^T
    (the note on a line of its own would make 15)."""
    seeds = SEEDS.read_text(encoding="utf-8")
    hessian = next(line for line in seeds.splitlines() if line.startswith(r"\hessian") and "softmax" in line)
    for layout in ("numerator", "denominator"):
        block = render_text(hessian + "\n", fmt="markdown", layout=layout)
        assert block.count("\\\\") + 1 <= rendering.ROW_BUDGET, block


def test_a_note_too_long_for_a_line_of_its_own_is_continued_on_the_next() -> None:
    """A note that does not fit after its row takes lines of its own, cut between words, each
    within the width, its text unchanged, the layout tag moved whole (``K_{nm} ⟹ read the
    derivative off the differential (denominator layout)`` was once one line of 61 glyphs, 745 px
    in MathJax, wider than MkDocs Material's 688 px column)."""
    text = render_text(r"\hessian[lang=en, symmetric=X]<\log\det\boldsymbol{X}><\boldsymbol{X}>" + "\n")
    rows = text.split("\\begin{aligned}")[1].split("\\end{aligned}")[0].strip().split(" \\\\\n")
    lead = max(rendering.visual_width(row.split("&", 1)[0]) for row in rows)
    assert all(lead + rendering.visual_width(row.split("&", 1)[1]) <= rendering.WRAP_WIDTH for row in rows), rows
    continued = [row.strip() for row in rows if "\\phantom{\\Longrightarrow}" in row]
    assert len(continued) >= 2
    assert continued[-1] == "&\\quad \\phantom{\\Longrightarrow} \\text{(numerator layout)}"
    words = re.findall(r"\\text\{([^{}]*)\}", " ".join(rows[-2:]))
    assert " ".join(words) == "a symmetric matrix is its own transpose (numerator layout)"
    parts = rendering.note_parts("read the derivative off the differential (denominator layout)", 7, 52)
    assert parts == ("read the derivative off the differential", "(denominator layout)")  # the tag moves
    parts = rendering.note_parts(r"product rule: differentiate each $\boldsymbol{X}$ in turn and collect", 27, 52)
    assert len(parts) == 3 and "$\\boldsymbol{X}$" in " ".join(parts)  # a formula is never cut
    widths = [rendering.note_width(part) for part in parts]
    assert max(widths) - min(widths) <= 6 and max(widths) <= 52 - 27 - 4  # lines as even as the words allow
