"""Derivatives that are exactly zero although X occurs in F (A X^0, X - X, tr(X X^{-1}), ...).

The corpus once failed on ``\\boldsymbol{A}\\boldsymbol{X}^{0}`` in denominator layout: the vanished
differential printed a numerator-shaped ∂F/∂X row.  Every case here is derived in both layouts, with
the sizes given and inferred, in one process (so nothing computed for one layout leaks into the
other); the result must match central finite differences of a numpy definition of F (which are
zero up to rounding, computed honestly, not typed in) in value and shape, and derive() itself checks
every printed row.  The written document is rendered too, with every row printed.
"""

from __future__ import annotations

import numpy as np
import pytest

from matdiff_tex import derive, render_text

from derive_cases import SQ, G, Case, C, inv
from test_derive_table import assert_close, bound_shape, dim_bindings, evaluated, reference

B = r"\boldsymbol"
X, A, x, a = rf"{B}{{X}}", rf"{B}{{A}}", rf"{B}{{x}}", rf"{B}{{a}}"
TR = r"\operatorname{tr}"

ZERO_CASES: list[Case] = [
    C("AX0", rf"{A}{X}^{{0}}", "X", {"A": G(2, 3), "X": SQ(3)}, lambda v: v["A"] @ np.linalg.matrix_power(v["X"], 0)),
    C("X0", rf"{X}^{{0}}", "X", {"X": SQ(3)}, lambda v: np.linalg.matrix_power(v["X"], 0)),
    C("X0t_B", rf"({X}^{{0}})^{{\top}}{B}{{B}}", "X", {"X": SQ(3), "B": G(3, 2)},
      lambda v: np.linalg.matrix_power(v["X"], 0).T @ v["B"]),
    C("X0_kron_A", rf"{X}^{{0}} \otimes {A}", "X", {"X": SQ(2), "A": G(2, 3)},
      lambda v: np.kron(np.linalg.matrix_power(v["X"], 0), v["A"])),
    C("trX0", rf"{TR}({X}^{{0}})", "X", {"X": SQ(3)}, lambda v: np.trace(np.linalg.matrix_power(v["X"], 0))),
    C("X_minus_X", rf"{X} - {X}", "X", {"X": G(2, 3)}, lambda v: v["X"] - v["X"]),
    C("2X_minus_X_minus_X", rf"2{X} - {X} - {X}", "X", {"X": G(2, 3)}, lambda v: 2 * v["X"] - v["X"] - v["X"]),
    C("x_minus_x", rf"{x} - {x}", "x", {"x": G(3)}, lambda v: v["x"] - v["x"]),
    C("atx_minus_xta", rf"{a}^{{\top}}{x} - {x}^{{\top}}{a}", "x", {"x": G(3), "a": G(3)},
      lambda v: v["a"].T @ v["x"] - v["x"].T @ v["a"]),
    C("trX_minus_trXt", rf"{TR}({X}) - {TR}({X}^{{\top}})", "X", {"X": SQ(3)},
      lambda v: np.trace(v["X"]) - np.trace(v["X"].T)),
    C("X_Xinv", rf"{X}{X}^{{-1}}", "X", {"X": SQ(3)}, lambda v: v["X"] @ inv(v["X"])),
    C("tr_X_Xinv", rf"{TR}({X}{X}^{{-1}})", "X", {"X": SQ(3)}, lambda v: np.trace(v["X"] @ inv(v["X"]))),
    C("logdet_minus_logdet_t", rf"\log\det{X} - \log\det{X}^{{\top}}", "X", {"X": SQ(3)},
      lambda v: np.log(np.linalg.det(v["X"])) - np.log(np.linalg.det(v["X"].T))),
    C("had_commutes", rf"{X} \odot {A} - {A} \odot {X}", "X", {"X": G(2, 3), "A": G(2, 3)},
      lambda v: v["X"] * v["A"] - v["A"] * v["X"]),
    C("hess_linear_vec", rf"{a}^{{\top}}{x}", "x", {"x": G(3), "a": G(3)}, lambda v: v["a"].T @ v["x"], order=2),
    C("hess_linear_mat", rf"{TR}({A}{X})", "X", {"X": G(3, 2), "A": G(2, 3)}, lambda v: np.trace(v["A"] @ v["X"]),
      order=2),
]


def _params() -> list:
    return [pytest.param(case, layout, sizes, id=f"{case.id}-{layout[:3]}-{sizes}")
            for case in ZERO_CASES for layout in case.layouts for sizes in ("given", "inferred")]


@pytest.mark.parametrize(("case", "layout", "sizes"), _params())
def test_zero_derivative_matches_finite_differences(case: Case, layout: str, sizes: str) -> None:
    values = case.values()
    shapes = case.derive_shapes() if sizes == "given" else None
    d = derive(case.f, case.x, layout=layout, shapes=shapes, order=case.order)
    want, rtol = reference(case.fn, values, case.var, layout, case.order)
    assert np.max(np.abs(want)) < 1e-6, f"the reference of {case.f} is not zero: the case is wrong"
    got = evaluated(d.result_latex, values, dim_bindings(d, values))
    what = f"d/d{case.x} of {case.f} ({layout}, order {case.order}, sizes {sizes}) = {d.result_latex}"
    assert_close(got, want, rtol, what)
    assert bound_shape(d, values) == want.shape, f"{what}: d.shape {d.shape}"


def test_zero_derivatives_render_in_both_layouts_in_one_document() -> None:
    """One note with every case in both layouts, every row printed (each row is checked as it is
    printed: a wrong-layout zero row would be an internal error of the whole note)."""
    lines = []
    for case in ZERO_CASES:
        kind = "hessian" if case.order == 2 else "deriv"
        for layout in ("numerator", "denominator", "numerator"):  # back again: nothing kept between them
            lines.append(f"\\{kind}[layout={layout}, steps=full]<{case.f}><{case.x}>\n")
    out = render_text("\n".join(lines), "markdown")
    assert out.count("\\boldsymbol{0}") >= len(lines)
