"""evaluate(latex, values) on LaTeX strings, compared with numpy written here."""

from __future__ import annotations

import numpy as np
import pytest

from matdiff_tex import MatdiffError, derive, evaluate
from matdiff_tex.errors import ShapeError
from matdiff_tex.check.evaluation import evaluate as evaluate_with_dims
from matdiff_tex.check.numeric import expm

RNG = np.random.default_rng(2024)
A23, B32 = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 2))
X33 = RNG.normal(size=(3, 3)) + 3 * np.eye(3)
X34 = RNG.normal(size=(3, 4))
x3, b2 = RNG.normal(size=3), RNG.normal(size=2)


def vec(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, 1, order="F")


# ---------------------------------------------------------------- what derive() writes


def test_identity_with_a_size_kron_product():
    got = evaluate(r"\boldsymbol{I}_{n} \otimes (\boldsymbol{A}\boldsymbol{B})", {"A": A23, "B": B32, "n": 3})
    assert np.allclose(got, np.kron(np.eye(3), A23 @ B32))
    same = evaluate_with_dims(r"\boldsymbol{I}_{n} \otimes (\boldsymbol{AB})", {"A": A23, "B": B32}, dims={"n": 3})
    assert np.allclose(same, got)


def test_identity_size_inferred():
    got = evaluate(r"\boldsymbol{I}_{n} \boldsymbol{X} + \boldsymbol{X} \boldsymbol{I} + \boldsymbol{I}", {"X": X34[:, :3]})
    assert np.allclose(got, 2 * X34[:, :3] + np.eye(3))
    assert np.allclose(evaluate(r"\boldsymbol{X} \otimes \boldsymbol{I}_{k}", {"X": X33, "k": 2}), np.kron(X33, np.eye(2)))


def test_commutation_matrix():
    k = evaluate(r"\boldsymbol{K}_{mn}", {"m": 3, "n": 4})
    assert k.shape == (12, 12)
    assert np.array_equal(k @ vec(X34), vec(X34.T))
    # sizes bound by inference from the vector it multiplies
    kv = evaluate(r"\boldsymbol{K}_{mn} \text{vec}(\boldsymbol{X})", {"X": X34, "m": 3})
    assert np.allclose(kv, vec(X34.T))


def test_diag_of_vec():
    got = evaluate(r"\operatorname{diag}(\text{vec}(\boldsymbol{X}^{\top} \odot \boldsymbol{X}^{\top}))", {"X": X34})
    assert np.allclose(got, np.diag(vec(X34.T * X34.T).ravel()))


def test_integral_form_of_the_expm_derivative():
    latex = r"\int_{0}^{1} e^{s\boldsymbol{X}^{\top}} \otimes e^{(1 - s)\boldsymbol{X}} \, \mathrm{d}s"
    X = X33 / 3
    got = evaluate(latex, {"X": X})
    E = RNG.normal(size=(3, 3))
    frechet = expm(np.block([[X, E], [np.zeros((3, 3)), X]]))[:3, 3:]  # L(X, E)
    assert np.allclose(got @ vec(E), vec(frechet))


def test_zero_with_sizes():
    got = evaluate(r"\boldsymbol{0}_{p \times q} + \boldsymbol{A}", {"A": A23})
    assert np.array_equal(got, A23)


def test_inverse_transpose_and_det_times_inverse():
    got = evaluate(r"|\boldsymbol{X}| \boldsymbol{X}^{-\top}", {"X": X33})
    assert np.allclose(got, np.linalg.det(X33) * np.linalg.inv(X33).T)


def test_log_det_is_log_abs_det():
    negative = X33.copy()
    negative[0] *= -1
    assert np.linalg.det(negative) < 0
    for latex in (r"\log|\boldsymbol{X}|", r"\log\det(\boldsymbol{X})", r"\ln \left| \boldsymbol{X} \right|"):
        assert np.isclose(evaluate(latex, {"X": negative}), np.log(abs(np.linalg.det(negative))))


# ---------------------------------------------------------------- SPEC section 3 notation


def test_scalar_results_are_floats():
    got = evaluate(r"\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}^{\top}\boldsymbol{A}\boldsymbol{X})",
                   {"X": X34[:, :3], "A": A23})
    assert isinstance(got, float)
    assert np.isclose(got, np.trace(X34[:, :3].T @ A23.T @ A23 @ X34[:, :3]))


def test_vectors_come_back_as_columns():
    got = evaluate(r"\boldsymbol{A}\boldsymbol{x}", {"A": A23, "x": x3})
    assert got.shape == (2, 1)
    assert np.allclose(got.ravel(), A23 @ x3)


def test_norms_and_fractions():
    latex = r"\frac{1}{2}\|\boldsymbol{A}\boldsymbol{x} - \boldsymbol{b}\|_2^2"
    assert np.isclose(evaluate(latex, {"A": A23, "x": x3, "b": b2}), 0.5 * np.sum((A23 @ x3 - b2) ** 2))
    assert np.isclose(evaluate(r"\|\boldsymbol{X}\|_F^2", {"X": X34}), np.sum(X34**2))


def test_greek_scalars_and_their_keys():
    expected = 2.5 * x3.reshape(3, 1)
    assert np.allclose(evaluate(r"\lambda \boldsymbol{x}", {"lambda": 2.5, "x": x3}), expected)
    assert np.allclose(evaluate(r"\lambda \boldsymbol{x}", {"\\lambda": np.float64(2.5), "x": x3}), expected)
    with pytest.raises(MatdiffError, match="two values"):
        evaluate(r"\lambda", {"lambda": 1.0, "\\lambda": 2.0})


def test_elementwise_functions_and_softmax():
    got = evaluate(r"\sigma(\boldsymbol{X}) \odot \exp(\boldsymbol{X})", {"X": X34})
    assert np.allclose(got, np.exp(X34) / (1 + np.exp(-X34)))
    soft = evaluate(r"\operatorname{softmax}(\boldsymbol{x})", {"x": x3})
    assert np.allclose(soft.ravel(), np.exp(x3) / np.exp(x3).sum())
    assert np.isclose(evaluate(r"\log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))", {"x": x3, "w": x3}),
                      np.log1p(np.exp(x3 @ x3)))


def test_matrix_exponential_and_powers():
    assert np.allclose(evaluate(r"e^{\boldsymbol{X}}", {"X": X33 / 3}), expm(X33 / 3))
    assert np.allclose(evaluate(r"\boldsymbol{X}^{3}", {"X": X33}), X33 @ X33 @ X33)
    assert np.allclose(evaluate(r"\boldsymbol{X}^{-1}\boldsymbol{X}", {"X": X33}), np.eye(3))


def test_ones_vector():
    assert np.isclose(evaluate(r"\boldsymbol{1}^{\top}\boldsymbol{x}", {"x": x3}), x3.sum())


def test_complex_only_when_needed():
    assert evaluate(r"\sqrt{a}", {"a": 4.0}) == 2.0
    got = evaluate(r"\sqrt{a}", {"a": -4.0})
    assert isinstance(got, complex) and np.isclose(got, 2j)
    # a complex detour that ends real comes back real
    assert evaluate(r"\sqrt{a} \sqrt{a}", {"a": -4.0}) == -4.0
    z = np.array([[1 + 1j, 0], [0, 2]])
    assert np.allclose(evaluate(r"\boldsymbol{Z}^{\top}", {"Z": z}), z.T)  # no conjugate


# ---------------------------------------------------------------- errors


def test_missing_value_names_the_symbol():
    with pytest.raises(MatdiffError, match=r"no value given for the symbol B\b"):
        evaluate(r"\boldsymbol{A}\boldsymbol{B}", {"A": A23})
    with pytest.raises(MatdiffError, match="symbols A, B"):
        evaluate(r"\boldsymbol{A}\boldsymbol{B}", {})


def test_non_conformable_values_name_symbols_and_shapes():
    with pytest.raises(ShapeError) as info:
        evaluate(r"\boldsymbol{X}\boldsymbol{A}", {"A": A23, "X": X34})
    message = str(info.value)
    assert "\\boldsymbol{X} (3x4)" in message and "\\boldsymbol{A} (2x3)" in message


def test_matrix_value_for_a_vector():
    with pytest.raises(ShapeError, match=r"x.*3x4"):
        evaluate(r"\boldsymbol{x}^{\top}\boldsymbol{x}", {"x": X34})


def test_too_many_axes():
    with pytest.raises(ShapeError, match="X has 3 axes"):
        evaluate(r"\boldsymbol{X}", {"X": np.zeros((2, 2, 2))})


def test_unbound_dimension_name():
    with pytest.raises(ShapeError, match="dimension n"):
        evaluate(r"\boldsymbol{I}_{n} \otimes \boldsymbol{A}", {"A": A23})


def test_singular_matrix():
    with pytest.raises(MatdiffError, match="singular"):
        evaluate(r"\boldsymbol{A}^{-1}", {"A": np.ones((2, 2))})


# ---------------------------------------------------------------- derive() output, read back


def _central_jacobian(fun, X: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d vec F / d (vec X)^T by central differences of a numpy function written in the test."""
    cols = []
    for k in range(X.size):
        E = np.zeros(X.size)
        E[k] = h
        E = E.reshape(X.shape, order="F")
        cols.append((np.atleast_2d(fun(X + E)) - np.atleast_2d(fun(X - E))).reshape(-1, order="F") / (2 * h))
    return np.array(cols).T


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_derive_then_evaluate_sandwich(layout):
    A, B, X = RNG.normal(size=(2, 3)), RNG.normal(size=(4, 5)), RNG.normal(size=(3, 4))
    d = derive(r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}", r"\boldsymbol{X}", layout=layout,
               shapes={"A": (2, 3), "X": (3, 4), "B": (4, 5)})
    got = evaluate(d.result_latex, {"A": A, "B": B, "X": X})
    jac = _central_jacobian(lambda Y: A @ Y @ B, X)
    assert np.allclose(got, jac if layout == "numerator" else jac.T, atol=1e-7)


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_derive_then_evaluate_expm(layout):
    X = RNG.normal(size=(3, 3)) / 2
    d = derive(r"e^{\boldsymbol{X}}", r"\boldsymbol{X}", layout=layout, shapes={"X": (3, 3)})
    got = evaluate(d.result_latex, {"X": X})
    jac = _central_jacobian(expm, X)
    assert np.allclose(got, jac if layout == "numerator" else jac.T, atol=1e-7)


def test_derive_then_evaluate_with_symbolic_sizes():
    X = RNG.normal(size=(3, 4))
    d = derive(r"\boldsymbol{X}^{\top}", r"\boldsymbol{X}")
    got = evaluate(d.result_latex, {"X": X, "m": 3, "n": 4})
    jac = _central_jacobian(lambda Y: Y.T, X)
    assert np.allclose(got, jac, atol=1e-8)


def test_derive_then_evaluate_scalar_by_matrix():
    X, A = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 4))
    d = derive(r"\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})", r"\boldsymbol{X}",
               layout="denominator", shapes={"X": (4, 3), "A": (4, 4)})
    got = evaluate(d.result_latex, {"X": X, "A": A})
    grad = _central_jacobian(lambda Y: np.trace(Y.T @ A @ Y), X).reshape(3, 4).T
    assert got.shape == (4, 3)
    assert np.allclose(got, grad, atol=1e-7)


def test_a_differential_has_no_value():
    from matdiff_tex.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match=r"^\\mathrm\{d\}\\boldsymbol\{X\} is a differential, not a value"):
        evaluate(r"\mathrm{d}\boldsymbol{X}", {"X": X33})


def test_square_dimension_is_solved_from_a_product_size():
    """K_{nn} beside a 9x9 Kronecker product: n*n = 9 binds n = 3 without dims=."""
    rng = np.random.default_rng(7)
    x = np.eye(3) * 2 + 0.3 * rng.random((3, 3))
    got = evaluate(r"-(\boldsymbol{X}^{-1} \otimes \boldsymbol{X}^{-\top}) \boldsymbol{K}_{nn}", {"X": x})
    inv = np.linalg.inv(x)
    k = np.zeros((9, 9))
    for i in range(3):
        for j in range(3):
            k[i * 3 + j, j * 3 + i] = 1.0  # K vec(A) = vec(A^T), column-major vec
    np.testing.assert_allclose(got, -np.kron(inv, inv.T) @ k)
