"""Symmetric matrices (``symmetric=X``): transposes that vanish, and the symmetric gradient.

Convention (stated in every derivation that uses it and in the README): for a scalar f of a
symmetric X the derivative is the gradient in the space of symmetric matrices with the trace
inner product, ``G_s = (G + G^T) / 2`` where G is the gradient of f written as a function of an
unconstrained X; it is the unique symmetric matrix with ``df = tr(G_s^T dX)`` for every symmetric
dX.  The often-quoted ``G + G^T - diag(G)`` is the vector of partial derivatives by the free
entries ``x_ij`` (i >= j), not a gradient for that inner product: with it, ``tr(G^T dX)`` counts
every off-diagonal change twice.  For vector or matrix F the Jacobian is restricted the same way:
``d vec F / d (vec X)^T`` times the projection ``(I + K_{nn}) / 2`` onto symmetric directions.
With ``vech=true`` the derivative is by the free entries ``vech(X)`` instead: ``J D_n`` with the
duplication matrix (``vec(X) = D_n vech(X)``); for a scalar f that is ``D_n^T vec(G)``, the
partial derivatives by x_ij (i >= j) that ``G + G^T - diag(G)`` lists.
"""

from __future__ import annotations

from fractions import Fraction
from typing import AbstractSet

from ..expr.nodes import (
    Add,
    Commutation,
    Duplication,
    Expm,
    Hadamard,
    Identity,
    Inverse,
    Mul,
    Node,
    Num,
    Power,
    Sym,
    Transpose,
    Vec,
    Zero,
)
from .build import add, mul, transpose
from .registry import register


def is_symmetric(node: Node, names: AbstractSet[str]) -> bool:
    """Whether ``node`` is symmetric because the symbols in ``names`` are (structurally, never numerically)."""
    if node.is_scalar:
        return True
    if isinstance(node, Sym):
        return node.name in names and node.is_square
    if isinstance(node, Identity):
        return True
    if isinstance(node, Commutation):
        return node.m == node.n
    if isinstance(node, Zero):
        return node.is_square
    if isinstance(node, (Inverse, Power, Expm, Transpose)):
        return is_symmetric(node.arg, names)
    if isinstance(node, Add):
        return all(is_symmetric(t, names) for t in node.terms)
    if isinstance(node, Hadamard):
        return is_symmetric(node.left, names) and is_symmetric(node.right, names)
    if isinstance(node, Mul):
        matrices = [f for f in node.factors if not f.is_scalar]
        return len(matrices) == 1 and is_symmetric(matrices[0], names) or _palindrome(matrices, names)
    return False


def _palindrome(factors: list[Node], names: AbstractSet[str]) -> bool:
    """``B^T S B`` (a congruence of a symmetric S): the factors read backwards are their transposes."""
    n = len(factors)
    if n < 2:
        return False
    for i in range(n // 2):
        if transpose(factors[i]) != factors[n - 1 - i] and not (
            is_symmetric(factors[i], names) and factors[i] == factors[n - 1 - i]
        ):
            return False
    return n % 2 == 0 or is_symmetric(factors[n // 2], names)


@register("symmetric", note="symmetric_values")
def drop_symmetric_transposes(node: Node, names: AbstractSet[str]) -> Node:
    """S^T = S, (S^{-1})^T = S^{-1}, (B^T S B)^T = B^T S B for symmetric S"""
    kids = node.children()
    if kids:
        new = [drop_symmetric_transposes(kid, names) for kid in kids]
        if any(a is not b for a, b in zip(new, kids)):
            node = node.with_children(new)
    if isinstance(node, Transpose) and is_symmetric(node.arg, names):
        return node.arg
    return node


def distribute_number(node: Node) -> Node:
    """c (A + B) = cA + cB for a number c (so that 1/2 (2A + 2B) reads A + B)"""
    if isinstance(node, Mul) and len(node.factors) == 2 and isinstance(node.factors[0], Num) \
            and isinstance(node.factors[1], Add):
        return add(*(mul(node.factors[0], term) for term in node.factors[1].terms))
    return node


@register("symmetric", note="symmetric_gradient")
def symmetric_part(gradient: Node, transposed: Node | None = None) -> Node:
    """G_s = (G + G^T) / 2: the gradient in the space of symmetric matrices"""
    return mul(Num(Fraction(1, 2)), add(gradient, transposed if transposed is not None else transpose(gradient)))


@register("symmetric", note="symmetric_jacobian")
def restrict_to_symmetric(jacobian: Node, x: Sym) -> Node:
    """J_s = J (I + K_{nn}) / 2: the Jacobian along symmetric directions (numerator layout)"""
    n = x.rows
    return mul(Num(Fraction(1, 2)), jacobian, add(Identity(n * n, x.style), Commutation(n, n, x.style)))


@register("symmetric", note="vech_jacobian")
def by_vech(jacobian: Node, x: Sym) -> Node:
    """d vec F / d vech(X)^T = J D_n, since vec(dX) = D_n vech(dX) for a symmetric X (numerator layout)"""
    return mul(jacobian, Duplication(x.rows, x.style))


def gradient_row(gradient: Node) -> Node:
    """vec(G)^T: a scalar's derivative by vec(X) (numerator layout) from its gradient G."""
    return transpose(Vec(gradient))


@register("symmetric", note="vech_hessian")
def hessian_by_vech(hessian: Node, x: Sym) -> Node:
    """d^2 f / d vech(X) d vech(X)^T = D_n^T H D_n"""
    d = Duplication(x.rows, x.style)
    return mul(transpose(d), hessian, d)


def absorb_projection(node: Node) -> Node:
    """(I + K_{nn}) D_n = 2 D_n and D_n^T (I + K_{nn}) = 2 D_n^T: K D_n = D_n, as D_n's columns are symmetric"""
    kids = node.children()
    if kids:
        new = [absorb_projection(kid) for kid in kids]
        if any(a is not b for a, b in zip(new, kids)):
            node = node.with_children(new)
    if not isinstance(node, Mul):
        return node
    factors = list(node.factors)
    for i in range(len(factors) - 1):
        a, b = factors[i], factors[i + 1]
        if _is_i_plus_k(a) and isinstance(b, Duplication) and a.rows == b.rows:
            return absorb_projection(mul(*factors[:i], Num(Fraction(2)), b, *factors[i + 2 :]))
        if isinstance(a, Transpose) and isinstance(a.arg, Duplication) and _is_i_plus_k(b) and a.cols == b.rows:
            return absorb_projection(mul(*factors[:i], Num(Fraction(2)), a, *factors[i + 2 :]))
    return node


def _is_i_plus_k(node: Node) -> bool:
    return isinstance(node, Add) and len(node.terms) == 2 and \
        {type(t) for t in node.terms} == {Identity, Commutation} and \
        all(not isinstance(t, Commutation) or t.m == t.n for t in node.terms)
