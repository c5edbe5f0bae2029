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


# ---------------------------------------------------------------- like terms collected before the trace trick

W = r"\boldsymbol{W}"
LAYOUTS = ("numerator", "denominator")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("order", [1, 2])
def test_like_terms_are_collected_before_the_trace_trick(layout, order) -> None:
    """-y^T (dW x - 1 p^T dW x): both terms end in dW x, so they are collected first and the trace
    trick and the cyclic step each take one row with one trace (seed 001 例5 does the same)."""
    d = derive(SOFTMAX, W, layout=layout, order=order)
    rows = d.rows()
    notes = [row.note for row in rows]
    at = notes.index("trace_trick")
    assert notes[at - 1: at + 2] == ["collect", "trace_trick", "cyclic"]
    assert rows[at - 1].rhs == (r"(\boldsymbol{1}_{m}^{\top} \boldsymbol{y} \boldsymbol{p} - \boldsymbol{y})^{\top} "
                                r"\mathrm{d}\boldsymbol{W} \boldsymbol{x}")
    assert all(row.rhs.count(r"\operatorname{tr}") <= 1 for row in rows)
    assert notes.count("collect") == 1, "the terms are collected once, not again after the trace trick"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_wrongly_collected_row_is_refused_by_the_line_check(layout) -> None:
    """The collected row is one of the checked rows: with a term lost from its sum (-y^T dW x for
    (1^T y p - y)^T dW x) the line check refuses the derivation."""
    from dataclasses import replace

    from matdiff_tex.check.verify_steps import check_steps
    from matdiff_tex.expr.nodes import Add, Mul, Transpose

    d = derive(SOFTMAX, W, layout=layout, order=2)
    x = d.lhs.den.arg  # vec(W) in the Hessian's denominator
    check_steps(d.steps, x, layout=layout)  # as derived: accepted
    at = next(i for i, step in enumerate(d.steps) if step.note == "collect")
    collected = d.steps[at].expr
    assert isinstance(collected, Mul) and isinstance(collected.factors[0], Transpose)
    difference = collected.factors[0].arg
    assert isinstance(difference, Add)
    lossy = Mul((Transpose(difference.terms[1]), *collected.factors[1:]))  # -y alone: a term lost
    steps = [*d.steps[:at], replace(d.steps[at], expr=lossy), *d.steps[at + 1:]]
    with pytest.raises(InternalError, match="line check failed"):
        check_steps(steps, x, layout=layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_like_terms_that_cancel_give_a_zero_row_and_terms_with_other_tails_are_not_collected(layout) -> None:
    zero = derive(r"\boldsymbol{a}^{\top}\boldsymbol{X}\boldsymbol{c} - \boldsymbol{a}^{\top}\boldsymbol{X}\boldsymbol{c}",
                  r"\boldsymbol{X}", layout=layout)
    assert [(row.rhs, row.note) for row in zero.rows()][1] == ("0", "collect")
    assert zero.result_latex == (r"\boldsymbol{0}_{n \times m}" if layout == "numerator" else r"\boldsymbol{0}_{m \times n}")
    apart = derive(r"\boldsymbol{a}^{\top}\boldsymbol{X}\boldsymbol{c} + \boldsymbol{b}^{\top}\boldsymbol{X}\boldsymbol{d}",
                   r"\boldsymbol{X}", layout=layout)
    traced = next(row for row in apart.rows() if row.note == "trace_trick")
    assert traced.rhs.count(r"\operatorname{tr}") == 2  # dX c and dX d: nothing to collect before the trick


@pytest.mark.parametrize("layout", LAYOUTS)
def test_softmax_hessian_fits_in_fourteen_rows_with_a_symmetric_kronecker_factor(layout) -> None:
    """(x x^T)^T ⊗ ... is written x x^T ⊗ ... on the sandwich row itself: x x^T is its own transpose;
    a product that is not (B X C) keeps its transpose."""
    d = derive(SOFTMAX, W, layout=layout, order=2)
    rows = d.rows()
    sandwich = next(row for row in rows if row.note == "expand_sandwich")
    assert sandwich.rhs.startswith(r"\boldsymbol{1}_{m}^{\top} \boldsymbol{y} ((\boldsymbol{x} \boldsymbol{x}^{\top}) \otimes")
    assert not any(r"\boldsymbol{x}^{\top})^{\top}" in row.rhs for row in rows)
    assert not any(row.note == "simplify" for row in rows)
    assert len(rows) <= 12 and r"\text{vec}" not in d.result_latex
    other = derive(r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}\boldsymbol{X}\boldsymbol{C}", r"\boldsymbol{X}")
    assert any(r"(\boldsymbol{BXC})^{\top} \otimes" in row.rhs for row in other.rows())


# ---------------------------------------------------------------- repeated rows


def test_a_row_printed_like_the_one_before_is_dropped() -> None:
    from matdiff_tex.derivation import Step
    from matdiff_tex.expr.nodes import Sym
    from matdiff_tex.shorten import drop_repeated_rows

    a, b = Sym("a", "scalar"), Sym("b", "scalar")
    named = Named(Sym("s", "scalar"), b)
    steps = [Step(expr=a, rule="differential", lhs=b), Step(expr=a, rule="collect", note="simplify"),
             Step(expr=b, rule="collect", defines=(named,)), Step(expr=b, rule="identify", lhs=a),
             Step(expr=b, rule="collect", note="simplify", defines=(named,))]
    out = drop_repeated_rows(steps)
    assert [(s.rule, s.note) for s in out] == [("differential", None), ("collect", None), ("identify", None)]
    assert out[2].defines == (named,), "the name a dropped row introduced moves to the row that stays"


def test_the_engine_drops_rows_that_the_spelling_made_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row repeated after the rows were named and restyled is dropped before the line check."""
    from matdiff_tex import engine

    real = engine.keep_spelling

    def doubled(steps, f, f_latex):  # a rule that would print its row twice
        out = real(steps, f, f_latex)
        at = next(i for i, s in enumerate(out) if s.lhs is None)
        return [*out[: at + 1], out[at].__class__(expr=out[at].expr, rule="collect", note="simplify"), *out[at + 1:]]

    monkeypatch.setattr(engine, "keep_spelling", doubled)
    d = derive(SOFTMAX, W, order=2)
    rows = [(row.lhs, row.rhs) for row in d.rows()]
    assert all(not (b[0] is None and a[1] == b[1]) for a, b in zip(rows, rows[1:]))
    assert "simplify" not in [row.note for row in d.rows()]


def _printed_rows(block: str) -> list[tuple[str, str]]:
    """(lhs, rhs) of each row of a display as printed: broken rows joined, notes left out."""
    import re

    body = re.sub(r"\\(begin|end)\{(aligned|equation\*?)\}", "", block)
    rows: list[str] = []
    for piece in (p.strip() for p in body.split("\\\\")):
        if piece.startswith(r"&\quad") and rows:
            rows[-1] += " " + piece[len(r"&\quad"):]
        else:
            rows.append(piece)
    out = []
    for row in rows:
        lhs, _, rhs = row.split(r"\Longrightarrow")[0].replace(r"\qquad", "").partition("&=")
        out.append((" ".join(lhs.split()), " ".join(rhs.split())))
    return out


@pytest.mark.parametrize("steps", ["full", "brief"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_seed_example_prints_a_row_twice(layout, steps) -> None:
    """Every worked example of the seeds (tests/fixtures/seeds/worked_examples.md), rendered as an
    author's note is: no row repeats the row before it."""
    import re
    from pathlib import Path

    note = (Path(__file__).parent / "fixtures" / "seeds" / "worked_examples.md").read_text(encoding="utf-8")
    note = note.replace("steps: full", f"steps: {steps}")
    blocks = re.findall(r"^\$\$\n(.*?)\n\$\$$", render_text(note, fmt="markdown", layout=layout), re.S | re.M)
    assert len(blocks) == len(re.findall(r"^\\(?:deriv|hessian)\b", note, re.M)) > 40
    for block in blocks:
        rows = _printed_rows(block)
        assert len(rows) >= 1
        for before, row in zip(rows, rows[1:]):
            assert row[0] or row[1] != before[1], f"a row printed twice:\n{block}"
