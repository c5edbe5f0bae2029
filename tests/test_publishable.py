"""Issue 7 (items 3-7 in part): rows true in their layout, the author's spelling, notes, warnings."""

from __future__ import annotations

import numpy as np

from matdiff_tex import derive, evaluate


def test_integral_factor_ends_with_a_thin_space() -> None:
    """``\\int ... \\,\\mathrm{d}s \\text{vec}(...)`` rendered as "dsvec": a thin space follows ``ds``."""
    derivation = derive(r"e^{\boldsymbol{X}}", r"\boldsymbol{X}")
    rows = [row.rhs for row in derivation.rows()]
    collected = next(r for r in rows if r.startswith(r"\int") and r.endswith(r"\text{vec}(\mathrm{d}\boldsymbol{X})"))
    assert r"\, \mathrm{d}s \, \text{vec}(\mathrm{d}\boldsymbol{X})" in collected
    # the printed product still reads back as the same matrix
    rng = np.random.default_rng(0)
    x = 0.3 * rng.standard_normal((3, 3))
    matrix = collected[: -len(r" \text{vec}(\mathrm{d}\boldsymbol{X})")]
    assert matrix.endswith(r"\, \mathrm{d}s \,")
    value = evaluate(matrix, {"X": x})
    assert np.allclose(value, evaluate(derivation.result_latex, {"X": x}))


# ---------------------------------------------------------------- item 3: one meaning per symbol

from matdiff_tex import engine  # noqa: E402
from matdiff_tex.check.verify_steps import check_steps  # noqa: E402
from matdiff_tex.derivation import chains  # noqa: E402
from matdiff_tex.errors import InternalError  # noqa: E402
from matdiff_tex.expr.nodes import Partial  # noqa: E402
from matdiff_tex.expr.reader import read_derivative_input  # noqa: E402
from matdiff_tex.rules.build import transpose  # noqa: E402

import pytest  # noqa: E402

B = r"\boldsymbol"
LAYOUTS = ("numerator", "denominator")
#: One directive per script: sandwich (one and several copies of X), trace, vectorize, zero, Hessians.
CHAINS = [
    (rf"{B}{{AX}}", rf"{B}{{X}}", 1),
    (rf"{B}{{A}}{B}{{X}}{B}{{B}}{B}{{X}}", rf"{B}{{X}}", 1),
    (rf"\operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}{B}{{X}})", rf"{B}{{X}}", 1),
    (rf"{B}{{A}}\exp({B}{{X}}{B}{{B}})", rf"{B}{{X}}", 1),
    (rf"\sigma({B}{{W}}{B}{{x}})", rf"{B}{{x}}", 1),
    (rf"{B}{{A}}{B}{{B}}", rf"{B}{{X}}", 1),
    (r"\|\boldsymbol{y} - \boldsymbol{X}\boldsymbol{\beta}\|^2", rf"{B}{{\beta}}", 2),
    (r"\log|\boldsymbol{X}|", rf"{B}{{X}}", 2),
    (rf"\operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}{B}{{X}})", rf"{B}{{X}}", 2),
]


def _x(d):
    return read_derivative_input(d.f_latex, d.x_latex, None).x


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("f, x, order", CHAINS)
def test_every_chain_with_its_partial_rows_is_compared(f, x, order, layout):
    """No chain is left out of the line check, the ``\\frac{\\partial ...}`` rows included."""
    d = derive(f, x, layout=layout, order=order)
    compared = [chain for chain in chains(d.steps) if len(chain) + (chain[0].lhs is not None) >= 2]
    assert any(isinstance(n, Partial) for step in d.steps for n in (step.expr, step.lhs) if n is not None)
    assert check_steps(d.steps, _x(d), layout=layout) == len(compared)


def test_denominator_sandwich_is_one_chain_true_in_its_layout():
    """Not ∂AX/∂X = ... = I⊗A and then ∂AX/∂X = I⊗A^T: one chain, the transpose taken inside it."""
    d = derive(rf"{B}{{AX}}", rf"{B}{{X}}", layout="denominator")
    rows = d.rows()
    assert [row.lhs for row in rows if row.lhs is not None] == [r"\frac{\partial \boldsymbol{AX}}{\partial \boldsymbol{X}}"]
    assert rows[-2].rhs == r"(\boldsymbol{I}_{n}^{\top} \otimes \boldsymbol{A})^{\top}"
    assert rows[-1].rhs == d.result_latex == r"\boldsymbol{I}_{n} \otimes \boldsymbol{A}^{\top}"
    assert not any(row.rhs == r"\boldsymbol{I}_{n} \otimes \boldsymbol{A}" for row in rows)


def test_the_old_contradictory_sandwich_chain_is_refused(monkeypatch):
    """The chain as it used to be written (numerator matrix under the denominator-layout ∂AX/∂X)."""
    real = engine.script_sandwich

    def numerator_then_transpose(f, x, layout, lines, factors):
        matrix = real(f, x, "numerator", lines, factors)
        if layout == "numerator":
            return matrix
        result = engine.simplify(transpose(matrix))
        lines.add(result, "identify", "layout_transpose", lhs=Partial(f, x))
        return result

    monkeypatch.setattr(engine, "script_sandwich", numerator_then_transpose)
    derive(rf"{B}{{AX}}", rf"{B}{{X}}", layout="numerator")  # true in numerator layout: accepted
    with pytest.raises(InternalError, match=r"line check failed: \\boldsymbol\{I\}_\{n\}\^\{\\top\} \\otimes \\boldsymbol\{A\} "
                                            r"differs from \\frac\{\\partial \\boldsymbol\{AX\}\}.*\(denominator layout\)"):
        derive(rf"{B}{{AX}}", rf"{B}{{X}}", layout="denominator")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_hessian_gradient_line_is_in_the_directive_layout(layout):
    d = derive(r"\|\boldsymbol{y} - \boldsymbol{X}\boldsymbol{\beta}\|^2", rf"{B}{{\beta}}", layout=layout, order=2)
    gradient = next(step for step in d.steps if step.note == "gradient")
    assert isinstance(gradient.lhs, Partial) and gradient.lhs.den == _x(d) and gradient.lhs.den2 is None
    rows, cols = gradient.expr.shape
    assert (rows.is_one, cols.is_one) == ((True, False) if layout == "numerator" else (False, True))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_hessian_gradient_in_the_other_layout_is_refused(monkeypatch, layout):
    real = engine.script_hessian
    other = {"numerator": "denominator", "denominator": "numerator"}
    monkeypatch.setattr(engine, "script_hessian", lambda f, x, lay, lines: real(f, x, other[lay], lines))
    with pytest.raises(InternalError, match=rf"line check failed.*\({layout} layout\)"):
        derive(r"\|\boldsymbol{y} - \boldsymbol{X}\boldsymbol{\beta}\|^2", rf"{B}{{\beta}}", layout=layout, order=2)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("f, x, names", [
    (rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", rf"{B}{{X}}", {"X"}),
    (rf"{B}{{A}}{B}{{X}}{B}{{B}}", rf"{B}{{X}}", {"X"}),
    (rf"{B}{{x}}^{{\top}}{B}{{S}}{B}{{x}}", rf"{B}{{x}}", {"S"}),
])
def test_symmetric_chains_are_compared_too(f, x, names, layout):
    d = derive(f, x, layout=layout, symmetric=names)
    variable = read_derivative_input(f, x, None, frozenset(names)).x
    compared = [chain for chain in chains(d.steps) if len(chain) + (chain[0].lhs is not None) >= 2]
    assert check_steps(d.steps, variable, layout=layout, symmetric=frozenset(names)) == len(compared) >= 2


# ---------------------------------------------------------------- item 5: notes name the identity


def _note_after(d, predicate):
    return next(step.note for step in d.steps if predicate(step))


@pytest.mark.parametrize("f, x, rule, note", [
    # splitting tr(A + B) into tr(A) + tr(B) is the linearity of the trace, not "a scalar is its trace"
    (rf"\operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}{B}{{X}})", rf"{B}{{X}}", "trace", "trace_linearity"),
    # a scalar df that is not yet a trace: the trace trick
    (rf"{B}{{a}}^{{\top}}{B}{{X}}{B}{{b}}", rf"{B}{{X}}", "trace", "trace_trick"),
    # tr(dX) = tr(I dX), dy = I dy: an identity written in, not 化简
    (rf"\operatorname{{tr}}({B}{{X}})", rf"{B}{{X}}", "collect", "insert_identity"),
    (rf"{B}{{y}}", rf"{B}{{y}}", "collect", "insert_identity"),
    # |X| tr(X^{-1} dX) = tr(|X| X^{-1} dX)
    (rf"|{B}{{X}}|", rf"{B}{{X}}", "collect", "trace_linearity"),
    # vec(dF) = vec(...): both sides vectorized (向量化分子分母 is for ∂vec F/∂vec X rows)
    (rf"{B}{{A}}\exp({B}{{X}}{B}{{B}})", rf"{B}{{X}}", "vectorize", "vectorize_both"),
    # the differentials of the inverse, the determinant, the log-determinant, the squared norm
    (rf"{B}{{X}}^{{-1}}", rf"{B}{{X}}", "differential", "d_inverse"),
    (rf"|{B}{{X}}|", rf"{B}{{X}}", "differential", "d_det"),
    (rf"\log|{B}{{X}}|", rf"{B}{{X}}", "differential", "d_logdet"),
    (r"\|\boldsymbol{A}\boldsymbol{x} - \boldsymbol{b}\|^2", rf"{B}{{x}}", "differential", "d_normsq"),
])
def test_notes_name_the_identity_the_row_applies(f, x, rule, note):
    d = derive(f, x)
    assert _note_after(d, lambda step: step.rule == rule) == note


def test_sandwich_rows_keep_the_seed_vocabulary():
    d = derive(rf"{B}{{AX}}", rf"{B}{{X}}")
    assert [step.note for step in d.steps][:3] == ["vectorize", "sandwich", "separate_var"]
    from matdiff_tex.render import note_text

    assert [note_text(step.note, {"var": "X"}) for step in d.steps[:2]] == ["向量化分子分母", "变换成夹层饼样式"]


def test_a_scalar_moved_in_a_vectorization_is_not_linearity():
    d = derive(r"-y\boldsymbol{x}^{\top}\boldsymbol{w} + \log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))",
               rf"{B}{{w}}", order=2)
    assert "scalar_factor" in [step.note for step in d.steps if step.rule == "vectorize"]


# ---------------------------------------------------------------- item 4: the author's expression, as written


def _all_latex(d):
    rows = d.rows()
    return [d.lhs_latex, d.result_latex, *(row.lhs or "" for row in rows), *(row.rhs for row in rows)]


def test_norm_is_reprinted_as_typed():
    f = r"\|\boldsymbol{y} - \boldsymbol{X}\boldsymbol{\beta}\|^2"
    d = derive(f, rf"{B}{{\beta}}")
    assert d.lhs_latex == rf"\frac{{\partial {f}}}{{\partial \boldsymbol{{\beta}}}}"
    assert d.rows()[0].lhs == rf"\mathrm{{d}}({f})"
    assert not any(r"- (\boldsymbol{X} \boldsymbol{\beta})" in text for text in _all_latex(d))


def test_a_negated_product_keeps_no_added_parentheses():
    f = r"-y\boldsymbol{x}^{\top}\boldsymbol{w} + \log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))"
    d = derive(f, rf"{B}{{w}}")
    define = d.rows()[0]
    assert (define.lhs, define.rhs) == ("f", f)  # the name's definition: F as typed
    assert d.lhs_latex == rf"\frac{{\partial ({f})}}{{\partial \boldsymbol{{w}}}}"  # a compound numerator, grouped
    assert not any("-(y" in text for text in _all_latex(d))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_circ_and_mathrm_tr_stay_throughout(layout):
    d = derive(r"\mathrm{tr}(\boldsymbol{A}^{\top} (\boldsymbol{X} \circ \boldsymbol{X}))", rf"{B}{{X}}", layout=layout)
    texts = _all_latex(d)
    assert any(r"\circ" in t for t in texts[2:]) and any(r"\mathrm{tr}" in t for t in texts[2:])
    assert not any(r"\odot" in t or r"\operatorname{tr}" in t for t in texts)


def test_a_written_sum_is_grouped_in_the_numerator():
    d = derive(r"\boldsymbol{A}\boldsymbol{x} + \boldsymbol{b}", rf"{B}{{x}}")
    assert d.lhs_latex == r"\frac{\partial (\boldsymbol{A}\boldsymbol{x} + \boldsymbol{b})}{\partial \boldsymbol{x}}"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("order", [1, 2])
def test_a_leading_minus_is_reprinted_as_typed(layout, order):
    """The f = F row of seed 001 例5 is the author's text, not -(y^T log(softmax(Wx))); no row or
    left-hand side puts parentheses after a leading minus of a product."""
    from matdiff_tex import render_text

    f = r"-\boldsymbol{y}^{\top}\log\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})"
    d = derive(f, rf"{B}{{W}}", layout=layout, order=order)
    assert (d.rows()[0].lhs, d.rows()[0].rhs) == ("f", f)
    assert not any("-(" in text for text in _all_latex(d))
    for lang in ("zh", "en"):
        kind = "hessian" if order == 2 else "deriv"
        out = render_text(rf"\{kind}[layout={layout},lang={lang}]<{f}><\boldsymbol{{W}}>" + "\n")
        assert f"f &= {f} " in out and "-(" not in out
    typed = r"-(\boldsymbol{y}^{\top}\log\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x}))"  # parentheses typed: kept
    assert derive(typed, rf"{B}{{W}}", layout=layout, order=order).rows()[0].rhs == typed


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("f", "x"), [
    (r"(\boldsymbol{X}+\boldsymbol{I})^{-1}", r"\boldsymbol{X}"),
    (r"\operatorname{tr}((\boldsymbol{X}+\boldsymbol{I})^{-1}\boldsymbol{A})", r"\boldsymbol{X}"),
    (r"\log\det(\boldsymbol{I} + \boldsymbol{X}^{\top}\boldsymbol{X})", r"\boldsymbol{X}"),
    (r"(\boldsymbol{I} - \boldsymbol{A}) \boldsymbol{x}", r"\boldsymbol{x}"),
])
def test_an_identity_written_without_a_size_is_reprinted_without_one(f, x, layout):
    """Item 4: the author's \\boldsymbol{I} stays \\boldsymbol{I} in every row that reprints the
    author's expression (no invented I_n); the rows are the checked rows (derive verifies them)."""
    d = derive(f, x, layout=layout)
    texts = _all_latex(d)
    assert any(r"\boldsymbol{I}" in t for t in texts[2:])
    for text in texts:
        assert r"\boldsymbol{I}_" not in text.replace(r"\boldsymbol{I}_{n} \otimes", "").replace(
            r"\otimes \boldsymbol{I}_{", ""), text
    sized = derive(f.replace(r"\boldsymbol{I}", r"\boldsymbol{I}_{n}"), x, layout=layout)
    assert sized.result_latex == d.result_latex.replace(r"\boldsymbol{I} ", r"\boldsymbol{I}_{n} ").replace(
        r"\boldsymbol{I})", r"\boldsymbol{I}_{n})")  # the author's I_n stays I_n


def test_an_identity_factor_of_a_kronecker_product_keeps_its_size():
    """Where the size is needed (I ⊗ A), the author's \\boldsymbol{I} is written with it."""
    d = derive(r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{I}", rf"{B}{{X}}")
    assert d.result_latex == r"\boldsymbol{I}_{n} \otimes \boldsymbol{A}"
    assert any(r"(\boldsymbol{I}_{n}^{\top} \otimes \boldsymbol{A})" in row.rhs for row in d.rows())
    d = derive(r"\boldsymbol{I}\boldsymbol{X}", rf"{B}{{X}}")
    rows = [row.rhs for row in d.rows()]
    assert any(r"\text{vec}(\boldsymbol{I} \boldsymbol{X} \boldsymbol{I}_{n})" in rhs for rhs in rows)  # inserted: sized
    assert any(r"\boldsymbol{I}_{n}^{\top} \otimes \boldsymbol{I}_{m}" in rhs for rhs in rows)


# ---------------------------------------------------------------- English notes: short rows too

#: English seed cases allowed more than 14 rows, with their count: the rows themselves fill the
#: column (vec of the Hessian's differential, the result with softmax(Wx) written out), so every
#: note goes to a line of its own whatever its length.
LONG_IN_ENGLISH = {"001-ex5-hessian": 16}


def test_english_notes_keep_the_seed_derivations_short() -> None:
    """The seed worked examples in English stay within 14 rows, like the Chinese ones (the slow
    KaTeX test measures their widths); with the old, longer English notes ("read the derivative
    off the differential", "differentiate the gradient again", ...) six cases per layout took
    15-19 rows."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_seed_widths import _BLOCK, FIXTURE, MAX_ROWS, case_ids, count_rows

    from matdiff_tex import render_text

    ids = case_ids()
    for layout in LAYOUTS:
        blocks = _BLOCK.findall(render_text(FIXTURE.read_text(encoding="utf-8"), fmt="markdown", layout=layout,
                                            lang="en"))
        assert len(blocks) == len(ids)
        rows = {case: count_rows(block) for case, block in zip(ids, blocks)}
        over = {case: count for case, count in rows.items() if count > MAX_ROWS}
        assert all(count <= LONG_IN_ENGLISH.get(case, MAX_ROWS) for case, count in over.items()), (layout, over)
        assert max(rows.values()) > 10  # the fixture's long cases are really there
