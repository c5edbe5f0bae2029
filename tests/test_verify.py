"""check_derivative accepts hand-written correct derivatives and rejects a table of wrong ones.

The trees are built here with the node classes (no reader, no rules), so this tests the checker
alone.  Every "wrong" entry is a mistake a rule set could plausibly make: a transposed result,
the other Kronecker order, a missing commutation matrix, the other layout, a factor 2.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from matdiff_tex.errors import InternalError
from matdiff_tex.expr.dims import Dim
from matdiff_tex.expr.nodes import (
    Add,
    Commutation,
    Det,
    Diag,
    Expm,
    Frac,
    Func,
    Hadamard,
    Identity,
    Integral,
    Inverse,
    Kron,
    Mul,
    Node,
    NormSq,
    Num,
    Power,
    Softmax,
    Sym,
    Trace,
    Transpose,
    Vec,
    Zero,
)
from matdiff_tex.check.verify import check_derivative

m, n, p, q = (Dim.of(name) for name in "mnpq")


def T(node: Node) -> Node:
    return Transpose(node)


def M(*factors: Node) -> Node:
    return Mul(tuple(factors))


def S(*terms: Node) -> Node:
    return Add(tuple(terms))


def c(value: int | Fraction) -> Node:
    return Num(Fraction(value))


def neg(node: Node) -> Node:
    return M(c(-1), node)


def inv(node: Node) -> Node:
    return Inverse(node)


def mat(name: str, rows: Dim, cols: Dim) -> Sym:
    return Sym(name, "matrix", rows, cols)


def vector(name: str, rows: Dim) -> Sym:
    return Sym(name, "vector", rows)


X = mat("X", m, n)  # rectangular variable
Xs = mat("X", m, m)  # square variable
A_nm, A_pm, A_mm = mat("A", n, m), mat("A", p, m), mat("A", m, m)
B_nq, B_nm = mat("B", n, q), mat("B", n, m)
x, w = vector("x", m), vector("w", m)
b_p = vector("b", p)
a_n = vector("a", n)
s = Sym("s", "scalar")
lam = Sym("lambda", "scalar")


def one_minus(node: Node) -> Node:
    return S(c(1), neg(node))


def sigma_of(u: Node) -> Node:
    return Func("sigma", u)


SM = Softmax(x)
EXPM_DERIVATIVE = Integral(s, Kron(Expm(M(s, T(Xs))), Expm(M(one_minus(s), Xs))))
XINV = inv(Xs)
AXB = M(A_pm, X, B_nq)
RESIDUAL = S(M(A_pm, x), neg(b_p))
HESS_TRAXBX = S(M(Commutation(n, m), Kron(T(B_nm), A_nm)), M(Kron(B_nm, T(A_nm)), Commutation(m, n)))
KRON_XA = Kron(X, mat("A", p, q))

# (id, F, X, result, layout, order)
CORRECT = [
    ("tr(AX) den", Trace(M(A_nm, X)), X, T(A_nm), "denominator", 1),
    ("tr(AX) num", Trace(M(A_nm, X)), X, A_nm, "numerator", 1),
    ("AXB num", AXB, X, Kron(T(B_nq), A_pm), "numerator", 1),
    ("AXB den", AXB, X, Kron(B_nq, T(A_pm)), "denominator", 1),
    ("log|X| den", Func("log", Det(Xs)), Xs, T(XINV), "denominator", 1),
    ("log|X| num", Func("log", Det(Xs)), Xs, XINV, "numerator", 1),
    ("|X| den", Det(Xs), Xs, M(Det(Xs), T(XINV)), "denominator", 1),
    ("tr(X^T A X) hessian", Trace(M(T(X), A_mm, X)), X, Kron(Identity(n), S(A_mm, T(A_mm))), "numerator", 2),
    ("tr(X^T A X) hessian den", Trace(M(T(X), A_mm, X)), X, Kron(Identity(n), S(A_mm, T(A_mm))), "denominator", 2),
    ("x^T A x num", M(T(x), A_mm, x), x, M(T(x), S(A_mm, T(A_mm))), "numerator", 1),
    ("x^T A x den", M(T(x), A_mm, x), x, M(S(A_mm, T(A_mm)), x), "denominator", 1),
    ("x^T A x hessian", M(T(x), A_mm, x), x, S(A_mm, T(A_mm)), "numerator", 2),
    ("Ax num", M(A_pm, x), x, A_pm, "numerator", 1),
    ("Ax den", M(A_pm, x), x, T(A_pm), "denominator", 1),
    ("X^T num", T(X), X, Commutation(m, n), "numerator", 1),
    ("X^T den", T(X), X, Commutation(n, m), "denominator", 1),
    ("X o X num", Hadamard(X, X), X, M(c(2), Diag(Vec(X))), "numerator", 1),
    ("softmax num", SM, x, S(Diag(SM), neg(M(SM, T(SM)))), "numerator", 1),
    ("sigma(w^T x) num", sigma_of(M(T(w), x)), x, M(Func("sigma_p", M(T(w), x)), T(w)), "numerator", 1),
    ("log(1+exp(x^T w)) den", Func("log", S(c(1), Func("exp", M(T(x), w)))), w, M(sigma_of(M(T(x), w)), x), "denominator", 1),
    ("X^{-1} num", XINV, Xs, neg(Kron(T(XINV), XINV)), "numerator", 1),
    ("X^3 num", Power(Xs, Fraction(3)),
     Xs, S(Kron(Identity(m), Power(Xs, Fraction(2))), Kron(T(Xs), Xs), Kron(Power(T(Xs), Fraction(2)), Identity(m))),
     "numerator", 1),
    ("expm num", Expm(Xs), Xs, EXPM_DERIVATIVE, "numerator", 1),
    ("||Ax-b||^2 den", NormSq(RESIDUAL), x, M(c(2), T(A_pm), RESIDUAL), "denominator", 1),
    ("|X| X^{-1} num", M(Det(Xs), XINV), Xs,
     M(Det(Xs), S(M(Vec(XINV), T(Vec(T(XINV)))), neg(Kron(T(XINV), XINV)))), "numerator", 1),
    ("absent den", Trace(A_mm), X, Zero(m, n), "denominator", 1),
    ("absent matrix num", A_pm, X, Zero(p * m, m * n), "numerator", 1),
    ("log|X| hessian", Func("log", Det(Xs)), Xs, neg(M(Commutation(m, m), Kron(T(XINV), XINV))), "numerator", 2),
    ("||X||_F^2 hessian", NormSq(X, "F"), X, M(c(2), Identity(m * n)), "numerator", 2),
    ("tr(AXBX) hessian", Trace(M(A_nm, X, B_nm, X)), X, HESS_TRAXBX, "numerator", 2),
    ("X kron A num", KRON_XA, X,
     M(Kron(Kron(Identity(n), Commutation(q, m)), Identity(p)), Kron(Identity(m * n), Vec(mat("A", p, q)))),
     "numerator", 1),
    ("tr(X)/lambda den", Frac(Trace(Xs), lam), Xs, Frac(Identity(m), lam), "denominator", 1),
    ("sqrt(x^T x) den", Func("sqrt", M(T(x), x)), x, Frac(x, Func("sqrt", M(T(x), x))), "denominator", 1),
    ("X a num", M(X, a_n), X, Kron(T(a_n), Identity(m)), "numerator", 1),
    ("x w^T num", M(x, T(vector("v", p))), x, Kron(vector("v", p), Identity(m)), "numerator", 1),
    ("lambda x by x", M(lam, x), x, M(lam, Identity(m)), "numerator", 1),
    ("exp(X) elementwise den", Trace(M(A_nm, Func("exp", X))), X, Hadamard(T(A_nm), Func("exp", X)), "denominator", 1),
]


@pytest.mark.parametrize("f, var, result, layout, order", [c_[1:] for c_ in CORRECT], ids=[c_[0] for c_ in CORRECT])
def test_accepts_correct_derivatives(f, var, result, layout, order):
    check_derivative(f, var, result, layout=layout, order=order)


WRONG = [
    ("tr(AX) den: transposed", Trace(M(A_nm, X)), X, A_nm, "denominator", 1),
    ("tr(AX) square den: transposed", Trace(M(A_mm, Xs)), Xs, A_mm, "denominator", 1),
    ("tr(AX) num: denominator answer", Trace(M(A_nm, X)), X, T(A_nm), "numerator", 1),
    ("AXB num: swapped kron", AXB, X, Kron(A_pm, T(B_nq)), "numerator", 1),
    ("AXB num: B kron A^T", AXB, X, Kron(B_nq, T(A_pm)), "numerator", 1),
    ("AXB den: numerator answer", AXB, X, Kron(T(B_nq), A_pm), "denominator", 1),
    ("AXB num: off by 1e-5", AXB, X, M(c(Fraction(100001, 100000)), Kron(T(B_nq), A_pm)), "numerator", 1),
    ("log|X| den: not transposed", Func("log", Det(Xs)), Xs, XINV, "denominator", 1),
    ("log|X| den: sign", Func("log", Det(Xs)), Xs, neg(T(XINV)), "denominator", 1),
    ("tr(X^T A X) hessian: factor 2", Trace(M(T(X), A_mm, X)), X,
     M(c(2), Kron(Identity(n), S(A_mm, T(A_mm)))), "numerator", 2),
    ("tr(X^T A X) hessian: 2A", Trace(M(T(X), A_mm, X)), X, Kron(Identity(n), M(c(2), A_mm)), "numerator", 2),
    ("tr(X^T A X) hessian: swapped kron", Trace(M(T(X), A_mm, X)), X,
     Kron(S(A_mm, T(A_mm)), Identity(n)), "numerator", 2),
    ("tr(X^T A X) hessian: off by 1e-2", Trace(M(T(X), A_mm, X)), X,
     M(c(Fraction(101, 100)), Kron(Identity(n), S(A_mm, T(A_mm)))), "numerator", 2),
    ("x^T A x num: 2 x^T A", M(T(x), A_mm, x), x, M(c(2), T(x), A_mm), "numerator", 1),
    ("x^T A x num: column", M(T(x), A_mm, x), x, M(S(A_mm, T(A_mm)), x), "numerator", 1),
    ("x^T A x hessian: unsymmetrized", M(T(x), A_mm, x), x, A_mm, "numerator", 2),
    ("Ax num: denominator answer", M(A_pm, x), x, T(A_pm), "numerator", 1),
    ("X^T num: no commutation matrix", T(X), X, Identity(m * n), "numerator", 1),
    ("X^T num: K_nm", T(X), X, Commutation(n, m), "numerator", 1),
    ("X o X num: factor 2 lost", Hadamard(X, X), X, Diag(Vec(X)), "numerator", 1),
    ("softmax num: outer product lost", SM, x, Diag(SM), "numerator", 1),
    ("X^{-1} num: swapped", XINV, Xs, neg(Kron(XINV, T(XINV))), "numerator", 1),
    ("X^3 num: a term lost", Power(Xs, Fraction(3)), Xs,
     S(Kron(Identity(m), Power(Xs, Fraction(2))), M(c(2), Kron(T(Xs), Xs))), "numerator", 1),
    ("expm num: transpose lost", Expm(Xs), Xs,
     Integral(s, Kron(Expm(M(s, Xs)), Expm(M(one_minus(s), Xs)))), "numerator", 1),
    ("expm num: as if commuting", Expm(Xs), Xs, Kron(Identity(m), Expm(Xs)), "numerator", 1),
    ("absent: nonzero", Trace(A_mm), X, M(c(Fraction(1, 10**6)), X), "denominator", 1),
    ("present: zero", Trace(M(A_nm, X)), X, Zero(m, n), "denominator", 1),
    ("log|X| hessian: commutation lost", Func("log", Det(Xs)), Xs, neg(Kron(T(XINV), XINV)), "numerator", 2),
    ("tr(AXBX) hessian: commutations lost", Trace(M(A_nm, X, B_nm, X)), X,
     S(Kron(T(B_nm), A_nm), Kron(B_nm, T(A_nm))), "numerator", 2),
    ("X kron A: commutation lost", KRON_XA, X,
     Kron(Identity(m * n), Vec(mat("A", p, q))), "numerator", 1),
    ("X a num: swapped kron", M(X, a_n), X, Kron(Identity(m), T(a_n)), "numerator", 1),
    ("|X| den: inverse not transposed", Det(Xs), Xs, M(Det(Xs), XINV), "denominator", 1),
]


@pytest.mark.parametrize("f, var, result, layout, order", [w_[1:] for w_ in WRONG], ids=[w_[0] for w_ in WRONG])
def test_rejects_wrong_derivatives(f, var, result, layout, order):
    # rejected on its values or its shape, never for want of a usable point
    with pytest.raises(InternalError, match="derivative check failed: (max error|the result is)"):
        check_derivative(f, var, result, layout=layout, order=order)


@pytest.mark.parametrize("seed", range(5))
def test_rejections_do_not_depend_on_the_seed(seed):
    for _, f, var, result, layout, order in WRONG:
        with pytest.raises(InternalError):
            check_derivative(f, var, result, layout=layout, order=order, seed=seed)


@pytest.mark.parametrize("seed", range(5))
def test_acceptances_do_not_depend_on_the_seed(seed):
    for _, f, var, result, layout, order in CORRECT:
        check_derivative(f, var, result, layout=layout, order=order, seed=seed)


# ---------------------------------------------------------------- sizes


def test_sizes_are_distinct_small_integers():
    with pytest.raises(InternalError) as info:
        check_derivative(AXB, X, Kron(A_pm, T(B_nq)), layout="numerator")
    assert "m=2, n=3, p=4, q=5" in str(info.value)


def test_small_given_sizes_are_kept():
    Xg, Ag = mat("X", Dim(3), Dim(4)), mat("A", Dim(4), Dim(3))
    with pytest.raises(InternalError, match="X 3x4"):
        check_derivative(Trace(M(Ag, Xg)), Xg, Ag, layout="denominator")


def test_large_given_sizes_are_made_small():
    """The check runs at small sizes (the message names them), so its cost does not grow with the author's."""
    Xg, Ag, Bg = mat("X", Dim(1000), Dim(800)), mat("A", Dim(300), Dim(1000)), mat("B", Dim(800), Dim(1000))
    f = M(Ag, Xg, Bg)
    check_derivative(f, Xg, Kron(T(Bg), Ag), layout="numerator")
    with pytest.raises(InternalError, match=r"X 4x3\b"):  # 300 -> 2, 800 -> 3, 1000 -> 4
        check_derivative(f, Xg, Kron(Ag, T(Bg)), layout="numerator")


def test_large_given_sizes_inside_products_of_sizes():
    Xg = mat("X", Dim(7), Dim(8))
    check_derivative(Xg, Xg, Identity(Dim(56)), layout="numerator")
    check_derivative(T(Xg), Xg, Commutation(Dim(7), Dim(8)), layout="numerator")
    with pytest.raises(InternalError):
        check_derivative(T(Xg), Xg, Commutation(Dim(8), Dim(7)), layout="numerator")


def test_given_dimension_names():
    # m = n = 1000 given: X is square, and the check runs at a small size
    check_derivative(Trace(M(A_nm, X)), X, T(A_nm), layout="denominator", dims={"m": 1000, "n": 1000})
    with pytest.raises(InternalError, match=r"m=2, n=2"):
        check_derivative(Trace(M(A_nm, X)), X, A_nm, layout="denominator", dims={"m": 1000, "n": 1000})
    # an alias: m is "the same size as n"
    check_derivative(Trace(M(A_nm, X)), X, T(A_nm), layout="denominator", dims={"m": "n"})
    with pytest.raises(InternalError, match=r"m=2, n=2"):
        check_derivative(Trace(M(A_nm, X)), X, A_nm, layout="denominator", dims={"m": "n"})


def test_size_one_stays_one():
    # n = 1: X is a column vector; scalar by vector numerator is 1 x m
    check_derivative(Trace(M(A_nm, X)), X, A_nm, layout="numerator", dims={"n": 1})
    with pytest.raises(InternalError, match="n=1"):
        check_derivative(Trace(M(A_nm, X)), X, T(A_nm), layout="numerator", dims={"n": 1})


def test_sizes_are_permuted_when_a_product_is_singular():
    """(AXB)^{-1} with A p x m is singular when p > m: the first size choice (m=2, n=3, p=4) is."""
    inner = M(A_pm, X, mat("B", n, p))
    f = Trace(inv(inner))
    minv_t = T(inv(inner))
    result = neg(M(T(A_pm), minv_t, minv_t, T(mat("B", n, p))))
    check_derivative(f, X, result, layout="denominator")
    with pytest.raises(InternalError, match="derivative check failed"):
        check_derivative(f, X, neg(M(T(A_pm), minv_t, T(mat("B", n, p)))), layout="denominator")


def test_values_are_rescaled_to_reach_the_domain():
    """sqrt(1 - x^T x) needs |x| < 1: entries in [0.5, 1.5] are too large, a tenth of them is not."""
    inside = S(c(1), neg(M(T(x), x)))
    result = neg(M(x, Power(inside, Fraction(-1, 2))))
    check_derivative(Func("sqrt", inside), x, result, layout="denominator")
    with pytest.raises(InternalError, match="derivative check failed"):
        check_derivative(Func("sqrt", inside), x, neg(M(x, Power(inside, Fraction(1, 2)))), layout="denominator")


def test_no_point_in_the_domain_is_an_error():
    f = Func("sqrt", neg(M(T(x), x)))
    with pytest.raises(InternalError, match="found no point"):
        check_derivative(f, x, x, layout="denominator")


# ---------------------------------------------------------------- misuse


def test_unknown_symbol_in_the_result():
    with pytest.raises(InternalError, match=r"unknown symbols \['Q'\]"):
        check_derivative(Trace(Xs), Xs, mat("Q", m, m), layout="denominator")


def test_hessian_of_a_matrix_is_refused():
    with pytest.raises(InternalError, match="scalar"):
        check_derivative(X, X, Identity(m * n), layout="numerator", order=2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="layout"):
        check_derivative(Trace(Xs), Xs, Identity(m), layout="mixed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="order"):
        check_derivative(Trace(Xs), Xs, Identity(m), layout="numerator", order=3)


def test_message_says_what_failed():
    with pytest.raises(InternalError) as info:
        check_derivative(Trace(M(A_mm, Xs)), Xs, A_mm, layout="denominator")
    message = str(info.value)
    assert message.startswith("derivative check failed: max error")
    assert "denominator layout" in message and "X 2x2" in message


# ---------------------------------------------------------------- work (speed is a benchmark figure)


def _tree_walks(monkeypatch, f, var, result, layout, order):
    """How many evaluators (walks of F or of the result) one check makes."""
    from matdiff_tex.check import verify

    count = [0]
    original = verify.Evaluator.__init__

    def counting(self, *args, **kwargs):
        count[0] += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(verify.Evaluator, "__init__", counting)
    check_derivative(f, var, result, layout=layout, order=order)
    return count[0]


@pytest.mark.parametrize(
    "case",
    ["AXB num", "tr(X^T A X) hessian", "expm num", "log|X| den", "softmax num"],
)
def test_check_walks_the_tree_once_per_point(case, monkeypatch):
    """All perturbations of X (and, for a Hessian, all central-difference points) go through F in
    one batched walk: per point, one walk of F and one of the result, whatever X's size.  (Its
    time is a figure of benchmarks/bench_derive.py, not asserted here: a timing bound is flaky on
    a loaded machine.)"""
    from matdiff_tex.check.verify import POINTS

    entry = next(c_ for c_ in CORRECT if c_[0] == case)
    assert _tree_walks(monkeypatch, *entry[1:]) == 2 * POINTS


def test_descriptive_dims_entries_leave_names_free():
    """The reader's dims say what a name is ("rows of X"); such a name still gets its own size."""
    dims = {"m": "rows of \\boldsymbol{X}", "n": "columns of \\boldsymbol{X}", "p": "rows of \\boldsymbol{A}"}
    check_derivative(AXB, X, Kron(T(B_nq), A_pm), layout="numerator", dims=dims)
    with pytest.raises(InternalError, match="m=2, n=3, p=4, q=5"):
        check_derivative(AXB, X, Kron(A_pm, T(B_nq)), layout="numerator", dims=dims)


def test_sizes_that_cannot_be_made_small_are_checked_at_full_size():
    """A (56 x 56) times vec(X) (X 7 x 8): shrinking 7, 8 and 56 separately breaks 56 = 7 * 8."""
    Xg, Ag = mat("X", Dim(7), Dim(8)), mat("A", Dim(56), Dim(56))
    f = M(Ag, Vec(Xg))
    check_derivative(f, Xg, Ag, layout="numerator")
    with pytest.raises(InternalError, match=r"derivative check failed: max error.*X 7x8"):
        check_derivative(f, Xg, T(Ag), layout="numerator")


def test_full_size_check_that_is_too_large_is_refused():
    Xg, Ag = mat("X", Dim(70), Dim(80)), mat("A", Dim(5600), Dim(5600))
    with pytest.raises(InternalError, match="cannot be replaced by small ones"):
        check_derivative(M(Ag, Vec(Xg)), Xg, Ag, layout="numerator")


def test_a_given_size_written_as_a_number_in_the_result():
    """d(tr(X) tr(I_{10})) / dX = 10 I: shrinking 10 breaks the number, the true sizes confirm it."""
    Xg = mat("X", Dim(10), Dim(10))
    f = M(Trace(Xg), Trace(Identity(Dim(10))))
    check_derivative(f, Xg, M(c(10), Identity(Dim(10))), layout="denominator")
    with pytest.raises(InternalError, match=r"derivative check failed: max error.*X 10x10"):
        check_derivative(f, Xg, M(c(11), Identity(Dim(10))), layout="denominator")
