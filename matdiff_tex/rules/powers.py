"""Symbolic integer powers ``X^{n}`` (seed 000): their differential and the finite sums it brings.

An exponent is an integer expression (``n``, ``n-1-k``, ``2n+1``) kept in a canonical form:
symbols in alphabetical order with integer coefficients, then the constant.  The identities:

* ``d(X^n) = sum_{k=0}^{n-1} X^{n-1-k} (dX) X^k`` (the product rule over the n copies of X;
  an empty sum, 0, for n = 0);
* ``vec(sum_k A_k dX B_k) = sum_k (B_k^T ⊗ A_k) vec(dX)`` (the sandwich inside the sum);
* ``(X^k)^T = (X^T)^k``;
* ``tr(X^{n-1-k} dX X^k) = tr(X^{n-1} dX)`` (cyclic), and a sum of n equal terms is n times one.

Valid for integers n >= 0 (X^0 = I); the checks substitute n = 1, 2, 3, 5.
"""

from __future__ import annotations

from fractions import Fraction

from ..expr.nodes import (Add, Differential, Factorial, Frac, Infinity, Integral, Kron, Mul, Node, Num, Power, Sum, Sym,
                          SymbolicPower, Trace, Transpose)
from .build import is_zero, mul, num, transpose, zero_like
from .differential import D, differential_rule, fresh_scalar
from .registry import register

Linear = tuple[tuple[tuple[str, int], ...], int]


def linear_form(node: Node) -> Linear | None:
    """``node`` as (sorted (symbol, coefficient) pairs, constant), or None if it is not integer-linear."""
    coefficients: dict[str, int] = {}
    constant = 0

    def visit(n: Node, factor: int) -> bool:
        nonlocal constant
        if isinstance(n, Num) and n.value.denominator == 1:
            constant += factor * int(n.value)
            return True
        if isinstance(n, Sym) and n.is_scalar:
            coefficients[n.name] = coefficients.get(n.name, 0) + factor
            return True
        if isinstance(n, Add):
            return all(visit(t, factor) for t in n.terms)
        if isinstance(n, Mul):
            numbers = [f for f in n.factors if isinstance(f, Num)]
            rest = [f for f in n.factors if not isinstance(f, Num)]
            scale = Fraction(1)
            for f in numbers:
                scale *= f.value
            if scale.denominator != 1 or len(rest) > 1:
                return False
            return visit(rest[0], factor * int(scale)) if rest else visit(Num(scale), factor)
        return False

    if not visit(node, 1):
        return None
    return tuple(sorted((k, v) for k, v in coefficients.items() if v)), constant


def integer_node(form: Linear, symbols: dict[str, Sym]) -> Node:
    """The canonical node of a linear form: ``n - 1 - k``, ``2 n + 1``, ``0``."""
    terms, constant = form
    parts: list[Node] = [mul(num(c), symbols[name]) if c != 1 else symbols[name] for name, c in terms]
    if constant or not parts:
        parts.append(num(constant))
    if len(parts) == 1:
        return parts[0]
    # the index last: n - 1 - k reads as the seed writes it
    parts.sort(key=lambda p: (any(isinstance(s, Sym) and s.name in _INDEX_NAMES for s in p.walk()), ))
    return Add(tuple(parts))


_INDEX_NAMES = ("k", "j", "i", "l", "r")


def shifted(exponent: Node, delta: int, minus: Sym | None = None) -> Node:
    """``exponent + delta`` (``- minus`` when given), in canonical form."""
    form = linear_form(exponent)
    assert form is not None, "symbolic exponents are integer-linear (the reader makes sure)"
    terms, constant = dict(form[0]), form[1] + delta
    symbols = {n.name: n for n in exponent.walk() if isinstance(n, Sym)}
    if minus is not None:
        terms[minus.name] = terms.get(minus.name, 0) - 1
        symbols[minus.name] = minus
    return integer_node((tuple(sorted((k, v) for k, v in terms.items() if v)), constant), symbols)


def power(base: Node, exponent: Node) -> Node:
    """``base^{exponent}`` as written: a number exponent stays a number (``X^{0}``, ``X^{1}``)."""
    form = linear_form(exponent)
    if form is not None and not form[0]:
        return Power(base, Fraction(form[1]))
    return SymbolicPower(base, exponent)


def fresh_index(node: Node) -> Sym:
    """A summation index named like no symbol of ``node`` (``k`` first)."""
    return fresh_scalar(node, frozenset(), _INDEX_NAMES)


def upto(exponent: Node, index: Sym, body: Node) -> Sum:
    """``sum_{index=0}^{exponent-1} body``."""
    return Sum(index, num(0), shifted(exponent, -1), body)


@differential_rule(SymbolicPower, note="product_rule", example=(r"\boldsymbol{X}^{n}", r"\boldsymbol{X}"))
def d_symbolic_power(node: SymbolicPower, d: D) -> Node:
    """d(X^n) = Σ_{k=0}^{n-1} X^{n-1-k} (dX) X^k;  d(u^n) = n u^{n-1} du"""
    inner = d(node.arg)
    if is_zero(inner):
        return zero_like(node)
    if node.arg.is_scalar:
        return mul(node.exponent, power(node.arg, shifted(node.exponent, -1)), inner)
    k = fresh_index(node)
    return upto(node.exponent, k, mul(power(node.arg, shifted(node.exponent, -1, minus=k)), inner,
                                       power(node.arg, k)))


@register("vectorize", note="expand_sandwich", example=None)
def sandwich_term(left: Node, right: Node) -> Node:
    """vec(A dX B) = (B^T ⊗ A) vec(dX), term by term inside Σ_k"""
    return Kron(Transpose(right), left)


@register("simplify", note="power_transpose", example=None)
def transpose_of_power(node: Node) -> Node:
    """(X^k)^T = (X^T)^k"""
    if isinstance(node, Transpose) and isinstance(node.arg, SymbolicPower):
        return SymbolicPower(Transpose(node.arg.arg), node.arg.exponent)
    return node


def transposed(node: Node) -> Node:
    """node^T with the transpose pushed onto the factors of a product: (A X^k)^T = (X^T)^k A^T."""
    factors = list(node.factors) if isinstance(node, Mul) else [node]
    return mul(*(transpose_of_power(transpose(f)) for f in reversed(factors)))


@register("trace", note="cyclic", example=None)
def cyclic_power(left_exponent: Node, right_exponent: Node) -> Node:
    """tr(X^{a} dX X^{b}) = tr(X^{a+b} dX): the exponents add"""
    a, b = linear_form(left_exponent), linear_form(right_exponent)
    assert a is not None and b is not None
    terms = dict(a[0])
    for name, c in b[0]:
        terms[name] = terms.get(name, 0) + c
    symbols = {n.name: n for e in (left_exponent, right_exponent) for n in e.walk() if isinstance(n, Sym)}
    return integer_node((tuple(sorted((k, v) for k, v in terms.items() if v)), a[1] + b[1]), symbols)


@register("trace", note="sum_constant", example=None)
def sum_of_constant(node: Sum) -> Node | None:
    """Σ_{k=a}^{b} T = (b - a + 1) T when T does not mention k"""
    if any(isinstance(n, Sym) and n.name == node.var.name for n in node.body.walk()):
        return None
    count = shifted(node.upper, 1 - _constant(node.lower))
    return mul(count, node.body)


def _constant(node: Node) -> int:
    form = linear_form(node)
    assert form is not None and not form[0], "sums start at a number"
    return form[1]


# ---------------------------------------------------------------- the exponential as a power series


def inverse_factorial(*args: Node) -> Node:
    """``1/(a! b! ...)``."""
    facts = [Factorial(a) for a in args]
    return Frac(num(1), facts[0] if len(facts) == 1 else Mul(tuple(facts)))


@register("differential", note="expm_series", example=None)
def exponential_series(x: Node, n: Sym) -> Sum:
    """e^{X} = Σ_{n=0}^{∞} X^n / n! (n!, where seed 000 misprints (n+1)!)"""
    return Sum(n, num(0), Infinity(), mul(inverse_factorial(n), SymbolicPower(x, n)))


def series_rows(x: Node, dx: Node, taken: Node) -> list[tuple[Node, str]]:
    """Seed 000's derivation of d e^{X} from the power series, each row with its note key:
    Σ_n d(X^n)/n!, re-indexed to Σ_p Σ_q X^p dX X^q/(p+q+1)!, the Beta integral, the sums
    taken inside the integral, ∫_0^1 e^{sX} dX e^{(1-s)X} ds."""
    n, k, p, q, s = (fresh_scalar(taken, frozenset(), (name,)) for name in "nkpqs")
    one_minus_s = Add((num(1), mul(num(-1), s)))
    rows: list[tuple[Node, str]] = [(Differential(exponential_series(x, n)), "expm_series")]
    inner = mul(inverse_factorial(n), power(x, k), dx, power(x, shifted(n, -1, minus=k)))
    rows.append((Sum(n, num(1), Infinity(), upto(n, k, inner)), "series_term"))
    pq = shifted(Add((p, q)), 1)
    rows.append((Sum(p, num(0), Infinity(), Sum(q, num(0), Infinity(), mul(inverse_factorial(pq), power(x, p), dx,
                                                                             power(x, q)))), "reindex"))
    beta = Integral(s, mul(SymbolicPower(s, p), SymbolicPower(one_minus_s, q)))
    rows.append((Sum(p, num(0), Infinity(), Sum(q, num(0), Infinity(), mul(inverse_factorial(p, q), beta,
                                                                             power(x, p), dx, power(x, q)))),
                 "beta_integral"))
    left = Sum(p, num(0), Infinity(), mul(inverse_factorial(p), SymbolicPower(mul(s, x), p)))
    right = Sum(q, num(0), Infinity(), mul(inverse_factorial(q), SymbolicPower(mul(one_minus_s, x), q)))
    rows.append((Integral(s, mul(left, dx, right)), "swap_sum_integral"))
    return rows

