"""Chains of ⊙ products: differentiated in one product-rule step, a repeated factor as U^{∘k}.

They used to be differentiated one nested product rule per factor, k terms of k factors on about
2k lines, so 40 factors took seconds; now a factor repeated k times is k U^{∘(k-1)} ⊙ dU and the
number of lines does not grow with k.  Every case is compared with central finite differences of
a numpy definition, in both layouts, sizes given and inferred.
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest

from matdiff_tex import derive

from derive_cases import G, POS, C, Case
from test_derive_table import assert_close, bound_shape, dim_bindings, evaluated, reference

B = r"\boldsymbol"
X, A, Bm, x, a = rf"{B}{{X}}", rf"{B}{{A}}", rf"{B}{{B}}", rf"{B}{{x}}", rf"{B}{{a}}"
TR = r"\operatorname{tr}"


def chain(*factors: str, op: str = r" \odot ") -> str:
    return op.join(factors)


def had(*arrays):
    return reduce(np.multiply, arrays)


CHAINS: list[Case] = [
    C("tr_X40", rf"{TR}({chain(*[X] * 40)})", "X", {"X": POS(3, 3)},
      lambda v: np.trace(v["X"] ** 40 / 1.0)),
    C("X3_circ", chain(X, X, X, op=r" \circ "), "X", {"X": G(2, 3)}, lambda v: v["X"] ** 3),
    C("XAXBX", chain(X, A, X, Bm, X), "X", {"X": G(2, 3), "A": G(2, 3), "B": G(2, 3)},
      lambda v: had(v["X"], v["A"], v["X"], v["B"], v["X"])),
    C("AXB_chain", chain(A, X, Bm), "X", {"X": G(2, 3), "A": G(2, 3), "B": G(2, 3)},
      lambda v: had(v["A"], v["X"], v["B"])),
    C("X_XT_X", chain(X, rf"{X}^{{\top}}", X), "X", {"X": G(3, 3)},
      lambda v: had(v["X"], v["X"].T, v["X"])),
    C("AX_chain", chain(rf"({A}{X})", rf"({A}{X})", rf"({A}{X})", X), "X", {"X": G(3, 3), "A": G(3, 3)},
      lambda v: had(v["A"] @ v["X"], v["A"] @ v["X"], v["A"] @ v["X"], v["X"])),
    C("atx_vec", rf"{a}^{{\top}}({chain(x, x, a, x)})", "x", {"x": G(4), "a": G(4)},
      lambda v: v["a"].T @ had(v["x"], v["x"], v["a"], v["x"])),
]


def _params() -> list:
    return [pytest.param(case, layout, sizes, id=f"{case.id}-{layout[:3]}-{sizes}")
            for case in CHAINS for layout in case.layouts for sizes in ("given", "inferred")]


@pytest.mark.parametrize(("case", "layout", "sizes"), _params())
def test_chain_matches_finite_differences(case: Case, layout: str, sizes: str) -> None:
    values = case.values()
    if case.id == "tr_X40":  # entries near 1, so that X^{∘40} stays of moderate size
        values = {"X": 0.9 + 0.2 * (values["X"] - 0.5) / 1.5}
    shapes = case.derive_shapes() if sizes == "given" else None
    d = derive(case.f, case.x, layout=layout, shapes=shapes)
    want, rtol = reference(case.fn, values, case.var, layout, 1)
    got = evaluated(d.result_latex, values, dim_bindings(d, values))
    what = f"d/d{case.x} of {case.f} ({layout}, sizes {sizes}) = {d.result_latex}"
    assert_close(got, want, rtol, what)
    assert bound_shape(d, values) == want.shape, f"{what}: d.shape {d.shape}"


@pytest.mark.parametrize("k", [3, 10, 40])
def test_lines_do_not_grow_with_the_chain(k: int) -> None:
    """The steps of tr(X ⊙ ... ⊙ X) are as many for 40 factors as for 3 (they were about 2k)."""
    d = derive(rf"{TR}({chain(*[X] * k)})", X)
    assert len(d.steps) <= 6, [r.rhs for r in d.rows()]
    assert rf"{k} " in d.result_latex and rf"\circ {k - 1}" in d.result_latex


def test_long_chains_count_one_copy_per_repeated_factor() -> None:
    """The copy limit is about the product rule's growth: 80 copies of X in one ⊙ chain are one
    factor U^{∘80}; 30 separate copies in a matrix product are still refused."""
    derive(rf"{TR}({chain(*[X] * 80)})", X)
    from matdiff_tex.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="occurs 30 times"):
        derive(rf"{TR}({''.join(rf'{B}{{A}}_{{{i}}}{X}' for i in range(30))})", X)
