"""Property tests of the reader.

* Spelling variations that TeX renders alike — whitespace, optional braces around one
  token, ``\\left(`` / ``(`` / ``\\bigl(``, ``^T`` / ``^{\\top}`` — read as the same tree,
  and the spans of the symbols point at the symbols in each variant.
* Random trees written by the writer read back to trees with the same value (numpy) and
  reading is a fixed point of writing.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from matdiff_tex.errors import MatdiffError
from matdiff_tex.expr.dims import ONE, Dim
from matdiff_tex.expr.nodes import (
    Add,
    Commutation,
    Det,
    Diag,
    Expm,
    Frac,
    Func,
    Hadamard,
    HadamardPower,
    Identity,
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
)
from matdiff_tex.expr.reader import read_derivative_input, read_expression
from matdiff_tex.expr.writer import to_latex
from matdiff_tex.check.numeric import evaluate_node

# ---------------------------------------------------------------- spelling variations
#
# Template markers:  ·  optional whitespace     ␣  required whitespace
#                    ⟦t⟧  t with or without braces around it
#                    ⟨k:a‖b‖c⟩  one of the alternatives; every ⟨k:...⟩ with the same k picks the same one

TEMPLATES: list[tuple[str, str]] = [
    (r"\operatorname·{tr}·⟨1:(‖\left·(‖\bigl(‖\Big(⟩·\boldsymbol␣⟦X⟧·^·⟨2:\top‖{\top}‖T‖{T}‖{\mathrm{T}}⟩"
     r"·\boldsymbol{A}·⟦\boldsymbol{X}⟧·⟨1:)‖\right·)‖\bigr)‖\Big)⟩", r"\boldsymbol{X}"),
    (r"\log␣⟦a⟧^⟦2⟧·+·\frac·{1}·{2}·⟦\boldsymbol{x}⟧^⟨1:\top‖{\top}‖T‖{T}⟩·\boldsymbol{x}", r"\boldsymbol{x}"),
    (r"⟨1:|‖\lvert‖\left|‖\bigl|⟩·\boldsymbol{X}·⟨1:|‖\rvert‖\right|‖\bigr|⟩·⟦\boldsymbol{X}^{-1}⟧",
     r"\boldsymbol{X}"),
    (r"⟨1:\|‖\lVert‖\left\|⟩·⟦\boldsymbol{A}⟧·\boldsymbol{x}·-·\boldsymbol{b}·⟨1:\|‖\rVert‖\right\|⟩"
     r"·_·⟦2⟧·^·⟦2⟧", r"\boldsymbol{x}"),
    (r"\boldsymbol{A}·\otimes·⟦\boldsymbol{B}⟧·\odot·⟦\boldsymbol{X}⟧", r"\boldsymbol{X}"),
    (r"⟨1:\boldsymbol{ABX}‖\boldsymbol{A}\boldsymbol{B}\boldsymbol{X}‖{\boldsymbol{A}\boldsymbol{B}}\boldsymbol{X}"
     r"‖\boldsymbol␣A\boldsymbol␣B\boldsymbol␣X‖\boldsymbol{A}·\cdot·\boldsymbol{B}·\cdot·\boldsymbol{X}⟩",
     r"\boldsymbol{X}"),
    (r"\int_⟦0⟧^⟦1⟧·e^{·s·\boldsymbol{X}·}·\boldsymbol{A}·\,·\mathrm·{d}·s", r"\boldsymbol{X}"),
    (r"\sigma·'·⟨1:(‖\left(⟩·\boldsymbol{W}·\boldsymbol{x}·⟨1:)‖\right)⟩·\odot·\boldsymbol{y}", r"\boldsymbol{W}"),
    (r"-·\frac{1}{2}·\lambda·\|·\boldsymbol{X}·\|_⟦F⟧^⟦2⟧·+·\log·\det␣\boldsymbol{X}", r"\boldsymbol{X}"),
    (r"\boldsymbol{K}_{·mn·}·\text·{vec}·(·\boldsymbol{X}·)", r"\boldsymbol{X}"),
    (r"\boldsymbol{I}_{·m·\cdot·n_1·}·+·\boldsymbol{X}·-·\boldsymbol{0}_{·m·\cdot·n_1·\times·m·\cdot·n_1·}",
     r"\boldsymbol{X}"),
    (r"|·\boldsymbol{X}·|·\boldsymbol{X}^{-⟦\top⟧}·+·⟦3⟧·\boldsymbol{X}^⟦2⟧·-·\boldsymbol{X}^{\circ·-1/2}",
     r"\boldsymbol{X}"),
    (r"\log·(·1·+·\exp·(·-·\boldsymbol{x}^⟦\top⟧·\boldsymbol{w}·)·)", r"\boldsymbol{w}"),
]

_MARKER = re.compile(r"·|␣|⟦([^⟧]*)⟧|⟨(\d+):([^⟩]*)⟩")
OPTIONAL_SPACE = st.sampled_from(["", " ", "  ", "\n", "\t", " \n  "])
REQUIRED_SPACE = st.sampled_from([" ", "  ", "\n", "\t", " \n  "])


def canonical(template: str) -> str:
    def first(match: re.Match[str]) -> str:
        if match.group(0) in ("·", "␣"):
            return " " if match.group(0) == "␣" else ""
        if match.group(1) is not None:
            return match.group(1)
        return match.group(3).split("‖")[0].replace("·", "").replace("␣", " ")

    return _MARKER.sub(first, template)


@st.composite
def variant(draw: st.DrawFn, template: str) -> str:
    picks: dict[str, int] = {}
    out: list[str] = []
    pos = 0
    for match in _MARKER.finditer(template):
        out.append(template[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token == "·":
            out.append(draw(OPTIONAL_SPACE))
        elif token == "␣":
            out.append(draw(REQUIRED_SPACE))
        elif match.group(1) is not None:
            out.append("{" + match.group(1) + "}" if draw(st.booleans()) else match.group(1))
        else:
            choices = match.group(3).split("‖")
            key = match.group(2)
            if key not in picks:
                picks[key] = draw(st.integers(0, len(choices) - 1))
            out.append(choices[picks[key]].replace("·", " ").replace("␣", " "))
    out.append(template[pos:])
    return "".join(out)


@pytest.mark.parametrize(("template", "x"), TEMPLATES, ids=[canonical(t) for t, _ in TEMPLATES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_spelling_variations_read_alike(template: str, x: str, data: st.DataObject) -> None:
    expected = read_derivative_input(canonical(template), x).f
    source = data.draw(variant(template))
    result = read_derivative_input(source, x)
    assert result.f == expected
    for node in result.f.walk():
        if isinstance(node, Sym) and node.span is not None and node.name != "s":
            written = source[node.span[0] : node.span[1]]
            base = node.name.partition("_")[0]
            assert base in written, (node.name, written)


# ---------------------------------------------------------------- random trees through the writer

N = 3
SHAPES: dict[str, tuple[int, int]] = {
    "A": (N, N), "B": (N, N), "X": (N, N), "u": (N, 1), "v": (N, 1), "a": (1, 1), "b": (1, 1), "lambda": (1, 1),
}
MATRICES = [Sym(name, "matrix", Dim(N), Dim(N), style) for name, style in
            (("A", "boldsymbol"), ("B", "boldsymbol"), ("X", "mathbf"))]
VECTORS = [Sym(name, "vector", Dim(N), ONE, "boldsymbol") for name in ("u", "v")]
SCALARS = [Sym(name, "scalar", style="plain") for name in ("a", "b", "lambda")]
NUMBERS = st.sampled_from([Fraction(2), Fraction(3), Fraction(1, 2), Fraction(-1), Fraction(-3, 4)]).map(Num)
SMALL_POWERS = st.sampled_from([Fraction(2), Fraction(3), Fraction(-1), Fraction(1, 2), Fraction(-1, 2)])
ELEMENTWISE = st.sampled_from(["exp", "sin", "cos", "tanh", "sigma", "sigma_p", "sech2"])


@st.composite
def scalar(draw: st.DrawFn, depth: int) -> Node:
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(st.sampled_from(SCALARS), NUMBERS))
    choice = draw(st.integers(0, 11))
    d = depth - 1
    if choice == 0:
        return Add((draw(scalar(d)), draw(scalar(d))))
    if choice == 1:
        return Mul((draw(scalar(d)), draw(scalar(d))))
    if choice == 2:
        return Trace(draw(matrix(d)))
    if choice == 3:
        return Det(draw(matrix(d)), draw(st.sampled_from(["bars", "det"])))
    if choice == 4:
        return Mul((Transpose(draw(vector(d))), draw(vector(d))))
    if choice == 5:
        return NormSq(draw(vector(d)), draw(st.sampled_from(["", "2"])))
    if choice == 6:
        return Func(draw(ELEMENTWISE), draw(scalar(d)))
    if choice == 7:
        base = draw(scalar(d))
        # the writer prints (log det A)^2 as \log|A|^{2}, which reads (as TeX shows it) log(|A|^2)
        assume(not (isinstance(base, Func) and isinstance(base.arg, Det)))
        return Power(base, draw(SMALL_POWERS))
    if choice == 8:
        return Frac(draw(scalar(d)), draw(scalar(d)))
    if choice == 9:
        return Mul((Num(Fraction(-1)), draw(scalar(d))))
    if choice == 10:
        return Func("log", Det(draw(matrix(d)), draw(st.sampled_from(["bars", "det"]))))
    return NormSq(draw(matrix(d)), "F")


@st.composite
def matrix(draw: st.DrawFn, depth: int) -> Node:
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(st.sampled_from(MATRICES), st.just(Identity(Dim(N)))))
    choice = draw(st.integers(0, 12))
    d = depth - 1
    if choice == 0:
        return Add((draw(matrix(d)), draw(matrix(d))))
    if choice == 1:
        return Mul((draw(matrix(d)), draw(matrix(d))))
    if choice == 2:
        return Mul((draw(scalar(d)), draw(matrix(d))))
    if choice == 3:
        return Transpose(draw(matrix(d)))
    if choice == 4:
        return Inverse(draw(matrix(d)))
    if choice == 5:
        return Power(draw(matrix(d)), Fraction(draw(st.sampled_from([2, 3, -2]))))
    if choice == 6:
        return Hadamard(draw(matrix(d)), draw(matrix(d)))
    if choice == 7:
        return Func(draw(ELEMENTWISE), draw(matrix(d)))
    if choice == 8:
        return Expm(draw(matrix(d)), draw(st.sampled_from(["e", "expm"])))
    if choice == 9:
        return Mul((draw(vector(d)), Transpose(draw(vector(d)))))
    if choice == 10:
        return Diag(draw(vector(d)))
    if choice == 11:
        return HadamardPower(draw(matrix(d)), draw(SMALL_POWERS))
    return Add((draw(matrix(d)), Mul((Num(Fraction(-1)), draw(matrix(d))))))


@st.composite
def vector(draw: st.DrawFn, depth: int) -> Node:
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(st.sampled_from(VECTORS), st.just(Ones(Dim(N)))))
    choice = draw(st.integers(0, 6))
    d = depth - 1
    if choice == 0:
        return Mul((draw(matrix(d)), draw(vector(d))))
    if choice == 1:
        return Add((draw(vector(d)), draw(vector(d))))
    if choice == 2:
        return Mul((draw(scalar(d)), draw(vector(d))))
    if choice == 3:
        return Softmax(draw(vector(d)))
    if choice == 4:
        return Hadamard(draw(vector(d)), draw(vector(d)))
    if choice == 5:
        return Func(draw(ELEMENTWISE), draw(vector(d)))
    # a vector of length N*N brought back to N: (u^T ⊗ I) vec(A)
    return Mul((Kron(Transpose(draw(vector(d))), Identity(Dim(N))), Vec(draw(matrix(d)))))


@st.composite
def any_tree(draw: st.DrawFn) -> Node:
    depth = draw(st.integers(1, 4))
    kind = draw(st.sampled_from([scalar, matrix, vector]))
    tree = draw(kind(depth))
    if draw(st.booleans()):
        tree = Add((tree, tree)) if draw(st.booleans()) else Mul((Num(Fraction(2)), tree))
    if draw(st.integers(0, 5)) == 0:
        tree = Mul((Commutation(Dim(N), Dim(N)), Vec(tree))) if tree.shape == (Dim(N), Dim(N)) else tree
    return tree


def _values() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    values = {name: rng.uniform(0.2, 0.6, size=shape) for name, shape in SHAPES.items()}
    for name in ("A", "B", "X"):
        values[name] = values[name] + 2 * np.eye(N)  # well away from singular
    return values


VALUES = _values()


def _value(tree: Node) -> np.ndarray:
    return evaluate_node(tree, VALUES, dtype=complex)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=any_tree())
@example(tree=Mul((Num(Fraction(2)), Frac(Num(Fraction(1)), SCALARS[0]))))
def test_written_trees_read_back_with_the_same_value(tree: Node) -> None:
    latex = to_latex(tree)
    read = read_expression(latex, SHAPES)
    assert read.shape == tree.shape
    with np.errstate(all="ignore"):
        try:
            expected = _value(tree)
        except (MatdiffError, np.linalg.LinAlgError, ZeroDivisionError, OverflowError):  # singular etc.
            assume(False)
        assume(np.all(np.isfinite(expected)) and np.max(np.abs(expected)) < 1e8)
        got = _value(read)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9, err_msg=latex)
    # writing what was read and reading it again changes nothing: the same text, the same value
    # (the tree may differ in form: 2 \frac{1}{a} reads as 2 a^{-1}, written \frac{2}{a}, read as a Frac)
    again = read_expression(to_latex(read), SHAPES)
    assert to_latex(again) == to_latex(read)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(_value(again), got, rtol=1e-9, atol=1e-12, err_msg=latex)
