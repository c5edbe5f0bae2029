"""The reader: every notation of SPEC section 3 -> the typed tree it means, with sizes.

Each row is (F, X, shapes, expected tree).  Expected trees are built from the node
classes by hand; sizes are part of the expectation (X is m x n, n x n when square,
n x 1 for a vector; other free sizes are p, q, r ... in order of appearance).
"""

from __future__ import annotations

import subprocess
import sys
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
)
from matdiff_tex.expr.reader import read_derivative_input, read_expression

BX = r"\boldsymbol{X}"
BXV = r"\boldsymbol{x}"


def d(value: int | str) -> Dim:
    if isinstance(value, str) and " " in value:  # "m n" -> the product mn
        result = Dim(1)
        for part in value.split():
            result = result * Dim.of(part)
        return result
    return Dim.of(value)


def M(name: str, rows: int | str = "m", cols: int | str = "n", style: str = "boldsymbol") -> Sym:
    return Sym(name, "matrix", d(rows), d(cols), style)


def V(name: str, n: int | str = "n", style: str = "boldsymbol") -> Sym:
    return Sym(name, "vector", d(n), ONE, style)


def S(name: str, style: str = "plain") -> Sym:
    return Sym(name, "scalar", style=style)


def N(value: int | str | Fraction) -> Num:
    return Num(Fraction(value))


X = M("X")  # m x n
XS = M("X", "n", "n")  # square
x = V("x")


def neg(node: Node) -> Mul:
    return Mul((N(-1), node))


CASES: list[tuple[str, str, dict | None, Node]] = [
    # ------------------------------------------------ symbols and styles
    (BX, BX, None, X),
    (r"\mathbf{X}", r"\mathbf{X}", None, M("X", style="mathbf")),
    (r"\bm{X}", r"\bm{X}", None, M("X", style="bm")),
    ("X", "X", None, M("X", style="plain")),
    (r"\boldsymbol X", BX, None, X),
    (BXV, BXV, None, x),
    (r"\mathbf{x}", r"\mathbf{x}", None, V("x", style="mathbf")),
    (r"\vec{x}", r"\vec{x}", None, V("x", style="vec")),
    (r"\boldsymbol{\mu}", r"\boldsymbol{\mu}", None, V("mu")),
    (r"\boldsymbol{\Sigma}", r"\boldsymbol{\Sigma}", None, M("Sigma")),
    (r"\Sigma", r"\Sigma", None, M("Sigma", style="plain")),
    (r"\lambda \boldsymbol{X}", BX, None, Mul((S("lambda"), X))),
    (r"a \boldsymbol{X}", BX, None, Mul((S("a"), X))),
    # the first occurrence in F decides the style; \mathbf and \boldsymbol are one X
    (r"\mathbf{X} + \boldsymbol{X}", BX, None, Add((M("X", style="mathbf"), M("X", style="mathbf")))),
    # X decides the kind of its name: a plain x in F is the vector
    (r"x^{\top} \boldsymbol{A} x", BXV, None, Mul((Transpose(V("x", style="plain")), M("A", "n", "n"),
                                                  V("x", style="plain")))),
    # subscripted symbols are their own names
    (r"\boldsymbol{W}_1 \boldsymbol{X}", BX, None, Mul((M("W_1", "p", "m"), X))),
    (r"\boldsymbol{W}_{1} \boldsymbol{X}", BX, None, Mul((M("W_1", "p", "m"), X))),
    (r"\boldsymbol{W_1} \boldsymbol{X}", BX, None, Mul((M("W_1", "p", "m"), X))),
    (r"x_i \boldsymbol{X}", BX, None, Mul((S("x_i"), X))),
    (r"\boldsymbol{X}_{12}", r"\boldsymbol{X}_{12}", None, M("X_12")),
    (r"\boldsymbol{W}^{\top}_{1} \boldsymbol{X}", BX, None, Mul((Transpose(M("W_1", "m", "p")), X))),
    (r"\boldsymbol{W}_{1}^{\top} \boldsymbol{X}", BX, None, Mul((Transpose(M("W_1", "m", "p")), X))),
    # ------------------------------------------------ products
    (r"\boldsymbol{ABX}", BX, None, Mul((M("A", "p", "q"), M("B", "q", "m"), X))),
    (r"\boldsymbol{A}\boldsymbol{B}\boldsymbol{X}", BX, None, Mul((M("A", "p", "q"), M("B", "q", "m"), X))),
    (r"\boldsymbol{A} \cdot \boldsymbol{X}", BX, None, Mul((M("A", "p", "m"), X))),
    (r"{\boldsymbol{A}\boldsymbol{B}}\boldsymbol{X}", BX, None, Mul((M("A", "p", "q"), M("B", "q", "m"), X))),
    (r"(\boldsymbol{A}\boldsymbol{B})\boldsymbol{X}", BX, None,
     Mul((Mul((M("A", "p", "q"), M("B", "q", "m"))), X))),
    (r"a \times b \boldsymbol{X}", BX, None, Mul((S("a"), S("b"), X))),
    (r"2\boldsymbol{X}", BX, None, Mul((N(2), X))),
    # numbers in a product become one leading coefficient, as the writer prints them
    (r"a (-2) \boldsymbol{X} \cdot 3", BX, None, Mul((N(-6), S("a"), X))),
    (r"2 \cdot 3", BX, None, N(6)),
    (r"2 2^{2}", BX, None, Mul((N(2), Power(N(2), Fraction(2))))),
    (r"12^{2}", BX, None, Power(N(12), Fraction(2))),
    (r"1 \cdot \boldsymbol{X}", BX, None, X),
    # 1x1 factors act as scalars
    (r"|\boldsymbol{X}|\boldsymbol{X}^{-1}", BX, None, Mul((Det(XS), Inverse(XS)))),
    (r"(\boldsymbol{x}^{\top}\boldsymbol{x})\boldsymbol{y}", BXV, None,
     Mul((Mul((Transpose(x), x)), V("y", "m")))),
    (r"\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}\,\boldsymbol{y}", BXV, None,
     Mul((Transpose(x), M("A", "n", "n"), x, V("y", "m")))),
    (r"\boldsymbol{x}\boldsymbol{x}^{\top}", BXV, None, Mul((x, Transpose(x)))),
    # ------------------------------------------------ identity, zero, ones
    (r"\boldsymbol{X} + \boldsymbol{I}", BX, None, Add((XS, Identity(d("n"))))),
    (r"\boldsymbol{X} + \boldsymbol{I}_n", BX, None, Add((XS, Identity(d("n"))))),
    (r"\boldsymbol{X} + \boldsymbol{I}_{k}", BX, None, Add((M("X", "k", "k"), Identity(d("k"))))),
    (r"\boldsymbol{X} + \mathbf{I}", BX, None, Add((XS, Identity(d("n"), "mathbf")))),
    (r"\boldsymbol{X} + \boldsymbol{0}", BX, None, Add((X, Zero(d("m"), d("n"))))),
    (r"\boldsymbol{X}\boldsymbol{1}", BX, None, Mul((X, Ones(d("n"))))),
    (r"\boldsymbol{1}^{\top}\boldsymbol{x}", BXV, None, Mul((Transpose(Ones(d("n"))), x))),
    (r"\boldsymbol{X} + I", BX, None, Add((XS, Identity(d("n"), "plain")))),
    # ------------------------------------------------ transposes, inverses, powers
    (r"\boldsymbol{X}^{\top}", BX, None, Transpose(X)),
    (r"\boldsymbol{X}^\top", BX, None, Transpose(X)),
    (r"\boldsymbol{X}^T", BX, None, Transpose(X)),
    (r"\boldsymbol{X}^{T}", BX, None, Transpose(X)),
    (r"\boldsymbol{X}^{\mathrm{T}}", BX, None, Transpose(X)),
    (r"\boldsymbol{X}^{\mathsf{T}}", BX, None, Transpose(X)),
    (r"\boldsymbol{X}^\mathsf{T}", BX, None, Transpose(X)),
    (r"\boldsymbol{X}^{\intercal}", BX, None, Transpose(X)),
    (r"\boldsymbol{X}^{-1}", BX, None, Inverse(XS)),
    (r"\boldsymbol{X}^{-\top}", BX, None, Transpose(Inverse(XS))),
    (r"\boldsymbol{X}^{-T}", BX, None, Transpose(Inverse(XS))),
    (r"(\boldsymbol{X}^{\top})^{-1}", BX, None, Inverse(Transpose(XS))),
    (r"\boldsymbol{X}^{3}", BX, None, Power(XS, Fraction(3))),
    (r"\boldsymbol{X}^3", BX, None, Power(XS, Fraction(3))),
    (r"\boldsymbol{X}^{-2}", BX, None, Power(XS, Fraction(-2))),
    (r"\boldsymbol{X}^{64}", BX, None, Power(XS, Fraction(64))),
    (r"a^2 \boldsymbol{X}", BX, None, Mul((Power(S("a"), Fraction(2)), X))),
    (r"a^{1/2} \boldsymbol{X}", BX, None, Mul((Power(S("a"), Fraction(1, 2)), X))),
    (r"a^{\frac{1}{2}} \boldsymbol{X}", BX, None, Mul((Power(S("a"), Fraction(1, 2)), X))),
    (r"a^{0.5} \boldsymbol{X}", BX, None, Mul((Power(S("a"), Fraction(1, 2)), X))),
    (r"a^{-1/2} \boldsymbol{X}", BX, None, Mul((Power(S("a"), Fraction(-1, 2)), X))),
    (r"a^{-1} \boldsymbol{X}", BX, None, Mul((Power(S("a"), Fraction(-1)), X))),
    (r"\frac{1}{a} \boldsymbol{X}", BX, None, Mul((Power(S("a"), Fraction(-1)), X))),
    (r"\frac{1}{a^{1/2}} \boldsymbol{X}", BX, None, Mul((Power(S("a"), Fraction(-1, 2)), X))),
    (r"\frac{1}{|\boldsymbol{X}|}", BX, None, Power(Det(XS), Fraction(-1))),
    (r"\frac{2}{a} \boldsymbol{X}", BX, None, Mul((Frac(N(2), S("a")), X))),
    (r"(\boldsymbol{x}^{\top}\boldsymbol{x})^{2}", BXV, None, Power(Mul((Transpose(x), x)), Fraction(2))),
    (r"\boldsymbol{X}^{\circ 2}", BX, None, HadamardPower(X, Fraction(2))),
    (r"\boldsymbol{X}^{\circ -1}", BX, None, HadamardPower(X, Fraction(-1))),
    (r"\boldsymbol{X}^{\circ -1/2}", BX, None, HadamardPower(X, Fraction(-1, 2))),
    # ------------------------------------------------ trace and determinant
    (r"\operatorname{tr}(\boldsymbol{X})", BX, None, Trace(XS)),
    (r"\operatorname{tr}\left(\boldsymbol{X}\right)", BX, None, Trace(XS)),
    (r"\operatorname{Tr}(\boldsymbol{X})", BX, None, Trace(XS)),
    (r"\mathrm{tr}(\boldsymbol{X})", BX, None, Trace(XS, "mathrm")),
    (r"\mathrm{Tr}(\boldsymbol{X})", BX, None, Trace(XS, "mathrm")),
    (r"\text{tr}(\boldsymbol{X})", BX, None, Trace(XS, "text")),
    (r"\operatorname{tr}(\boldsymbol{X})^{2}", BX, None, Power(Trace(XS), Fraction(2))),
    (r"\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})", BX, None,
     Trace(Mul((Transpose(X), M("A", "m", "m"), X)))),
    (r"\det(\boldsymbol{X})", BX, None, Det(XS, "det")),
    (r"\det \boldsymbol{X}", BX, None, Det(XS, "det")),
    (r"\det \boldsymbol{X}^{-1}", BX, None, Det(Inverse(XS), "det")),
    (r"|\boldsymbol{X}|", BX, None, Det(XS)),
    (r"\lvert \boldsymbol{X} \rvert", BX, None, Det(XS)),
    (r"\left| \boldsymbol{X} \right|", BX, None, Det(XS)),
    (r"\bigl| \boldsymbol{X} \bigr|", BX, None, Det(XS)),
    (r"|\boldsymbol{A}||\boldsymbol{X}|", BX, None, Mul((Det(M("A", "m", "m")), Det(XS)))),
    (r"|\boldsymbol{A}\boldsymbol{X}|", BX, None, Det(Mul((M("A", "n", "m"), X)))),
    (r"|\boldsymbol{X}|^{-1}", BX, None, Power(Det(XS), Fraction(-1))),
    (r"||\boldsymbol{A}|\boldsymbol{X}|", BX, None, Det(Mul((Det(M("A", "m", "m")), XS)))),
    (r"\|\|\boldsymbol{A}\|_F^2 \boldsymbol{x}\|^2", BXV, None, NormSq(Mul((NormSq(M("A", "m", "p"), "F"), x)), "")),
    # ------------------------------------------------ logs and element-wise functions
    (r"\log\det \boldsymbol{X}", BX, None, Func("log", Det(XS, "det"))),
    (r"\log\det(\boldsymbol{X})", BX, None, Func("log", Det(XS, "det"))),
    (r"\log|\boldsymbol{X}|", BX, None, Func("log", Det(XS))),
    (r"\ln|\boldsymbol{X}|", BX, None, Func("ln", Det(XS))),
    (r"\log|\boldsymbol{X}|^{2}", BX, None, Func("log", Power(Det(XS), Fraction(2)))),
    (r"\log \boldsymbol{X}", BX, None, Func("log", X)),
    (r"\exp(\boldsymbol{X})", BX, None, Func("exp", X)),
    (r"\sin(\boldsymbol{X})", BX, None, Func("sin", X)),
    (r"\cos \boldsymbol{X}", BX, None, Func("cos", X)),
    (r"\tanh(\boldsymbol{X})", BX, None, Func("tanh", X)),
    (r"\sigma(\boldsymbol{X})", BX, None, Func("sigma", X)),
    (r"\operatorname{sigmoid}(\boldsymbol{X})", BX, None, Func("sigma", X)),
    (r"\sigma\left(\boldsymbol{X}\right)", BX, None, Func("sigma", X)),
    (r"\sqrt{\boldsymbol{X}}", BX, None, Func("sqrt", X)),
    (r"\operatorname{exp}(\boldsymbol{X})", BX, None, Func("exp", X)),
    (r"\sigma \boldsymbol{X}", BX, None, Mul((S("sigma"), X))),
    (r"\sigma^2 \boldsymbol{X}", BX, None, Mul((Power(S("sigma"), Fraction(2)), X))),
    (r"\sigma'(u)\boldsymbol{X}", BX, None, Mul((Func("sigma_p", S("u")), X))),
    (r"\sigma''(u)\boldsymbol{X}", BX, None, Mul((Func("sigma_pp", S("u")), X))),
    (r"\sigma'''(u)\boldsymbol{X}", BX, None, Mul((Func("sigma_ppp", S("u")), X))),
    (r"\operatorname{sech}^{2}(\boldsymbol{X})", BX, None, Func("sech2", X)),
    (r"\sin^2(\boldsymbol{x}^{\top}\boldsymbol{x})", BXV, None, Power(Func("sin", Mul((Transpose(x), x))), Fraction(2))),
    # \log takes the next factor with its postfix operators, not the whole product
    (r"\log a^2 \boldsymbol{X}", BX, None, Mul((Func("log", Power(S("a"), Fraction(2))), X))),
    (r"\exp(\boldsymbol{X})^{\top}", BX, None, Transpose(Func("exp", X))),
    # a brace group is no parenthesis: \log {a}^2 is \log a^2 as TeX shows it
    (r"\log {a}^2 \boldsymbol{X}", BX, None, Mul((Func("log", Power(S("a"), Fraction(2))), X))),
    (r"\log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))", r"\boldsymbol{w}", None,
     Func("log", Add((N(1), Func("exp", Mul((Transpose(V("x")), V("w")))))))),
    (r"\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})", r"\boldsymbol{W}", None,
     Softmax(Mul((M("W"), V("x"))))),
    # ------------------------------------------------ matrix exponential
    (r"e^{\boldsymbol{X}}", BX, None, Expm(XS, "e")),
    (r"\mathrm{e}^{\boldsymbol{X}}", BX, None, Expm(XS, "e")),
    (r"\operatorname{expm}(\boldsymbol{X})", BX, None, Expm(XS, "expm")),
    (r"e^{a}\boldsymbol{X}", BX, None, Mul((Func("exp", S("a")), X))),
    (r"e^{\boldsymbol{x}^{\top}\boldsymbol{x}}", BXV, None, Func("exp", Mul((Transpose(x), x)))),
    # ------------------------------------------------ Hadamard and Kronecker
    (r"\boldsymbol{A} \odot \boldsymbol{X}", BX, None, Hadamard(M("A"), X)),
    (r"\boldsymbol{A} \circ \boldsymbol{X}", BX, None, Hadamard(M("A"), X)),
    (r"\boldsymbol{A} \otimes \boldsymbol{X}", BX, None, Kron(M("A", "p", "q"), X)),
    (r"\boldsymbol{A}\boldsymbol{C} \otimes \boldsymbol{B}\boldsymbol{X}", BX, None,
     Kron(Mul((M("A", "p", "q"), M("C", "q", "r"))), Mul((M("B", "s", "m"), X)))),
    (r"\boldsymbol{A} \otimes \boldsymbol{B} \odot \boldsymbol{X}", BX, None,
     Hadamard(Kron(M("A", "m", "n"), M("B", "p", "q")), M("X", "m p", "n q"))),
    (r"-\boldsymbol{A} \odot \boldsymbol{X}", BX, None, neg(Hadamard(M("A"), X))),
    # ------------------------------------------------ norms
    (r"\|\boldsymbol{x}\|^2", BXV, None, NormSq(x, "")),
    (r"\|\boldsymbol{x}\|_2^2", BXV, None, NormSq(x, "2")),
    (r"\|\boldsymbol{x}\|^2_2", BXV, None, NormSq(x, "2")),
    (r"\lVert \boldsymbol{x} \rVert_2^2", BXV, None, NormSq(x, "2")),
    (r"\left\| \boldsymbol{x} \right\|^{2}", BXV, None, NormSq(x, "")),
    (r"\|\boldsymbol{X}\|_F^2", BX, None, NormSq(X, "F")),
    (r"\|\boldsymbol{X}\|_{\mathrm{F}}^{2}", BX, None, NormSq(X, "F")),
    (r"\|\boldsymbol{A}\boldsymbol{x} - \boldsymbol{b}\|_2^2", BXV, None,
     NormSq(Add((Mul((M("A", "m", "n"), x)), neg(V("b", "m")))), "2")),
    # ------------------------------------------------ vec and diag
    (r"\operatorname{vec}(\boldsymbol{X})", BX, None, Vec(X)),
    (r"\text{vec}(\boldsymbol{X})", BX, None, Vec(X)),
    (r"\mathrm{vec}(\boldsymbol{X})", BX, None, Vec(X)),
    (r"\operatorname{diag}(\boldsymbol{x})", BXV, None, Diag(x)),
    # ------------------------------------------------ grouping
    (r"(\boldsymbol{A} + \boldsymbol{X})^{\top}", BX, None, Transpose(Add((M("A"), X)))),
    (r"[\boldsymbol{A} + \boldsymbol{X}]^{\top}", BX, None, Transpose(Add((M("A"), X)))),
    (r"\left(\boldsymbol{A} + \boldsymbol{X}\right)^{\top}", BX, None, Transpose(Add((M("A"), X)))),
    (r"\left[\boldsymbol{A} + \boldsymbol{X}\right]^{\top}", BX, None, Transpose(Add((M("A"), X)))),
    (r"\bigl(\boldsymbol{A} + \boldsymbol{X}\bigr)^{\top}", BX, None, Transpose(Add((M("A"), X)))),
    (r"\Big(\boldsymbol{A} + \boldsymbol{X}\Big)^{\top}", BX, None, Transpose(Add((M("A"), X)))),
    (r"{\boldsymbol{A} + \boldsymbol{X}}^{\top}", BX, None, Transpose(Add((M("A"), X)))),
    # ------------------------------------------------ numbers, fractions, signs
    (r"0.5\boldsymbol{X}", BX, None, Mul((N("1/2"), X))),
    (r"\frac{1}{2}\boldsymbol{X}", BX, None, Mul((N("1/2"), X))),
    (r"\frac12\boldsymbol{X}", BX, None, Mul((N("1/2"), X))),
    (r"\frac{\boldsymbol{X}}{2}", BX, None, Frac(X, N(2))),
    (r"\frac{\boldsymbol{X}}{a + b}", BX, None, Frac(X, Add((S("a"), S("b"))))),
    (r"\frac{\boldsymbol{X}}{\boldsymbol{x}^{\top}\boldsymbol{x}}", BX, None, Frac(X, Mul((Transpose(V("x", "p")), V("x", "p"))))),
    (r"-\boldsymbol{X}", BX, None, neg(X)),
    (r"-2\boldsymbol{X}", BX, None, Mul((N(-2), X))),
    (r"-(2\boldsymbol{X})", BX, None, neg(Mul((N(2), X)))),
    (r"+\boldsymbol{X}", BX, None, X),
    (r"\boldsymbol{A} - \boldsymbol{X}", BX, None, Add((M("A"), neg(X)))),
    (r"\boldsymbol{A} - 3\boldsymbol{X} + \boldsymbol{B}", BX, None, Add((M("A"), Mul((N(-3), X)), M("B")))),
    (r"\boldsymbol{A} - \frac{1}{2}\boldsymbol{X}", BX, None, Add((M("A"), Mul((N("-1/2"), X))))),
    (r"\boldsymbol{A} + (\boldsymbol{B} + \boldsymbol{X})", BX, None, Add((M("A"), Add((M("B"), X))))),
    (r"a\,\boldsymbol{X}\;\!\quad + \qquad\boldsymbol{X}", BX, None, Add((Mul((S("a"), X)), X))),
    (r"a\boldsymbol{X} % a comment" "\n" r"+ \boldsymbol{X}", BX, None, Add((Mul((S("a"), X)), X))),
    # ------------------------------------------------ what the writer emits
    (r"\textcolor{red}{\boldsymbol{X}}^{\top}", BX, None, Transpose(X)),
    (r"\boldsymbol{K}_{mn}\text{vec}(\boldsymbol{X})", BX, None, Mul((Commutation(d("m"), d("n")), Vec(X)))),
    (r"\boldsymbol{K}_{m,n}\text{vec}(\boldsymbol{X})", BX, None, Mul((Commutation(d("m"), d("n")), Vec(X)))),
    (r"\boldsymbol{K}_{nm}\text{vec}(\boldsymbol{X}^{\top})", BX, None,
     Mul((Commutation(d("n"), d("m")), Vec(Transpose(X))))),
    (r"\boldsymbol{K}_{3,4}", r"\boldsymbol{K}", None, Commutation(d(3), d(4))),
    (r"\boldsymbol{K} + \boldsymbol{K}_{mn,p}", r"\boldsymbol{K}", None,
     Add((M("K", "m n p", "m n p"), Commutation(d("m n"), d("p"))))),
    (r"\boldsymbol{I}_{mn} + \boldsymbol{X}", BX, None, Add((Identity(d("m n")), M("X", "m n", "m n")))),
    (r"\boldsymbol{I}_{12} + \boldsymbol{X}", BX, None, Add((Identity(d(12)), M("X", 12, 12)))),
    (r"\boldsymbol{I}_{3n} + \boldsymbol{X}", BX, None,
     Add((Identity(d("n") * 3), Sym("X", "matrix", d("n") * 3, d("n") * 3)))),
    (r"\boldsymbol{I}_{m \cdot n_1} + \boldsymbol{X}", BX, None,
     Add((Identity(d("m") * d("n_1")), Sym("X", "matrix", d("m") * d("n_1"), d("m") * d("n_1"))))),
    (r"\boldsymbol{0}_{p \times q} + \boldsymbol{X}", BX, None, Add((Zero(d("p"), d("q")), M("X", "p", "q")))),
    (r"\boldsymbol{1}_{n}^{\top}\boldsymbol{x}", BXV, None, Mul((Transpose(Ones(d("n"))), x))),
    (r"\mathbf{1}_{k}^{\top}\mathbf{x}", r"\mathbf{x}", None,
     Mul((Transpose(Ones(d("k"), "mathbf")), V("x", "k", "mathbf")))),
    (r"\int_{0}^{1} e^{s\boldsymbol{X}} \boldsymbol{A} e^{(1 - s)\boldsymbol{X}^{\top}} \, \mathrm{d}s", BX, None,
     Integral(S("s"), Mul((Expm(Mul((S("s"), XS)), "e"), M("A", "n", "n"),
                          Expm(Mul((Add((N(1), neg(S("s")))), Transpose(XS))), "e"))))),
    (r"\boldsymbol{A}\int_0^1 e^{s\boldsymbol{X}} \,\mathrm{d}s\,\boldsymbol{B}", BX, None,
     Mul((M("A", "m", "n"), Integral(S("s"), Expm(Mul((S("s"), XS)), "e")), M("B", "n", "p")))),
    (r"\mathrm{d}\boldsymbol{X}", BX, None, Differential(X)),
    (r"\boldsymbol{A}\mathrm{d}(\boldsymbol{X}^{\top})", BX, None,
     Mul((M("A", "p", "n"), Differential(Transpose(X))))),
]


@pytest.mark.parametrize(("f", "x", "shapes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reads_notation(f: str, x: str, shapes: dict | None, expected: Node) -> None:
    result = read_derivative_input(f, x, shapes)
    assert result.f == expected
    assert result.f.shape == expected.shape


def test_parenthesised_log_det_takes_the_power() -> None:
    result = read_derivative_input(r"(\log|\boldsymbol{X}|)^{2}", BX)
    assert result.f == Power(Func("log", Det(XS)), Fraction(2))


def test_variable_is_the_symbol_in_f() -> None:
    result = read_derivative_input(r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X})", BX)
    assert result.x == M("X", "m", "n")
    assert result.x == result.symbols["X"]
    assert result.symbols["A"] == M("A", "n", "m")
    assert set(result.symbols) == {"A", "X"}


def test_variable_absent_from_f_keeps_its_own_size() -> None:
    result = read_derivative_input(r"\operatorname{tr}(\boldsymbol{A})", BX)
    assert result.f == Trace(M("A", "p", "p"))
    assert result.x == X


def test_bound_integration_variable_is_not_a_symbol() -> None:
    result = read_derivative_input(r"\int_0^1 e^{s\boldsymbol{X}} \,\mathrm{d}s", BX)
    assert set(result.symbols) == {"X"}


def test_symbols_keep_source_spans() -> None:
    f = r"\boldsymbol{A} + \mathbf{X}^{\top}"
    result = read_derivative_input(f, BX)
    a, xt = result.f.terms  # type: ignore[attr-defined]
    assert f[a.span[0]:a.span[1]] == r"\boldsymbol{A}"
    assert f[xt.arg.span[0]:xt.arg.span[1]] == r"\mathbf{X}"


def test_dims_describe_the_chosen_names() -> None:
    result = read_derivative_input(r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{b}", BX)
    assert result.dims == {
        "m": r"rows of \boldsymbol{X}",
        "n": r"columns of \boldsymbol{X}",
        "p": r"rows of \boldsymbol{A}",
    }
    assert result.dim_sources == {"m": ("X", 0), "n": ("X", 1), "p": ("A", 0)}
    assert result.f.shape == (d("p"), ONE)


def test_auto_names_avoid_the_authors_names() -> None:
    # n is the author's (a scalar and a given size): X gets other names
    result = read_derivative_input(r"n\boldsymbol{A}\boldsymbol{X}", BX, {"A": ("m", "k")})
    assert result.x == M("X", "k", "p")
    assert result.f == Mul((S("n"), M("A", "m", "k"), M("X", "k", "p")))


# ---------------------------------------------------------------- shapes=


SHAPE_CASES = [
    ({"X": (3, 4)}, M("X", 3, 4)),
    ({"X": [3, 4]}, M("X", 3, 4)),
    ({"X": "3x4"}, M("X", 3, 4)),
    ({"X": "3 x 4"}, M("X", 3, 4)),
    ({"X": "3×4"}, M("X", 3, 4)),
    ({"X": "n x n"}, M("X", "n", "n")),
    ({"X": ("k", "k")}, M("X", "k", "k")),
    ({"X": ("k", 2)}, M("X", "k", 2)),
    ({"X": ("n_1", "n_{12}")}, M("X", "n_1", "n_{12}")),
    ({"X": ("n_{1}", 2)}, M("X", "n_1", 2)),
]


@pytest.mark.parametrize(("shapes", "expected"), SHAPE_CASES, ids=[str(s) for s, _ in SHAPE_CASES])
def test_shapes_fix_sizes(shapes: dict, expected: Sym) -> None:
    result = read_derivative_input(BX, BX, shapes)
    assert result.x == expected
    assert result.f == expected


@pytest.mark.parametrize("given", [5, "5", (5, 1), [5, 1], "5x1"])
def test_vector_shape_forms(given: object) -> None:
    result = read_derivative_input(r"\boldsymbol{A}\boldsymbol{x}", BXV, {"x": given, "A": (2, 5)})
    assert result.x == V("x", 5)
    assert result.f.shape == (d(2), ONE)


def test_given_sizes_propagate_and_name_dims() -> None:
    result = read_derivative_input(
        r"\boldsymbol{I}_n \otimes \boldsymbol{A} + \boldsymbol{X}", BX, {"A": (2, 3), "X": (8, 12)}
    )
    assert result.f == Add((Kron(Identity(d(4)), M("A", 2, 3)), M("X", 8, 12)))
    assert result.dims == {"n": 4}


def test_greek_keys_with_or_without_backslash() -> None:
    for key in ("lambda", r"\lambda", r"\boldsymbol{\lambda}"):
        result = read_derivative_input(r"\lambda^{\top}\boldsymbol{x}", BXV, {key: (5, 1), "x": 5})
        assert result.symbols["lambda"] == Sym("lambda", "vector", d(5), ONE, "plain")


@pytest.mark.parametrize("key", ["W_1", "W_{1}", r"\boldsymbol{W}_1", r"\mathbf{W}_{1}"])
def test_shape_keys_as_written(key: str) -> None:
    result = read_derivative_input(r"\boldsymbol{W}_1\boldsymbol{X}", BX, {key: (2, 3)})
    assert result.symbols["W_1"] == M("W_1", 2, 3)


def test_shapes_for_absent_symbols_are_ignored() -> None:
    result = read_derivative_input(BX, BX, {"Q": (3, 3), "X": (2, 2)})
    assert result.x == M("X", 2, 2)


def test_plain_scalar_with_a_matrix_shape_becomes_a_matrix() -> None:
    result = read_derivative_input(r"a\boldsymbol{X}", BX, {"a": (2, 3)})
    assert result.symbols["a"] == Sym("a", "matrix", d(2), d(3), "plain")
    assert result.f.shape == (d(2), d("n"))


def test_mixed_product_of_kronecker_products() -> None:
    # (A ⊗ B)(C ⊗ D): the inner sizes match factor by factor
    f = r"(\boldsymbol{A} \otimes \boldsymbol{B})(\boldsymbol{C} \otimes \boldsymbol{X})"
    result = read_derivative_input(f, BX)
    a, b = M("A", "p", "q"), M("B", "r", "m")
    c, xx = M("C", "q", "s"), M("X", "m", "n")
    assert result.f == Mul((Kron(a, b), Kron(c, xx)))


# ---------------------------------------------------------------- read_expression


EXPRESSION_CASES = [
    (r"\boldsymbol{I}_{n} \otimes \boldsymbol{A} + \boldsymbol{B}", {"A": (4, 3), "B": (8, 6)},
     None, Add((Kron(Identity(d(2)), M("A", 4, 3)), M("B", 8, 6)))),
    (r"\boldsymbol{A} \otimes \boldsymbol{I}_{n}", {"A": (4, 3)}, {"n": 5}, Kron(M("A", 4, 3), Identity(d(5)))),
    (r"\boldsymbol{K}_{mn}\text{vec}(\boldsymbol{A})", {"A": (4, 3)}, {"m": 4, "n": 3},
     Mul((Commutation(d(4), d(3)), Vec(M("A", 4, 3))))),
    (r"\boldsymbol{K}_{3,4}", {}, None, Commutation(d(3), d(4))),
    (r"\boldsymbol{0}_{p \times q} + \boldsymbol{A}", {"A": (4, 3)}, None, Add((Zero(d(4), d(3)), M("A", 4, 3)))),
    (r"\boldsymbol{1}_{n}^{\top}\boldsymbol{x}", {"x": (4, 1)}, None, Mul((Transpose(Ones(d(4))), V("x", 4)))),
    (r"\boldsymbol{A} + \boldsymbol{I}", {"A": (3, 3)}, None, Add((M("A", 3, 3), Identity(d(3))))),
    (r"\boldsymbol{I}_{m \cdot n_1} + \boldsymbol{A}", {"A": (6, 6)}, {"m": 2},
     Add((Identity(d(6)), M("A", 6, 6)))),
    (r"\lambda\boldsymbol{A}", {"A": (2, 3)}, None, Mul((S("lambda"), M("A", 2, 3)))),
    (r"\lambda\boldsymbol{A}", {"A": (2, 3), "lambda": (1, 1)}, None, Mul((S("lambda"), M("A", 2, 3)))),
    (r"\lambda\boldsymbol{A}", {"A": (2, 3), "lambda": ()}, None, Mul((S("lambda"), M("A", 2, 3)))),
    (r"\boldsymbol{A}\boldsymbol{x}", {"A": (2, 3), "x": (3,)}, None, Mul((M("A", 2, 3), V("x", 3)))),
    (r"\operatorname{diag}(\text{vec}(\boldsymbol{A}))", {"A": (2, 3)}, None, Diag(Vec(M("A", 2, 3)))),
]


@pytest.mark.parametrize(("latex", "shapes", "dims", "expected"), EXPRESSION_CASES,
                         ids=[c[0] for c in EXPRESSION_CASES])
def test_read_expression_binds_sizes(latex: str, shapes: dict, dims: dict | None, expected: Node) -> None:
    assert read_expression(latex, shapes, dims) == expected


# ---------------------------------------------------------------- speed and imports


def test_typical_read_tokenizes_and_parses_each_input_once(monkeypatch) -> None:
    """Reading is one pass: F and X are each tokenized and parsed once (no re-reading, no
    backtracking over the tokens).  Its time is a figure of benchmarks/bench_derive.py ("reading F
    and X alone"), not asserted here: a timing bound is flaky on a loaded machine."""
    from matdiff_tex.expr import reader

    calls = {"tokenize": 0, "parse": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(reader, "tokenize", counted("tokenize", reader.tokenize))
    monkeypatch.setattr(reader, "parse_tokens", counted("parse", reader.parse_tokens))
    reader.forget_readings()
    f = r"\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X}) + \log\det\boldsymbol{X}"
    read_derivative_input(f, BX)
    assert calls == {"tokenize": 2, "parse": 2}


def test_a_repeated_reading_is_remembered_with_fresh_dictionaries() -> None:
    """The document layer reads a directive for its guessed readings, then derive() reads it: the
    second reading is the first one, and changing its dictionaries changes no later reading."""
    from matdiff_tex.expr import reader

    reader.forget_readings()
    f = r"\boldsymbol{A}\boldsymbol{X}"
    first = read_derivative_input(f, BX, {"A": (2, 3)})
    first.dims["injected"] = 1
    first.symbols.clear()
    second = read_derivative_input(f, BX, {"A": (2, 3)})
    assert second.f is first.f and "injected" not in second.dims and second.symbols
    other = read_derivative_input(f, BX, {"A": (4, 3)})  # other sizes: another reading
    assert other.f != first.f


def test_a_directive_is_read_once_per_document(monkeypatch) -> None:
    """Guessed readings and the derivation share one reading of each directive (they used to read
    every directive twice), also with symmetric= and functions=."""
    from matdiff_tex import render_text
    from matdiff_tex.expr import reader

    reads: list[str] = []
    original = reader._read_derivative_input

    def counting(f, *args, **kwargs):
        reads.append(f)
        return original(f, *args, **kwargs)

    monkeypatch.setattr(reader, "_read_derivative_input", counting)
    reader.forget_readings()
    note = ("\\deriv<\\operatorname{tr}(\\boldsymbol{A}\\boldsymbol{X})><\\boldsymbol{X}>\n\n"
            "\\deriv[symmetric={S}]<\\boldsymbol{x}^{\\top}\\boldsymbol{S}\\boldsymbol{x}><\\boldsymbol{x}>\n\n"
            "\\deriv[functions={\\ell: scalar}]<\\ell(\\boldsymbol{a}^{\\top}\\boldsymbol{x})><\\boldsymbol{x}>\n")
    render_text(note, "markdown", steps="none")
    assert len(reads) == 3, reads


def test_reader_does_not_import_sympy() -> None:
    code = (
        "import sys; from matdiff_tex.expr.reader import read_derivative_input as r; "
        "r(r'\\operatorname{tr}(\\boldsymbol{X})', r'\\boldsymbol{X}'); "
        "print('sympy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
