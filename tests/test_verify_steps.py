"""The line-by-line check: every differential line of a derivation keeps the value of its chain."""

from __future__ import annotations

from dataclasses import replace

import pytest

from matdiff_tex import derive, engine
from matdiff_tex.errors import InternalError
from matdiff_tex.expr.nodes import Differential, Partial
from matdiff_tex.rules.build import mul, num
from matdiff_tex.check.verify_steps import check_steps
from matdiff_tex.derivation import chains

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


def _variable(d, shapes=None):
    from matdiff_tex.expr.reader import read_derivative_input

    return read_derivative_input(d.f_latex, d.x_latex, shapes).x


# Sizes the author gave: vec(AXB) of a 2x3 A, 3x4 X and 4x5 B is 10 long and the Jacobian 10x12.
# The rows must be checked all the same (a cut-off on every derived size once let them pass unchecked).
SIZED = [
    (rf"{B}{{A}}{B}{{X}}{B}{{B}}", rf"{B}{{X}}", 1,
     {"A": (2, 3), "X": (3, 4), "B": (4, 5)}),
    (rf"\operatorname{{tr}}({B}{{A}}{B}{{X}}{B}{{B}}{B}{{X}})", rf"{B}{{X}}", 1,
     {"A": (5, 3), "X": (3, 5), "B": (5, 3)}),
    (rf"{B}{{X}}^{{\top}}{B}{{X}}", rf"{B}{{X}}", 1, {"X": (4, 3)}),
    (r"\log(1 + \exp(\boldsymbol{x}^{\top}\boldsymbol{w}))", rf"{B}{{w}}", 2, {"x": (7, 1), "w": (7, 1)}),
]


@pytest.mark.parametrize("f, x, order, shapes", SIZED)
def test_rows_with_given_sizes_are_all_compared(f, x, order, shapes):
    d = derive(f, x, order=order, shapes=shapes)
    chains_of_two = sum(1 for chain in chains(d.steps) if len(chain) + (chain[0].lhs is not None) >= 2)
    assert chains_of_two > 0
    assert check_steps(d.steps, _variable(d, shapes)) == chains_of_two


@pytest.mark.parametrize("f, x, order, shapes", SIZED)
def test_a_changed_line_with_given_sizes_is_caught(f, x, order, shapes):
    d = derive(f, x, order=order, shapes=shapes)
    changed = 0
    for i, step in enumerate(d.steps):
        if step.lhs is not None or not any(isinstance(n, (Differential, Partial)) for n in step.expr.walk()):
            continue
        steps = list(d.steps)
        steps[i] = replace(step, expr=mul(num(2), step.expr))
        with pytest.raises(InternalError, match="line check failed"):
            check_steps(steps, _variable(d, shapes))
        changed += 1
    assert changed > 0


def test_every_chain_of_the_derivative_table_is_compared() -> None:
    """A chain that cannot be evaluated at any of its three random points is left out of the line
    check without a word (the result itself is still checked): on the whole derivative table, in
    each of its layouts, no chain is left out."""
    import sys
    from pathlib import Path

    from matdiff_tex.expr.reader import read_derivative_input

    sys.path.insert(0, str(Path(__file__).parent))
    from derive_cases import CASES as TABLE

    left_out, compared = [], 0
    for case in TABLE:
        for layout in case.layouts:
            shapes = case.derive_shapes()
            d = derive(case.f, case.x, layout=layout, shapes=shapes, order=case.order)
            expected = sum(1 for chain in chains(d.steps) if len(chain) + (chain[0].lhs is not None) >= 2)
            got = check_steps(d.steps, read_derivative_input(d.f_latex, d.x_latex, shapes).x, layout=layout)
            compared += got
            if got != expected:
                left_out.append((case.id, layout, got, expected))
    assert left_out == [] and compared > 600
