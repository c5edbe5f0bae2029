"""Final simplification of a derivative: small value-preserving rewrites run to a fixpoint.

Each rule is a function ``node -> node | None`` (None: does not apply) registered
under the ``simplify`` family; :func:`simplify` applies them bottom-up until nothing
changes.  They give the last line of a derivation its tidy form: ``I^T = I``,
``(A^T)^T = A``, transposes pushed onto symbols, identities dropped from products,
numbers folded, like terms collected and common factors pulled out of sums.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

from ..expr.nodes import (
    Add,
    Commutation,
    Diag,
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
    Num,
    Ones,
    Power,
    Trace,
    Transpose,
    Vec,
    Zero,
    product_shape,
)
from .elementwise import is_elementwise
from .build import add, bold_style, is_all_ones, depends_on, identity, is_zero, mul, num, segments, transpose, transpose_chain, zero_like
from .registry import register

Rewrite = Callable[[Node], "Node | None"]
SIMPLIFIERS: list[Rewrite] = []


def simplifier(example: tuple[str, str] | None = None):
    def decorate(func: Rewrite) -> Rewrite:
        SIMPLIFIERS.append(func)
        return register("simplify", name=func.__name__, note="simplify", example=example)(func)

    return decorate


# ---------------------------------------------------------------- transposes


_ELEMENTWISE_T = (Func, HadamardPower)


def is_symmetric(node: Node) -> bool:
    """Whether ``node`` equals its transpose by its structure (X^T X, A + A^T, diag(u), S^{-1} ...)."""
    if node.is_scalar or isinstance(node, (Identity, Diag)):
        return True
    if not node.is_square:
        return False
    if isinstance(node, (Inverse, Power, Expm, Func, HadamardPower)):
        return is_symmetric(node.arg)
    if isinstance(node, (Hadamard, Kron)):
        return is_symmetric(node.left) and is_symmetric(node.right)
    if isinstance(node, Add):
        terms = list(node.terms)
        for t in (transpose(t) for t in node.terms):
            if t in terms:
                terms.remove(t)
            else:
                return False
        return True
    if isinstance(node, Mul):
        chain = [f for f in node.factors if not f.is_scalar]
        if len(segments(chain)) != 1:  # 1x1 blocks inside: leave it alone
            return False
        mirrored = zip(chain, reversed(chain))
        return all(transpose(g) == f or (g == f and is_symmetric(f)) for f, g in mirrored)
    return False


@simplifier(example=(r"(\boldsymbol{A}\boldsymbol{X})^{\top}\boldsymbol{B}", r"\boldsymbol{X}"))
def push_transposes(node: Node) -> Node | None:
    """S^T = S for symmetric S, (AB)^T = B^T A^T, (A + B)^T = A^T + B^T, (A ⊗ B)^T = A^T ⊗ B^T, (A^T)^T = A"""
    if not isinstance(node, Transpose):
        return None
    arg = node.arg
    if not arg.rows.is_one and (is_elementwise(arg) or (arg.cols.is_one and isinstance(arg, Add))):
        return None  # (σ(Xw) - y)^T stays: row_sum_as_transpose and the element-wise rule write it so
    if is_symmetric(arg) and not isinstance(arg, Add):  # (A^T + A)^T still reads A + A^T
        return arg
    if isinstance(arg, Transpose):
        return arg.arg
    if arg.is_scalar or isinstance(arg, (Identity, Diag)):
        return arg
    if isinstance(arg, (Zero, Commutation)):
        return transpose(arg)
    if isinstance(arg, Mul):
        return transpose_chain(arg.factors)
    if isinstance(arg, Add):
        return add(*(transpose(t) for t in arg.terms))
    if isinstance(arg, Kron):
        return Kron(transpose(arg.left), transpose(arg.right))
    if isinstance(arg, Hadamard):
        return Hadamard(transpose(arg.left), transpose(arg.right))
    if isinstance(arg, Func):
        return Func(arg.name, transpose(arg.arg))
    if isinstance(arg, HadamardPower):
        return HadamardPower(transpose(arg.arg), arg.exponent)
    if isinstance(arg, Integral):
        return Integral(arg.var, transpose(arg.body))
    if isinstance(arg, Expm):
        return Expm(transpose(arg.arg), arg.style)
    if isinstance(arg, Frac):
        return Frac(transpose(arg.num), arg.den)
    return None


def _transposes(node: Node) -> int:
    return sum(1 for n in node.walk() if isinstance(n, Transpose))


@simplifier(example=(r"\|\boldsymbol{A}\boldsymbol{x} - \boldsymbol{b}\|^2", r"\boldsymbol{x}"))
def row_sum_as_transpose(node: Node) -> Node | None:
    """u^T - v^T = (u - v)^T for a row: the sum is written as a column, transposed once"""
    if not (isinstance(node, Add) and node.rows.is_one and not node.cols.is_one):
        return None
    column = add(*(simplify(Transpose(t)) for t in node.terms))
    if _transposes(column) + 1 >= _transposes(node):
        return None
    return Transpose(column)


@simplifier()
def inverse_of_transpose(node: Node) -> Node | None:
    """(X^T)^{-1} = (X^{-1})^T, written X^{-T}"""
    if isinstance(node, Inverse) and isinstance(node.arg, Transpose):
        return Transpose(Inverse(node.arg.arg))
    if isinstance(node, Inverse) and isinstance(node.arg, Inverse):
        return node.arg.arg
    return None


# ---------------------------------------------------------------- products


def _base_exponent(node: Node) -> tuple[Node, Fraction]:
    """``node`` as base^k: X^{-1} = (X, -1), (X^{-1})^{4} = (X, -4), X^{-T} = (X^T, -1)."""
    if isinstance(node, Power):
        base, k = _base_exponent(node.arg)
        return base, k * node.exponent
    if isinstance(node, Inverse):
        base, k = _base_exponent(node.arg)
        return base, -k
    if isinstance(node, Transpose) and isinstance(node.arg, (Power, Inverse)):
        base, k = _base_exponent(node.arg)
        return transpose(base), k
    return node, Fraction(1)


def _from_base(base: Node, k: Fraction) -> Node | None:
    """base^k written the usual way: X^{-1}, X^{-T}, (X^{2})^{T}."""
    if k == 0:
        return None
    if k == 1:
        return base
    if isinstance(base, Transpose) and not base.is_scalar:
        inner = _from_base(base.arg, k)
        return None if inner is None else transpose(inner)
    if k == -1 and not base.is_scalar:
        return Inverse(base)
    return Power(base, k)


def _merge_scalars(scalars: list[Node]) -> list[Node]:
    order: list[Node] = []
    powers: dict[Node, Fraction] = {}
    coeff = Fraction(1)
    for factor in scalars:
        if isinstance(factor, Num):
            coeff *= factor.value
            continue
        base, k = _base_exponent(factor)
        if base not in powers:
            order.append(base)
            powers[base] = Fraction(0)
        powers[base] += k
    out: list[Node] = [] if coeff == 1 else [num(coeff)]
    for base in order:
        merged = _from_base(base, powers[base])
        if merged is not None:
            out.append(merged)
    return out


def _merge_matrices(factors: list[Node]) -> list[Node]:
    out: list[tuple[Node, Fraction]] = []
    for factor in factors:
        base, k = _base_exponent(factor)
        if k.denominator != 1:
            base, k = factor, Fraction(1)
        if out and out[-1][0] == base:
            out[-1] = (base, out[-1][1] + k)
            if out[-1][1] == 0:
                out.pop()
        else:
            out.append((base, k))
    result = []
    for base, k in out:
        merged = _from_base(base, k)
        if merged is not None:
            result.append(merged)
    return result


def _one_plus_exp(node: Node) -> Node | None:
    """u when node is 1 + exp(u)."""
    if isinstance(node, Add) and len(node.terms) == 2:
        a, b = node.terms
        if isinstance(a, Func) and a.name == "exp":
            a, b = b, a
        if a == num(1) and isinstance(b, Func) and b.name == "exp":
            return b.arg
    return None


def _logistic(scalars: list[Node]) -> list[Node]:
    """e^u / (1 + e^u) = σ(u) and e^u / (1 + e^u)^2 = σ'(u) (seed 001 writes σ and σ')."""
    for i, factor in enumerate(scalars):
        if not (isinstance(factor, Power) and factor.exponent in (-1, -2)):
            continue
        u = _one_plus_exp(factor.arg)
        if u is None:
            continue
        exp_u = Func("exp", u)
        if exp_u in scalars:
            rest = [f for j, f in enumerate(scalars) if j != i]
            rest.remove(exp_u)
            return rest + [Func("sigma" if factor.exponent == -1 else "sigma_p", u)]
    return scalars


def _diag_product(a: Node, b: Node) -> Node:
    """The vector u ⊙ v of diag(u) diag(v); vec(A) ⊙ vec(B) = vec(A ⊙ B)."""
    if isinstance(a, Vec) and isinstance(b, Vec) and a.arg.shape == b.arg.shape:
        return Vec(Hadamard(a.arg, b.arg))
    return Hadamard(a, b)


def _merge_diagonals(factors: list[Node]) -> list[Node]:
    """diag(u) diag(v) = diag(u ⊙ v)."""
    out: list[Node] = []
    for factor in factors:
        prev = out[-1] if out else None
        if isinstance(prev, Diag) and isinstance(factor, Diag):
            out[-1] = Diag(_diag_product(prev.arg, factor.arg))
        else:
            out.append(factor)
    return out


def _inner_products(factors: list[Node]) -> tuple[list[Node], list[Node]]:
    """x (a^T b) y^T: a 1x1 product inside a longer chain is a scalar and moves to the front."""
    if len(factors) <= 2:
        return factors, []
    for i in range(1, len(factors) - 1):
        a, b = factors[i], factors[i + 1]
        if a.rows.is_one and b.cols.is_one:
            rest = factors[:i] + factors[i + 2 :]
            if product_shape([f.shape for f in rest]) == product_shape([f.shape for f in factors]):
                return rest, [Mul((a, b))]
    return factors, []


def _merge_exponentials(factors: list[Node]) -> list[Node]:
    """e^{aA} e^{bA} = e^{(a+b)A}: the exponentials of multiples of one matrix commute."""
    out: list[Node] = []
    for factor in factors:
        prev = out[-1] if out else None
        if isinstance(prev, Expm) and isinstance(factor, Expm):
            (pa, pbase), (fa, fbase) = _multiple(prev.arg), _multiple(factor.arg)
            if pbase == fbase:
                total = simplify(add(pa, fa))
                out[-1] = Expm(pbase if total == num(1) else mul(total, pbase), prev.style)
                continue
        out.append(factor)
    return out


def _multiple(node: Node) -> tuple[Node, Node]:
    scalars, rest = _coefficient(node)
    return (mul(*scalars) if scalars else num(1)), rest


def _mixed_products(factors: list[Node]) -> list[Node]:
    """(A ⊗ B)(C ⊗ D) = AC ⊗ BD where the sizes fit."""
    out: list[Node] = []
    for factor in factors:
        prev = out[-1] if out else None
        if (
            isinstance(prev, Kron)
            and isinstance(factor, Kron)
            and prev.left.cols == factor.left.rows
            and prev.right.cols == factor.right.rows
        ):
            out[-1] = Kron(mul(prev.left, factor.left), mul(prev.right, factor.right))
        else:
            out.append(factor)
    return out


@simplifier(example=(r"\boldsymbol{X}^{-1}\boldsymbol{X}\boldsymbol{A}\boldsymbol{X}", r"\boldsymbol{X}"))
def tidy_product(node: Node) -> Node | None:
    """Numbers first, I A = A, A A = A^2, X^{-1} X = I, s s^{-1} = 1, (A ⊗ B)(C ⊗ D) = AC ⊗ BD, diag(u) diag(v) = diag(u ⊙ v)"""
    if not isinstance(node, Mul):
        return None
    flat: list[Node] = []
    for factor in node.factors:
        flat.extend(factor.factors if isinstance(factor, Mul) else (factor,))
    if any(is_zero(f) for f in flat):
        return zero_like(node)
    parts = segments(flat)
    if len(parts) > 1:  # 1x1 blocks of the chain are scalars (x^T x in x^T x y)
        blocks = [mul(*seg) for seg in parts]
        scalars = [b for b in blocks if b.is_scalar]
        matrices = [f for b, seg in zip(blocks, parts) if not b.is_scalar for f in seg]
    else:
        scalars = [f for f in flat if f.is_scalar]
        matrices = [f for f in flat if not f.is_scalar]
    matrices = [f for f in matrices if not isinstance(f, Identity)]
    matrices, inner = _inner_products(matrices)
    scalars = _logistic(_merge_scalars(scalars)) + inner
    matrices = _mixed_products(_merge_exponentials(_merge_diagonals(_merge_matrices(matrices))))
    if not node.is_scalar and (not matrices or product_shape([m.shape for m in matrices]) != node.shape):
        matrices = [Identity(node.rows, bold_style(flat))] if not matrices else matrices
    rebuilt = mul(*scalars, *matrices) if scalars or matrices else num(1)
    if rebuilt.shape != node.shape:
        return None
    return None if rebuilt == node else rebuilt


@simplifier()
def tidy_power(node: Node) -> Node | None:
    """X^1 = X, X^0 = I"""
    if isinstance(node, Power):
        if node.exponent == 1:
            return node.arg
        if node.exponent == 0:
            return num(1) if node.is_scalar else Identity(node.rows)
        if isinstance(node.arg, Num):
            value = node.arg.value ** node.exponent
            if isinstance(value, Fraction):
                return Num(value)
    return None


@simplifier(example=(r"\frac{\lambda}{2}\|\boldsymbol{w}\|^2", r"\boldsymbol{w}"))
def tidy_fraction(node: Node) -> Node | None:
    """F / s = s^{-1} F, so that scalar factors can cancel (2 λ/2 = λ)"""
    if not isinstance(node, Frac):
        return None
    if isinstance(node.den, Num):
        return mul(num(1 / node.den.value), node.num)
    return mul(Power(node.den, Fraction(-1)), node.num)


# ---------------------------------------------------------------- Kronecker, vec, K


def _coefficient(node: Node) -> tuple[list[Node], Node]:
    """The scalar factors (and 1x1 blocks) of a product, and the rest."""
    if isinstance(node, Mul):
        parts = segments(node.factors)
        scalars = [mul(*seg) for seg in parts if mul(*seg).is_scalar]
        rest = [f for seg in parts if not mul(*seg).is_scalar for f in seg]
        if scalars and rest:
            return scalars, mul(*rest)
    return [], node


@simplifier(example=(r"\boldsymbol{x}\boldsymbol{x}^{\top}", r"\boldsymbol{x}"))
def tidy_kronecker(node: Node) -> Node | None:
    """I_n ⊗ I_m = I_{mn}, A ⊗ (B ⊗ C) = A ⊗ B ⊗ C, 1 ⊗ A = A, (cA) ⊗ B = c(A ⊗ B), u ⊗ v^T = v^T ⊗ u = u v^T"""
    if not isinstance(node, Kron):
        return None
    left, right = node.left, node.right
    if isinstance(left, Identity) and isinstance(right, Identity):
        return Identity(left.n * right.n, left.style)
    if isinstance(right, Kron):  # A ⊗ (B ⊗ C) = (A ⊗ B) ⊗ C, written A ⊗ B ⊗ C
        return Kron(Kron(left, right.left), right.right)
    if isinstance(left, Kron) and isinstance(left.right, Identity) and isinstance(right, Identity):
        return Kron(left.left, Identity(left.right.n * right.n, right.style))
    if left.is_scalar:
        return mul(left, right)
    if right.is_scalar:
        return mul(right, left)
    lc, lrest = _coefficient(left)
    rc, rrest = _coefficient(right)
    if lc or rc:
        return mul(*lc, *rc, Kron(lrest, rrest))
    if left.cols.is_one and right.rows.is_one:
        return mul(left, right)
    if left.rows.is_one and right.cols.is_one:
        return mul(right, left)
    return None


@simplifier()
def tidy_commutation(node: Node) -> Node | None:
    """K_{m1} = K_{1n} = I"""
    if isinstance(node, Commutation) and (node.m.is_one or node.n.is_one):
        return identity(node.m * node.n, node.style)
    return None


@simplifier()
def tidy_vec(node: Node) -> Node | None:
    """vec(u) = u for a column, vec(u^T) = u, vec(1 1^T) = 1, vec(cA) = c vec(A)"""
    if not isinstance(node, Vec):
        return None
    arg = node.arg
    if arg.cols.is_one:
        return arg
    if arg.rows.is_one:
        return transpose(arg)
    if is_all_ones(arg):
        return Ones(arg.rows * arg.cols, arg.factors[0].style)  # type: ignore[attr-defined]
    scalars, rest = _coefficient(arg)
    if scalars:
        return mul(*scalars, Vec(rest))
    if isinstance(arg, Add):
        return add(*(Vec(t) for t in arg.terms))
    return None


@simplifier()
def tidy_trace(node: Node) -> Node | None:
    """tr(s) = s for a scalar; tr(I_n) = n for a given size n"""
    if isinstance(node, Trace) and node.arg.is_scalar:
        return node.arg
    if isinstance(node, Trace) and isinstance(node.arg, Identity) and node.arg.n.is_int:
        return num(node.arg.n.coeff)
    return None


@simplifier()
def tidy_integral(node: Node) -> Node | None:
    """∫_0^1 A ds = A when A does not depend on s"""
    if isinstance(node, Integral) and not depends_on(node.body, node.var):
        return node.body
    return None


@simplifier()
def tidy_hadamard(node: Node) -> Node | None:
    """A ⊙ B with a 1x1 side is a scalar product; 1 ⊙ A = A for the ones vector"""
    if isinstance(node, Hadamard) and node.left.is_scalar:
        return mul(node.left, node.right)
    if isinstance(node, Hadamard) and isinstance(node.left, Ones):
        return node.right
    if isinstance(node, Hadamard) and isinstance(node.right, Ones):
        return node.left
    return None


@simplifier(example=(r"\boldsymbol{1}^{\top}\sigma(\boldsymbol{A}\boldsymbol{x})", r"\boldsymbol{x}"))
def tidy_diag(node: Node) -> Node | None:
    """diag(1) = I, diag(0) = 0;  a diag(u) + b diag(v) = diag(a u + b v)"""
    if isinstance(node, Diag) and isinstance(node.arg, Ones):
        return Identity(node.rows, node.arg.style)
    if isinstance(node, Diag) and isinstance(node.arg, Zero):
        return Zero(node.rows, node.cols, node.arg.style)
    if not isinstance(node, Add):
        return None
    diagonal: list[Node] = []
    others: list[Node] = []
    for term in node.terms:
        scalars, rest = _coefficient(term)
        if isinstance(rest, Diag):
            diagonal.append(mul(*scalars, rest.arg))
        else:
            others.append(term)
    if len(diagonal) < 2:
        return None
    return add(Diag(add(*diagonal)), *others)


# ---------------------------------------------------------------- sums


def _split_number(term: Node) -> tuple[Fraction, Node]:
    if isinstance(term, Mul) and isinstance(term.factors[0], Num):
        return term.factors[0].value, mul(*term.factors[1:])
    if isinstance(term, Num):
        return term.value, num(1)
    return Fraction(1), term


@simplifier(example=(r"\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X}", r"\boldsymbol{X}"))
def collect_terms(node: Node) -> Node | None:
    """aT + bT = (a + b)T;  A C + B C = (A + B) C;  C A + C B = C (A + B);  -A + B = B - A"""
    if not isinstance(node, Add):
        return None
    order: list[Node] = []
    coeffs: dict[Node, Fraction] = {}
    for term in node.terms:
        for part in term.terms if isinstance(term, Add) else (term,):
            c, body = _split_number(part)
            if body not in coeffs:
                order.append(body)
                coeffs[body] = Fraction(0)
            coeffs[body] += c
    kept = [b for b in order if coeffs[b] != 0]
    if not kept:
        return zero_like(node)
    if coeffs[kept[0]] < 0:  # a sum opens with a positive term: s - y, not -y + s
        first = next((b for b in kept if coeffs[b] > 0), None)
        if first is not None:
            kept.remove(first)
            kept.insert(0, first)
    terms = [mul(num(coeffs[b]), b) for b in kept]
    factored = _factor_common(terms)
    rebuilt = factored if factored is not None else add(*terms)
    return None if rebuilt == node else rebuilt


def _chain(term: Node) -> tuple[list[Node], list[Node]]:
    """(scalar blocks, matrix factors) of a term."""
    factors = list(term.factors) if isinstance(term, Mul) else [term]
    parts = segments(factors)
    blocks = [mul(*seg) for seg in parts]
    scalars = [b for b in blocks if b.is_scalar]
    return scalars, [f for b, seg in zip(blocks, parts) if not b.is_scalar for f in seg]


def _factor_common(terms: list[Node]) -> Node | None:
    if len(terms) < 2 or terms[0].is_scalar:
        return None
    parts = [_chain(t) for t in terms]
    if any(not chain for _, chain in parts):
        return None
    last = parts[0][1][-1]
    if all(chain == [last] for _, chain in parts):  # a T + b T = (a + b) T for scalars a, b
        return mul(add(*(mul(*s) if s else num(1) for s, _ in parts)), last)
    if all(chain[-1] == last for _, chain in parts) and any(len(chain) > 1 or scalars for scalars, chain in parts):
        inner = [mul(*s, *(c[:-1] or [identity(last.rows, bold_style(c))])) for s, c in parts]
        return mul(add(*inner), last)
    first = parts[0][1][0]
    if all(chain[0] == first for _, chain in parts) and any(len(chain) > 1 or scalars for scalars, chain in parts):
        inner = [mul(*s, *(c[1:] or [identity(first.cols, bold_style(c))])) for s, c in parts]
        return mul(first, add(*inner))
    return None


# ---------------------------------------------------------------- driver


def _rewrite_once(node: Node) -> Node:
    kids = node.children()
    if kids:
        new = [_rewrite_once(k) for k in kids]
        if any(a is not b for a, b in zip(new, kids)):
            node = _rebuild(node, new)
    for rule in SIMPLIFIERS:
        out = rule(node)
        if out is not None and out != node and out.shape == node.shape:
            return out
    return node


def _rebuild(node: Node, kids: list[Node]) -> Node:
    if isinstance(node, Mul):
        return mul(*kids)
    if isinstance(node, Add):
        return add(*kids)
    return node.with_children(kids)


def simplify(node: Node, max_rounds: int = 40) -> Node:
    """Apply the simplification rules bottom-up until nothing changes."""
    for _ in range(max_rounds):
        new = _rewrite_once(node)
        if new == node:
            return new
        node = new
    return node
