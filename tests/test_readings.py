"""Readings that used to be silently wrong or refused (issue 6, items 10-12 and smaller ones).

Every derivative here is compared with central finite differences of an independent numpy
definition (``tests/derive_cases.py`` helpers) after reading the written result back with
``evaluate()``; refusals must be located errors that name the problem.
"""

from __future__ import annotations

import numpy as np
import pytest

from matdiff_tex import derive
from matdiff_tex.check.evaluation import evaluate
from matdiff_tex.errors import MatdiffError, UnsupportedError

from derive_cases import fd_jacobian
from test_derive_table import arrange, assert_close, dim_bindings, evaluated

RNG = np.random.default_rng(20261123)
B = r"\boldsymbol"


def _check(f: str, x: str, var: str, values: dict, fn, shapes: dict | None = None) -> None:
    for layout in ("numerator", "denominator"):
        d = derive(f, x, layout=layout, shapes=shapes)
        got = evaluated(d.result_latex, values, dim_bindings(d, values))
        jac, f_shape = fd_jacobian(fn, values, var)
        assert_close(got, arrange(jac, f_shape, values[var].shape, layout), 1e-5, f"{f} ({layout}) = {d.result_latex}")


# ----------------------------------------------------------------------------- item 12: 1x1 coefficients

A34 = {"a": (3, 1), "A": (3, 4), "b": (4, 1), "X": (2, 5)}


def test_scalar_product_as_coefficient_in_a_norm() -> None:
    vals = {"a": RNG.normal(size=(3, 1)), "A": RNG.normal(size=(3, 4)), "b": RNG.normal(size=(4, 1)),
            "X": RNG.normal(size=(2, 5))}

    def fn(v):
        s = (v["a"].T @ v["A"] @ v["b"]).item()
        return np.sum((s * v["X"]) ** 2)

    _check(rf"\|({B} a^\top A {B} b)X\|_F^2", "X", "X", vals, fn,
           {"a": (3, 1), "A": (3, 4), "b": (4, 1), "X": (2, 5)})


def test_scalar_product_as_coefficient_inside_a_sum() -> None:
    vals = {"a": RNG.normal(size=(3, 1)), "B": RNG.normal(size=(3, 4)), "b": RNG.normal(size=(4, 1))}
    vals["X"] = RNG.normal(size=(3, 4))

    def fn(v):
        s = (v["a"].T @ v["B"] @ v["b"]).item()
        return (v["a"].T @ (v["B"] + s * v["X"]) @ v["b"]).item()

    _check(rf"{B} a^T(B+({B} a^T B {B} b)X){B} b", "X", "X", vals, fn,
           {"a": (3, 1), "B": (3, 4), "b": (4, 1), "X": (3, 4)})


def test_scalar_product_as_coefficient_of_a_power() -> None:
    vals = {"a": RNG.normal(size=(3, 1)), "X": RNG.normal(size=(3, 4)), "b": RNG.normal(size=(4, 1)),
            "B": RNG.normal(size=(2, 2))}

    def fn(v):
        s = (v["a"].T @ v["X"] @ v["b"]).item()
        return np.linalg.matrix_power(s * v["B"], 3)

    _check(rf"(({B} a^T X {B} b)B)^3", "X", "X", vals, fn,
           {"a": (3, 1), "X": (3, 4), "b": (4, 1), "B": (2, 2)})


def test_scalar_coefficient_between_vectors_with_inferred_sizes() -> None:
    """The three forms of the issue derive with the reader's own sizes too (no shapes given)."""
    for f in (rf"\|({B} a^\top A {B} b)X\|_F^2", rf"{B} a^T(B+({B} a^T B {B} b)X){B} b",
              rf"(({B} a^T X {B} b)B)^3", rf"{B} x^\top ({B} u^\top X {B} v) {B} y"):
        assert derive(f, "X").checked


# ----------------------------------------------------------------------------- item 11: misreadings


@pytest.mark.parametrize("f,x", [("X_{ij}", "X"), (rf"{B}{{X}}_{{ij}} {B}{{X}}", rf"{B}{{X}}"),
                                 (rf"x_1 {B}{{x}}", rf"{B}{{x}}"), ("X_{k}", "X")])
def test_entry_of_the_variable_is_refused_with_its_location(f: str, x: str) -> None:
    with pytest.raises(UnsupportedError, match="entry of the variable") as info:
        derive(f, x)
    assert info.value.field == "F" and info.value.span is not None
    start, end = info.value.span
    assert "_" in f[start:end]


def test_subscripted_symbols_that_are_not_entries_still_read() -> None:
    assert derive(rf"{B}{{W}}_1 {B}{{W}}", rf"{B}{{W}}").checked
    d = derive(rf"{B}{{e}}_i^{{\top}} {B}{{X}} {B}{{e}}_j", rf"{B}{{X}}")
    assert d.checked and "e}_{i}" in d.result_latex


@pytest.mark.parametrize("f,shown", [("1e5 X", "1e5"), ("2.5E-3 X", "2.5E-3"), ("1e+5X", "1e+5")])
def test_e_notation_is_refused_not_read_as_a_product_with_e(f: str, shown: str) -> None:
    with pytest.raises(UnsupportedError, match="E notation") as info:
        derive(f, "X")
    start, end = info.value.span
    assert f[start:end] == shown


def test_e_as_a_factor_still_reads() -> None:
    for f in ("1 e X", "3e X", r"2 \cdot e X", r"1 \times 10^{5} X"):
        assert derive(f, "X").checked


# ----------------------------------------------------------------------------- smaller ones


def test_difference_of_equal_terms_is_zero_in_any_style() -> None:
    for f, x in (("X - X", "X"), (r"\mathbf{X} - \mathbf{X}", r"\mathbf{X}"), ("2X - X - X", "X")):
        d = derive(f, x)
        assert "I" not in d.result_latex, d.result_latex
        assert not np.any(evaluated(d.result_latex, {"X": RNG.normal(size=(3, 4))}, {"m": 3, "n": 4}))


def test_evaluate_reads_the_plain_zero_and_ones_derive_writes() -> None:
    d = derive("A - A + X", "X", shapes={"X": (3, 3), "A": (3, 3)})
    plain = derive("A X", "X", shapes={"X": (3, 3), "A": (2, 3)}).result_latex
    assert np.allclose(evaluated(plain, {"A": np.eye(2, 3)}), np.kron(np.eye(3), np.eye(2, 3)))
    zero = derive("A", "X", shapes={"X": (3, 3), "A": (3, 3)}).result_latex
    assert zero.startswith("0_{"), zero
    assert np.array_equal(evaluate(zero, {}), np.zeros((9, 9)))
    assert np.array_equal(evaluate(r"0_{9 \times 9}", {}), np.zeros((9, 9)))
    assert np.array_equal(evaluate(r"1_{3}^{\top}", {}), np.ones((1, 3)))
    assert d.checked


# ----------------------------------------------------------------------------- item 10: spectral norm


def test_spectral_norm_of_a_matrix_is_never_frobenius() -> None:
    for f in (rf"\|{B}{{X}}\|_2^2", rf"\|{B}{{X}}\|_2", rf"\|{B}{{A}}{B}{{X}}\|_2^2"):
        with pytest.raises(MatdiffError, match="spectral") as info:
            derive(f, rf"{B}{{X}}")
        assert info.value.span is not None


def test_evaluate_reads_a_matrix_2_norm_as_the_spectral_norm() -> None:
    x = RNG.normal(size=(3, 5))
    assert np.isclose(evaluate(r"\|X\|_2^2", {"X": x}), np.linalg.norm(x, 2) ** 2)
    assert np.isclose(evaluate(r"\|X\|_2", {"X": x}), np.linalg.norm(x, 2))
    assert np.isclose(evaluate(r"\|X\|_F^2", {"X": x}), np.sum(x * x))
    v = RNG.normal(size=(4, 1))
    assert np.isclose(evaluate(rf"\|{B}{{v}}\|_2^2", {"v": v}), np.sum(v * v))
