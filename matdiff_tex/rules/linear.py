"""From a differential to a derivative: the trace trick and vectorization.

A fully expanded differential is linear in ``dX``.  :func:`linear_terms` splits it
into terms holding ``dX`` exactly once.  Each term then becomes a
:class:`TermState` ``coeff * left * [rest]`` and is peeled one layer per line:

* scalar ``f`` (trace trick): ``[rest]`` is ``tr(left rest)`` and peeling moves
  everything around ``dX`` into ``left`` until ``df = tr(left dX)``;
* matrix ``F`` (vectorization): ``[rest]`` is ``left vec(rest)`` and peeling turns
  every layer around ``dX`` into a matrix factor until ``vec(dF) = left vec(dX)``.

The peel functions are registered rules; each returns the new state and its note.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ..errors import UnsupportedError
from ..expr.nodes import (
    Add,
    Colored,
    Commutation,
    Diag,
    Differential,
    Hadamard,
    Identity,
    Integral,
    Inverse,
    Kron,
    Mul,
    Node,
    Ones,
    Sym,
    Trace,
    Transpose,
    Vec,
)
from .build import add, has_differential, identity, mul, num, segments, transpose, transpose_chain, vec_of
from ..expr.writer import to_latex
from .registry import register


# ---------------------------------------------------------------- splitting into terms


def push_transpose(node: Node) -> Node:
    """(L D R)^T = R^T D^T L^T, pushed down to the differential."""
    if node.is_scalar:
        return node
    if isinstance(node, Mul):
        return transpose_chain(node.factors, lambda f: push_transpose(f) if has_differential(f) else transpose(f))
    if isinstance(node, Transpose):
        return node.arg
    if isinstance(node, Hadamard):
        return Hadamard(_push_side(node.left), _push_side(node.right))
    if isinstance(node, Kron):
        return Kron(_push_side(node.left), _push_side(node.right))
    if isinstance(node, Integral):
        return Integral(node.var, push_transpose(node.body))
    return transpose(node)


def _push_side(node: Node) -> Node:
    return push_transpose(node) if has_differential(node) else transpose(node)


def split_coefficient(term: Node) -> tuple[Node, Node]:
    """``c * rest`` with ``c`` the scalar factors (and 1x1 products) free of ``dX``."""
    if isinstance(term, Mul):
        parts = segments(term.factors)
        scalars = [mul(*seg) for seg in parts if not has_differential(mul(*seg)) and mul(*seg).is_scalar]
        others = [f for seg in parts if not (not has_differential(mul(*seg)) and mul(*seg).is_scalar) for f in seg]
        if others:
            return mul(*scalars) if scalars else num(1), mul(*others)
    return num(1), term


def linear_terms(node: Node) -> list[Node]:
    """The terms of a differential that is linear in dX, each holding dX once."""
    if not has_differential(node):
        return []
    if isinstance(node, Add):
        return [t for term in node.terms for t in linear_terms(term)]
    if isinstance(node, Mul):
        holders = [i for i, f in enumerate(node.factors) if has_differential(f)]
        if len(holders) != 1:
            raise UnsupportedError("the differential is not linear in dX")
        i = holders[0]
        before, after = node.factors[:i], node.factors[i + 1 :]
        return [mul(*before, t, *after) for t in linear_terms(node.factors[i])]
    if isinstance(node, Transpose):
        return [push_transpose(t) for t in linear_terms(node.arg)]
    if isinstance(node, (Hadamard, Kron)):
        left_holds = has_differential(node.left)
        inner, other = (node.left, node.right) if left_holds else (node.right, node.left)
        out = []
        for t in linear_terms(inner):
            c, rest = split_coefficient(t)
            pair = (rest, other) if left_holds else (other, rest)
            out.append(mul(c, type(node)(*pair)))
        return out
    if isinstance(node, (Trace, Vec, Diag)):
        out = []
        for t in linear_terms(node.arg):
            c, rest = split_coefficient(t)
            wrapped = rest if (isinstance(node, Trace) and rest.is_scalar) else type(node)(rest)
            out.append(mul(c, wrapped))
        return out
    if isinstance(node, Integral):
        return [Integral(node.var, t) for t in linear_terms(node.body)]
    if isinstance(node, Colored):
        return linear_terms(node.arg)
    if isinstance(node, Differential):
        return [node]
    raise UnsupportedError(f"not supported yet: cannot take {to_latex(node)} apart in a differential "
                           "(it must be linear in the differential of the variable)")


# ---------------------------------------------------------------- term states


@dataclass(frozen=True)
class TermState:
    """``coeff * left * [rest]`` inside ``integrals``; ``left=None`` means no factor yet."""

    coeff: Node
    left: Node | None
    rest: Node
    integrals: tuple[Sym, ...] = ()

    def done(self, x: Sym) -> bool:
        return isinstance(self.rest, Differential) and self.rest.arg.name == x.name  # type: ignore[attr-defined]

    def wrap(self, node: Node) -> Node:
        for var in reversed(self.integrals):
            node = Integral(var, node)
        return node


def initial_state(term: Node) -> TermState:
    """A term split into coefficient and the part holding dX."""
    integrals: list[Sym] = []
    while isinstance(term, Integral):
        integrals.append(term.var)
        term = term.body
    coeff, rest = split_coefficient(term)
    return TermState(coeff, None, rest, tuple(integrals))


Peel = Callable[[TermState, Sym], tuple[TermState, str]]


def _chain_parts(rest: Mul) -> tuple[list[Node], list[Node], Node, list[Node]]:
    """(scalars, before, factor holding dX, after) of the true matrix product holding dX.

    The chain's other 1x1 products are the ``scalars``.
    """
    parts = segments(rest.factors)
    held_seg = next(seg for seg in parts if any(has_differential(f) for f in seg))
    others = [mul(*seg) for seg in parts if seg is not held_seg]
    scalars = [o for o in others if o.is_scalar]
    matrices = [o for o in others if not o.is_scalar]
    i = next(i for i, f in enumerate(held_seg) if has_differential(f))
    if matrices:  # only the last segment can be a matrix: the held one is then 1x1
        return scalars, [], mul(*held_seg), matrices
    return scalars, held_seg[:i], held_seg[i], held_seg[i + 1 :]


# ---------------------------------------------------------------- trace trick (scalar f)


@register("trace", note="collect", example=(
    r"\boldsymbol{a}^{\top}\boldsymbol{X}\boldsymbol{c} - 2\boldsymbol{b}^{\top}\boldsymbol{A}\boldsymbol{X}\boldsymbol{c}",
    r"\boldsymbol{X}"))
def collect_like_terms(states: list[TermState], x: Sym) -> tuple[Node, tuple[Node, ...]] | None:
    """c_1 L_1 dX R + c_2 L_2 dX R = (c_1 L_1 + c_2 L_2) dX R

    The terms of a scalar differential that share what follows ``dX`` are collected before the
    trace trick, which then moves one term instead of each (seed 001 例5 writes
    ``-y^T (dW x - 1 p^T dW x)`` as ``(p - y)^T dW x``).  Returns the summed left factor
    ``c_1 L_1 + c_2 L_2`` (unsimplified) and the factors of R, or None when the terms do not all
    have that form."""
    if len(states) < 2:
        return None
    tail: tuple[Node, ...] | None = None
    lefts: list[Node] = []
    for state in states:
        if state.integrals or state.left is not None or not isinstance(state.rest, Mul):
            return None
        factors = state.rest.factors
        held = [i for i, f in enumerate(factors) if has_differential(f)]
        if len(held) != 1 or factors[held[0]] != Differential(x) or len(segments(factors)) != 1:
            return None
        before, after = factors[: held[0]], factors[held[0] + 1 :]
        if tail is None:
            tail = after
        elif after != tail:
            return None
        lefts.append(mul(state.coeff, *before) if before else mul(state.coeff, identity(x.rows, x.style)))
    return add(*lefts), tail  # type: ignore[return-value]



@register("trace", note="cyclic", example=(r"\boldsymbol{a}^{\top}\boldsymbol{X}\boldsymbol{b}", r"\boldsymbol{X}"))
def trace_cyclic(state: TermState, x: Sym) -> tuple[TermState, str]:
    """tr(P L dX R) = tr(R P L dX)"""
    scalars, before, held, after = _chain_parts(state.rest)  # type: ignore[arg-type]
    coeff = mul(state.coeff, *scalars)
    if held.is_scalar:
        outer = mul(*after, *([state.left] if state.left is not None else []), *before)
        factor = outer if outer.is_scalar else Trace(outer)
        return replace(state, coeff=mul(coeff, factor), left=None, rest=held), "trace_linearity"
    parts = [*after, *([state.left] if state.left is not None else []), *before]
    left = mul(*parts) if parts else None
    if left is not None and left.is_scalar:
        return replace(state, coeff=mul(coeff, left), left=None, rest=held), "cyclic"
    return replace(state, coeff=coeff, left=left, rest=held), "cyclic"


@register("trace", note="transpose_trace", example=(r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X}^{\top})", r"\boldsymbol{X}"))
def trace_transpose(state: TermState, x: Sym) -> tuple[TermState, str]:
    """tr(P dX^T) = tr(P^T dX)"""
    left = None if state.left is None else transpose(state.left)
    note = "transpose_scalar" if x.cols.is_one else "transpose_trace"
    return replace(state, left=left, rest=state.rest.arg), note  # type: ignore[attr-defined]


@register("trace", note="hadamard_trace", example=(r"\boldsymbol{1}^{\top}\exp(\boldsymbol{A}\boldsymbol{x})", r"\boldsymbol{x}"))
def trace_hadamard(state: TermState, x: Sym) -> tuple[TermState, str]:
    """tr(P (G ⊙ dX)) = tr((P^T ⊙ G)^T dX)"""
    node: Hadamard = state.rest  # type: ignore[assignment]
    held, other = (node.left, node.right) if has_differential(node.left) else (node.right, node.left)
    p = state.left if state.left is not None else Identity(held.cols, x.style)
    pt = transpose(p)
    left = transpose(other if isinstance(pt, Ones) else Hadamard(pt, other))  # 1 ⊙ G = G
    return replace(state, left=left, rest=held), "hadamard_trace"


@register("trace", note="trace_linearity", example=(r"\operatorname{tr}(\boldsymbol{X})^{2}", r"\boldsymbol{X}"))
def trace_of_trace(state: TermState, x: Sym) -> tuple[TermState, str]:
    """tr(P tr(dF)) = tr(P) tr(dF)"""
    coeff = state.coeff
    if state.left is not None:
        coeff = mul(coeff, state.left if state.left.is_scalar else Trace(state.left))
    return replace(state, coeff=coeff, left=None, rest=state.rest.arg), "trace_linearity"  # type: ignore[attr-defined]


@register("trace", note="trace_linearity")
def trace_integral(state: TermState, x: Sym) -> tuple[TermState, str]:
    """tr(P ∫ dF(s) ds) = ∫ tr(P dF(s)) ds"""
    node: Integral = state.rest  # type: ignore[assignment]
    return replace(state, rest=node.body, integrals=state.integrals + (node.var,)), "trace_linearity"


@register("trace", note="kron_trace", example=(r"\operatorname{tr}(\boldsymbol{A} \otimes \boldsymbol{X})", r"\boldsymbol{X}"))
def trace_kronecker(state: TermState, x: Sym) -> tuple[TermState, str]:
    """tr(G ⊗ dF) = tr(G) tr(dF)"""
    node: Kron = state.rest  # type: ignore[assignment]
    if state.left is not None:
        if node.left.cols.is_one and node.right.cols.is_one or node.left.rows.is_one and node.right.rows.is_one:
            return trace_kron_vectors(state, x)
        return trace_kron_mixed(state, x)
    held, other = (node.left, node.right) if has_differential(node.left) else (node.right, node.left)
    return replace(state, coeff=mul(state.coeff, Trace(other)), rest=held), "kron_trace"


def kron_factors(node: Node) -> tuple[list[Node], Node, Node] | None:
    """``node`` as ``c (P ⊗ Q)``: (scalars, P, Q) — a Kronecker product, its inverse or transpose, or a
    product of such whose sizes fit the mixed-product rule (A ⊗ B)(C ⊗ D) = AC ⊗ BD; else None."""
    if isinstance(node, Kron):
        return [], node.left, node.right
    if isinstance(node, Inverse) and isinstance(node.arg, Kron):  # (A ⊗ B)^{-1} = A^{-1} ⊗ B^{-1}
        return [], Inverse(node.arg.left), Inverse(node.arg.right)
    if isinstance(node, Transpose) and isinstance(node.arg, Kron):  # (A ⊗ B)^T = A^T ⊗ B^T
        return [], transpose(node.arg.left), transpose(node.arg.right)
    if not isinstance(node, Mul):
        return None
    scalars: list[Node] = []
    pair: tuple[Node, Node] | None = None
    for factor in node.factors:
        if factor.is_scalar:
            scalars.append(factor)
            continue
        found = kron_factors(factor)
        if found is None:
            return None
        scalars.extend(found[0])
        if pair is None:
            pair = found[1], found[2]
        elif pair[0].cols == found[1].rows and pair[1].cols == found[2].rows:
            pair = mul(pair[0], found[1]), mul(pair[1], found[2])
        else:
            return None
    return None if pair is None else (scalars, pair[0], pair[1])


@register("trace", note="kron_mixed", example=(r"\log\det(\boldsymbol{A} \otimes \boldsymbol{X})", r"\boldsymbol{X}"))
def trace_kron_mixed(state: TermState, x: Sym) -> tuple[TermState, str]:
    """tr((P ⊗ Q)(G ⊗ dF)) = tr(PG ⊗ Q dF) = tr(PG) tr(Q dF)"""
    from .simplify import simplify

    node: Kron = state.rest  # type: ignore[assignment]
    found = kron_factors(state.left) if state.left is not None else None
    if found is None or found[1].cols != node.left.rows or found[2].cols != node.right.rows:
        raise UnsupportedError(
            f"not supported yet: the trace trick cannot take the Kronecker product {to_latex(node)} apart after "
            f"{to_latex(state.left) if state.left is not None else ''}; supported inside a trace are a Kronecker "
            "product alone, one multiplied by Kronecker products of fitting sizes, and one of two vectors")
    scalars, p, q = found
    coeff = mul(state.coeff, *scalars)
    if has_differential(node.right):
        return replace(state, coeff=mul(coeff, simplify(Trace(mul(p, node.left)))), left=q, rest=node.right), "kron_mixed"
    return replace(state, coeff=mul(coeff, simplify(Trace(mul(q, node.right)))), left=p, rest=node.left), "kron_mixed"


@register("trace", note="kron_vectors", example=(r"(\boldsymbol{x} \otimes \boldsymbol{x})^{\top}\operatorname{vec}(\boldsymbol{A})", r"\boldsymbol{x}"))
def trace_kron_vectors(state: TermState, x: Sym) -> tuple[TermState, str]:
    """a ⊗ b = vec(b a^T) for column vectors a, b (and a^T ⊗ b^T = vec(b a^T)^T)"""
    node: Kron = state.rest  # type: ignore[assignment]
    if node.left.cols.is_one:
        return replace(state, rest=Vec(mul(node.right, transpose(node.left)))), "kron_vectors"
    return replace(state, rest=Transpose(Vec(mul(transpose(node.right), node.left)))), "kron_vectors"


def unvec(column: Node) -> Node | None:
    """M with ``column = vec(M)``: (A ⊗ B) vec(M) = vec(B M A^T), K vec(M) = vec(M^T); None otherwise."""
    if isinstance(column, Add):
        parts = [unvec(t) for t in column.terms]
        return None if any(p is None for p in parts) else add(*parts)  # type: ignore[arg-type]
    if isinstance(column, Transpose):  # a row written as a transpose: (vec(M)^T)^T
        return unvec(column.arg) if column.arg.rows.is_one else None
    factors = list(column.factors) if isinstance(column, Mul) else [column]
    scalars = [f for f in factors if f.is_scalar]
    chain = [f for f in factors if not f.is_scalar and not isinstance(f, Identity)]
    if not chain or not isinstance(chain[-1], Vec):
        return None
    m = chain[-1].arg
    for factor in reversed(chain[:-1]):
        if isinstance(factor, Transpose) and isinstance(factor.arg, Kron):
            factor = Kron(transpose(factor.arg.left), transpose(factor.arg.right))
        if isinstance(factor, Kron) and factor.left.cols == m.cols and factor.right.cols == m.rows:
            m = mul(factor.right, m, transpose(factor.left))
        elif isinstance(factor, Commutation) and factor.m == m.rows and factor.n == m.cols:
            m = transpose(m)
        else:
            return None
    return mul(*scalars, m)


def unvec_row(row: Node) -> Node | None:
    """M with ``row = vec(M)^T`` (see :func:`unvec`)."""
    if isinstance(row, Add):
        parts = [unvec_row(t) for t in row.terms]
        return None if any(p is None for p in parts) else add(*parts)  # type: ignore[arg-type]
    if isinstance(row, Mul):
        return unvec(mul(*(transpose(f) for f in reversed(row.factors))))
    return unvec(transpose(row))


@register("trace", note="vec_trace", example=(
    r"\operatorname{vec}(\boldsymbol{X})^{\top}(\boldsymbol{A}\otimes\boldsymbol{B})\operatorname{vec}(\boldsymbol{X})",
    r"\boldsymbol{X}"))
def trace_vec(state: TermState, x: Sym) -> tuple[TermState, str]:
    """vec(M)^T vec(dF) = tr(M^T dF), with (A ⊗ B)^T vec(M) = vec(B^T M A)"""
    node: Vec = state.rest  # type: ignore[assignment]
    if node.arg.cols.is_one:  # vec of a column vector is the vector itself
        return replace(state, rest=node.arg), "vec_of_vector"
    m = unvec_row(state.left) if state.left is not None else None
    if m is None:
        raise UnsupportedError(
            f"not supported yet: the trace trick cannot take {to_latex(node)} apart after "
            f"{to_latex(state.left) if state.left is not None else 'nothing'}; it can after "
            "\\operatorname{vec}(M)^{\\top} times Kronecker products and commutation matrices")
    return replace(state, left=transpose(m), rest=node.arg), "vec_trace"


@register("trace", note="hadamard_trace")
def trace_diag(state: TermState, x: Sym) -> tuple[TermState, str]:
    """tr(P diag(du)) = 1^T (I ⊙ P) du"""
    node: Diag = state.rest  # type: ignore[assignment]
    n = node.arg.rows
    ones = Transpose(Ones(n, x.style))
    left = ones if state.left is None else mul(ones, Hadamard(Identity(n, x.style), state.left))
    return replace(state, left=left, rest=node.arg), "hadamard_trace"


TRACE_PEELS: dict[type, Peel] = {
    Mul: trace_cyclic,
    Transpose: trace_transpose,
    Hadamard: trace_hadamard,
    Trace: trace_of_trace,
    Integral: trace_integral,
    Kron: trace_kronecker,
    Diag: trace_diag,
    Vec: trace_vec,
}


def peel_trace(state: TermState, x: Sym) -> tuple[TermState, str | None]:
    """One layer of the trace trick, or the state unchanged when it is done."""
    if state.done(x):
        return state, None
    peel = TRACE_PEELS.get(type(state.rest))
    if peel is None:
        raise UnsupportedError(f"not supported yet: the trace trick cannot move the differential out of "
                               f"{to_latex(state.rest)}")
    return peel(state, x)


def trace_display(state: TermState, x: Sym) -> Node:
    """``coeff tr(left rest)``; for a vector variable the 1x1 product itself."""
    if state.left is None:
        inner = state.rest
    else:
        inner = mul(state.left, state.rest)
        if x.cols.is_one and not inner.is_scalar:
            inner = mul(state.rest, state.left)
    shown = inner if (isinstance(inner, Trace) or (x.cols.is_one and inner.is_scalar)) else Trace(inner)
    return state.wrap(mul(state.coeff, shown))


def trace_gradient(state: TermState, x: Sym) -> Node:
    """The finished term's contribution ``coeff * left`` to the numerator-layout derivative."""
    left = state.left if state.left is not None else Identity(x.rows, x.style)
    return state.wrap(mul(state.coeff, left))


# ---------------------------------------------------------------- vectorization (matrix F)


@register("vectorize", note="expand_sandwich", example=(r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}", r"\boldsymbol{X}"))
def vec_sandwich(state: TermState, x: Sym) -> tuple[TermState, str]:
    """vec(L dX R) = (R^T ⊗ L) vec(dX)"""
    scalars, before, held, after = _chain_parts(state.rest)  # type: ignore[arg-type]
    coeff = mul(state.coeff, *scalars)
    if isinstance(held, Diag):
        k = next((k for k in range(1, len(after) + 1) if mul(*after[:k]).cols.is_one), None)
        if k is not None:
            rest = mul(*before, diag_times_vector(held, mul(*after[:k])), *after[k:])
            return replace(state, coeff=coeff, rest=rest), "diag_vector"
        # otherwise a sandwich around diag(du), opened by vec_diag below
    if held.is_scalar:
        constant = mul(*before, *after)
        left = _then(state.left, vec_of(constant))
        return replace(state, coeff=coeff, left=left, rest=held), "scalar_factor"
    lhs = mul(*before) if before else None
    rhs = mul(*after) if after else None
    if lhs is not None and lhs.is_scalar:
        coeff, lhs = mul(coeff, lhs), None
    if rhs is not None and rhs.is_scalar:
        coeff, rhs = mul(coeff, rhs), None
    if rhs is None and held.cols.is_one:
        kron = lhs if lhs is not None else identity(held.rows, x.style)
    else:
        kron = Kron(
            transpose(rhs) if rhs is not None else identity(held.cols, x.style),
            lhs if lhs is not None else identity(held.rows, x.style),
        )
    return replace(state, coeff=coeff, left=_then(state.left, kron), rest=held), "expand_sandwich"


@register("vectorize", note="diag_vector", example=(r"\operatorname{softmax}(\boldsymbol{x})", r"\boldsymbol{x}"))
def diag_times_vector(diag: Diag, vector: Node) -> Node:
    """diag(u) w = w ⊙ u"""
    return Hadamard(vector, diag.arg)


@register("vectorize", note="commutation", example=(r"\boldsymbol{X}^{\top}", r"\boldsymbol{X}"))
def vec_transpose(state: TermState, x: Sym) -> tuple[TermState, str]:
    """vec(dX^T) = K_{mn} vec(dX)"""
    inner = state.rest.arg  # type: ignore[attr-defined]
    k = Commutation(inner.rows, inner.cols, x.style)
    return replace(state, left=_then(state.left, k), rest=inner), "commutation"


@register("vectorize", note="hadamard_vec", example=(r"\boldsymbol{A} \odot \boldsymbol{X}", r"\boldsymbol{X}"))
def vec_hadamard(state: TermState, x: Sym) -> tuple[TermState, str]:
    """vec(G ⊙ dX) = diag(vec(G)) vec(dX)"""
    node: Hadamard = state.rest  # type: ignore[assignment]
    held, other = (node.left, node.right) if has_differential(node.left) else (node.right, node.left)
    return replace(state, left=_then(state.left, Diag(vec_of(other))), rest=held), "hadamard_vec"


@register("vectorize", note="kron_vec", example=(r"\boldsymbol{A} \otimes \boldsymbol{X}", r"\boldsymbol{X}"))
def vec_kronecker(state: TermState, x: Sym) -> tuple[TermState, str]:
    """vec(A ⊗ B) = (I_n ⊗ K_{qm} ⊗ I_p)(vec(A) ⊗ vec(B)),  A m×n, B p×q"""
    node: Kron = state.rest  # type: ignore[assignment]
    a, b = node.left, node.right
    (m, n), (p, q) = a.shape, b.shape
    shuffle = Kron(Kron(identity(n, x.style), Commutation(q, m, x.style)), identity(p, x.style))
    if has_differential(b):
        stack, held = Kron(Vec(a), identity(p * q, x.style)), b
    else:
        stack, held = Kron(identity(m * n, x.style), Vec(b)), a
    return replace(state, left=_then(state.left, mul(shuffle, stack)), rest=held), "kron_vec"


@register("vectorize", note="vec_linearity")
def vec_integral(state: TermState, x: Sym) -> tuple[TermState, str]:
    """vec(∫ dF(s) ds) = ∫ vec(dF(s)) ds"""
    node: Integral = state.rest  # type: ignore[assignment]
    return replace(state, rest=node.body, integrals=state.integrals + (node.var,)), "vec_linearity"


@register("vectorize", note="vectorize", example=(r"\operatorname{diag}(\boldsymbol{A}\boldsymbol{x})", r"\boldsymbol{x}"))
def vec_diag(state: TermState, x: Sym) -> tuple[TermState, str]:
    """vec(diag(du)) = diag(vec(I_n)) (1_n ⊗ I_n) du"""
    node: Diag = state.rest  # type: ignore[assignment]
    n = node.arg.rows
    spread = mul(Diag(Vec(Identity(n, x.style))), Kron(Ones(n, x.style), identity(n, x.style)))
    return replace(state, left=_then(state.left, spread), rest=node.arg), "vectorize"


@register("vectorize", note="vec_of_vector")
def vec_of_vec(state: TermState, x: Sym) -> tuple[TermState, str]:
    """vec(vec(dF)) = vec(dF)"""
    return replace(state, rest=state.rest.arg), "vec_of_vector"  # type: ignore[attr-defined]


@register("vectorize", note="trace_trick", example=(r"|\boldsymbol{X}|\boldsymbol{X}^{-1}", r"\boldsymbol{X}"))
def vec_scalar(state: TermState, x: Sym) -> tuple[TermState, str]:
    """vec(C tr(P dX)) = vec(C) vec(P^T)^T vec(dX)"""
    inner = initial_state(state.rest)
    while not inner.done(x):
        inner, _ = peel_trace(inner, x)
    gradient = trace_gradient(inner, x)
    row = gradient if x.cols.is_one else Transpose(Vec(transpose(gradient)))
    return replace(state, left=_then(state.left, row), rest=Differential(x)), "trace_trick"


def _then(left: Node | None, factor: Node) -> Node:
    return factor if left is None else mul(left, factor)


VEC_PEELS: dict[type, Peel] = {
    Mul: vec_sandwich,
    Transpose: vec_transpose,
    Hadamard: vec_hadamard,
    Kron: vec_kronecker,
    Integral: vec_integral,
    Vec: vec_of_vec,
    Diag: vec_diag,
}


def peel_vec(state: TermState, x: Sym) -> tuple[TermState, str | None]:
    """One layer of vectorization, or the state unchanged when it is done."""
    if state.done(x):
        return state, None
    if state.rest.is_scalar:
        return vec_scalar(state, x)
    peel = VEC_PEELS.get(type(state.rest))
    if peel is None:
        raise UnsupportedError(f"not supported yet: cannot vectorize {to_latex(state.rest)}")
    return peel(state, x)


def vec_display(state: TermState, x: Sym) -> Node:
    """``coeff left vec(rest)`` (a column vector's vec is itself)."""
    rest = state.rest if state.rest.cols.is_one else Vec(state.rest)
    return state.wrap(mul(state.coeff, *([state.left] if state.left is not None else []), rest))


def vec_derivative(state: TermState, x: Sym) -> Node:
    """The finished term's contribution ``coeff * left`` to d vec F / d (vec X)^T."""
    size = x.rows * x.cols
    left = state.left if state.left is not None else identity(size, x.style)
    return state.wrap(mul(state.coeff, left))
