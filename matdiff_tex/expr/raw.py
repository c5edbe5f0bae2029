"""The raw syntax tree: what F or X says, with source spans, before shapes are known.

:mod:`matdiff_tex.expr.parser` builds it, :mod:`matdiff_tex.expr.shapes` infers
the shape of every node, :mod:`matdiff_tex.expr.reader` turns it into the typed
nodes of :mod:`matdiff_tex.expr.nodes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterator, Literal

Kind = Literal["matrix", "vector", "scalar"]
Span = tuple[int, int]

#: A size written in a subscript: ``(coeff, names)`` as in ``3n``, ``mn``, ``m \cdot n_1``.
DimSpec = tuple[int, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class SymRef:
    """A symbol as written: its name, the kind its notation says, its style."""

    name: str
    kind: Kind
    style: str


@dataclass(slots=True, eq=False)
class Raw:
    """One node of the raw tree.

    ``op`` is one of: ``sym num ident zero ones comm mul add neg T inv invT pow hpow
    frac had kron tr det func softmax normsq expm epow vec diag int diff``.
    ``value`` holds what the op needs (a :class:`SymRef`, a Fraction, a style, a
    function name, sizes ...). ``grouped`` says whether the author wrapped the node in
    parentheses (``"paren"``) or braces (``"brace"``).
    """

    op: str
    kids: tuple["Raw", ...] = ()
    span: Span = (0, 0)
    value: Any = None
    grouped: str = ""
    shape: Any = field(default=None, repr=False)

    def walk(self) -> Iterator["Raw"]:
        yield self
        for kid in self.kids:
            yield from kid.walk()


def num(value: Fraction | int, span: Span) -> Raw:
    return Raw("num", (), span, Fraction(value))


def negate(node: Raw, span: Span) -> Raw:
    """``-node``: folded into a number or a leading coefficient when there is one."""
    if node.op == "num":
        return Raw("num", (), span, -node.value)
    if node.op == "mul" and not node.grouped and node.kids[0].op == "num" and not node.kids[0].grouped:
        first = node.kids[0]
        coeff = Raw("num", (), first.span, -first.value)
        return Raw("mul", (coeff, *node.kids[1:]), span, node.value)
    return Raw("neg", (node,), span)
