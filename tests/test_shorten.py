"""Shorter derivations: a long function named once, repeated sub-expressions named where they first
appear, trivial steps merged — and every row that is printed is still a checked row."""

from __future__ import annotations

import pytest

from matdiff_tex import derive, render_text
from matdiff_tex.errors import InternalError
from matdiff_tex.expr.nodes import Named

SOFTMAX = r"-\boldsymbol{y}^{\top}\log\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})"


def lines(d) -> list[tuple[str | None, str]]:
    return [(row.lhs, row.rhs) for row in d.rows()]


def test_a_long_function_is_named_once_and_the_name_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long F gets a name in a first row (f = F); the rows use it and the line check, run on the
    rows as printed, evaluates the name as its definition: a wrong definition is refused."""
    from matdiff_tex import shorten as names
    from matdiff_tex.errors import InternalError
    from matdiff_tex.expr.nodes import Named

    f = r"-y\boldsymbol{x}^{\top}\boldsymbol{w} + \log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))"
    d = derive(f, r"\boldsymbol{w}")
    rows = d.rows()
    assert (rows[0].lhs, rows[0].rule) == ("f", "define")
    assert [row.lhs for row in rows if row.lhs] == ["f", r"\mathrm{d}f", r"\frac{\partial f}{\partial \boldsymbol{w}}"]
    assert sum(isinstance(n, Named) for step in d.steps for n in (step.lhs.walk() if step.lhs else ())) == 3
    short = derive(r"\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}", r"\boldsymbol{x}")
    assert short.rows()[0].lhs.startswith(r"\mathrm{d}(")  # short functions are reprinted, not named

    real = names.name_function

    def wrong_definition(steps, f, x, order):  # the name stands for something else than F
        out = real(steps, f, x, order)
        bad = Named(out[0].lhs.name, f.terms[1])
        return [out[0]] + [s.__class__(expr=s.expr, rule=s.rule, note=s.note, note_args=s.note_args,
                                       lhs=names.substitute(s.lhs, out[0].lhs, bad) if s.lhs else None)
                           for s in out[1:]]

    monkeypatch.setattr("matdiff_tex.engine.name_function", wrong_definition)
    with pytest.raises(InternalError, match="line check failed"):
        derive(f, r"\boldsymbol{w}")


def test_a_repeated_sub_expression_is_named_where_it_first_appears() -> None:
    d = derive(SOFTMAX, r"\boldsymbol{W}", order=2)
    rows = d.rows()
    defining = [row for row in rows if row.defines]
    assert [row.defines for row in defining] == [((r"\boldsymbol{p}",
                                                   r"\operatorname{softmax}(\boldsymbol{W} \boldsymbol{x})"),)]
    assert defining[0] is rows[0], "defined on the row f = F, where the author's expression shows it"
    assert all(r"\operatorname{softmax}" not in row.rhs for row in rows[1:-1])  # the name is used after
    assert r"\operatorname{diag}(\boldsymbol{p})" in rows[-2].rhs
    assert rows[-1].rhs == d.result_latex, "the result is written out in full"
    assert r"\operatorname{softmax}" in rows[0].rhs  # f = F as the author wrote it
    assert len(rows) <= 14
    # the definition is printed in the note of that row, in each language
    zh = render_text(rf"\hessian<{SOFTMAX}><\boldsymbol{{W}}>" + "\n")
    en = render_text(rf"\hessian[lang=en]<{SOFTMAX}><\boldsymbol{{W}}>" + "\n")
    assert zh.count(r"记 $\boldsymbol{p} = \operatorname{softmax}(\boldsymbol{W} \boldsymbol{x})$") == 1
    assert en.count(r"where $\boldsymbol{p} = \operatorname{softmax}(\boldsymbol{W} \boldsymbol{x})$") == 1


def test_a_wrong_sub_expression_name_is_refused_by_the_line_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from matdiff_tex import shorten
    from matdiff_tex.expr.nodes import Func

    real = shorten.substitute

    def wrong(node, target, replacement):  # p would stand for exp(Wx), not softmax(Wx)
        if isinstance(replacement, Named) and replacement.name.name == "p":
            replacement = Named(replacement.name, Func("exp", target.arg))
        return real(node, target, replacement)

    monkeypatch.setattr(shorten, "substitute", wrong)
    with pytest.raises(InternalError, match="line check failed"):
        derive(SOFTMAX, r"\boldsymbol{W}", order=2)


def test_trivial_steps_are_merged() -> None:
    # d(X^T) = dX^T is not a step
    xt = lines(derive(r"\boldsymbol{X}^{\top}", r"\boldsymbol{X}"))
    assert xt[0] == (r"\text{vec}(\mathrm{d}(\boldsymbol{X}^{\top}))",
                     r"\boldsymbol{K}_{mn} \text{vec}(\mathrm{d}\boldsymbol{X})")
    assert len(xt) == 2
    # dy = dy is not a step: the identity is inserted on the first row
    yy = derive(r"\boldsymbol{y}", r"\boldsymbol{y}").rows()
    assert len(yy) == 2 and yy[0].lhs.startswith(r"\mathrm{d}") and yy[0].rhs.startswith(r"\boldsymbol{I}_{n} ")
    assert yy[1].rhs == r"\boldsymbol{I}_{n}"
    # linearity twice in a row is one step; d(AX) next to A dX is one step
    tr = derive(r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X})", r"\boldsymbol{X}")
    assert lines(tr)[0][1] == r"\operatorname{tr}(\boldsymbol{A} \mathrm{d}\boldsymbol{X})"
    notes = [row.note for row in tr.rows()]
    assert all(a != b or a != "linearity" for a, b in zip(notes, notes[1:]))
    # seed 002 keeps its own steps: vec(ABX) = vec(ABXI), I^T ⊗ AB = I ⊗ AB
    abx = [row.note for row in derive(r"\boldsymbol{ABX}", r"\boldsymbol{X}").rows()]
    assert abx[:3] == ["vectorize", "sandwich", "separate_var"]


@pytest.mark.parametrize("f, x, order", [
    (r"\boldsymbol{X}^{\top}", r"\boldsymbol{X}", 1),
    (r"\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})", r"\boldsymbol{X}", 2),
    (SOFTMAX, r"\boldsymbol{W}", 2),
    (r"\boldsymbol{A}\exp(\boldsymbol{X}\boldsymbol{B})", r"\boldsymbol{X}", 1),
])
def test_merged_rows_are_a_subsequence_of_the_engine_steps(monkeypatch: pytest.MonkeyPatch, f, x, order) -> None:
    """Merging only leaves rows out: each printed row (names undone) is one of the engine's rows,
    in the same order, and the last one is the result."""
    from matdiff_tex import engine, shorten

    seen: list = []
    real = shorten.merge_trivial_steps

    def spy(steps, var=None):
        seen.extend(steps)
        return real(steps, var)

    monkeypatch.setattr(engine, "merge_trivial_steps", spy)
    d = derive(f, x, order=order)

    def undo(node):
        if node is None:
            return None
        if isinstance(node, Named):
            return undo(node.definition)
        kids = node.children()
        return node.with_children([undo(k) for k in kids]) if kids else node

    engine_exprs = [step.expr for step in seen]
    position = -1
    for step in d.steps:
        if step.rule == "define":
            continue
        expr = undo(step.expr)
        position = engine_exprs.index(expr, position + 1)
    assert d.steps[-1].expr == d.result or undo(d.steps[-1].expr) == d.result
