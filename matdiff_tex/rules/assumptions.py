"""Stated assumptions (``where={\\boldsymbol{1}^{\\top}\\boldsymbol{y} = 1}``): what they say and how they simplify.

Understood forms, about constants only (never the variable):

* ``\\boldsymbol{1}^{\\top}\\boldsymbol{y} = c`` (or ``\\boldsymbol{y}^{\\top}\\boldsymbol{1} = c``): the entries of y sum
  to c (one-hot or simplex labels); ``1^T y`` and ``y^T 1`` become c;
* ``\\boldsymbol{A}^{\\top} = \\boldsymbol{A}``: A is symmetric (as ``symmetric=A``);
* ``\\boldsymbol{Q}^{\\top}\\boldsymbol{Q} = \\boldsymbol{I}`` (orthonormal columns) and ``\\boldsymbol{Q}\\boldsymbol{Q}^{\\top} =
  \\boldsymbol{I}`` (orthonormal rows): the product becomes I wherever it stands in a product.

The checker draws points that satisfy them (:func:`matdiff_tex.check.numeric.using_assumptions`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnsupportedError
from ..expr.nodes import Identity, Mul, Node, Num, Ones, Sym, Transpose
from .build import identity, mul, transpose
from .registry import register


@dataclass(frozen=True)
class Assumption:
    """One understood assumption: ``kind`` is ``sum``, ``symmetric``, ``columns`` or ``rows``."""

    kind: str
    name: str
    lhs: Node
    rhs: Node
    value: float = 0.0


def classify(lhs: Node, rhs: Node, text: str, variable: str) -> Assumption:
    """What ``lhs = rhs`` says; UnsupportedError for anything else."""
    for a, b in ((lhs, rhs), (rhs, lhs)):
        found = _classify(a, b)
        if found is not None:
            if found.name == variable:
                raise UnsupportedError(f"where: {text} constrains the variable {variable}; only assumptions about "
                                       "constants are supported", field="F")
            return found
    raise UnsupportedError(
        f"where: cannot use {text}; understood are 1^T y = c, A^T = A, Q^T Q = I and Q Q^T = I", field="F")


def _classify(a: Node, b: Node) -> Assumption | None:
    if isinstance(a, Transpose) and isinstance(a.arg, Sym) and b == a.arg:
        return Assumption("symmetric", b.name, a, b)
    if isinstance(a, Mul) and len(a.factors) == 2 and isinstance(b, Num):
        first, second = a.factors
        if isinstance(first, Transpose) and isinstance(first.arg, Ones) and isinstance(second, Sym):
            return Assumption("sum", second.name, a, b, float(b.value))
        if isinstance(first, Transpose) and isinstance(first.arg, Sym) and isinstance(second, Ones):
            return Assumption("sum", first.arg.name, a, b, float(b.value))
    if isinstance(a, Mul) and len(a.factors) == 2 and isinstance(b, Identity):
        first, second = a.factors
        if isinstance(first, Transpose) and isinstance(first.arg, Sym) and first.arg == second:
            return Assumption("columns", second.name, a, identity(second.cols, b.style))
        if isinstance(second, Transpose) and isinstance(second.arg, Sym) and second.arg == first:
            return Assumption("rows", first.name, a, identity(first.rows, b.style))
    return None


@register("assumption", note="where")
def use_assumption(node: Node, assumption: Assumption) -> Node:
    """1^T y = c, Q^T Q = I: a stated product replaced by its value wherever it stands"""
    if assumption.kind == "symmetric":
        return node
    out = replace_subtree(node, assumption.lhs, assumption.rhs)
    flipped = transpose(assumption.lhs)
    if isinstance(flipped, Transpose) and isinstance(flipped.arg, Mul):  # (1^T y)^T = y^T 1
        flipped = mul(*(transpose(f) for f in reversed(flipped.arg.factors)))
    return replace_subtree(out, flipped, transpose(assumption.rhs)) if flipped != assumption.lhs else out


def replace_subtree(node: Node, old: Node, new: Node) -> Node:
    """``node`` with every subtree equal to ``old`` (and every run of factors equal to a product ``old``) replaced."""
    if node == old:
        return new
    kids = node.children()
    if kids:
        changed = [replace_subtree(kid, old, new) for kid in kids]
        if any(a is not b for a, b in zip(changed, kids)):
            node = node.with_children(changed)
    if isinstance(node, Mul) and isinstance(old, Mul):
        run, factors = len(old.factors), list(node.factors)
        for i in range(len(factors) - run + 1):
            if tuple(factors[i : i + run]) == old.factors:
                return mul(*factors[:i], new, *factors[i + run :])
    return node
