"""derive(): read F and X, run a derivation script, check the result, return the steps.

A script chooses how a derivative is presented; the rules in :mod:`matdiff_tex.rules`
do the mathematics.  Scripts:

* ``sandwich`` — F a product of constants and copies of a matrix X (seeds 002, 000):
  vectorize, insert identities, open each "夹层饼" with vec(AXB) = (B^T ⊗ A) vec(X);
* ``trace`` — scalar f (seeds 001, 004): the differential, the trace trick, read off
  df = tr(G dX);
* ``vectorize`` — vector or matrix F: the differential, vectorized layer by layer,
  read off vec(dF) = M vec(dX);
* ``hessian`` — the gradient by ``trace``, then the gradient differentiated again.

Every result is checked numerically by :mod:`matdiff_tex.check.verify` before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import AbstractSet, Any, Iterable, Mapping, Sequence

from .derivation import Derivation, Step
from .spelling import keep_spelling, restyled
from .errors import MatdiffError, UnsupportedError
from .shorten import drop_repeated_rows, merge_trivial_steps, name_function, name_repeats
from .expr.dims import Dim
from .expr.nodes import (
    Hadamard,
    Identity,
    Colored,
    Differential,
    Expm,
    Kron,
    Mul,
    Node,
    Num,
    Partial,
    Power,
    Sym,
    SymbolicPower,
    Trace,
    Transpose,
    Vec,
    Vech,
    Zero,
)
from .rules.build import add, depends_on, identity, is_zero, mul, num, transpose, zero_like
from .expr.writer import to_latex
from .rules.differential import expand_once, is_expanded
from .rules.linear import (
    TermState,
    collect_like_terms,
    initial_state,
    linear_terms,
    peel_trace,
    peel_vec,
    trace_display,
    trace_gradient,
    vec_derivative,
    vec_display,
)
from .rules import powers
from .rules.elementwise import simplify_elementwise
from .rules.scalars import simplify_scalars
from .rules.simplify import simplify as _simplify
from .rules.assumptions import Assumption, classify, replace_subtree, use_assumption
from .rules.symmetric import (absorb_projection, by_vech, distribute_number, drop_symmetric_transposes, gradient_row, hessian_by_vech,
                              restrict_to_symmetric, symmetric_part)


def simplify(node: Node) -> Node:
    """The rule-based simplification, then sympy on the scalar coefficients and element-wise parts."""
    return _simplify(simplify_elementwise(simplify_scalars(_simplify(node))))

LAYOUTS = ("numerator", "denominator")
METHODS = ("integral", "series")  # e^{X}: the one-line integral rule, or seed 000's power series
COLORS = ("red", "blue", "teal", "orange", "purple", "magenta", "brown", "olive")
NOTE_PRIORITY = (
    "norm_l1",  # carries its condition of validity: never hidden behind another note
    "product_rule",
    "chain_rule",
    "elementwise",
    "differential",
    "d_inverse",
    "d_det",
    "d_logdet",
    "d_norm",
    "d_normsq",
    "d_expm",
    "hadamard_trace",
    "transpose_trace",
    "transpose_scalar",
    "cyclic",
    "kron_vec",
    "hadamard_vec",
    "commutation",
    "expand_sandwich",
    "trace_trick",
    "kron_trace",
    "diag_vector",
    "scalar_factor",
    "vec_of_vector",
    "trace_linearity",
    "vec_linearity",
    "linearity",
)


@dataclass
class Lines:
    """The steps of a derivation as they are written."""

    x: Sym
    steps: list[Step] = field(default_factory=list)
    method: str = "integral"  # how dF of F = e^{X} is written: the integral rule, or seed 000's series

    def add(self, expr: Node, rule: str, note: str | None = None, *, lhs: Node | None = None, var: bool = False,
            args: tuple[tuple[str, Node], ...] = ()) -> None:
        """Append a line (one printed like the line before is left out afterwards: drop_repeated_rows)."""
        args = ((("var", self.x),) if var else ()) + args
        self.steps.append(Step(expr=expr, rule=rule, note=note, note_args=args, lhs=lhs))


def _pick_note(notes: list[str | None]) -> str | None:
    present = [n for n in notes if n]
    for key in NOTE_PRIORITY:
        if key in present:
            return key
    return present[0] if present else None


# ---------------------------------------------------------------- shared pieces


def differential_lines(f: Node, x: Sym, lines: Lines, lhs: Node | None = None) -> Node:
    """Write dF = ... expanding one rule per line; return the expanded differential."""
    head = lhs if lhs is not None else Differential(f)
    if lines.method == "series" and isinstance(f, Expm) and f.arg == x:
        return series_differential_lines(f, x, lines, head)
    current: Node = Differential(f)
    if is_expanded(current, x):
        lines.add(current, "differential", "differential", lhs=head)
        return current
    first = True
    while not is_expanded(current, x):
        used: list[str] = []
        current = expand_once(current, x, used)
        note = _pick_note(used)
        lines.add(current, "differential", note, lhs=head if first else None, var=note == "product_rule")
        first = False
    return current


def series_differential_lines(f: Expm, x: Sym, lines: Lines, head: Node) -> Node:
    """``method=series`` (seed 000): d e^{X} from the power series, re-indexed, through the Beta
    integral to ∫_0^1 e^{sX} dX e^{(1-s)X} ds, the integral rule's differential, which is returned."""
    for i, (expr, note) in enumerate(powers.series_rows(x, Differential(x), f)):
        lines.add(expr, "differential", note, lhs=head if i == 0 else None, var=note == "expm_series")
    expanded = expand_once(Differential(f), x, [])  # d_matrix_exponential: the same s, the same form
    lines.add(expanded, "differential", "expm_series_sum")
    return expanded


def _peel_all(states: list[TermState], x: Sym, peel, display, lines: Lines, rule: str) -> list[TermState]:
    while not all(s.done(x) for s in states):
        results = [peel(s, x) for s in states]
        states = [s for s, _ in results]
        lines.add(add(*(display(s, x) for s in states)), rule, _pick_note([n for _, n in results]))
    return states


def trace_derivative(f: Node, x: Sym, lines: Lines, lhs: Node | None = None) -> Node:
    """Lines of the trace trick for scalar f; returns the numerator-layout derivative (unsimplified)."""
    expanded = differential_lines(f, x, lines, lhs)
    states = [initial_state(t) for t in linear_terms(expanded)]
    if not states:  # the differential vanished (X^0, tr(X) - tr(X), ...)
        return _vanished(f, x, lines)
    like = None if x.cols.is_one else collect_like_terms(states, x)
    if like is not None:  # like terms L_i dX R collected first: the trace trick then moves one term
        left = simplify(like[0])
        term = num(0) if is_zero(left) else mul(left, Differential(x), *like[1])
        lines.add(term, "collect", "collect")
        if is_zero(left):
            return _vanished(f, x, lines)
        states = [initial_state(term)]
    if not x.cols.is_one:  # tr of the scalar df, or tr(A + B) split into tr(A) + tr(B)
        note = "trace_linearity" if isinstance(expanded, Trace) else "trace_trick"
        lines.add(add(*(trace_display(s, x) for s in states)), "trace", note)
    states = _peel_all(states, x, peel_trace, trace_display, lines, "trace")
    gradient = simplify(add(*(trace_gradient(s, x) for s in states)))
    collected = mul(gradient, Differential(x))
    if is_zero(gradient):  # the terms cancel: df = 0, not tr(0 dX)
        collected = num(0)
    lines.add(collected if x.cols.is_one or collected.is_scalar else Trace(collected), "collect",
              _collect_note(states, gradient, lines))
    return gradient


def _vanished(f: Node, x: Sym, lines: Lines) -> Node:
    """The differential vanished (its last row says so): the numerator-layout zero, which the caller
    writes in the directive's layout (a ∂F/∂X row here would assert the numerator shape)."""
    return Zero(*_numerator_shape(f, x), x.style)


def _collect_note(states: list[TermState], matrix: Node, lines: Lines) -> str:
    """Like terms collected; an identity written in (dX = I dX); a scalar taken into the trace; else 化简."""
    if len(states) > 1:
        return "collect"
    before = lines.steps[-1].expr if lines.steps else None
    if _identity_in(matrix) and before is not None and not _identity_in(before):
        return "insert_identity"
    if isinstance(before, Mul) and any(isinstance(f, Trace) for f in before.factors) and not isinstance(matrix, Identity):
        return "trace_linearity"  # c tr(M dX) = tr(c M dX)
    return "simplify"


def _identity_in(node: Node) -> bool:
    return any(isinstance(n, Identity) for n in node.walk())


def vec_derivative_lines(f: Node, x: Sym, lines: Lines, lhs: Node | None = None, vec_lhs: Node | None = None) -> Node:
    """Lines of the vectorization for matrix F; returns d vec F / d (vec X)^T (simplified)."""
    expanded = differential_lines(f, x, lines, lhs)
    states = [initial_state(t) for t in linear_terms(expanded)]
    if not states:
        return _vanished(f, x, lines)
    if not f.cols.is_one:  # vec of a column vector is the vector itself: no line needed
        head = vec_lhs if vec_lhs is not None else Vec(Differential(f))
        lines.add(add(*(vec_display(s, x) for s in states)), "vectorize", "vectorize_both", lhs=head)
    states = _peel_all(states, x, peel_vec, vec_display, lines, "vectorize")
    matrix = simplify(add(*(vec_derivative(s, x) for s in states)))
    lines.add(mul(matrix, _vec_dx(x)), "collect", _collect_note(states, matrix, lines))
    return matrix


def _vec_dx(x: Sym) -> Node:
    return Differential(x) if x.cols.is_one else Vec(Differential(x))


# ---------------------------------------------------------------- scripts


def script_zero(f: Node, x: Sym, layout: str, lines: Lines) -> Node:
    """X does not occur in F: the derivative is a zero matrix of the right size."""
    rows, cols = _numerator_shape(f, x)
    result = Zero(rows, cols, x.style) if layout == "numerator" else Zero(cols, rows, x.style)
    lines.add(result, "zero", "zero", lhs=Partial(f, x), var=True)
    return result


def script_trace(f: Node, x: Sym, layout: str, lines: Lines) -> Node:
    """Scalar f: differential, trace trick, identification."""
    gradient = trace_derivative(f, x, lines)
    result = gradient if layout == "numerator" else simplify(transpose(gradient))
    lines.add(result, "identify", "identify", lhs=Partial(f, x))
    return result


def script_vectorize(f: Node, x: Sym, layout: str, lines: Lines) -> Node:
    """Vector or matrix F: differential, vectorization, identification."""
    matrix = vec_derivative_lines(f, x, lines)
    result = matrix if layout == "numerator" else simplify(transpose(matrix))
    lines.add(result, "identify", "identify", lhs=Partial(f, x))
    return result


def by_scalar_lines(f: Node, t: Sym, lines: Lines, lhs: Node | None = None) -> Node:
    """dF = M dt for a scalar variable t: the differential, then its coefficient M = dF/dt (F's shape)."""
    expanded = differential_lines(f, t, lines, lhs)
    coefficient = simplify(replace_subtree(expanded, Differential(t), Num(Fraction(1))))
    if is_zero(coefficient):
        coefficient = zero_like(f, t.style if t.style != "plain" else "boldsymbol")
    lines.add(mul(coefficient, Differential(t)), "collect", "simplify")
    return coefficient


def script_by_scalar(f: Node, t: Sym, layout: str, lines: Lines) -> Node:
    """Derivative by a scalar t: dF/dt has F's shape; in denominator layout a column vector's is a row."""
    row = layout == "denominator" and f.cols.is_one and not f.is_scalar
    if not depends_on(f, t):
        zero = zero_like(transpose(f) if row else f, "boldsymbol")
        lines.add(zero, "zero", "zero", lhs=Partial(f, t), var=True)
        return zero
    coefficient = by_scalar_lines(f, t, lines)
    result = simplify(transpose(coefficient)) if row else coefficient
    lines.add(result, "identify", "identify", lhs=Partial(f, t))
    return result


def script_second_by_scalar(f: Node, t: Sym, lines: Lines) -> Node:
    """d²f/dt² of a scalar f: df/dt, then its derivative by t."""
    if not depends_on(f, t):
        lines.add(Num(Fraction(0)), "zero", "zero", lhs=Partial(f, t, t), var=True)
        return Num(Fraction(0))
    first = by_scalar_lines(f, t, lines)
    head = Partial(f, t)
    lines.add(first, "identify", "gradient", lhs=head)
    if not depends_on(first, t):
        result: Node = Num(Fraction(0))
        lines.add(result, "zero", "zero", lhs=Partial(f, t, t), var=True)
        return result
    second = by_scalar_lines(first, t, lines, lhs=Differential(head))
    lines.add(second, "identify", "hessian", lhs=Partial(f, t, t))
    return second


def sandwich_factors(f: Node, x: Sym) -> list[Node] | None:
    """F as a list of constant factors and copies of X, when it is such a product."""
    if x.cols.is_one or x.rows.is_one or f.is_scalar:
        return None
    factors = list(f.factors) if isinstance(f, Mul) else [f]
    out: list[Node] = []
    for factor in factors:
        if factor == x:
            out.append(factor)
        elif isinstance(factor, Power) and factor.arg == x and factor.exponent.denominator == 1 and 2 <= factor.exponent <= 8:
            out.extend([x] * int(factor.exponent))
        elif factor.is_scalar or depends_on(factor, x):
            return None
        else:
            out.append(factor)
    return out if any(f_ == x for f_ in out) else None


def script_sandwich(f: Node, x: Sym, layout: str, lines: Lines, factors: list[Node]) -> Node:
    """Seed 002/000: vec both sides, insert identities, open each sandwich, sum."""
    positions = [i for i, factor in enumerate(factors) if factor == x]
    vec_x = Vec(x)
    lines.add(Partial(Vec(mul(*factors)), vec_x), "vectorize", "vectorize", lhs=Partial(f, x))
    several = len(positions) > 1

    def colored(i: int) -> Node:
        return Colored(x, COLORS[positions.index(i) % len(COLORS)]) if several else x

    def sandwich_parts(i: int) -> tuple[Node, Node]:
        left = mul(*factors[:i]) if i > 0 else identity(x.rows, x.style)
        right = mul(*factors[i + 1 :]) if i + 1 < len(factors) else identity(x.cols, x.style)
        return left, right

    if several:
        lines.add(
            add(*(Partial(Vec(mul(*factors[:i], colored(i), *factors[i + 1 :])), Vec(colored(i))) for i in positions)),
            "product_rule",
            "product_rule",
            var=True,
        )
    sandwiches = []
    krons = []
    for i in positions:
        left, right = sandwich_parts(i)
        sandwiches.append(Partial(Vec(mul(left, colored(i), right)), Vec(colored(i))))
        krons.append(Kron(Transpose(right), left))
    lines.add(add(*sandwiches), "sandwich", "sandwich")
    lines.add(
        add(*(Partial(mul(k, Vec(colored(i))), Vec(colored(i))) for k, i in zip(krons, positions))),
        "separate",
        "separate_var" if not several else "expand_sandwich",
        var=not several,
    )
    unsimplified = add(*krons)
    if layout == "numerator":
        lines.add(unsimplified, "identify", None)
    else:  # ∂(M vec X)/∂ vec X is M^T in denominator layout: every row of the chain means that layout
        unsimplified = Transpose(unsimplified)
        lines.add(unsimplified, "identify", "layout_transpose")
    result = simplify(unsimplified)
    lines.add(result, "simplify", "simplify")
    return result


def power_of_variable(f: Node, x: Sym) -> tuple[list[Node], SymbolicPower, list[Node]] | None:
    """(L, X^{n}, R) when F is L X^{n} R: a symbolic power of the matrix variable between constants."""
    if x.cols.is_one:
        return None
    factors = list(f.factors) if isinstance(f, Mul) else [f]
    places = [i for i, g in enumerate(factors) if isinstance(g, SymbolicPower) and g.arg == x]
    if len(places) != 1 or any(depends_on(g, x) for i, g in enumerate(factors) if i != places[0]):
        return None
    i = places[0]
    return factors[:i], factors[i], factors[i + 1 :]  # type: ignore[return-value]


def _pattern_rows(node: SymbolicPower, x: Sym, layout: str, lines: Lines) -> None:
    """Seed 000's pattern: ∂X²/∂X and ∂X³/∂X written out, Σ_k (X^k)^T ⊗ X^{m-1-k} for m = 2, 3."""
    if not isinstance(node.exponent, Sym):
        return
    for m in (2, 3):
        terms = []
        for k in range(m):
            left, right = Transpose(Power(x, Fraction(k))), Power(x, Fraction(m - 1 - k))
            terms.append(Kron(left, right) if layout == "numerator" else Kron(left.arg, Transpose(right)))
        lines.steps.append(Step(expr=add(*terms), rule="power_pattern", note="power_pattern",
                                note_args=(("power", node.exponent), ("value", num(m)), ("var", x)),
                                lhs=Partial(Power(x, Fraction(m)), x)))


def script_symbolic_power(f: Node, x: Sym, layout: str, lines: Lines,
                          parts: tuple[list[Node], SymbolicPower, list[Node]]) -> Node:
    """Seed 000: ∂X^n/∂X — the pattern at n = 2, 3, then the product rule over the n copies of X in
    one sum, each sandwich opened: Σ_{k=0}^{n-1} (X^T)^k ⊗ X^{n-1-k} (numerator layout); between
    constants, ∂(L X^n R)/∂X = Σ_k R^T (X^T)^k ⊗ L X^{n-1-k}."""
    outer_left, node, outer_right = parts
    if not outer_left and not outer_right:
        _pattern_rows(node, x, layout, lines)
    n = node.exponent
    k = powers.fresh_index(f)
    copy = Colored(x, COLORS[0])
    left = mul(*outer_left, powers.power(x, powers.shifted(n, -1, minus=k)))
    right = mul(powers.power(x, k), *outer_right)
    lines.add(Partial(Vec(f), Vec(x)), "vectorize", "vectorize", lhs=Partial(f, x))
    lines.add(powers.upto(n, k, Partial(Vec(mul(left, copy, right)), Vec(copy))), "product_rule",
              "product_rule_n", var=True, args=(("power", n),))
    kron = powers.sandwich_term(left, right)
    lines.add(powers.upto(n, k, Partial(mul(kron, Vec(copy)), Vec(copy))), "separate", "expand_sandwich")
    if layout == "numerator":
        lines.add(powers.upto(n, k, kron), "identify", None)
        result = powers.upto(n, k, Kron(powers.transposed(right), left))
    else:  # ∂(M vec X)/∂ vec X is M^T in denominator layout; (P ⊗ Q)^T = P^T ⊗ Q^T term by term
        lines.add(Transpose(powers.upto(n, k, kron)), "identify", "layout_transpose")
        lines.add(powers.upto(n, k, Kron(right, Transpose(left))), "identify", "kron_transpose")
        result = powers.upto(n, k, Kron(right, powers.transposed(left)))
    lines.add(result, "simplify", "power_transpose")
    return result


def script_trace_power(f: Node, x: Sym, layout: str, lines: Lines,
                       parts: tuple[list[Node], SymbolicPower, list[Node]]) -> Node:
    """tr(X^n): d tr(X^n) = Σ_k tr(X^{n-1-k} dX X^k) = n tr(X^{n-1} dX), so ∂/∂X = n X^{n-1}
    (numerator layout; n (X^{n-1})^T in denominator layout).  tr(L X^n R): the sum stays,
    ∂/∂X = Σ_k X^k R L X^{n-1-k} (numerator layout)."""
    outer_left, node, outer_right = parts
    n = node.exponent
    k = powers.fresh_index(f)
    dx = Differential(x)
    left, right = powers.power(x, powers.shifted(n, -1, minus=k)), powers.power(x, k)
    style = f.style  # type: ignore[attr-defined]
    lines.add(Trace(mul(*outer_left, Differential(node), *outer_right), style), "differential", "linearity",
              lhs=Differential(f))
    lines.add(Trace(mul(*outer_left, powers.upto(n, k, mul(left, dx, right)), *outer_right), style),
              "differential", "product_rule", var=True)
    lines.add(powers.upto(n, k, Trace(mul(*outer_left, left, dx, right, *outer_right), style)), "trace",
              "trace_linearity")
    lines.add(powers.upto(n, k, Trace(mul(right, *outer_right, *outer_left, left, dx), style)), "trace", "cyclic")
    if outer_left or outer_right:
        gradient = mul(right, *outer_right, *outer_left, left)  # numerator layout: G with df = tr(G dX)
        result = powers.upto(n, k, gradient if layout == "numerator" else powers.transposed(gradient))
        lines.add(result, "identify", "identify", lhs=Partial(f, x))
        return result
    whole = powers.power(x, powers.shifted(n, -1))
    same = powers.upto(n, k, Trace(mul(whole, dx), style))
    lines.add(same, "trace", "power_product")
    counted = powers.sum_of_constant(same)
    assert counted is not None
    lines.add(counted, "collect", "sum_constant")
    result = mul(n, whole) if layout == "numerator" else mul(n, Transpose(whole))
    lines.add(result, "identify", "identify", lhs=Partial(f, x))
    return result


def refuse_symbolic_powers(f: Node, x: Sym) -> None:
    """A symbolic power of an expression in X anywhere else is declined with a clear message."""
    for node in f.walk():
        if isinstance(node, SymbolicPower) and depends_on(node.arg, x):
            raise UnsupportedError(
                f"a symbolic power {to_latex(node)} of an expression in the variable is differentiated only as "
                "L X^{n} R and tr(L X^{n} R) with constant L, R (first derivatives, X not symmetric), e.g. "
                "\\deriv<\\boldsymbol{X}^{n}><\\boldsymbol{X}>; write a number for the exponent otherwise", field="F")


def script_hessian(f: Node, x: Sym, layout: str, lines: Lines) -> Node:
    """The gradient by the trace trick, then its differential vectorized: H = d vec(∇f) / d (vec X)^T.

    The gradient line is ∂f/∂X in ``layout``; in numerator layout that is ∇f^T, so the
    differential taken next is that of (∂f/∂X)^T = ∇f.  (A symmetric X: :func:`script_symmetric_hessian`.)"""
    gradient_num = trace_derivative(f, x, lines)
    gradient = simplify(transpose(gradient_num))
    partial = Partial(f, x)
    lines.add(gradient_num if layout == "numerator" else gradient, "identify", "gradient", lhs=partial)
    grad_head = Transpose(partial) if layout == "numerator" else partial
    den = x if x.cols.is_one else Vec(x)
    hess_head = Partial(f, den, transpose(den))
    size = x.rows * x.cols
    if not depends_on(gradient, x):
        result: Node = Zero(size, size, x.style)
        lines.add(result, "zero", "zero", lhs=hess_head, var=True)
        return result
    vec_head = Differential(grad_head) if x.cols.is_one else Vec(Differential(grad_head))
    matrix = vec_derivative_lines(gradient, x, lines, lhs=Differential(grad_head), vec_lhs=vec_head)
    lines.add(matrix, "identify", "hessian", lhs=hess_head)
    return matrix


def _symmetric_values(node: Node, names: frozenset[str]) -> Node:
    """``node`` with S^T = S for every symmetric S, and 1/2 (2A + 2B) written A + B."""
    reduced = simplify(drop_symmetric_transposes(node, names))
    spread = simplify(distribute_number(reduced))
    return spread if len(str(spread)) < len(str(reduced)) else reduced


def script_symmetric_hessian(f: Node, x: Sym, lines: Lines, names: frozenset[str], restrict: bool = True) -> Node:
    """The Hessian by a symmetric X: G_s = (G + G^T)/2, then H_s = d vec(G_s) / d (vec X)^T (I + K)/2.

    H_s = P H P with P = (I + K)/2 the projection onto symmetric directions: the matrix of the second
    differential d²f = vec(dX)^T H_s vec(dX) for symmetric dX that maps symmetric directions to
    symmetric ones and vanishes on antisymmetric ones (the same in both layouts)."""
    gradient = simplify(transpose(trace_derivative(f, x, lines)))
    partial = Partial(f, x)
    raw = symmetric_part(gradient, simplify(transpose(gradient)))
    lines.add(raw, "symmetric", "symmetric_gradient", lhs=partial, var=True)
    gradient_s = _symmetric_values(simplify(raw), names)
    lines.add(gradient_s, "symmetric", "symmetric_values")
    hess_head = Partial(f, Vec(x), transpose(Vec(x)))
    size = x.rows * x.cols
    if not depends_on(gradient_s, x):
        result: Node = Zero(size, size, x.style)
        lines.add(result, "zero", "zero", lhs=hess_head, var=True)
        return result
    matrix = vec_derivative_lines(gradient_s, x, lines, lhs=Differential(partial), vec_lhs=Vec(Differential(partial)))
    if not restrict:  # by vech(X): D^T J D, with D = P D (see vech_lines)
        return matrix
    raw_h = restrict_to_symmetric(matrix, x)
    lines.add(raw_h, "symmetric", "symmetric_jacobian", lhs=hess_head, var=True)
    result = _symmetric_values(simplify(raw_h), names)
    lines.add(result, "symmetric", "symmetric_values")
    return result


def symmetric_lines(f: Node, x: Sym, result: Node, layout: str, order: int, names: frozenset[str],
                    lines: Lines) -> Node:
    """Symmetric matrices: the derivative along symmetric directions of X, transposes that vanish.

    With X symmetric, ``df = tr(M dX)`` for symmetric dX fixes only the symmetric part of the
    gradient: the last line (read off for an unconstrained X) is replaced by ``(G + G^T)/2``
    (``J (I + K)/2`` for vector or matrix F).  Then ``S^T = S`` is used for every symmetric S.
    """
    if x.name in names and depends_on(f, x) and order == 1:
        if lines.steps and lines.steps[-1].rule == "identify" and lines.steps[-1].lhs is not None:
            lines.steps.pop()
        if f.is_scalar:
            gradient = result if layout == "denominator" else simplify(transpose(result))
            raw = symmetric_part(gradient, simplify(transpose(gradient)))
            lines.add(raw, "symmetric", "symmetric_gradient", lhs=Partial(f, x), var=True)
            result = simplify(raw)
        else:
            jacobian = result if layout == "numerator" else simplify(transpose(result))
            raw = restrict_to_symmetric(jacobian, x)
            raw = raw if layout == "numerator" else transpose(raw)
            lines.add(raw, "symmetric", "symmetric_jacobian", lhs=Partial(f, x), var=True)
            result = simplify(raw)
    reduced = _symmetric_values(result, names)  # 1/2 (2A + 2B) -> A + B, but 1/2 (A + B) stays
    if lines.steps and reduced != lines.steps[-1].expr:
        lines.add(reduced, "symmetric", "symmetric_values")
    return reduced


def vech_lines(f: Node, x: Sym, result: Node, layout: str, order: int, names: frozenset[str], lines: Lines) -> Node:
    """The derivative by vech(X) of a symmetric X (``vech=true``): vec(dX) = D_n vech(dX), so the
    Jacobian J (any one that is right along symmetric directions) becomes J D_n, a gradient G
    becomes vec(G)^T D_n (numerator layout; the transpose in denominator layout), a Hessian H
    becomes D_n^T H D_n (both layouts)."""
    last = lines.steps[-1] if lines.steps else None
    if last is not None and last.rule in ("identify", "zero") and isinstance(last.lhs, Partial) and order == 1:
        lines.steps.pop()  # ∂F/∂X for an unconstrained X: replaced by the derivative by vech(X)
    den = Vech(x)
    lhs = Partial(f, den, transpose(den)) if order == 2 else Partial(f, den)
    if order == 2:
        raw = hessian_by_vech(result, x)
        note = "vech_hessian"
    else:
        numerator = result if layout == "numerator" else simplify(transpose(result))
        if f.is_scalar:  # the numerator result is the gradient transposed
            numerator = gradient_row(simplify(transpose(numerator)))
        raw = by_vech(numerator, x)
        raw = raw if layout == "numerator" else transpose(raw)
        note = "vech_jacobian"
    if is_zero(result):
        zero = Zero(*simplify(raw).shape, x.style)
        lines.add(zero, "zero", "zero", lhs=lhs, var=True)
        return zero
    lines.add(raw, "symmetric", note, lhs=lhs, var=True)
    tidy = simplify(absorb_projection(simplify(raw)))
    lines.add(tidy, "simplify", "simplify")
    out = _symmetric_values(tidy, names)
    lines.add(out, "symmetric", "symmetric_values")
    return out


def _numerator_shape(f: Node, x: Sym) -> tuple[Dim, Dim]:
    if f.is_scalar:
        return (x.cols, x.rows) if not x.cols.is_one else (Dim(1), x.rows)
    return (f.rows * f.cols, x.rows * x.cols)


# ---------------------------------------------------------------- entry points


#: How many times the variable may occur in F (see :func:`derive_nodes`).
MAX_VARIABLE_COPIES = 24


def variable_copies(f: Node, x: Sym) -> int:
    """How many times X occurs in F, a factor repeated in one ⊙ chain counted once (the product
    rule takes it as U^{∘k}: one term, see :func:`matdiff_tex.rules.differential.d_hadamard`)."""
    from .rules.differential import hadamard_factors

    if isinstance(f, Sym):
        return int(f.name == x.name)
    if isinstance(f, Hadamard):
        return sum(variable_copies(factor, x) for factor in dict.fromkeys(hadamard_factors(f)))
    return sum(variable_copies(kid, x) for kid in f.children())


def derive_nodes(
    f: Node,
    x: Sym,
    *,
    layout: str = "numerator",
    order: int = 1,
    f_latex: str = "",
    x_latex: str = "",
    dims: Mapping[str, Any] | None = None,
    check: bool = True,
    symmetric: AbstractSet[str] = frozenset(),
    functions: Mapping[str, str] | None = None,
    assumptions: Sequence[Assumption] = (),
    vech: bool = False,
    method: str = "integral",
) -> Derivation:
    """Derive and check, on trees already read.

    ``symmetric`` names the symmetric matrices among F's symbols and X (see
    :mod:`matdiff_tex.rules.symmetric` for the convention).
    """
    present = {n.name for tree in (f, x) for n in tree.walk() if isinstance(n, Sym)}
    if vech:
        if x.cols.is_one or not x.is_square or not x.rows.is_atom:
            raise UnsupportedError(f"vech=true needs a square matrix variable with one size; {x_latex or x.name} is "
                                   f"{x.rows.latex()} x {x.cols.latex()}", field="X")
        symmetric = frozenset(symmetric) | {x.name}
    symmetric = frozenset(symmetric) & present
    if layout not in LAYOUTS:
        raise MatdiffError(f"unknown layout {layout!r}: use numerator or denominator")
    if order not in (1, 2):
        raise MatdiffError(f"order must be 1 (derivative) or 2 (Hessian), got {order!r}")
    if order == 2 and not f.is_scalar:
        raise UnsupportedError("a Hessian needs a scalar function f; this F is not 1x1", field="F")
    copies = variable_copies(f, x)
    if copies > MAX_VARIABLE_COPIES:
        # The product rule gives n terms of n factors on each of about 2n lines: time and output
        # grow with the cube of n, so a long chain would run for minutes and print megabytes.
        raise UnsupportedError(
            f"{x_latex or 'X'} occurs {copies} times in F; at most {MAX_VARIABLE_COPIES} copies are "
            "supported (each step of the product rule grows with the cube of that number): write "
            "repeated factors as a power (X^{k}, X^{\\circ k}) or name a part with a letter", field="F")
    if method not in METHODS:
        raise MatdiffError(f"unknown method {method!r}: use {' or '.join(METHODS)}")
    lines = Lines(x, method=method)
    if x.is_scalar or order == 2 or x.name in symmetric or not (
            power_of_variable(f, x) or (isinstance(f, Trace) and power_of_variable(f.arg, x))):
        refuse_symbolic_powers(f, x)
    if x.is_scalar:
        lhs = Partial(f, x, x) if order == 2 else Partial(f, x)
        result = script_second_by_scalar(f, x, lines) if order == 2 else script_by_scalar(f, x, layout, lines)
    elif order == 2:
        if x.name in symmetric:
            result = script_symmetric_hessian(f, x, lines, symmetric, restrict=not vech)
        else:
            result = script_hessian(f, x, layout, lines)
        lhs = Partial(f, x if x.cols.is_one else Vec(x), transpose(x if x.cols.is_one else Vec(x)))
    else:
        lhs = Partial(f, x)
        if not depends_on(f, x):
            result = script_zero(f, x, layout, lines)
        elif (parts := power_of_variable(f, x)) is not None and x.name not in symmetric:
            result = script_symbolic_power(f, x, layout, lines, parts)
        elif isinstance(f, Trace) and (parts := power_of_variable(f.arg, x)) is not None and x.name not in symmetric:
            result = script_trace_power(f, x, layout, lines, parts)
        elif f.is_scalar:
            result = script_trace(f, x, layout, lines)
        elif x.name not in symmetric and (factors := sandwich_factors(f, x)) is not None:
            result = script_sandwich(f, x, layout, lines, factors)
        else:
            result = script_vectorize(f, x, layout, lines)
    if symmetric and not vech:
        result = symmetric_lines(f, x, result, layout, order, symmetric, lines)
    if vech:
        result = vech_lines(f, x, result, layout, order, symmetric, lines)
        lhs = Partial(f, Vech(x), transpose(Vech(x))) if order == 2 else Partial(f, Vech(x))
    for assumption in assumptions:
        used = simplify(use_assumption(result, assumption))
        if used != result:
            result = used
            lines.steps.append(Step(expr=result, rule="assumption", note="where",
                                    note_args=(("var", assumption.lhs),)))
    # d(Xᵀ) = dXᵀ and the like merged, "记 f = ...": the rows are checked as they are printed
    steps = drop_repeated_rows(lines.steps)  # a rule that left the row as it was (its note would mislead)
    steps = name_repeats(name_function(merge_trivial_steps(steps, x), f, x, order), f, x)
    steps = keep_spelling(steps, f, f_latex)  # F as typed, \mathrm{tr} and \circ as typed
    steps = drop_repeated_rows(steps)  # and rows that names or the spelling printed alike
    if check:
        from .check.verify import check_derivative

        from .check.verify_steps import check_steps

        from .check.numeric import integer_points, random_functions, using_assumptions, using_functions, using_integers

        stated = [(a.kind, a.name, a.value) for a in assumptions]
        with using_functions(random_functions(functions or {})), using_assumptions(stated):  # points satisfy them
            for integers in integer_points(f):  # n in X^{n}: the same rows at n = 1, 2, 3, 5
                with using_integers(integers):
                    check_derivative(f, x, result, layout=layout, order=order, dims=dict(dims or {}),
                                     symmetric=symmetric, vech=vech)
                    check_steps(steps, x, layout=layout, symmetric=symmetric)
    shape = tuple(d.coeff if d.is_int else d.latex() for d in result.shape)
    lhs, result = restyled(lhs, f, f_latex), restyled(result, f, f_latex, as_typed=False)
    return Derivation(
        f_latex=f_latex,
        x_latex=x_latex,
        layout=layout,  # type: ignore[arg-type]
        order=order,
        lhs=lhs,
        result=result,
        steps=tuple(steps),
        shape=shape,  # type: ignore[arg-type]
        dims=dict(dims or {}),
        checked=check,
    )


def read_assumptions(texts: list[str], x: str, parsed: Any, shapes: Mapping[str, Any] | None,
                     symmetric: frozenset[str], functions: Mapping[str, str]) -> list[Assumption]:
    """``L = R`` texts read with the sizes F gave its symbols, and classified; an error is located at
    a directive's ``where=`` option (``exc.option``, see :mod:`matdiff_tex.document`)."""
    from .expr.reader import read_derivative_input

    sizes = {name: f"{sym.nrows.latex()} x {sym.ncols.latex()}" for name, sym in parsed.symbols.items()
             if all(d.is_int or d.is_atom for d in sym.shape)}
    out = []
    try:
        for text in texts:
            sides = text.split("=")
            if len(sides) != 2 or not all(side.strip() for side in sides):
                raise UnsupportedError(f"where: write an equation L = R, got {text.strip()}", field="F")
            read = [read_derivative_input(side, x, {**sizes, **(shapes or {})}, symmetric, functions).f
                    for side in sides]
            out.append(classify(read[0], read[1], text.strip(), parsed.x.name))
    except MatdiffError as exc:
        exc.option = "where"
        raise
    return out


FUNCTION_KINDS = ("scalar", "elementwise")


def function_kinds(functions: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    """``{r"\\ell": "scalar"}`` -> ``{"ell": "scalar"}``; MatdiffError for an unknown kind."""
    from .expr.shapes import symbol_key

    items = functions.items() if isinstance(functions, Mapping) else (functions or ())
    out: dict[str, str] = {}
    for name, kind in items:
        if kind not in FUNCTION_KINDS:
            raise MatdiffError(f"function {name}: the kind {kind!r} is not known; use scalar or elementwise")
        out[symbol_key(name)] = kind
    return out


def derive(
    f: str,
    x: str,
    *,
    layout: str = "numerator",
    shapes: Mapping[str, Any] | None = None,
    order: int = 1,
    symmetric: Iterable[str] = (),
    functions: Mapping[str, str] | None = None,
    where: Iterable[str] = (),
    vech: bool = False,
    method: str = "integral",
) -> Derivation:
    """Read ``f`` and ``x`` (LaTeX), derive, check, and return the derivation.

    ``method="series"`` differentiates ``e^{X}`` by X through its power series (seed 000) instead
    of the one-line integral rule.

    ``symmetric``: names of symmetric matrices (``{"X", "S"}``, ``\\boldsymbol{S}`` also accepted).
    ``functions``: abstract functions, ``{r"\\ell": "scalar", "f": "elementwise"}``.
    ``where``: stated assumptions, ``[r"\\boldsymbol{1}^{\\top}\\boldsymbol{y} = 1"]`` (see
    :mod:`matdiff_tex.rules.assumptions`).
    ``vech``: the derivative by vech(X) for a symmetric X (``J D_n``; see :mod:`matdiff_tex.rules.symmetric`).
    """
    from .expr.reader import read_derivative_input
    from .expr.shapes import symbol_key

    if layout not in LAYOUTS:
        raise MatdiffError(f"unknown layout {layout!r}: use numerator or denominator")
    if isinstance(symmetric, str):
        symmetric = [symmetric]
    names = frozenset(symbol_key(name) for name in symmetric)
    kinds = function_kinds(functions)
    parsed = read_derivative_input(f, x, shapes, names, kinds)
    if vech and parsed.x.name not in names:  # by vech(X): X is symmetric, read again as square
        if parsed.x.kind != "matrix":
            raise UnsupportedError(f"vech=true needs a square matrix variable; {x.strip()} is a {parsed.x.kind}",
                                   field="X", span=(len(x) - len(x.lstrip()), len(x.rstrip())))
        names = names | {parsed.x.name}
        parsed = read_derivative_input(f, x, shapes, names, kinds)
    stated = read_assumptions([where] if isinstance(where, str) else list(where), x, parsed, shapes, names, kinds)
    extra = {a.name for a in stated if a.kind == "symmetric"} - names
    if extra:  # A^T = A: a symmetric matrix, read again as square
        names = names | extra
        parsed = read_derivative_input(f, x, shapes, names, kinds)
    try:
        derivation = derive_nodes(parsed.f, parsed.x, layout=layout, order=order, f_latex=f, x_latex=x,
                                  dims=parsed.dims, symmetric=names, functions=kinds,
                                  assumptions=[a for a in stated if a.kind != "symmetric"], vech=vech,
                                  method=method)
    except OverflowError:  # 99999^{64} 99999^{64}: exact in the algebra, beyond float64 in the check
        raise UnsupportedError("a constant of this expression is too large to be checked numerically "
                               "(beyond floating point): scale it or name it with a letter", field="F") from None
    except UnsupportedError as exc:
        if exc.span is None:  # a structure the rules decline: point at F as a whole
            exc.field = exc.field or "F"
            source = f if exc.field == "F" else x
            exc.span = (len(source) - len(source.lstrip()), len(source.rstrip()))
        raise
    return replace(derivation, warnings=parsed.warnings) if parsed.warnings else derivation
