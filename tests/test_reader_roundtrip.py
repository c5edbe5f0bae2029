"""Reader and writer agree: what ``to_latex`` writes reads back as the same tree."""

from __future__ import annotations

from fractions import Fraction

import pytest

from matdiff_tex.expr.dims import ONE, Dim
from matdiff_tex.expr.nodes import (
    Add,
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
    Node,
    NormSq,
    Num,
    Ones,
    Power,
    Softmax,
    Sym,
    Trace,
    Transpose,
    Vec,
    Zero,
    node_fields,
)
from matdiff_tex.expr.reader import read_derivative_input, read_expression
from matdiff_tex.expr.writer import to_latex

from test_reader import CASES


def M(name: str, rows: int = 3, cols: int = 3, style: str = "boldsymbol") -> Sym:
    return Sym(name, "matrix", Dim(rows), Dim(cols), style)


def V(name: str, n: int = 3, style: str = "boldsymbol") -> Sym:
    return Sym(name, "vector", Dim(n), ONE, style)


def S(name: str) -> Sym:
    return Sym(name, "scalar", style="plain")


def N(value: int | str) -> Num:
    return Num(Fraction(value))


A, B, C, X = M("A"), M("B"), M("C"), M("X")
R = M("R", 3, 4)
u, v = V("u"), V("v")
a, b, s = S("a"), S("b"), S("s")


def shapes_of(node: Node) -> dict[str, tuple[int, int]]:
    """The integer sizes of the free symbols of ``node`` (integration variables excluded)."""
    bound = {n.var.name for n in node.walk() if isinstance(n, Integral)}
    return {
        n.name: (n.nrows.value(), n.ncols.value())
        for n in node.walk()
        if isinstance(n, Sym) and n.name not in bound
    }


TREES: list[Node] = [
    A,
    M("A", style="mathbf"),
    M("A", style="bm"),
    M("A", style="plain"),
    V("x", style="vec"),
    M("W_1"),
    M("W_12"),
    S("lambda"),
    Sym("Sigma", "matrix", Dim(3), Dim(3), "boldsymbol"),
    Transpose(R),
    Inverse(A),
    Transpose(Inverse(A)),
    Inverse(Transpose(A)),
    Power(A, Fraction(3)),
    Power(a, Fraction(2)),
    Power(a, Fraction(1, 2)),
    Power(a, Fraction(-1, 2)),
    HadamardPower(R, Fraction(-1)),
    HadamardPower(R, Fraction(-1, 2)),
    HadamardPower(R, Fraction(2)),
    Mul((N(2), A)),
    Mul((N(-1), A)),
    Mul((N("1/2"), A)),
    Mul((N("-3/4"), A, B)),
    Mul((a, b, A)),
    Mul((A, B, C)),
    Mul((Mul((A, B)), C)),
    Mul((A, Add((B, C)))),
    Mul((Transpose(u), A, u)),
    Mul((Mul((Transpose(u), u)), v)),
    Mul((Det(A), Inverse(A))),
    Add((A, B)),
    Add((A, Mul((N(-1), B)))),
    Add((A, Mul((N(-2), B)), C)),
    Add((Mul((N(-1), A)), B)),
    Add((a, N(-3))),
    Add((A, Mul((N(-1), Add((B, C)))))),
    Add((A, Add((B, C)))),
    Hadamard(A, B),
    Hadamard(Mul((A, B)), C),
    Hadamard(Transpose(A), B),
    Kron(A, B),
    Kron(Mul((A, B)), C),
    Kron(Kron(A, B), C),
    Kron(A, Kron(B, C)),
    Add((Kron(A, B), Kron(B, A))),
    Mul((Kron(Transpose(B), A), Vec(X))),
    Trace(A),
    Trace(Mul((Transpose(X), A, X))),
    Power(Trace(A), Fraction(2)),
    Det(A),
    Det(A, "det"),
    Func("log", Det(A)),
    Func("log", Det(A, "det")),
    Func("exp", A),
    Func("log", Add((N(1), Func("exp", Mul((Transpose(u), v)))))),
    Func("sigma", u),
    Func("sigma_p", a),
    Func("sigma_pp", a),
    Func("sigma_ppp", a),
    Func("sech2", u),
    Func("sqrt", A),
    Func("tanh", Mul((A, u))),
    Hadamard(Func("sigma_p", Mul((A, u))), v),
    Softmax(Mul((A, u))),
    NormSq(u, "2"),
    NormSq(u, ""),
    NormSq(R, "F"),
    NormSq(Add((Mul((A, u)), Mul((N(-1), v)))), "2"),
    Expm(A, "e"),
    Expm(A, "expm"),
    Expm(Mul((a, A)), "e"),
    Vec(R),
    Diag(u),
    Diag(Vec(R)),
    Add((A, Identity(Dim(3)))),
    Identity(Dim(12)),
    Zero(Dim(3), Dim(4)),
    Ones(Dim(3)),
    Mul((Transpose(Ones(Dim(3))), u)),
    Commutation(Dim(3), Dim(4)),
    Mul((Commutation(Dim(3), Dim(4)), Vec(R))),
    Identity(Dim(3), "mathbf"),
    Frac(A, a),
    Frac(A, Add((a, b))),
    Integral(s, Mul((Expm(Mul((s, A)), "e"), B, Expm(Mul((Add((N(1), Mul((N(-1), s)))), Transpose(A))), "e")))),
    Mul((A, Integral(s, Expm(Mul((s, A)), "e")), B)),
    Differential(A),
    Mul((A, Differential(Transpose(A)))),
]


@pytest.mark.parametrize("tree", TREES, ids=[to_latex(t) for t in TREES])
def test_what_the_writer_writes_reads_back(tree: Node) -> None:
    latex = to_latex(tree)
    assert read_expression(latex, shapes_of(tree)) == tree


@pytest.mark.parametrize(
    ("tree", "dims"),
    [
        (Commutation(Dim.of("m"), Dim.of("n")), {"m": 3, "n": 4}),
        (Commutation(Dim.of("m") * Dim.of("n"), Dim.of("p")), {"m": 3, "n": 4, "p": 2}),
        (Identity(Dim.of("m") * Dim.of("n_1")), {"m": 3, "n_1": 4}),
        (Identity(Dim.of("n") * 3), {"n": 2}),
        (Zero(Dim.of("p"), Dim.of("q")), {"p": 2, "q": 5}),
        (Ones(Dim.of("n_{12}")), {"n_{12}": 7}),
    ],
)
def test_symbolic_sizes_read_back_bound(tree: Node, dims: dict[str, int]) -> None:
    bound = type(tree)(**{
        name: Dim(value.value(dims)) if isinstance(value, Dim) else value
        for name, value in node_fields(tree).items()
    })
    assert read_expression(to_latex(tree), {}, dims) == bound


@pytest.mark.parametrize(
    ("f", "x", "shapes"), [(f, x, sh) for f, x, sh, _ in CASES], ids=[c[0] for c in CASES]
)
def test_reading_is_a_fixed_point_of_writing(f: str, x: str, shapes: dict | None) -> None:
    first = read_derivative_input(f, x, shapes)
    second = read_derivative_input(to_latex(first.f), x, shapes)
    assert second.f == first.f  # the trace macro (operatorname, mathrm, text) survives too
    assert second.x == first.x
