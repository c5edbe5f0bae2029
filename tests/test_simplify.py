"""Simplification rules preserve values: each rewrite is compared numerically."""

from __future__ import annotations

import numpy as np
import pytest

from matdiff_tex import evaluate
from matdiff_tex.expr.reader import read_expression
from matdiff_tex.expr.writer import to_latex
from matdiff_tex.rules.simplify import is_symmetric, simplify

RNG = np.random.default_rng(3)
VALUES = {
    "X": np.eye(3) * 2 + 0.4 * RNG.random((3, 3)),
    "A": RNG.random((3, 3)),
    "B": RNG.random((3, 4)),
    "x": RNG.random((3, 1)),
    "a": 0.7,
}
SHAPES = {k: np.shape(v) for k, v in VALUES.items()}

B = r"\boldsymbol"


@pytest.mark.parametrize(
    "latex, symmetric",
    [
        (rf"{B}{{X}}^{{\top}}{B}{{X}}", True),
        (rf"{B}{{B}}^{{\top}}{B}{{A}}{B}{{B}}", False),
        (rf"{B}{{B}}^{{\top}}({B}{{A}} + {B}{{A}}^{{\top}}){B}{{B}}", True),
        (rf"({B}{{X}}^{{\top}}{B}{{X}})^{{-1}}", True),
        (rf"{B}{{A}} + {B}{{A}}^{{\top}}", True),
        (rf"{B}{{A}} - {B}{{A}}^{{\top}}", False),
        (rf"{B}{{X}}{B}{{X}}^{{\top}} \otimes {B}{{I}}_{{3}}", True),
        (rf"\operatorname{{diag}}({B}{{x}})", True),
        (rf"{B}{{x}}{B}{{x}}^{{\top}}", True),
        (rf"{B}{{x}}{B}{{x}}^{{\top}}{B}{{A}}", False),
        (rf"{B}{{A}}", False),
        (rf"{B}{{X}}^{{2}}", False),
    ],
)
def test_is_symmetric_agrees_with_the_numbers(latex, symmetric):
    node = read_expression(latex, SHAPES)
    value = evaluate(latex, VALUES)
    assert is_symmetric(node) is symmetric
    assert np.allclose(value, value.T) is symmetric


@pytest.mark.parametrize(
    "latex",
    [
        rf"(({B}{{X}}^{{-1}})^{{4}})^{{\top}} {B}{{X}}^{{-\top}}",
        rf"({B}{{X}}^{{\top}}{B}{{X}})^{{-\top}} + ({B}{{X}}^{{\top}}{B}{{X}})^{{-1}}",
        rf"(a {B}{{A}}{B}{{B}})^{{\top}}",
        rf"{B}{{x}}^{{\top}}{B}{{x}}\,{B}{{I}}_{{3}} + 2 {B}{{x}}{B}{{x}}^{{\top}} - {B}{{x}}{B}{{x}}^{{\top}}",
        rf"({B}{{A}} \otimes {B}{{X}})({B}{{X}} \otimes {B}{{A}})",
        rf"\frac{{a}}{{2}} {B}{{A}} + \frac{{a}}{{2}} {B}{{A}}",
    ],
)
def test_simplify_preserves_the_value(latex):
    node = read_expression(latex, SHAPES)
    simplified = simplify(node)
    np.testing.assert_allclose(evaluate(to_latex(simplified), VALUES), evaluate(latex, VALUES), rtol=1e-10)
