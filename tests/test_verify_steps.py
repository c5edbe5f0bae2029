"""The line-by-line check: every differential line of a derivation keeps the value of its chain."""

from __future__ import annotations

from dataclasses import replace

import pytest

from matdiff_tex import derive, engine
from matdiff_tex.errors import InternalError
from matdiff_tex.expr.nodes import Differential, Partial
from matdiff_tex.rules.build import mul, num
from matdiff_tex.check.verify_steps import check_steps

B = r"\boldsymbol"
CASES = [
    (rf"\operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}{B}{{X}})", rf"{B}{{X}}", 1),
    (rf"{B}{{A}}\exp({B}{{X}}{B}{{B}})", rf"{B}{{X}}", 1),
    (r"\log(1 + \exp(\boldsymbol{x}^{\top}\boldsymbol{w}))", rf"{B}{{w}}", 2),
    (rf"|{B}{{X}}|{B}{{X}}^{{-1}}", rf"{B}{{X}}", 1),
    (r"\log|\boldsymbol{X}|", rf"{B}{{X}}", 2),
]


def _differential_rows(steps):
    return [i for i, s in enumerate(steps) if s.lhs is None and any(isinstance(n, Differential) for n in s.expr.walk())
            and not any(isinstance(n, Partial) for n in s.expr.walk())]


@pytest.mark.parametrize("f, x, order", CASES)
def test_true_lines_pass(f, x, order):
    d = derive(f, x, order=order)
    check_steps(d.steps, _variable(d))


@pytest.mark.parametrize("f, x, order", CASES)
@pytest.mark.parametrize("factor", [2, -1])
def test_a_changed_line_is_caught(f, x, order, factor):
    d = derive(f, x, order=order)
    rows = _differential_rows(d.steps)
    assert rows, "the derivation has differential lines to check"
    for i in rows:
        steps = list(d.steps)
        steps[i] = replace(steps[i], expr=mul(num(factor), steps[i].expr))
        with pytest.raises(InternalError, match="line check failed"):
            check_steps(steps, _variable(d))


def test_a_wrong_display_never_reaches_a_document(monkeypatch):
    """A bug that only shows in a middle line (the result stays right) is still caught."""
    real = engine.trace_display

    def doubled(state, x):
        return mul(num(2), real(state, x))

    monkeypatch.setattr(engine, "trace_display", doubled)
    with pytest.raises(InternalError, match="line check failed"):
        derive(rf"\operatorname{{tr}}({B}{{A}}{B}{{X}}{B}{{B}})", rf"{B}{{X}}")


def _variable(d):
    from matdiff_tex.expr.reader import read_derivative_input

    return read_derivative_input(d.f_latex, d.x_latex, None).x
