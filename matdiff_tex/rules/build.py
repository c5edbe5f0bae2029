"""Smart constructors: build nodes with the obvious clean-ups done at once.

``mul`` flattens nested products and folds numbers, ``add`` flattens sums and drops
zeros, ``transpose`` removes double transposes.  Nothing here changes the value of
an expression; the heavier rewriting lives in :mod:`matdiff_tex.rules.simplify`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Iterable

from ..errors import ShapeError
from ..expr.dims import ONE, SCALAR, Dim
from ..expr.nodes import (
    Add,
    Commutation,
    Differential,
    Identity,
    Mul,
    Node,
    Num,
    Sym,
    Transpose,
    Zero,
    product_shape,
)

def num(value: int | Fraction) -> Num:
    return Num(Fraction(value))


def is_zero(node: Node) -> bool:
    return isinstance(node, Zero) or (isinstance(node, Num) and node.value == 0)


def is_all_ones(node: Node) -> bool:
    """``1_m 1_n^T``: the all-ones matrix."""
    from ..expr.nodes import Ones

    return (
        isinstance(node, Mul)
        and len(node.factors) == 2
        and isinstance(node.factors[0], Ones)
        and isinstance(node.factors[1], Transpose)
        and isinstance(node.factors[1].arg, Ones)
    )


def zero_like(node: Node, style: str = "boldsymbol") -> Node:
    """A zero of ``node``'s shape (the number 0 for a scalar)."""
    if node.is_scalar:
        return num(0)
    return Zero(node.rows, node.cols, style)


def depends_on(node: Node, x: Sym) -> bool:
    """Whether ``node`` mentions the variable ``x``."""
    return any(isinstance(n, Sym) and n.name == x.name for n in node.walk())


def has_differential(node: Node) -> bool:
    return any(isinstance(n, Differential) for n in node.walk())


def mul(*factors: Node) -> Node:
    """The product of ``factors``: nested products flattened, numbers folded to the front."""
    flat: list[Node] = []
    coeff = Fraction(1)
    for part in _splice(factors):
        if isinstance(part, Num):
            coeff *= part.value
        else:
            flat.append(part)
    if coeff == 0:
        shape = product_shape([f.shape for f in flat]) if flat else (ONE, ONE)
        return num(0) if shape == (ONE, ONE) else Zero(*shape, style=bold_style(flat))
    if any(isinstance(f, Zero) for f in flat):
        shape = product_shape([f.shape for f in flat])
        return num(0) if shape == (ONE, ONE) else Zero(*shape, style=bold_style(flat))
    if coeff != 1 or not flat:
        flat.insert(0, num(coeff))
    if len(flat) == 1:
        return flat[0]
    return Mul(tuple(flat))


def _splice(factors: tuple[Node, ...]) -> list[Node]:
    """The factors of nested products spliced into one chain.

    A 1x1 run of vectors and matrices (``a^T A b`` in ``(a^T A b) X``) acts as a scalar;
    spliced into the chain around it, its first factor would be multiplied as a matrix by
    its neighbour (``X^T a^T A b`` is not a product).  When the plain splice is not a
    matrix chain, such runs are kept whole as one scalar factor.
    """
    flat = [part for f in factors for part in (f.factors if isinstance(f, Mul) else (f,))]
    try:
        product_shape([f.shape for f in flat])
        return flat
    except ShapeError:
        pass
    out: list[Node] = []
    for factor in factors:
        if not isinstance(factor, Mul):
            out.append(factor)
        elif factor.is_scalar:
            out.extend(factor.factors if all(part.is_scalar for part in factor.factors) else (factor,))
        else:
            for seg in segments(factor.factors):
                if len(seg) > 1 and product_shape([f.shape for f in seg]) == SCALAR:
                    out.append(Mul(tuple(seg)))
                else:
                    out.extend(seg)
    return out


def neg(node: Node) -> Node:
    return mul(num(-1), node)


def add(*terms: Node) -> Node:
    """The sum of ``terms`` with nested sums flattened and zeros dropped."""
    flat: list[Node] = []
    for term in terms:
        for part in term.terms if isinstance(term, Add) else (term,):
            if not is_zero(part):
                flat.append(part)
    if not flat:
        return terms[0] if terms else num(0)
    if len(flat) == 1:
        return flat[0]
    return Add(tuple(flat))


def transpose(node: Node) -> Node:
    """``node^T`` without double transposes, transposed identities or transposed scalars."""
    if isinstance(node, Transpose):
        return node.arg
    if node.is_scalar or isinstance(node, Identity):
        return node
    if isinstance(node, Zero):
        return Zero(node.ncols, node.nrows, node.style)
    if isinstance(node, Commutation):
        return Commutation(node.n, node.m, node.style)
    return Transpose(node)


def vec_of(node: Node) -> Node:
    """vec(A); a column vector is its own vec."""
    from ..expr.nodes import Vec

    return node if node.cols.is_one else Vec(node)


def identity(n: Dim, style: str) -> Node:
    """``I_n``; the number 1 when n = 1."""
    return num(1) if n.is_one else Identity(n, style)


def bold_style(nodes: Iterable[Node]) -> str:
    """The bold macro of the first styled symbol or constant in ``nodes`` (for new I, 0, 1)."""
    for node in nodes:
        for part in node.walk():
            style = getattr(part, "style", None)
            if style in ("boldsymbol", "mathbf", "bm"):
                return style
    return "boldsymbol"


def segments(factors: tuple[Node, ...] | list[Node]) -> list[list[Node]]:
    """Split a juxtaposition chain into its true matrix products.

    ``x^T dw x`` is ``(x^T dw) x``: a 1x1 product followed by a factor it cannot
    multiply as a matrix acts as a scalar (the rule of ``nodes.product_shape``).
    """
    out: list[list[Node]] = []
    current: list[Node] = []
    shape = None
    for factor in factors:
        if factor.is_scalar:
            out.append([factor])
            continue
        if current and shape == SCALAR and not factor.rows.is_one:
            out.append(current)
            current, shape = [], None
        current.append(factor)
        shape = factor.shape if shape is None or shape == SCALAR else (shape[0], factor.cols)
    if current:
        out.append(current)
    return out


def transpose_chain(factors: tuple[Node, ...] | list[Node], tr: Callable[[Node], Node] = None) -> Node:  # type: ignore[assignment]
    """(s M_1 ... M_k)^T = s M_k^T ... M_1^T: 1x1 blocks of the chain are scalars and stay."""
    tr = tr or transpose
    parts = segments(factors)
    scalars = [f for seg in parts if mul(*seg).is_scalar for f in seg] if len(parts) > 1 else []
    matrix = [seg for seg in parts if not (len(parts) > 1 and mul(*seg).is_scalar)]
    chain = [f for seg in matrix for f in seg]
    if len(parts) == 1 and mul(*chain).is_scalar:
        return mul(*(tr(f) for f in reversed(chain)))
    return mul(*scalars, *(tr(f) for f in reversed(chain)))


def map_children(node: Node, fn: Callable[[Node], Node]) -> Node:
    """``node`` with ``fn`` applied to each child (the same object when nothing changed)."""
    kids = node.children()
    if not kids:
        return node
    new = [fn(k) for k in kids]
    if all(a is b for a, b in zip(new, kids)):
        return node
    if isinstance(node, Mul):
        return mul(*new)
    if isinstance(node, Add):
        return add(*new)
    return node.with_children(new)
