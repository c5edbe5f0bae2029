"""What matrix-calculus posts write (issue 11): norms, symmetric matrices, derivatives by a scalar.

Each derivative is read back with ``evaluate()`` and compared with central finite differences of an
independent numpy definition (``tests/derive_cases.py``), in both layouts.
"""

from __future__ import annotations

import numpy as np
import pytest

from matdiff_tex import derive
from matdiff_tex.check.evaluation import evaluate
from matdiff_tex.errors import MatdiffError

from derive_cases import fd_hessian, fd_jacobian
from test_derive_table import arrange, assert_close, dim_bindings, evaluated

B = r"\boldsymbol"
RNG = np.random.default_rng(11)


def _values(sizes: dict) -> dict:
    return {name: RNG.normal(size=shape) if shape else float(RNG.uniform(0.5, 1.5)) for name, shape in sizes.items()}


def _check(f: str, x: str, var: str, sizes: dict, fn, *, values: dict | None = None, **kw) -> None:
    values = values or _values(sizes)
    shapes = {k: v for k, v in sizes.items() if v}
    for layout in ("numerator", "denominator"):
        d = derive(f, x, layout=layout, shapes=shapes, **kw)
        got = evaluated(d.result_latex, values, dim_bindings(d, values))
        jac, f_shape = fd_jacobian(fn, values, var)
        assert_close(got, arrange(jac, f_shape, values[var].shape, layout), 1e-5, f"{f} ({layout}) = {d.result_latex}")


# ----------------------------------------------------------------------------- item 4: norms

NORMS = [
    (rf"\|{B}{{A}}{B}{{x}} - {B}{{b}}\|_2", {"A": (3, 4), "x": (4, 1), "b": (3, 1)},
     lambda v: np.sqrt(np.sum((v["A"] @ v["x"] - v["b"]) ** 2))),
    (rf"\|{B}{{x}}\|", {"x": (5, 1)}, lambda v: np.sqrt(np.sum(v["x"] ** 2))),
    (rf"\|{B}{{A}}{B}{{x}} - {B}{{b}}\|_1", {"A": (3, 4), "x": (4, 1), "b": (3, 1)},
     lambda v: np.sum(np.abs(v["A"] @ v["x"] - v["b"]))),
    (rf"\|{B}{{x}}\|_2^{{3}}", {"x": (5, 1)}, lambda v: np.sqrt(np.sum(v["x"] ** 2)) ** 3),
    (rf"\log \|{B}{{x}}\|_2", {"x": (5, 1)}, lambda v: np.log(np.sqrt(np.sum(v["x"] ** 2)))),
]
MATRIX_NORMS = [
    (rf"\|{B}{{X}}\|_F", {"X": (3, 4)}, lambda v: np.linalg.norm(v["X"], "fro")),
    (rf"\|{B}{{A}}{B}{{X}}{B}{{C}}\|_{{\mathrm{{F}}}}", {"A": (2, 3), "X": (3, 4), "C": (4, 5)},
     lambda v: np.linalg.norm(v["A"] @ v["X"] @ v["C"], "fro")),
    (rf"\|{B}{{X}} - {B}{{A}}\|_F^{{3}}", {"X": (3, 4), "A": (3, 4)}, lambda v: np.linalg.norm(v["X"] - v["A"]) ** 3),
]


@pytest.mark.parametrize("f,sizes,fn", NORMS, ids=[r[0] for r in NORMS])
def test_vector_norms(f, sizes, fn) -> None:
    _check(f, rf"{B}{{x}}", "x", sizes, fn)


@pytest.mark.parametrize("f,sizes,fn", MATRIX_NORMS, ids=[r[0] for r in MATRIX_NORMS])
def test_matrix_norms(f, sizes, fn) -> None:
    _check(f, rf"{B}{{X}}", "X", sizes, fn)


def test_hessian_of_the_euclidean_norm() -> None:
    v = {"x": RNG.normal(size=(4, 1))}
    d = derive(rf"\|{B}{{x}}\|_2", rf"{B}{{x}}", order=2)
    want = fd_hessian(lambda w: np.sqrt(np.sum(w["x"] ** 2)), v, "x")
    assert_close(evaluated(d.result_latex, v), want, 1e-3, d.result_latex)


def test_l1_norm_states_where_it_is_valid(cli) -> None:
    for lang, words in (("en", "valid where no entry is zero"), ("zh", "在各分量都不为零处成立")):
        out = cli("derive", rf"\|{B}{{x}}\|_1 + {B}{{x}}^{{\top}}{B}{{x}}", rf"{B}{{x}}", "--lang", lang)
        assert out.exit_code == 0, out.stderr
        assert words in out.stdout and r"\operatorname{sign}" in out.stdout


@pytest.mark.parametrize("f", [rf"\|{B}{{X}}\|_2", rf"\|{B}{{X}}\|_*", rf"\|{B}{{X}}\|_2^2", rf"\|{B}{{X}}\|_{{\ast}}^{{2}}"])
def test_spectral_and_nuclear_norms_are_refused_clearly(f) -> None:
    with pytest.raises(MatdiffError, match="spectral|nuclear") as info:
        derive(f, rf"{B}{{X}}")
    assert info.value.span is not None and info.value.field == "F"


def test_matrix_one_norm_is_refused() -> None:
    with pytest.raises(MatdiffError, match="column sum"):
        derive(rf"\|{B}{{X}}\|_1", rf"{B}{{X}}")


def test_evaluate_matrix_norms_as_numpy_defines_them() -> None:
    x = RNG.normal(size=(3, 5))
    for latex, want in ((r"\|X\|_2", np.linalg.norm(x, 2)), (r"\|X\|_*", np.linalg.norm(x, "nuc")),
                        (r"\|X\|_F", np.linalg.norm(x)), (r"\|X\|", np.linalg.norm(x)),
                        (r"\|X\|_2^{2}", np.linalg.norm(x, 2) ** 2)):
        assert np.isclose(evaluate(latex, {"X": x}), want), latex
