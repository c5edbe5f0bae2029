"""Issue 7 (items 3-7 in part): rows true in their layout, the author's spelling, notes, warnings."""

from __future__ import annotations

import numpy as np

from matdiff_tex import derive, evaluate


def test_integral_factor_ends_with_a_thin_space() -> None:
    """``\\int ... \\,\\mathrm{d}s \\text{vec}(...)`` rendered as "dsvec": a thin space follows ``ds``."""
    derivation = derive(r"e^{\boldsymbol{X}}", r"\boldsymbol{X}")
    rows = [row.rhs for row in derivation.rows()]
    collected = next(r for r in rows if r.startswith(r"\int") and r.endswith(r"\text{vec}(\mathrm{d}\boldsymbol{X})"))
    assert r"\, \mathrm{d}s \, \text{vec}(\mathrm{d}\boldsymbol{X})" in collected
    # the printed product still reads back as the same matrix
    rng = np.random.default_rng(0)
    x = 0.3 * rng.standard_normal((3, 3))
    matrix = collected[: -len(r" \text{vec}(\mathrm{d}\boldsymbol{X})")]
    assert matrix.endswith(r"\, \mathrm{d}s \,")
    value = evaluate(matrix, {"X": x})
    assert np.allclose(value, evaluate(derivation.result_latex, {"X": x}))
