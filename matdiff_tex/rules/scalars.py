"""Scalar coefficients simplified by sympy.

A derivative's scalar factors (``\\frac{e^u}{1+e^u} - e^{2u}(1+e^u)^{-2}`` from a
Hessian, say) are handed to sympy with every matrix-valued piece (``x^T w``, ``|X|``,
``tr(AX)``) standing as an opaque symbol; sympy's ``cancel`` and ``factor`` give the
simpler form, which is used only when it is shorter.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..expr.nodes import Add, Func, Mul, Node, Num, Power
from .build import add, map_children, mul, num
from .registry import register

_SYMPY_FUNCS = ("exp", "log", "sin", "cos", "tanh")


def _is_arith(node: Node) -> bool:
    if isinstance(node, (Add, Num)):
        return True
    if isinstance(node, Mul):
        return all(f.is_scalar for f in node.factors)
    if isinstance(node, Power):
        return node.arg.is_scalar
    if isinstance(node, Func):
        return node.name in _SYMPY_FUNCS and node.arg.is_scalar
    return False


def _to_sympy(node: Node, atoms: dict[Node, Any], sp: Any) -> Any:
    if isinstance(node, Num):
        return sp.Rational(node.value.numerator, node.value.denominator)
    if isinstance(node, Add) and node.is_scalar:
        return sp.Add(*(_to_sympy(t, atoms, sp) for t in node.terms))
    if _is_arith(node) and isinstance(node, Mul):
        return sp.Mul(*(_to_sympy(f, atoms, sp) for f in node.factors))
    if _is_arith(node) and isinstance(node, Power):
        k = node.exponent
        return sp.Pow(_to_sympy(node.arg, atoms, sp), sp.Rational(k.numerator, k.denominator))
    if _is_arith(node) and isinstance(node, Func):
        return getattr(sp, node.name)(_to_sympy(node.arg, atoms, sp))
    if node not in atoms:
        atoms[node] = sp.Symbol(f"a{len(atoms)}")
    return atoms[node]


def _from_sympy(expr: Any, back: dict[Any, Node], sp: Any) -> Node:
    if expr in back:
        return back[expr]
    if expr.is_Rational:
        return num(Fraction(int(expr.p), int(expr.q)))
    if expr.is_Add:
        return add(*(_from_sympy(a, back, sp) for a in expr.args))
    if expr.is_Mul:
        return mul(*(_from_sympy(a, back, sp) for a in expr.args))
    if expr.is_Pow:
        base, k = expr.args
        if isinstance(base, sp.exp):
            return Func("exp", _from_sympy(sp.Mul(k, base.args[0]), back, sp))
        return Power(_from_sympy(base, back, sp), Fraction(int(k.p), int(k.q)))
    for name in _SYMPY_FUNCS:
        if isinstance(expr, getattr(sp, name)):
            return Func(name, _from_sympy(expr.args[0], back, sp))
    raise ValueError(f"cannot read back {expr!r}")


def _size(node: Node) -> int:
    return sum(1 for _ in node.walk())


@register("simplify", note="simplify")
def simplify_scalar(node: Node) -> Node:
    """Scalar coefficients: cancel and factor with sympy (matrix pieces stay opaque)"""
    if not (node.is_scalar and isinstance(node, Add)):
        return node
    import sympy as sp

    atoms: dict[Node, Any] = {}
    expr = _to_sympy(node, atoms, sp)
    candidate = sp.factor(sp.cancel(sp.together(expr)))
    back = {symbol: atom for atom, symbol in atoms.items()}
    try:
        rebuilt = _from_sympy(candidate, back, sp)
    except (ValueError, TypeError):
        return node
    return rebuilt if _size(rebuilt) < _size(node) else node


def simplify_scalars(node: Node) -> Node:
    """Apply :func:`simplify_scalar` to every maximal scalar sum inside ``node``."""
    if node.is_scalar and isinstance(node, Add):
        return simplify_scalar(node)
    return map_children(node, simplify_scalars)
