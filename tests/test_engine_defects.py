"""Small engine defects of issue 7 (item 6), each against an independent numpy definition.

* an exactly-zero derivative (``tr(X^{-1}AX)``, ``X X^{-1}``, ``det(X)det(X^{-1})``) is derived
  as 0 — the numeric check judges it against the scale of F's intermediate values — while the
  check still refuses wrong answers for such F and a wrong 0 for other F;
* the matrix-exponential rule binds an integration variable the author's F does not use;
* a size that is a square prints as ``p^{2}`` (not ``pp``) and reads back.
"""

from __future__ import annotations

import numpy as np
import pytest

from matdiff_tex import derive
from matdiff_tex.check.verify import check_derivative
from matdiff_tex.errors import InternalError
from matdiff_tex.expr.dims import Dim
from matdiff_tex.expr.nodes import Identity, Integral, Zero
from matdiff_tex.expr.reader import read_derivative_input
from matdiff_tex.expr.writer import to_latex

from derive_cases import SQ, G, SMALL, C, det, expm, inv
from test_derive_table import assert_close, dim_bindings, evaluated, reference

B = r"\boldsymbol"


def _quad_expm(a: np.ndarray) -> np.ndarray:
    """int_0^1 e^{sA} ds by 30-point Gauss-Legendre quadrature of a Taylor-series expm."""
    nodes, weights = np.polynomial.legendre.leggauss(30)
    s, w = (nodes + 1) / 2, weights / 2
    return sum(wi * expm(si * a) for si, wi in zip(s, w))


CASES = [
    C("zero_tr_XinvAX", rf"\operatorname{{tr}}({B}{{X}}^{{-1}}{B}{{A}}{B}{{X}})", "X", {"X": SQ(3), "A": G(3, 3)},
      lambda v: np.trace(inv(v["X"]) @ v["A"] @ v["X"])),
    C("zero_XXinv", rf"{B}{{X}}{B}{{X}}^{{-1}}", "X", {"X": SQ(3)}, lambda v: v["X"] @ inv(v["X"])),
    C("zero_detdet", rf"\det({B}{{X}})\det({B}{{X}}^{{-1}})", "X", {"X": SQ(3)},
      lambda v: det(v["X"]) * det(inv(v["X"]))),
    C("zero_detdet_hessian", rf"\det({B}{{X}})\det({B}{{X}}^{{-1}})", "X", {"X": SQ(3)},
      lambda v: det(v["X"]) * det(inv(v["X"])), order=2),
    C("zero_tr_XinvAX_hessian", rf"\operatorname{{tr}}({B}{{X}}^{{-1}}{B}{{A}}{B}{{X}})", "X",
      {"X": SQ(3), "A": G(3, 3)}, lambda v: np.trace(inv(v["X"]) @ v["A"] @ v["X"]), order=2),
    C("int_expm_sA", rf"\int_0^1 e^{{s {B}{{A}}}} \,\mathrm{{d}}s", "A", {"A": SMALL(3, 3)},
      lambda v: _quad_expm(v["A"])),
    C("int_tr_expm_sA", rf"\operatorname{{tr}}(\int_0^1 e^{{s {B}{{A}}}} \,\mathrm{{d}}s)", "A", {"A": SMALL(3, 3)},
      lambda v: np.trace(_quad_expm(v["A"]))),
]


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_against_finite_differences(case, layout):
    values = case.values()
    d = derive(case.f, case.x, layout=layout, shapes=case.derive_shapes(), order=case.order)
    got = evaluated(d.result_latex, values, dim_bindings(d, values))
    want, rtol = reference(case.fn, values, case.var, layout, case.order)
    assert_close(got, want, rtol, f"{case.f} ({layout}) = {d.result_latex}")
    if case.id.startswith("zero"):
        assert isinstance(d.result, Zero), d.result_latex
        assert np.max(np.abs(want)) < 1e-6  # the reference agrees that it is zero


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_exact_zero_steps_end_in_df_equals_zero(layout):
    d = derive(rf"\operatorname{{tr}}({B}{{X}}^{{-1}}{B}{{A}}{B}{{X}})", rf"{B}{{X}}", layout=layout)
    exprs = [to_latex(step.expr) for step in d.steps]
    assert "0" in exprs, exprs  # df = 0, not tr(0 dX)
    assert not any(r"\operatorname{tr}(\boldsymbol{0}" in e for e in exprs), exprs


def _read(f: str, x: str):
    parsed = read_derivative_input(f, x, None)
    return parsed.f, parsed.x


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_check_still_refuses_wrong_answers_where_the_true_derivative_is_zero(layout):
    f, x = _read(rf"{B}{{X}}{B}{{X}}^{{-1}}", rf"{B}{{X}}")
    zero = Zero(f.rows * f.cols, x.rows * x.cols)
    check_derivative(f, x, zero, layout=layout)  # accepted
    wrong = Identity(x.rows * x.cols)  # the derivative of F = X, not of X X^{-1}
    with pytest.raises(InternalError, match="derivative check failed: max error"):
        check_derivative(f, x, wrong, layout=layout)
    check_derivative(x, x, wrong, layout=layout)  # ... which is right for F = X


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_check_refuses_a_wrong_zero(layout):
    for f_text in (rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", rf"\operatorname{{tr}}({B}{{X}}^{{-1}}{B}{{A}}{B}{{X}}{B}{{X}})",
                   rf"\det({B}{{X}})\det({B}{{X}})"):
        f, x = _read(f_text, rf"{B}{{X}}")
        with pytest.raises(InternalError, match="derivative check failed: max error"):
            shape = (x.cols, x.rows) if layout == "numerator" else (x.rows, x.cols)
            check_derivative(f, x, Zero(*shape), layout=layout)


def test_hessian_check_refuses_a_wrong_zero():
    f, x = _read(rf"\det({B}{{X}})\det({B}{{X}})", rf"{B}{{X}}")
    size = x.rows * x.cols
    with pytest.raises(InternalError, match="derivative check failed: max error"):
        check_derivative(f, x, Zero(size, size), layout="numerator", order=2)


def test_integration_variable_is_fresh():
    d = derive(rf"\int_0^1 e^{{s {B}{{A}}}} \,\mathrm{{d}}s", rf"{B}{{A}}")
    variables = [n.var.name for n in d.result.walk() if isinstance(n, Integral)]
    assert len(variables) == 2 and len(set(variables)) == 2, d.result_latex
    assert r"\mathrm{d}t" in d.result_latex and r"\mathrm{d}s" in d.result_latex


def test_square_sizes_print_as_powers_and_read_back():
    assert Dim(1, ("p", "p")).latex() == "p^{2}"
    assert Dim(1, ("m", "n", "p", "p")).latex() == "mnp^{2}"
    assert Dim(2, ("n_1", "n_1")).latex() == r"2 \cdot n_1^{2}"
    d = derive(rf"{B}{{A}}", rf"{B}{{X}}", shapes={"A": "p x p"})
    assert d.result_latex == r"\boldsymbol{0}_{p^{2} \times mn}"
    assert d.shape == ("p^{2}", "mn")
    f, _ = _read(rf"{B}{{I}}_{{p^{{2}}}} + {B}{{I}}_{{pp}}", rf"{B}{{X}}")
    assert f.rows == Dim(1, ("p", "p"))
