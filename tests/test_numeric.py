"""evaluate_node against numpy computations written here, one node type at a time."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from matdiff_tex.errors import MatdiffError, ShapeError, UnsupportedError
from matdiff_tex.expr.dims import Dim
from matdiff_tex.expr.nodes import (
    Add,
    Colored,
    Commutation,
    Det,
    Diag,
    Differential,
    Expm,
    Frac,
    Func,
    Hadamard,
    HadamardPower,
    Identity,
    Integral,
    Inverse,
    Kron,
    Mul,
    NormSq,
    Num,
    Ones,
    Partial,
    Power,
    Softmax,
    Sym,
    Trace,
    Transpose,
    Vec,
    Zero,
)
from matdiff_tex.check.numeric import Evaluator, OutOfDomain, commutation_matrix, evaluate_node, expm

m, n, p, q = (Dim.of(name) for name in "mnpq")
DIMS = {"m": 3, "n": 4, "p": 2, "q": 5}
RNG = np.random.default_rng(12345)


def mat(name: str, rows: Dim, cols: Dim) -> Sym:
    return Sym(name, "matrix", rows, cols)


def vecsym(name: str, rows: Dim) -> Sym:
    return Sym(name, "vector", rows)


def scal(name: str) -> Sym:
    return Sym(name, "scalar")


X, A, B = mat("X", m, n), mat("A", p, m), mat("B", n, q)
S, T = mat("S", m, m), mat("T", m, m)  # square
x, y = vecsym("x", m), vecsym("y", m)
a, b = scal("a"), scal("b")


@pytest.fixture
def values() -> dict[str, np.ndarray | float]:
    rng = np.random.default_rng(7)
    return {
        "X": rng.normal(size=(3, 4)),
        "A": rng.normal(size=(2, 3)),
        "B": rng.normal(size=(4, 5)),
        "S": rng.normal(size=(3, 3)) + 3 * np.eye(3),
        "T": rng.normal(size=(3, 3)),
        "x": rng.uniform(0.5, 1.5, size=3),  # 1-D: a column vector
        "y": rng.normal(size=(3, 1)),
        "a": 0.7,
        "b": np.float64(-1.3),
    }


def ev(node, values, dims=DIMS, **kw):
    return evaluate_node(node, values, dims, **kw)


# ---------------------------------------------------------------- atoms


def test_symbols_are_2d(values):
    assert ev(X, values).shape == (3, 4)
    assert np.array_equal(ev(x, values), values["x"].reshape(3, 1))
    assert ev(a, values).shape == (1, 1) and ev(a, values)[0, 0] == 0.7


def test_constants(values):
    assert ev(Num(Fraction(3, 4)), values)[0, 0] == 0.75
    assert np.array_equal(ev(Identity(n), values), np.eye(4))
    assert np.array_equal(ev(Zero(p, q), values), np.zeros((2, 5)))
    assert np.array_equal(ev(Ones(m), values), np.ones((3, 1)))
    assert np.array_equal(ev(Identity(m * n), values), np.eye(12))


def test_result_is_a_fresh_writeable_array(values):
    out = ev(Identity(n), values)
    out[0, 0] = 5.0
    assert ev(Identity(n), values)[0, 0] == 1.0


@pytest.mark.parametrize("rows, cols", [(1, 1), (2, 3), (3, 2), (4, 4), (1, 5), (5, 1)])
def test_commutation_matrix_defining_property(rows, cols):
    mat_ = RNG.normal(size=(rows, cols))
    k = commutation_matrix(rows, cols)
    assert k.shape == (rows * cols, rows * cols)
    assert np.array_equal(k @ mat_.reshape(-1, order="F"), mat_.T.reshape(-1, order="F"))
    assert np.array_equal(k.T @ k, np.eye(rows * cols))  # a permutation


def test_commutation_node(values):
    k = ev(Commutation(m, n), values)
    assert np.array_equal(k @ values["X"].reshape(-1, order="F"), values["X"].T.reshape(-1, order="F"))
    # K_{mn} vec(X) = vec(X^T), evaluated through the nodes
    lhs = ev(Mul((Commutation(m, n), Vec(X))), values)
    assert np.array_equal(lhs, ev(Vec(Transpose(X)), values))


# ---------------------------------------------------------------- algebra


def test_add_and_mul_with_scalars_anywhere(values):
    Xv, Bv, av, bv = values["X"], values["B"], values["a"], values["b"]
    got = ev(Add((Mul((a, X, b, B)), Mul((X, B, Num(Fraction(2)))))), values)
    assert np.allclose(got, av * bv * Xv @ Bv + 2 * Xv @ Bv)


def test_mul_of_vector_inner_product_scales(values):
    xv, yv, Sv = values["x"].reshape(3, 1), values["y"], values["S"]
    # (x^T y) S: the 1x1 inner product scales a matrix
    got = ev(Mul((Transpose(x), y, S)), values)
    assert np.allclose(got, (xv.T @ yv)[0, 0] * Sv)


def test_transpose_never_conjugates():
    z = np.array([[1 + 2j, 3 - 1j], [0.5j, 2.0]])
    got = evaluate_node(Transpose(mat("Z", m, m)), {"Z": z}, {"m": 2}, dtype=complex)
    assert np.array_equal(got, z.T)


def test_inverse(values):
    assert np.allclose(ev(Inverse(S), values) @ values["S"], np.eye(3))
    assert np.isclose(ev(Inverse(a), values)[0, 0], 1 / 0.7)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, -1, -2])
def test_integer_matrix_power(values, k):
    Sv = values["S"]
    expected = np.eye(3)
    for _ in range(abs(k)):
        expected = expected @ (Sv if k > 0 else np.linalg.inv(Sv))
    assert np.allclose(ev(Power(S, Fraction(k)), values), expected)


def test_scalar_powers(values):
    assert np.isclose(ev(Power(a, Fraction(1, 2)), values)[0, 0], np.sqrt(0.7))
    assert np.isclose(ev(Power(b, Fraction(-3)), values)[0, 0], (-1.3) ** -3)
    assert np.isclose(ev(Power(b, Fraction(2)), values)[0, 0], 1.69)


def test_fractional_power_of_a_negative_scalar(values):
    with pytest.raises(OutOfDomain):
        ev(Power(b, Fraction(1, 2)), values)
    got = ev(Power(b, Fraction(1, 2)), values, dtype=complex)
    assert np.isclose(got[0, 0], 1j * np.sqrt(1.3))


def test_fractional_power_of_a_matrix_is_unsupported(values):
    with pytest.raises(UnsupportedError, match="fractional power"):
        ev(Power(S, Fraction(1, 2)), values)


def test_hadamard_power_frac_hadamard(values):
    Xv, av = values["X"], values["a"]
    assert np.allclose(ev(HadamardPower(X, Fraction(3)), values), Xv**3)
    xv = values["x"].reshape(3, 1)
    assert np.allclose(ev(HadamardPower(x, Fraction(-1, 2)), values), 1 / np.sqrt(xv))
    assert np.allclose(ev(Frac(X, a), values), Xv / av)
    assert np.allclose(ev(Hadamard(X, Mul((Transpose(A), A, X))), values), Xv * (values["A"].T @ values["A"] @ Xv))


def test_kron_matches_numpy(values):
    assert np.array_equal(ev(Kron(A, B), values), np.kron(values["A"], values["B"]))
    assert np.array_equal(ev(Kron(x, Transpose(X)), values), np.kron(values["x"].reshape(3, 1), values["X"].T))


@pytest.mark.parametrize("sizes", [(2, 3, 4, 5), (3, 2, 5, 4), (1, 3, 2, 4), (4, 1, 3, 2)])
def test_kronecker_sandwich_identity(sizes):
    """vec(A X B) = (B^T kron A) vec(X) at distinct sizes, through the nodes."""
    dims = dict(zip("pmnq", sizes))
    rng = np.random.default_rng(sum(sizes))
    vals = {"A": rng.normal(size=(dims["p"], dims["m"])), "X": rng.normal(size=(dims["m"], dims["n"])),
            "B": rng.normal(size=(dims["n"], dims["q"]))}
    lhs = evaluate_node(Vec(Mul((A, X, B))), vals, dims)
    rhs = evaluate_node(Mul((Kron(Transpose(B), A), Vec(X))), vals, dims)
    assert lhs.shape == (dims["p"] * dims["q"], 1)
    assert np.allclose(lhs, rhs)
    # the other Kronecker order has the same shape (pq x mn) but is wrong
    swapped = np.kron(vals["A"], vals["B"].T)
    assert swapped.shape == (lhs.shape[0], dims["m"] * dims["n"])
    assert not np.allclose(swapped @ vals["X"].reshape(-1, order="F"), lhs.ravel())


# ---------------------------------------------------------------- functions


def test_trace_and_det(values):
    assert np.isclose(ev(Trace(Mul((X, Transpose(X)))), values)[0, 0], np.trace(values["X"] @ values["X"].T))
    assert np.isclose(ev(Det(S), values)[0, 0], np.linalg.det(values["S"]))


def test_log_det_is_log_abs_det(values):
    Tv = values["T"].copy()
    Tv[0] *= -1 if np.linalg.det(Tv) > 0 else 1  # make the determinant negative
    vals = dict(values, T=Tv)
    assert np.linalg.det(Tv) < 0
    got = ev(Func("log", Det(T)), vals)
    assert np.isclose(got[0, 0], np.log(abs(np.linalg.det(Tv))))


def test_log_of_a_negative_scalar(values):
    with pytest.raises(OutOfDomain):
        ev(Func("log", b), values)
    assert np.isclose(ev(Func("log", b), values, dtype=complex)[0, 0], np.log(1.3) + 1j * np.pi)


INDEPENDENT = {
    "exp": np.exp,
    "log": np.log,
    "ln": np.log,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sech2": lambda u: 1 / np.cosh(u) ** 2,
    "sigma": lambda u: np.exp(u) / (1 + np.exp(u)),
    "sigma_p": lambda u: np.exp(-u) / (1 + np.exp(-u)) ** 2,
    "sigma_pp": lambda u: np.exp(-u) * (np.exp(-u) - 1) / (1 + np.exp(-u)) ** 3,
    "sigma_ppp": lambda u: np.exp(-u) * (np.exp(-2 * u) - 4 * np.exp(-u) + 1) / (1 + np.exp(-u)) ** 4,
    "sqrt": np.sqrt,
    "sign": lambda u: u / np.abs(u),
}


@pytest.mark.parametrize("name", sorted(INDEPENDENT))
def test_elementwise_functions(values, name):
    Xv = np.abs(values["X"]) + 0.1
    got = ev(Func(name, X), dict(values, X=Xv))
    assert np.allclose(got, INDEPENDENT[name](Xv), rtol=1e-12, atol=1e-14)


def test_every_table_function_has_an_independent_test():
    from matdiff_tex.expr.functions import FUNCTIONS

    assert set(FUNCTIONS) <= set(INDEPENDENT)


def test_unknown_function():
    with pytest.raises(UnsupportedError, match="supported: .*sigma"):
        evaluate_node(Func("erf", a), {"a": 1.0}, {})


def test_softmax(values):
    xv = values["x"].reshape(3, 1)
    assert np.allclose(ev(Softmax(x), values), np.exp(xv) / np.exp(xv).sum())
    big = np.array([[1000.0], [1001.0], [999.0]])
    got = evaluate_node(Softmax(x), {"x": big}, {"m": 3})
    assert np.all(np.isfinite(got)) and np.isclose(got.sum(), 1.0)
    assert np.allclose(got, np.exp(big - 1001) / np.exp(big - 1001).sum())


def test_norm_sq_has_no_conjugate():
    z = np.array([[1 + 1j], [2.0]])
    got = evaluate_node(NormSq(vecsym("z", m)), {"z": z}, {"m": 2}, dtype=complex)
    assert np.isclose(got[0, 0], (1 + 1j) ** 2 + 4)  # = 4 + 2i, not |z|^2 = 6


def test_norm_sq_frobenius(values):
    assert np.isclose(ev(NormSq(X, "F"), values)[0, 0], np.linalg.norm(values["X"], "fro") ** 2)


def test_vec_stacks_columns():
    got = evaluate_node(Vec(mat("M", p, p)), {"M": [[1.0, 2.0], [3.0, 4.0]]}, {"p": 2})
    assert got.tolist() == [[1.0], [3.0], [2.0], [4.0]]


def test_diag(values):
    xv = values["x"]
    assert np.array_equal(ev(Diag(x), values), np.diag(xv))
    assert np.array_equal(ev(Diag(Vec(X)), values), np.diag(values["X"].reshape(-1, order="F")))


def test_colored_is_its_argument(values):
    assert np.array_equal(ev(Colored(X, "red"), values), values["X"])


@pytest.mark.parametrize("node", [Differential(X), Partial(X, X)])
def test_presentation_nodes_are_refused(values, node):
    with pytest.raises(UnsupportedError, match="not a value: it cannot be evaluated"):
        ev(node, values)


# ---------------------------------------------------------------- the matrix exponential


@pytest.mark.parametrize(
    "entries",
    [
        [[1, 2], [0, 1]],
        [[0, 1], [-1, 0]],
        [[1, 2, 0], [0, -1, 3], [0, 0, 2]],
        [[0, 2, 0], [-2, 0, 0], [1, 1, 3]],  # eigenvalues 2i, -2i, 3
        [[Fraction(1, 2), 1, 0, 0], [0, Fraction(-1, 3), 2, 0], [0, 0, 1, 1], [0, 0, 0, 2]],
        [[2, 1, 0], [0, 2, 1], [0, 0, 2]],  # a Jordan block
        [[0, 0], [0, 0]],
        [[5]],
    ],
)
def test_expm_against_sympy(entries):
    reference = np.array(sympy.Matrix(entries).exp().evalf(30).tolist(), dtype=float)
    got = expm(np.array(entries, dtype=float))
    assert np.allclose(got, reference, rtol=1e-13, atol=1e-13)


def test_expm_of_symmetric_matrices_by_eigendecomposition():
    rng = np.random.default_rng(3)
    for size, spread in [(2, 1.0), (3, 5.0), (5, 20.0), (6, 0.01)]:
        g = rng.normal(size=(size, size)) * spread
        sym = g + g.T
        w, v = np.linalg.eigh(sym)
        reference = v @ np.diag(np.exp(w)) @ v.T
        assert np.allclose(expm(sym), reference, rtol=1e-11, atol=1e-11 * np.abs(reference).max())


def test_expm_complex_and_batched():
    rng = np.random.default_rng(4)
    stack = rng.normal(size=(3, 4, 4)) + 1j * rng.normal(size=(3, 4, 4))
    got = expm(stack)
    for mat_, out in zip(stack, got):
        w, v = np.linalg.eig(mat_)
        assert np.allclose(out, v @ np.diag(np.exp(w)) @ np.linalg.inv(v), rtol=1e-10, atol=1e-10)


def test_expm_node_is_e_to_the_x(values):
    Sv = values["S"]
    got = ev(Expm(S), values)
    assert np.allclose(got @ ev(Expm(Mul((Num(Fraction(-1)), S))), values), np.eye(3))
    assert np.allclose(got, expm(Sv))


# ---------------------------------------------------------------- integrals


s_var = scal("s")


def test_integrals_of_simple_bodies(values):
    assert np.isclose(ev(Integral(s_var, Power(s_var, Fraction(2))), values)[0, 0], 1 / 3)
    assert np.allclose(ev(Integral(s_var, Mul((s_var, X))), values), values["X"] / 2)
    assert np.allclose(ev(Integral(s_var, X), values), values["X"])  # body free of s


def test_nested_integrals(values):
    t_var = scal("t")
    body = Mul((s_var, t_var, t_var, X))  # int int s t^2 X = X / 6
    assert np.allclose(ev(Integral(s_var, Integral(t_var, body)), values), values["X"] / 6)


def test_integral_variable_is_bound_locally(values):
    vals = dict(values, s=5.0)
    node = Add((Integral(s_var, Mul((s_var, X))), Mul((s_var, X))))
    assert np.allclose(evaluate_node(node, vals, DIMS), values["X"] / 2 + 5.0 * values["X"])


def test_integral_form_of_the_expm_derivative():
    """vec(L(X, E)) = (int_0^1 e^{sX^T} kron e^{(1-s)X} ds) vec(E), L from the block-matrix identity."""
    rng = np.random.default_rng(11)
    Xv, Ev = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    Xs = mat("X", m, m)
    one_minus_s = Add((Num(Fraction(1)), Mul((Num(Fraction(-1)), s_var))))
    node = Integral(s_var, Kron(Expm(Mul((s_var, Transpose(Xs)))), Expm(Mul((one_minus_s, Xs)))))
    got = evaluate_node(node, {"X": Xv}, {"m": 3})
    block = expm(np.block([[Xv, Ev], [np.zeros((3, 3)), Xv]]))
    frechet = block[:3, 3:]
    assert np.allclose(got @ Ev.reshape(-1, order="F"), frechet.reshape(-1, order="F"), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- batching (what the checker relies on)


TREES = [
    Trace(Mul((A, X, B, Transpose(B), Transpose(X), Transpose(A)))),
    Kron(Expm(Mul((Transpose(X), Transpose(A), A, X))), Inverse(Add((S, Mul((X, Transpose(X))))))),
    Func("log", Det(Add((S, Mul((X, Transpose(X))))))),
    Hadamard(Func("sigma", X), Func("tanh", Mul((S, X)))),
    Softmax(Mul((X, Transpose(X), x))),
    Diag(Vec(Power(Add((S, Mul((X, Transpose(X))))), Fraction(-2)))),
    NormSq(Mul((A, X)), "F"),
    Integral(s_var, Expm(Mul((s_var, X, Transpose(X))))),
]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(range(len(TREES))))
def test_batched_evaluation_equals_one_at_a_time(seed, index):
    tree = TREES[index]
    rng = np.random.default_rng(seed)
    base = {"A": rng.normal(size=(2, 3)), "B": rng.normal(size=(4, 5)), "S": rng.normal(size=(3, 3)) + 8 * np.eye(3),
            "x": rng.normal(size=(3, 1))}
    stack = rng.normal(size=(6, 3, 4)) * 0.5 + 1j * rng.normal(size=(6, 3, 4)) * 1e-3
    batched = Evaluator(dict(base, X=stack), DIMS, mode="check").run(tree)
    for k in range(6):
        single = Evaluator(dict(base, X=stack[k]), DIMS, mode="check").run(tree)
        assert np.allclose(np.broadcast_to(batched, (6,) + single.shape)[k], single, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- bad input


def test_missing_value_names_the_symbol(values):
    with pytest.raises(MatdiffError, match="no value given for the symbol Q"):
        ev(Mul((X, mat("Q", n, n))), values)


def test_wrong_shape_names_symbol_and_shapes(values):
    with pytest.raises(ShapeError, match=r"X has shape 4x3, but X is 3x4"):
        ev(X, dict(values, X=np.zeros((4, 3))))


def test_three_dimensional_value_is_refused(values):
    with pytest.raises(ShapeError, match="X has 3 axes"):
        ev(X, dict(values, X=np.zeros((3, 4, 1))))


def test_unknown_dimension(values):
    with pytest.raises(MatdiffError, match="dimension r"):
        ev(Identity(Dim.of("r")), values)


def test_singular_inverse_in_plain_mode():
    with pytest.raises(MatdiffError, match="singular"):
        evaluate_node(Inverse(mat("Z", m, m)), {"Z": np.ones((2, 2))}, {"m": 2})


def test_check_mode_flags_points_outside_the_domain():
    z = mat("Z", m, m)
    with pytest.raises(OutOfDomain):
        evaluate_node(Inverse(z), {"Z": np.array([[1.0, 1.0], [1.0, 1.0 + 1e-12]])}, {"m": 2}, mode="check")
    with pytest.raises(OutOfDomain):
        evaluate_node(Func("sqrt", a), {"a": -1.0}, {}, dtype=complex, mode="check")
    # check mode: every logarithm is log|u|, analytic on both sides of zero
    assert np.isclose(evaluate_node(Func("log", a), {"a": -2.0}, {}, mode="check")[0, 0], np.log(2.0))
