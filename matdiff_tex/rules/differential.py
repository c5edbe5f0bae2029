"""Differential rules: ``d(node)`` one level at a time.

Each rule receives the node and ``d``, a function giving the differential of a
child: ``Differential(child)`` still to be expanded, ``dX`` for the variable, or a
zero for a constant.  :func:`expand_once` applies the rules to every unexpanded
differential of an expression, which is how a derivation's differential lines are
produced one after another.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

from ..errors import UnsupportedError
from ..expr.functions import FUNCTIONS
from ..expr.nodes import (
    Add,
    Applied,
    Colored,
    Det,
    Diag,
    Differential,
    Expm,
    Frac,
    Func,
    Gradient,
    Hadamard,
    HadamardPower,
    Integral,
    Inverse,
    Kron,
    Mul,
    Node,
    Norm,
    NormSq,
    norm_kind,
    Num,
    Ones,
    Power,
    Softmax,
    Sum,
    Sym,
    Trace,
    Transpose,
    Vec,
)
from .build import add, bold_style, depends_on, is_all_ones, is_zero, mul, neg, num, transpose, zero_like
from ..expr.writer import to_latex
from .registry import register

D = Callable[[Node], Node]
DIFFERENTIALS: dict[type, Callable[[Node, D], Node]] = {}
NOTES: dict[type, str] = {}


def differential_rule(node_type: type, *, note: str, example: tuple[str, str] | None = None):
    """Register ``func`` as the differential rule of ``node_type``."""

    def decorate(func):
        DIFFERENTIALS[node_type] = func
        NOTES[node_type] = note
        return register("differential", name=func.__name__, note=note, example=example)(func)

    return decorate


def _hadamard(a: Node, b: Node) -> Node:
    if is_zero(a) or is_zero(b):
        return zero_like(a)
    if a.is_scalar:
        return mul(a, b)
    return Hadamard(a, b)


@differential_rule(Add, note="linearity", example=(r"\boldsymbol{A}\boldsymbol{X} + \boldsymbol{X}\boldsymbol{B}", r"\boldsymbol{X}"))
def d_sum(node: Add, d: D) -> Node:
    """d(A + B) = dA + dB"""
    return add(*(d(t) for t in node.terms))


@differential_rule(Mul, note="product_rule", example=(r"\boldsymbol{X}\boldsymbol{A}\boldsymbol{X}", r"\boldsymbol{X}"))
def d_product(node: Mul, d: D) -> Node:
    """d(XY) = (dX)Y + X(dY)"""
    factors = node.factors
    terms = []
    for i, factor in enumerate(factors):
        df = d(factor)
        if not is_zero(df):
            terms.append(mul(*factors[:i], df, *factors[i + 1 :]))
    if len(terms) <= 1:  # only one factor varies: plain linearity, not the product rule
        return (terms[0] if terms else zero_like(node)), "linearity"
    return add(*terms)


@differential_rule(Transpose, note="linearity", example=(r"\boldsymbol{A}\boldsymbol{X}^{\top}", r"\boldsymbol{X}"))
def d_transpose(node: Transpose, d: D) -> Node:
    """d(X^T) = (dX)^T"""
    inner = d(node.arg)
    return zero_like(node) if is_zero(inner) else transpose(inner)


@differential_rule(Inverse, note="d_inverse", example=(r"\boldsymbol{X}^{-1}", r"\boldsymbol{X}"))
def d_inverse(node: Inverse, d: D) -> Node:
    """d(X^{-1}) = -X^{-1}(dX)X^{-1}"""
    if node.arg.is_scalar:
        return mul(num(-1), Power(node.arg, Fraction(-2)), d(node.arg))
    return neg(mul(node, d(node.arg), node))


@differential_rule(Power, note="product_rule", example=(r"\boldsymbol{X}^{3}", r"\boldsymbol{X}"))
def d_power(node: Power, d: D) -> Node:
    """d(X^k) = sum_i X^i (dX) X^{k-1-i};  d(u^k) = k u^{k-1} du"""
    base, k = node.arg, node.exponent
    if base.is_scalar:
        return mul(num(k), _scalar_power(base, k - 1), d(base))
    if k == 0:
        return zero_like(node)
    if k < 0:
        base, k = Inverse(base), -k
    db = d(base)
    terms = [mul(_matrix_power(base, i), db, _matrix_power(base, int(k) - 1 - i)) for i in range(int(k))]
    return add(*terms)


def _scalar_power(base: Node, k: Fraction) -> Node:
    if k == 0:
        return num(1)
    if k == 1:
        return base
    return Power(base, k)


def _matrix_power(base: Node, k: int) -> Node:
    if k == 0:
        return num(1)
    if k == 1:
        return base
    return Power(base, Fraction(k))


@differential_rule(HadamardPower, note="elementwise", example=(r"\boldsymbol{X}^{\circ 3}", r"\boldsymbol{X}"))
def d_hadamard_power(node: HadamardPower, d: D) -> Node:
    """d(U^{∘k}) = k U^{∘(k-1)} ⊙ dU"""
    k = node.exponent
    inner = d(node.arg)
    if k == 1:
        return inner
    factor = node.arg if k == 2 else HadamardPower(node.arg, k - 1)
    return mul(num(k), _hadamard(factor, inner))


@differential_rule(Frac, note="chain_rule", example=(r"\frac{\boldsymbol{X}}{\operatorname{tr}(\boldsymbol{X})}", r"\boldsymbol{X}"))
def d_fraction(node: Frac, d: D) -> Node:
    """d(F/s) = dF/s - F ds/s^2;  exp(u)/(1^T exp(u)) is softmax(u)"""
    softmax = softmax_of(node)
    if softmax is not None:
        return d_softmax(softmax, d), "chain_rule"
    first = mul(Power(node.den, Fraction(-1)), d(node.num))
    second = mul(num(-1), Power(node.den, Fraction(-2)), d(node.den), node.num)
    return add(first, second)


@differential_rule(Trace, note="linearity", example=(r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X})", r"\boldsymbol{X}"))
def d_trace(node: Trace, d: D) -> Node:
    """d tr(X) = tr(dX)"""
    inner = d(node.arg)
    return num(0) if is_zero(inner) else Trace(inner, node.style)


@differential_rule(Det, note="d_det", example=(r"|\boldsymbol{X}|", r"\boldsymbol{X}"))
def d_determinant(node: Det, d: D) -> Node:
    """d|X| = |X| tr(X^{-1} dX)"""
    inner = d(node.arg)
    return num(0) if is_zero(inner) else mul(node, Trace(mul(Inverse(node.arg), inner)))


@differential_rule(Func, note="chain_rule", example=(r"\log(1 + \exp(\boldsymbol{x}^{\top}\boldsymbol{w}))", r"\boldsymbol{w}"))
def d_function(node: Func, d: D) -> Node:
    """d f(u) = f'(u) du;  d f(U) = f'(U) ⊙ dU element by element;  d log|X| = tr(X^{-1} dX)"""
    if node.name in ("log", "ln") and isinstance(node.arg, Det):
        inner = d(node.arg.arg)
        return (num(0) if is_zero(inner) else Trace(mul(Inverse(node.arg.arg), inner))), "d_logdet"
    if node.name in ("log", "ln") and isinstance(node.arg, Softmax):
        return d_log_softmax(node, d), "chain_rule"
    if node.name in ("log", "ln") and sum_of_exp(node.arg) is not None:
        return d_log_sum_exp(node, d), "chain_rule"
    if node.name in ("log", "ln") and one_plus_exp(node.arg) is not None:
        return d_softplus(node, d), ("chain_rule" if node.is_scalar else "elementwise")
    info = FUNCTIONS[node.name]
    try:
        derivative = info.derivative(node.arg)
    except NotImplementedError as exc:
        raise UnsupportedError(f"cannot differentiate {exc}") from None
    return _hadamard(derivative, d(node.arg)), ("chain_rule" if node.is_scalar else "elementwise")


@register("differential", note="chain_rule", example=(r"\log(\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x}))", r"\boldsymbol{W}"))
def d_log_softmax(node: Func, d: D) -> Node:
    """d log softmax(u) = du - 1 softmax(u)^T du"""
    u = node.arg.arg  # type: ignore[attr-defined]
    inner = d(u)
    if is_zero(inner):
        return zero_like(node)
    style = bold_style([u])
    return add(inner, neg(mul(Ones(u.rows, style), Transpose(node.arg), inner)))


def sum_of_exp(node: Node) -> Node | None:
    """u when ``node`` is ``1^T exp(u)`` of a column vector u (the sum of its exponentials)."""
    if (
        isinstance(node, Mul)
        and len(node.factors) == 2
        and isinstance(node.factors[0], Transpose)
        and isinstance(node.factors[0].arg, Ones)
        and isinstance(node.factors[1], Func)
        and node.factors[1].name == "exp"
        and node.factors[1].arg.cols.is_one
    ):
        return node.factors[1].arg
    return None


def _is_one(node: Node) -> bool:
    """1, the ones vector 1, or the all-ones matrix 1 1^T."""
    return node == num(1) or isinstance(node, Ones) or is_all_ones(node)


def one_plus_exp(node: Node) -> Node | None:
    """u when ``node`` is ``1 + exp(u)`` (entry by entry for a vector or matrix u)."""
    if isinstance(node, Add) and len(node.terms) == 2:
        a, b = node.terms
        if isinstance(a, Func):
            a, b = b, a
        if _is_one(a) and isinstance(b, Func) and b.name == "exp":
            return b.arg
    return None


@register("differential", note="chain_rule", example=(r"\boldsymbol{1}^{\top}\log(\boldsymbol{1} + \exp(\boldsymbol{X}\boldsymbol{w}))", r"\boldsymbol{w}"))
def d_softplus(node: Func, d: D) -> Node:
    """d log(1 + exp(u)) = σ(u) ⊙ du (the derivative of softplus is the logistic function)"""
    u = one_plus_exp(node.arg)
    assert u is not None
    return _hadamard(Func("sigma", u), d(u))


def softmax_of(node: Node) -> Softmax | None:
    """softmax(u) when ``node`` is ``exp(u) / (1^T exp(u))``."""
    if isinstance(node, Frac) and isinstance(node.num, Func) and node.num.name == "exp":
        u = sum_of_exp(node.den)
        if u is not None and u == node.num.arg:
            return Softmax(u)
    return None


@register("differential", note="chain_rule", example=(r"\log(\boldsymbol{1}^{\top}\exp(\boldsymbol{W}\boldsymbol{x}))", r"\boldsymbol{W}"))
def d_log_sum_exp(node: Func, d: D) -> Node:
    """d log(1^T exp(u)) = softmax(u)^T du (log-sum-exp)"""
    u = sum_of_exp(node.arg)
    assert u is not None
    inner = d(u)
    if is_zero(inner):
        return num(0)
    return mul(Transpose(Softmax(u)), inner)


@differential_rule(Hadamard, note="product_rule", example=(r"\boldsymbol{X} \odot \boldsymbol{A}\boldsymbol{X}", r"\boldsymbol{X}"))
def d_hadamard(node: Hadamard, d: D) -> Node:
    """d(A ⊙ B) = dA ⊙ B + A ⊙ dB

    A chain of three or more factors is differentiated at once (one term per varying factor, not
    one nested product rule per factor); a varying factor repeated k times in it is U^{∘k} (⊙
    commutes), whose differential is k U^{∘(k-1)} ⊙ dU: X ⊙ X ⊙ ... ⊙ X gives one term, not k
    terms of k factors (which grew with the cube of k over the lines that follow)."""
    factors = hadamard_factors(node)
    if len(factors) == 2:
        left, right = d(node.left), d(node.right)
        result = add(_hadamard(left, node.right), _hadamard(node.left, right))
        return result if not (is_zero(left) or is_zero(right)) else (result, "linearity")
    distinct: list[Node] = []
    counts: dict[Node, int] = {}
    for factor in factors:
        if factor not in counts:
            distinct.append(factor)
        counts[factor] = counts.get(factor, 0) + 1
    repeated = any(counts[f] > 1 and not is_zero(d(f)) for f in distinct)
    if not repeated:  # the factors as written, one term per varying factor
        terms = [_hadamard_chain([*factors[:i], df, *factors[i + 1:]])
                 for i, factor in enumerate(factors) if not is_zero(df := d(factor))]
    else:
        powered = [f if counts[f] == 1 else HadamardPower(f, counts[f]) for f in distinct]
        terms = []
        for i, factor in enumerate(distinct):
            df = d(factor)
            if is_zero(df):
                continue
            k = counts[factor]
            if k == 1:
                terms.append(_hadamard_chain([*powered[:i], df, *powered[i + 1:]]))
                continue
            base = factor if k == 2 else HadamardPower(factor, k - 1)
            terms.append(mul(num(k), _hadamard_chain([*powered[:i], base, df, *powered[i + 1:]])))
    if not terms:
        return zero_like(node), "linearity"
    return add(*terms) if len(terms) > 1 or repeated else (terms[0], "linearity")


def hadamard_factors(node: Node) -> list[Node]:
    """The factors of a chain of ⊙ products, in order."""
    if isinstance(node, Hadamard):
        return hadamard_factors(node.left) + hadamard_factors(node.right)
    return [node]


def _hadamard_chain(factors: list[Node]) -> Node:
    out = factors[0]
    for factor in factors[1:]:
        out = _hadamard(out, factor)
    return out


@differential_rule(Kron, note="product_rule", example=(r"\boldsymbol{A} \otimes \boldsymbol{X}", r"\boldsymbol{X}"))
def d_kronecker(node: Kron, d: D) -> Node:
    """d(A ⊗ B) = dA ⊗ B + A ⊗ dB"""
    left, right = d(node.left), d(node.right)
    terms = []
    if not is_zero(left):
        terms.append(Kron(left, node.right))
    if not is_zero(right):
        terms.append(Kron(node.left, right))
    if len(terms) <= 1:
        return (terms[0] if terms else zero_like(node)), "linearity"
    return add(*terms)


@differential_rule(Softmax, note="chain_rule", example=(r"\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})", r"\boldsymbol{W}"))
def d_softmax(node: Softmax, d: D) -> Node:
    """d softmax(u) = (diag(s) - s s^T) du,  s = softmax(u)"""
    inner = d(node.arg)
    if is_zero(inner):
        return zero_like(node)
    jacobian = add(Diag(node), neg(mul(node, Transpose(node))))
    return mul(jacobian, inner)


@differential_rule(Norm, note="d_norm", example=(r"\|\boldsymbol{A}\boldsymbol{x} - \boldsymbol{b}\|_2", r"\boldsymbol{x}"))
def d_norm(node: Norm, d: D) -> Node:
    """d‖u‖₂ = u^T du / ‖u‖₂;  d‖U‖_F = tr(U^T dU) / ‖U‖_F;  d‖u‖₁ = sign(u)^T du (no entry of u zero)"""
    kind = norm_kind(node)
    if kind in ("spectral", "nuclear"):
        what = ("the spectral norm \\|X\\|_2 of a matrix (its largest singular value σ₁; the derivative σ₁ u₁ v₁ᵀ "
                "needs the singular vectors and exists only where σ₁ is simple)" if kind == "spectral" else
                "the nuclear norm \\|X\\|_* (the sum of the singular values; the derivative U Vᵀ needs the SVD)")
        raise UnsupportedError(f"{what} is not differentiated; for the Frobenius norm write \\|X\\|_F",
                               field="F", span=node.span)
    u = node.arg
    inner = d(u)
    if is_zero(inner):
        return num(0)
    if kind == "l1":
        return mul(transpose(Func("sign", u)), inner), "norm_l1"
    if u.cols.is_one:
        return mul(Power(node, Fraction(-1)), transpose(u), inner)
    return mul(Power(node, Fraction(-1)), Trace(mul(transpose(u), inner)))


@differential_rule(Applied, note="chain_rule", example=None)
def d_applied(node: Applied, d: D) -> Node:
    """d ℓ(U) = tr(∇ℓ(U)^T dU);  d f^{(k)}(U) = f^{(k+1)}(U) ⊙ dU (abstract functions)"""
    inner = d(node.arg)
    if is_zero(inner):
        return zero_like(node)
    u = node.arg
    if node.kind == "scalar":
        grad = Gradient(node.name, u)
        if u.is_scalar:
            return mul(grad, inner)
        if u.cols.is_one:
            return mul(transpose(grad), inner)
        return Trace(mul(transpose(grad), inner))
    return _hadamard(Applied(node.name, u, node.kind, node.primes + 1), inner)


@differential_rule(Gradient, note="chain_rule", example=None)
def d_gradient(node: Gradient, d: D) -> Node:
    """d ∇ℓ(U): second derivatives of an abstract function are not supported"""
    raise UnsupportedError(f"the second derivative of the abstract function {node.name} (its Hessian) is not supported")


@differential_rule(NormSq, note="d_normsq", example=(r"\|\boldsymbol{A}\boldsymbol{x} - \boldsymbol{b}\|_2^2", r"\boldsymbol{x}"))
def d_norm_squared(node: NormSq, d: D) -> Node:
    """d‖u‖² = 2 u^T du;  d‖U‖_F² = 2 tr(U^T dU)"""
    inner = d(node.arg)
    if is_zero(inner):
        return num(0)
    if node.arg.cols.is_one:
        return mul(num(2), transpose(node.arg), inner)
    return mul(num(2), Trace(mul(transpose(node.arg), inner)))


@differential_rule(Expm, note="d_expm", example=(r"e^{\boldsymbol{X}}", r"\boldsymbol{X}"))
def d_matrix_exponential(node: Expm, d: D) -> Node:
    """d e^{X} = ∫_0^1 e^{sX} (dX) e^{(1-s)X} ds;  d e^{cA} = e^{cA} d(cA) for a constant matrix A"""
    inner = d(node.arg)
    if is_zero(inner):
        return zero_like(node)
    factors = node.arg.factors if isinstance(node.arg, Mul) else (node.arg,)
    matrices = [f for f in factors if not f.is_scalar]
    if matrices and is_zero(d(mul(*matrices))):  # only a scalar varies: U and dU commute
        return mul(node, inner)
    s = fresh_scalar(node, getattr(d, "taken", frozenset()))
    left = Expm(mul(s, node.arg), node.style)
    right = Expm(mul(add(num(1), neg(s)), node.arg), node.style)
    return Integral(s, mul(left, inner, right))


def bound_names(node: Node) -> frozenset[str]:
    """Every symbol name in ``node``, integration variables included."""
    names = set()
    for n in node.walk():
        if isinstance(n, Sym):
            names.add(n.name)
        elif isinstance(n, (Integral, Sum)):
            names.add(n.var.name)
    return frozenset(names)


def fresh_scalar(node: Node, taken: frozenset[str], names: tuple[str, ...] = ("s", "t", "u", "v", "r")) -> Sym:
    """An integration variable (or summation index) named like none of ``taken`` or the symbols of
    ``node``: the first free one of ``names``, else ``names[0]`` with a subscript.

    The author may integrate over ``s`` already (``\\int_0^1 e^{s A} \\, ds``): the rule's
    own variable must not capture theirs.
    """
    used = taken | bound_names(node)
    for name in names:
        if name not in used:
            return Sym(name, "scalar", style="plain")
    k = 1
    while f"{names[0]}_{k}" in used:
        k += 1
    return Sym(f"{names[0]}_{k}", "scalar", style="plain")


@differential_rule(Vec, note="linearity")
def d_vec(node: Vec, d: D) -> Node:
    """d vec(X) = vec(dX)"""
    inner = d(node.arg)
    return zero_like(node) if is_zero(inner) else Vec(inner)


@differential_rule(Diag, note="linearity")
def d_diag(node: Diag, d: D) -> Node:
    """d diag(u) = diag(du)"""
    inner = d(node.arg)
    return zero_like(node) if is_zero(inner) else Diag(inner)


@differential_rule(Integral, note="linearity")
def d_integral(node: Integral, d: D) -> Node:
    """d ∫ F(s) ds = ∫ dF(s) ds"""
    inner = d(node.body)
    return zero_like(node) if is_zero(inner) else Integral(node.var, inner)


@differential_rule(Colored, note="linearity")
def d_colored(node: Colored, d: D) -> Node:
    """d (coloured X) = d X"""
    return d(node.arg)


# ---------------------------------------------------------------- driver


def placeholder(x: Sym, taken: frozenset[str] = frozenset()) -> D:
    """``d`` for one expansion pass: constants vanish, the rest stays ``Differential(child)``.

    ``d.taken`` holds the names used anywhere in the expression being expanded (for rules that
    bind a new variable).
    """

    def d(child: Node) -> Node:
        if not depends_on(child, x):
            return zero_like(child, x.style)
        if isinstance(child, Sym) and child.name == x.name:
            return Differential(x)
        if isinstance(child, Num | Ones):
            return zero_like(child, x.style)
        return Differential(child)

    d.taken = taken  # type: ignore[attr-defined]
    return d


def expand_once(node: Node, x: Sym, used: list[str], taken: frozenset[str] | None = None) -> Node:
    """Apply one differential rule to every unexpanded ``Differential`` in ``node``.

    The names of the rules applied are appended to ``used`` (for the line's note).
    """
    if taken is None:
        taken = bound_names(node)
    if isinstance(node, Differential) and not _is_variable(node.arg, x):
        target = node.arg
        rule = DIFFERENTIALS.get(type(target))
        if rule is None:
            raise UnsupportedError(f"not supported yet: no differential rule for {to_latex(target)}")
        result = rule(target, placeholder(x, taken))
        if isinstance(result, tuple):
            result, note = result
        else:
            note = NOTES[type(target)]
        used.append(note)
        return result
    kids = node.children()
    if not kids:
        return node
    new = [expand_once(kid, x, used, taken) for kid in kids]
    if all(a is b for a, b in zip(new, kids)):
        return node
    return tidy(node.with_children(new))


def _is_variable(node: Node, x: Sym) -> bool:
    return isinstance(node, Sym) and node.name == x.name


def tidy(node: Node) -> Node:
    """Flatten the node just rebuilt (products of products, sums of sums, zeros)."""
    if isinstance(node, Mul):
        return mul(*node.factors)
    if isinstance(node, Add):
        return add(*node.terms)
    if isinstance(node, Transpose):
        return transpose(node.arg)
    if isinstance(node, Trace) and is_zero(node.arg):
        return num(0)
    return node


def is_expanded(node: Node, x: Sym) -> bool:
    """True when the only differentials left are ``dX`` itself."""
    return all(_is_variable(n.arg, x) for n in node.walk() if isinstance(n, Differential))


from . import powers  # noqa: E402,F401  (registers d(X^{n}), which builds on differential_rule above)
