"""Element-wise algebra simplified as scalar algebra, by sympy.

A Hadamard expression of vectors or matrices of one shape — ``⊙``, ``^{∘k}``, sums, scalar
multiples and element-wise functions of the same-shaped pieces — is a scalar expression
applied entry by entry.  It is handed to sympy with every other piece (``Xw``, ``y``,
``diag(u)`` ...) standing as a real symbol, simplified there (``together``, ``cancel``,
``factor``: ``1 ⊙ u = u``, ``u ⊙ u^{∘-1} = 1``, ``log(exp(u)) = u``), and mapped back.

The logistic function is recognised on vectors and matrices as on scalars: an expression in
``exp(u)`` is also tried in terms of ``σ(u)`` (``exp(u) = σ/(1-σ)``, ``σ' = σ(1-σ)``), so
``exp(u) ⊙ (1 + exp(u))^{∘-1}`` becomes ``σ(u)`` and ``exp(u) ⊙ (1 + exp(u))^{∘-2}`` becomes
``σ'(u)``.  The shortest of the forms is kept, and only when it is shorter than the input.
Every result still goes through the numeric check of :mod:`matdiff_tex.check`.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

from ..expr.dims import Shape
from ..expr.nodes import (
    Add,
    Func,
    Hadamard,
    HadamardPower,
    Mul,
    Node,
    Num,
    Ones,
    Transpose,
    Vec,
    Zero,
)
from .build import add, bold_style, is_all_ones, map_children, mul, transpose
from .registry import register
from .scalars import _from_sympy as _scalar_from_sympy
from .scalars import _to_sympy as _scalar_to_sympy

#: element-wise functions sympy knows (``ln`` is read as ``log`` and written back as the author did)
_SYMPY_FUNCS = {"exp": "exp", "log": "log", "ln": "log", "sin": "sin", "cos": "cos", "tanh": "tanh"}
_LOGISTIC = ("sigma", "sigma_p", "sigma_pp")


class _Unmappable(Exception):
    """A sympy expression with no element-wise reading (a bare number in a matrix sum ...)."""


def is_elementwise(node: Node) -> bool:
    """Whether ``node`` is a non-scalar element-wise compound (where this rule starts)."""
    if node.is_scalar:
        return False
    if isinstance(node, (Hadamard, HadamardPower)):
        return True
    if isinstance(node, Func):
        return True
    if isinstance(node, Transpose):
        return is_elementwise(node.arg)
    if isinstance(node, Add):
        return any(is_elementwise(t) or _scaled_elementwise(t) for t in node.terms)
    return _scaled_elementwise(node)


def _scaled_elementwise(node: Node) -> bool:
    if not isinstance(node, Mul):
        return False
    big = [f for f in node.factors if not f.is_scalar]
    return len(big) == 1 and is_elementwise(big[0])


class _Context:
    """The sympy symbols standing for the opaque pieces, both ways."""

    def __init__(self, sp: Any, shape: Shape) -> None:
        self.sp = sp
        self.shape = shape
        self.leaves: dict[Node, Any] = {}  # same-shape pieces
        self.scalars: dict[Node, Any] = {}  # 1x1 pieces (scalar factors)
        self.back: dict[Any, Node] = {}
        self.style = "boldsymbol"
        self.log_name = "log"

    def leaf(self, node: Node) -> Any:
        if node not in self.leaves:
            symbol = self.sp.Symbol(f"L{len(self.leaves)}", real=True)
            self.leaves[node] = symbol
            self.back[symbol] = node
        return self.leaves[node]

    def scalar(self, node: Node) -> Any:
        atoms: dict[Node, Any] = {}
        expr = _scalar_to_sympy(node, atoms, self.sp)
        renamed = {}
        for atom, symbol in atoms.items():
            if atom not in self.scalars:
                new = self.sp.Symbol(f"c{len(self.scalars)}", real=True)
                self.scalars[atom] = new
                self.back[new] = atom
            renamed[symbol] = self.scalars[atom]
        return expr.xreplace(renamed)


# ---------------------------------------------------------------- to sympy


def _to(node: Node, ctx: _Context) -> Any:
    sp = ctx.sp
    if node.is_scalar:
        return ctx.scalar(node)
    if isinstance(node, Ones) or (isinstance(node, Transpose) and isinstance(node.arg, Ones)):
        ctx.style = getattr(node, "style", None) or getattr(node.arg, "style", "boldsymbol")  # type: ignore[union-attr]
        return sp.Integer(1)
    if isinstance(node, Zero):
        return sp.Integer(0)
    if is_all_ones(node):
        return sp.Integer(1)
    if isinstance(node, Hadamard):
        return _to(node.left, ctx) * _to(node.right, ctx)
    if isinstance(node, HadamardPower):
        k = node.exponent
        return _to(node.arg, ctx) ** sp.Rational(k.numerator, k.denominator)
    if isinstance(node, Add):
        return sp.Add(*(_to(t, ctx) for t in node.terms))
    if isinstance(node, Mul):
        big = [f for f in node.factors if not f.is_scalar]
        if len(big) == 1:
            small = [f for f in node.factors if f.is_scalar]
            return sp.Mul(*(ctx.scalar(f) for f in small)) * _to(big[0], ctx)
        return ctx.leaf(node)
    if isinstance(node, Func):
        arg = _to(node.arg, ctx)
        if node.name in _SYMPY_FUNCS:
            if node.name == "ln":
                ctx.log_name = "ln"
            return getattr(sp, _SYMPY_FUNCS[node.name])(arg)
        if node.name == "sigma":
            return sp.exp(arg) / (1 + sp.exp(arg))
        if node.name == "sigma_p":
            return sp.exp(arg) / (1 + sp.exp(arg)) ** 2
        return sp.Function(node.name)(arg)
    return ctx.leaf(node)


# ---------------------------------------------------------------- back to nodes


def _ones(ctx: _Context) -> Node:
    rows, cols = ctx.shape
    if cols.is_one:
        return Ones(rows, ctx.style)
    if rows.is_one:
        return transpose(Ones(cols, ctx.style))
    return mul(Ones(rows, ctx.style), transpose(Ones(cols, ctx.style)))


def _is_scalar_expr(expr: Any, ctx: _Context) -> bool:
    return all(s in ctx.back and ctx.back[s].is_scalar for s in expr.free_symbols)


def _from(expr: Any, ctx: _Context) -> Node:
    sp = ctx.sp
    if expr in ctx.back and not ctx.back[expr].is_scalar:
        return ctx.back[expr]
    if _is_scalar_expr(expr, ctx):  # a number or a scalar coefficient alone: times the ones
        if expr == 0:
            return Zero(*ctx.shape, ctx.style)
        return mul(_scalar(expr, ctx), _ones(ctx))
    if expr.is_Add:  # positive terms first: σ(u) - y, not -y + σ(u)
        terms = sorted(expr.args, key=lambda a: a.could_extract_minus_sign())
        return add(*(_from(a, ctx) for a in terms))
    if expr.is_Mul:
        scalars = [a for a in expr.args if _is_scalar_expr(a, ctx)]
        rest = [a for a in expr.args if not _is_scalar_expr(a, ctx)]
        coefficient = [_scalar(a, ctx) for a in scalars]
        parts = [_from(a, ctx) for a in rest]
        node = parts[0]
        for part in parts[1:]:
            node = Hadamard(node, part)
        return mul(*coefficient, node)
    if expr.is_Pow:
        base, k = expr.args
        if not k.is_Rational:
            raise _Unmappable(expr)
        exponent = Fraction(int(k.p), int(k.q))
        if isinstance(base, sp.exp):
            return Func("exp", _from(k * base.args[0], ctx))
        return HadamardPower(_from(base, ctx), exponent)
    if isinstance(expr, sp.Function) or isinstance(expr, (sp.exp, sp.log)):
        name = type(expr).__name__
        if name == "log":
            name = ctx.log_name
        if name == "sigma_s":
            return Func("sigma", _from(expr.args[0], ctx))
        if name == "sigma_ps":
            return Func("sigma_p", _from(expr.args[0], ctx))
        return Func(name, _from(expr.args[0], ctx))
    raise _Unmappable(expr)


def _scalar(expr: Any, ctx: _Context) -> Node:
    try:
        return _scalar_from_sympy(expr, ctx.back, ctx.sp)
    except (ValueError, TypeError) as exc:
        raise _Unmappable(expr) from exc


# ---------------------------------------------------------------- the logistic form


def _logistic_form(expr: Any, sp: Any) -> Any | None:
    """``expr`` with every ``exp(a)`` written through ``s = σ(a)``, or None when none occurs."""
    exps = sorted(expr.atoms(sp.exp), key=sp.default_sort_key)
    if not exps:
        return None
    sigma_s = sp.Function("sigma_s")
    sigma_ps = sp.Function("sigma_ps")
    out = expr
    for e in exps:
        a = e.args[0]
        s = sp.Dummy("s")
        out = out.xreplace({e: s / (1 - s)}) if e in out.atoms(sp.exp) else out
        out = sp.factor(sp.cancel(sp.together(out)))
        out = _pair_sigma_prime(out, s, sp)
        out = out.xreplace({s: sigma_s(a), sp.Symbol("_sp_" + s.name): sigma_ps(a)})
    return out


def _pair_sigma_prime(expr: Any, s: Any, sp: Any) -> Any:
    """``s^i (1 - s)^j`` -> ``σ'^{min(i, j)}`` times what is left (σ' = σ(1 - σ))."""
    if not expr.is_Mul and not expr.is_Pow:
        return expr
    factors = sp.Mul.make_args(expr)
    k_s = 0
    k_1s = 0
    sign = 1
    rest = []
    for f in factors:
        base, k = f.as_base_exp()
        if base == s and k.is_Integer and k > 0:
            k_s += int(k)
        elif base == 1 - s and k.is_Integer and k > 0:
            k_1s += int(k)
        elif base == s - 1 and k.is_Integer and k > 0:
            k_1s += int(k)
            sign *= (-1) ** int(k)
        else:
            rest.append(f)
    pairs = min(k_s, k_1s)
    if pairs == 0:
        return expr
    prime = sp.Symbol("_sp_" + s.name)
    return sign * sp.Mul(*rest) * prime**pairs * s ** (k_s - pairs) * (1 - s) ** (k_1s - pairs)


# ---------------------------------------------------------------- the rule


def _size(node: Node) -> int:
    """Nodes written; the all-ones matrix 1 1^T counts as one, a sign or number as nothing."""
    if is_all_ones(node):
        return 1
    if isinstance(node, Num):
        return 0
    if isinstance(node, Mul) and sum(not isinstance(f, Num) for f in node.factors) == 1:
        return sum(_size(k) for k in node.children())
    return 1 + sum(_size(k) for k in node.children())


def _exp_count(node: Node) -> int:
    return sum(1 for n in node.walk() if isinstance(n, Func) and n.name == "exp")


def _simplified(node: Node) -> Node | None:
    """The shortest form sympy finds for ``node``, or None when it is not shorter; remembered per
    process for the tree *and its notation* (nodes compare equal however the author wrote I, 1, 0
    or the Hadamard product, and one directive's spelling must not leak into another's rows)."""
    return _simplified_as_written(node, _notation(node))


def _notation(node: Node) -> tuple[tuple[str, object, object, object], ...]:
    """What the tree's equality leaves out: each node's style, Hadamard symbol and size display."""
    return tuple((type(n).__name__, getattr(n, "style", None), getattr(n, "op", None), getattr(n, "sized", None))
                 for n in node.walk())


@lru_cache(maxsize=4096)
def _simplified_as_written(node: Node, notation: tuple[tuple[str, object, object, object], ...]) -> Node | None:
    import sympy as sp

    ctx = _Context(sp, node.shape)
    ctx.style = bold_style([node])
    try:
        expr = _to(node, ctx)
    except (ValueError, TypeError):
        return None
    simple = sp.factor(sp.cancel(sp.together(expr)))
    candidates = [simple, sp.expand(expr)]
    logistic = _logistic_form(simple, sp)
    if logistic is not None:  # factored (σ' pairs) and expanded (1 - σ, not -(σ - 1))
        candidates[:0] = [logistic, sp.expand(logistic)]
    best: Node | None = None
    for candidate in candidates:
        try:
            rebuilt = _from(candidate, ctx)
        except (_Unmappable, ValueError, TypeError, AttributeError):
            continue
        if rebuilt.shape != node.shape:
            continue
        key = (_size(rebuilt), _exp_count(rebuilt))
        if best is None or key < (_size(best), _exp_count(best)):
            best = rebuilt
    if best is None or (_size(best), _exp_count(best)) >= (_size(node), _exp_count(node)):
        return None
    return best


def _vec_sum(node: Node) -> Node | None:
    """``a vec(A) + b vec(B)`` as the matrix ``a A + b B`` (vec is taken entry by entry)."""
    if not isinstance(node, Add):
        return None
    parts = []
    for term in node.terms:
        scalars = [f for f in term.factors if f.is_scalar] if isinstance(term, Mul) else []
        body = [f for f in term.factors if not f.is_scalar] if isinstance(term, Mul) else [term]
        if len(body) != 1 or not isinstance(body[0], Vec):
            return None
        parts.append(mul(*scalars, body[0].arg))
    if len({p.shape for p in parts}) != 1:
        return None
    return add(*parts)


def _transposed(node: Node) -> Node:
    """``node^T`` with the transpose taken entry by entry down to the opaque pieces."""
    from .simplify import simplify

    if isinstance(node, Hadamard):
        return Hadamard(_transposed(node.left), _transposed(node.right))
    if isinstance(node, HadamardPower):
        return HadamardPower(_transposed(node.arg), node.exponent)
    if isinstance(node, Func):
        return Func(node.name, _transposed(node.arg))
    if isinstance(node, Add):
        return add(*(_transposed(t) for t in node.terms))
    if isinstance(node, Transpose):
        return node.arg
    if isinstance(node, Mul) and _scaled_elementwise(node):
        return mul(*(f if f.is_scalar else _transposed(f) for f in node.factors))
    return simplify(Transpose(node))


def _transposes(node: Node) -> int:
    return sum(1 for n in node.walk() if isinstance(n, Transpose))


def _pull_transpose(node: Node) -> Node | None:
    """``σ(w^T X^T) - y^T`` as ``(σ(Xw) - y)^T``: one transpose outside instead of one per piece."""
    if node.is_scalar or _transposes(node) < 2:
        return None
    inner = _transposed(node)
    if _transposes(inner) + 1 >= _transposes(node):
        return None
    simpler = _simplified(inner) if not _trivial(inner) else None
    return Transpose(simpler if simpler is not None else inner)


def _trivial(node: Node) -> bool:
    """Nothing to simplify: f(U), U^{∘k}, U ⊙ V of opaque pieces (saves a sympy call)."""
    if isinstance(node, (Func, HadamardPower)):
        return not is_elementwise(node.arg) and not isinstance(node.arg, Ones)
    if isinstance(node, Hadamard):
        sides = (node.left, node.right)
        return node.left != node.right and not any(is_elementwise(s) or isinstance(s, (Ones, Transpose)) for s in sides)
    return False


@register(
    "simplify",
    note="simplify",
    example=(r"\boldsymbol{1}^{\top}\log(\boldsymbol{1} + \exp(\boldsymbol{A}\boldsymbol{x}))", r"\boldsymbol{x}"),
)
def simplify_elementwise(node: Node) -> Node:
    """An element-wise expression is a scalar one entry by entry: cancel and factor it with sympy (e^u ⊙ (1 + e^u)^{∘-1} = σ(u))"""
    if isinstance(node, Transpose) and is_elementwise(node.arg):
        inner = simplify_elementwise(node.arg)
        return node if inner is node.arg else Transpose(inner)
    if is_elementwise(node):
        pulled = _pull_transpose(node)
        if pulled is not None:
            return pulled
    inner = _vec_sum(node)
    if inner is not None and is_elementwise(inner) and not _trivial(inner):
        out = _simplified(inner)
        return node if out is None else Vec(out)
    if is_elementwise(node) and not _trivial(node):
        out = _simplified(node)
        return node if out is None else out
    return map_children(node, simplify_elementwise)


__all__ = ["is_elementwise", "simplify_elementwise"]
