"""Scalar functions that also act element by element: their LaTeX, value and derivative.

Adding a function touches this table only: the reader looks up ``macros``, the writer
prints ``latex``, the checker and ``evaluate`` call ``numeric`` and the differential
rule builds ``derivative(u)`` (the element-wise derivative, same shape as ``u``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

from .nodes import Func, Hadamard, HadamardPower, Mul, Node, Num, Power, Zero


def _pow(u: Node, k: Fraction) -> Node:
    """``u^k`` for a scalar, ``u^{\\circ k}`` element by element otherwise."""
    return Power(u, k) if u.is_scalar else HadamardPower(u, k)


def _times(c: Fraction, u: Node) -> Node:
    return Mul((Num(c), u))


def _product(a: Node, b: Node) -> Node:
    return Mul((a, b)) if a.is_scalar else Hadamard(a, b)


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """One element-wise function."""

    name: str
    latex: str  # printed before the parenthesised argument
    numeric: Callable[[Any, Any], Any]  # (numpy module, value) -> value
    derivative: Callable[[Node], Node]
    macros: tuple[str, ...] = ()  # how authors write it (reader)


def _sigmoid(np: Any, u: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-u))


FUNCTIONS: dict[str, FunctionInfo] = {
    info.name: info
    for info in [
        FunctionInfo("exp", r"\exp", lambda np, u: np.exp(u), lambda u: Func("exp", u), (r"\exp",)),
        FunctionInfo("log", r"\log", lambda np, u: np.log(u), lambda u: _pow(u, Fraction(-1)), (r"\log",)),
        FunctionInfo("ln", r"\ln", lambda np, u: np.log(u), lambda u: _pow(u, Fraction(-1)), (r"\ln",)),
        FunctionInfo("sin", r"\sin", lambda np, u: np.sin(u), lambda u: Func("cos", u), (r"\sin",)),
        FunctionInfo("cos", r"\cos", lambda np, u: np.cos(u), lambda u: _times(Fraction(-1), Func("sin", u)), (r"\cos",)),
        FunctionInfo("tanh", r"\tanh", lambda np, u: np.tanh(u), lambda u: Func("sech2", u), (r"\tanh",)),
        FunctionInfo(
            "sech2",
            r"\operatorname{sech}^{2}",
            lambda np, u: 1.0 / np.cosh(u) ** 2,
            lambda u: _times(Fraction(-2), _product(Func("sech2", u), Func("tanh", u))),
        ),
        FunctionInfo("sigma", r"\sigma", _sigmoid, lambda u: Func("sigma_p", u), (r"\sigma",)),
        FunctionInfo(
            "sigma_p",
            r"\sigma'",
            lambda np, u: _sigmoid(np, u) * (1 - _sigmoid(np, u)),
            lambda u: Func("sigma_pp", u),
        ),
        FunctionInfo(
            "sigma_pp",
            r"\sigma''",
            lambda np, u: _sigmoid(np, u) * (1 - _sigmoid(np, u)) * (1 - 2 * _sigmoid(np, u)),
            lambda u: Func("sigma_ppp", u),
        ),
        FunctionInfo(
            "sigma_ppp",
            r"\sigma'''",
            lambda np, u: _sigmoid(np, u) * (1 - _sigmoid(np, u)) * (1 - 6 * _sigmoid(np, u) + 6 * _sigmoid(np, u) ** 2),
            lambda u: (_ for _ in ()).throw(NotImplementedError("fourth derivative of the logistic function")),
        ),
        FunctionInfo(
            "sign",
            r"\operatorname{sign}",
            lambda np, u: np.sign(np.real(u)),  # locally constant: its complex-step derivative is 0
            lambda u: Num(Fraction(0)) if u.is_scalar else Zero(u.rows, u.cols),
        ),
        FunctionInfo(
            "sqrt",
            r"\sqrt",
            lambda np, u: np.sqrt(u),
            lambda u: _times(Fraction(1, 2), _pow(u, Fraction(-1, 2))),
            (r"\sqrt",),
        ),
    ]
}

#: The reader's view: macro -> function name.
FUNCTION_MACROS: dict[str, str] = {macro: info.name for info in FUNCTIONS.values() for macro in info.macros}
