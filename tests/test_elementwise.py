"""The element-wise simplifier (sympy) never changes a value, and finds what a person finds.

Random element-wise expressions of vectors and matrices (⊙, ∘ powers, sums, scalar multiples,
exp, log, σ, transposes) are simplified; the printed result, read back by ``evaluate``, must have
the value of the input at random points.  Then a few identities are checked as strings, after the
same numeric comparison.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matdiff_tex import evaluate
from matdiff_tex.engine import simplify as engine_simplify
from matdiff_tex.expr.reader import read_expression
from matdiff_tex.expr.writer import to_latex
from matdiff_tex.rules.elementwise import simplify_elementwise

B = r"\boldsymbol"
RNG = np.random.default_rng(11)
VALUES = {
    "u": RNG.uniform(0.5, 1.5, (4, 1)),
    "v": RNG.uniform(-1.5, 1.5, (4, 1)),
    "U": RNG.uniform(0.5, 1.5, (3, 2)),
    "V": RNG.uniform(-1.5, 1.5, (3, 2)),
    "A": RNG.uniform(-1, 1, (4, 3)),
    "z": RNG.uniform(-1, 1, (3, 1)),
    "a": 0.7,
}
SHAPES = {k: np.shape(v) for k, v in VALUES.items()}


def _expressions(u: str, v: str, one: str) -> st.SearchStrategy[str]:
    leaves = st.sampled_from([u, v, one, rf"\sigma({v})", rf"\exp({v})"])

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, inner).map(lambda p: rf"({p[0]}) \odot ({p[1]})"),
            st.tuples(inner, inner).map(lambda p: rf"({p[0]}) + ({p[1]})"),
            st.tuples(inner, inner).map(lambda p: rf"({p[0]}) - ({p[1]})"),
            inner.map(lambda e: rf"({e})^{{\circ -1}}"),
            inner.map(lambda e: rf"({e})^{{\circ 2}}"),
            inner.map(lambda e: rf"a ({e})"),
            inner.map(lambda e: rf"\exp({e})"),
            inner.map(lambda e: rf"\sigma({e})"),
            inner.map(lambda e: rf"\log({one} + \exp({e}))"),
        )

    return st.recursive(leaves, grow, max_leaves=6)


# each expression is anchored to a symbol of known size (a lone 1 has no size to read)
VECTOR = _expressions(rf"{B}{{u}}", rf"{B}{{A}}{B}{{z}}", rf"{B}{{1}}").map(lambda e: rf"{B}{{u}} \odot ({e})")
MATRIX = _expressions(rf"{B}{{U}}", rf"{B}{{V}}", rf"{B}{{1}}{B}{{1}}^{{\top}}").map(lambda e: rf"({e}) \odot {B}{{V}}")


def _same_value(before: str, after: str) -> None:
    with np.errstate(all="ignore"):
        want = np.asarray(evaluate(before, VALUES), dtype=complex)
        got = np.asarray(evaluate(after, VALUES), dtype=complex)
    assert got.shape == want.shape
    ok = np.isfinite(want) & (np.abs(want) < 1e8)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-8, atol=1e-10, err_msg=f"{before}\n  ->  {after}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(VECTOR, MATRIX), st.booleans())
def test_simplification_keeps_the_value(latex, transposed):
    if transposed:
        latex = rf"({latex})^{{\top}}"
    node = read_expression(latex, SHAPES)
    for simplified in (simplify_elementwise(node), engine_simplify(node)):
        assert simplified.shape == node.shape
        _same_value(latex, to_latex(simplified))


U, AZ, ONE = rf"{B}{{u}}", rf"{B}{{A}}{B}{{z}}", rf"{B}{{1}}"


@pytest.mark.parametrize(
    ("latex", "want"),
    [
        (rf"\exp({AZ}) \odot ({ONE} + \exp({AZ}))^{{\circ -1}}", rf"\sigma({B}{{A}} {B}{{z}})"),
        (rf"\exp({AZ}) \odot (({ONE} + \exp({AZ}))^{{\circ -1}})^{{\circ 2}}", rf"\sigma'({B}{{A}} {B}{{z}})"),
        (rf"\sigma({AZ}) \odot ({ONE} - \sigma({AZ}))", rf"\sigma'({B}{{A}} {B}{{z}})"),
        (rf"{ONE} \odot {U}", U),
        (rf"{U} \odot {U}^{{\circ -1}} \odot {AZ}", rf"{B}{{A}} {B}{{z}}"),
        (rf"\log(\exp({AZ}))", rf"{B}{{A}} {B}{{z}}"),
        (rf"\exp(\log({U}))", U),
        (rf"(\exp({B}{{z}}^{{\top}}{B}{{A}}^{{\top}}) - {B}{{u}}^{{\top}})", rf"(\exp({B}{{A}} {B}{{z}}) - {U})^{{\top}}"),
        (rf"{B}{{U}} \odot {B}{{U}}^{{\circ -1}}", rf"{B}{{1}}_{{3}} {B}{{1}}_{{2}}^{{\top}}"),
    ],
)
def test_identities(latex, want):
    node = read_expression(latex, SHAPES)
    out = engine_simplify(node)
    _same_value(latex, to_latex(out))
    assert to_latex(out) == want


def test_the_remembered_simplification_keeps_each_directives_own_notation() -> None:
    """Nodes compare equal however 1 is written; the simplifier's per-process memory must still
    give each tree back in its own notation (\\mathbf{1} read first must not print in a later
    directive that wrote \\boldsymbol{1})."""
    printed = []
    for one in (r"\mathbf{1}", r"\boldsymbol{1}", r"\mathbf{1}", r"\boldsymbol{1}"):
        node = read_expression(rf"{B}{{u}} \odot {B}{{u}} - {B}{{u}} \odot {B}{{u}} + {one}", {"u": (4, 1)})
        out = simplify_elementwise(node)
        assert np.allclose(evaluate(to_latex(out), VALUES), np.ones((4, 1)))
        printed.append(to_latex(out))
    assert printed == [r"\mathbf{1}_{4}", r"\boldsymbol{1}_{4}"] * 2
