"""The engine's own behaviour: scripts, steps as data, the check wired in, errors.

The numbers are checked in test_derive_table.py against finite differences; here the
questions are whether the right script runs, whether the steps look like the seeds'
derivations, and whether a wrong rule is caught before anything is returned.
"""

from __future__ import annotations

import numpy as np
import pytest

from matdiff_tex import MatdiffError, derive, evaluate
from matdiff_tex.errors import InternalError, UnsupportedError
from matdiff_tex.expr.nodes import Inverse
from matdiff_tex.rules import differential
from matdiff_tex.rules.build import mul

B = r"\boldsymbol"


def notes(d) -> list[str | None]:
    return [row.note for row in d.rows()]


def test_seed_002_abx_sandwich_steps():
    """Seed 002: vectorize, insert I, separate X, I^T ⊗ (AB), then I ⊗ (AB)."""
    d = derive(rf"{B}{{ABX}}", rf"{B}{{X}}", shapes={"A": (2, 3), "B": (3, 4), "X": (4, 5)})
    assert notes(d)[:3] == ["vectorize", "sandwich", "separate_var"]
    rows = d.rows()
    assert r"\text{vec}" in rows[0].rhs and rows[0].lhs is not None
    assert r"\boldsymbol{I}_{5}^{\top} \otimes (\boldsymbol{AB})" in [r.rhs for r in rows]
    assert d.result_latex == r"\boldsymbol{I}_{5} \otimes (\boldsymbol{AB})"
    assert d.shape == (10, 20)


def test_seed_000_power_uses_product_rule_with_colours():
    d = derive(rf"{B}{{A}}^{{3}}", rf"{B}{{A}}")
    assert "product_rule" in notes(d)
    product_row = d.rows()[notes(d).index("product_rule")]
    for colour in ("red", "blue", "teal"):
        assert rf"\textcolor{{{colour}}}" in product_row.rhs
    assert d.result_latex.count(r"\otimes") == 3


def test_denominator_layout_adds_transpose_line():
    num = derive(rf"{B}{{A}}{B}{{X}}{B}{{B}}", rf"{B}{{X}}", shapes={"A": (2, 3), "X": (3, 4), "B": (4, 5)})
    den = derive(
        rf"{B}{{A}}{B}{{X}}{B}{{B}}", rf"{B}{{X}}", layout="denominator", shapes={"A": (2, 3), "X": (3, 4), "B": (4, 5)}
    )
    assert num.shape == (10, 12) and den.shape == (12, 10)
    # one chain, true in denominator layout at every row: the transpose is taken inside it
    assert [row.lhs for row in den.rows() if row.lhs is not None] == [den.lhs_latex]
    assert notes(den)[-2:] == ["layout_transpose", "simplify"]
    assert den.rows()[-2].rhs.endswith(r")^{\top}")


def test_scalar_function_uses_trace_trick():
    d = derive(rf"\operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}{B}{{X}})", rf"{B}{{X}}", layout="denominator")
    assert {"differential", "product_rule", "trace_linearity", "collect", "identify"} <= set(notes(d)) | {"differential"}
    assert d.result_latex == r"(\boldsymbol{A} + \boldsymbol{A}^{\top}) \boldsymbol{X}"


def test_vector_variable_needs_no_trace():
    d = derive(rf"{B}{{x}}^{{\top}}{B}{{A}}{B}{{x}}", rf"{B}{{x}}")
    assert all(r"\operatorname{tr}" not in row.rhs for row in d.rows())


def test_hessian_goes_through_the_gradient():
    d = derive(r"\log|\boldsymbol{X}|", rf"{B}{{X}}", order=2)
    assert "gradient" in notes(d) and notes(d)[-1] == "hessian"
    assert d.rows()[-1].lhs.startswith(r"\frac{\partial^{2}")


@pytest.mark.parametrize(
    "f, x, layout, shape",
    [
        (rf"{B}{{A}}{B}{{y}}", rf"{B}{{x}}", "numerator", (3, 4)),
        (rf"{B}{{A}}{B}{{y}}", rf"{B}{{x}}", "denominator", (4, 3)),
        (rf"\operatorname{{tr}}({B}{{A}})", rf"{B}{{X}}", "numerator", (5, 4)),
        (rf"\operatorname{{tr}}({B}{{A}})", rf"{B}{{X}}", "denominator", (4, 5)),
        (rf"{B}{{A}}", rf"{B}{{X}}", "numerator", (9, 20)),
    ],
)
def test_absent_variable_gives_zero_of_the_right_size(f, x, layout, shape):
    shapes = {"A": (3, 3), "y": (3, 1), "x": (4, 1), "X": (4, 5)}
    d = derive(f, x, layout=layout, shapes=shapes)
    assert d.shape == shape
    assert notes(d) == ["zero"]
    values = {"A": np.eye(3), "y": np.ones((3, 1)), "x": np.ones((4, 1)), "X": np.ones((4, 5))}
    assert not np.any(evaluate(d.result_latex, values))


def test_wrong_rule_is_caught_by_the_check(monkeypatch):
    """A sign error in d(X^{-1}) must never reach a document."""

    def wrong_inverse(node, d):
        return mul(node, d(node.arg), node)

    monkeypatch.setitem(differential.DIFFERENTIALS, Inverse, wrong_inverse)
    with pytest.raises(InternalError, match="check failed"):
        derive(rf"{B}{{X}}^{{-1}}", rf"{B}{{X}}")


def test_hessian_of_non_scalar_is_refused():
    with pytest.raises(UnsupportedError, match="scalar"):
        derive(rf"{B}{{A}}{B}{{X}}", rf"{B}{{X}}", order=2)


@pytest.mark.parametrize("layout", ["row", "Numerator", ""])
def test_unknown_layout_is_refused(layout):
    with pytest.raises(MatdiffError, match="layout"):
        derive(rf"{B}{{X}}", rf"{B}{{X}}", layout=layout)


def test_order_three_is_refused():
    with pytest.raises(MatdiffError, match="order"):
        derive(r"\operatorname{tr}(\boldsymbol{X})", rf"{B}{{X}}", order=3)


def test_steps_are_data_not_strings():
    d = derive(rf"{B}{{A}}{B}{{X}}", rf"{B}{{X}}")
    for step in d.steps:
        assert not isinstance(step.expr, str)
        assert step.rule
