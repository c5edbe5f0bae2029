"""Numeric evaluation of expression trees with numpy — the engine of ``evaluate()`` and the checker.

Every value is an array whose last two axes are (rows, cols); scalars are 1x1 and column
vectors n x 1.  Any number of leading *batch* axes is allowed and broadcast through every
operation, so the checker evaluates F at all mn complex-step perturbations of X in one
walk of the tree instead of mn walks.

Two modes:

``plain`` (``evaluate()``)
    ordinary numpy semantics.  In float arithmetic a logarithm, square root or fractional
    power of a negative number raises :class:`OutOfDomain`, and ``evaluate()`` repeats the
    computation in complex arithmetic (principal branches).

``check`` (the derivative checker)
    every operation is complex-analytic, so the complex-step derivative is exact: transposes
    never conjugate, ``\\|X\\|_F^2`` is the sum of the squared entries (no ``abs``).  A square
    root or fractional power at a point whose real part is not positive, or an inverse of an
    ill-conditioned matrix, raises :class:`OutOfDomain` and the checker picks another point.

In both modes the logarithm of a determinant is ``log|det X|``, computed as
``log(det * sign(real(det)))``: it is analytic around negative determinants too, and
``d log|det X| = tr(X^{-1} dX)`` holds for either sign.  In ``check`` mode every logarithm is
evaluated that way (``d log|u| = u^{-1} du`` is the formula being checked).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Iterator, Literal, Mapping, Sequence

import numpy as np

from ..errors import MatdiffError, ShapeError, UnsupportedError
from ..expr.dims import SCALAR, Dim
from ..expr.functions import FUNCTIONS
from ..expr.nodes import (
    Named,
    Written,
    Add,
    Colored,
    Commutation,
    Duplication,
    Det,
    Diag,
    Differential,
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
    Applied,
    Gradient,
    Norm,
    NormSq,
    norm_kind,
    Num,
    Ones,
    Partial,
    Power,
    Softmax,
    Factorial,
    Infinity,
    Sum,
    Sym,
    SymbolicPower,
    Trace,
    Transpose,
    Vec,
    Vech,
    Zero,
)

Mode = Literal["plain", "check"]

#: Gauss-Legendre nodes for integrals over [0, 1] (exact for polynomials of degree 47).
QUADRATURE_NODES = 24
#: A finite sum longer than this is not evaluated.
MAX_SUM_TERMS = 10_000
#: A series is summed until SERIES_QUIET terms in a row change no part of the total by more than
#: SERIES_RTOL of it, within MAX_SERIES_TERMS terms (else the point is unusable: OutOfDomain).
SERIES_RTOL = 1e-17
SERIES_QUIET = 3
MAX_SERIES_TERMS = 400
#: In ``check`` mode, ``cond(A)`` estimates above this make a point unusable.
MAX_CONDITION = 1e10


class OutOfDomain(ArithmeticError):
    """The point is outside a function's domain (or too close to a singularity) for this mode."""


# ---------------------------------------------------------------- constant matrices


@lru_cache(maxsize=256)
def commutation_matrix(m: int, n: int) -> np.ndarray:
    """``K_{mn}`` (mn x mn): ``K vec(A) = vec(A^T)`` for ``A`` of size m x n, vec stacking columns."""
    k = np.zeros((m * n, m * n))
    i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    # vec(A)[i + j*m] = A[i, j] = A^T[j, i] = vec(A^T)[j + i*n]
    k[(j + i * n).ravel(), (i + j * m).ravel()] = 1.0
    k.flags.writeable = False
    return k


@lru_cache(maxsize=64)
def duplication_matrix(n: int) -> np.ndarray:
    """``D_n`` (n^2 x n(n+1)/2): ``D vech(S) = vec(S)`` for a symmetric S, vech taking the entries on and
    below the diagonal column by column."""
    d = np.zeros((n * n, n * (n + 1) // 2))
    column = 0
    for j in range(n):
        for i in range(j, n):
            d[i + j * n, column] = d[j + i * n, column] = 1.0
            column += 1
    d.flags.writeable = False
    return d


def vech(a: np.ndarray) -> np.ndarray:
    """The entries on and below the diagonal, column by column, as a column (batched like ``vec``)."""
    n = a.shape[-1]
    rows, cols = np.triu_indices(n)  # (j, i) with i >= j: column j, rows i = j..n-1
    return a[..., cols, rows][..., None]


@lru_cache(maxsize=64)
def _eye(n: int) -> np.ndarray:
    eye = np.eye(n)
    eye.flags.writeable = False
    return eye


@lru_cache(maxsize=8)
def gauss_legendre_01(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``count``-point Gauss-Legendre rule on [0, 1]."""
    nodes, weights = np.polynomial.legendre.leggauss(count)
    return (nodes + 1.0) / 2.0, weights / 2.0


# ---------------------------------------------------------------- batched primitives


def vec(a: np.ndarray) -> np.ndarray:
    """Stack the columns of ``a`` (..., r, c) into (..., rc, 1)."""
    r, c = a.shape[-2:]
    return np.swapaxes(a, -1, -2).reshape(a.shape[:-2] + (r * c, 1))


def kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.kron`` on the last two axes, broadcasting the leading ones."""
    p, q = a.shape[-2:]
    r, s = b.shape[-2:]
    out = a[..., :, None, :, None] * b[..., None, :, None, :]
    return out.reshape(out.shape[:-4] + (p * r, q * s))


def expm(a: np.ndarray) -> np.ndarray:
    """Matrix exponential of (..., n, n) by scaling and squaring a degree-16 Taylor polynomial.

    Only products and sums are used, so it is complex-analytic (the complex-step derivative
    of ``expm`` is exact).  After scaling, ``||A||_1 <= 1/2`` and the truncation error is
    below ``0.5^17 / 17! ~ 2e-20`` relative.
    """
    n = a.shape[-1]
    norm = float(np.abs(a).sum(axis=-2).max()) if a.size else 0.0
    if not np.isfinite(norm):
        return np.full(a.shape, np.nan, dtype=np.result_type(a, float))
    squarings = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0.5 else 0
    scaled = a / 2.0**squarings
    eye = _eye(n)
    result = eye + scaled / 16.0
    for k in range(15, 0, -1):
        result = eye + (scaled @ result) / k
    for _ in range(squarings):
        result = result @ result
    return result


def _max_abs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if a.size else 0.0


# ---------------------------------------------------------------- the evaluator


class Evaluator:
    """Walks a tree once per :meth:`run`; holds the symbol values, dimension bindings and mode.

    ``values`` maps a symbol name to an array whose last two axes are its (rows, cols); leading
    axes are batch axes.  ``term_scale_real`` / ``term_scale_imag`` record the largest entry of
    any term of any sum met so far (the scale of cancellations, used by the checker to judge a
    result that should be zero); in ``check`` mode ``term_scale_imag`` also covers the imaginary
    part of every intermediate value (the scale of cancellations inside products).
    """

    def __init__(
        self,
        values: Mapping[str, np.ndarray],
        dims: Mapping[str, int],
        *,
        mode: Mode = "plain",
        complex_ok: bool = True,
    ) -> None:
        self.values: dict[str, np.ndarray] = dict(values)
        self.dims = dict(dims)
        self.mode = mode
        self.complex_ok = complex_ok  # plain mode: may a branch cut be crossed (complex dtype)?
        self.batch_ndim = max((v.ndim - 2 for v in self.values.values()), default=0)
        self.term_scale_real = 0.0
        self.term_scale_imag = 0.0

    # -- helpers

    def size(self, dim: Dim) -> int:
        try:
            return dim.value(self.dims)
        except KeyError as exc:
            raise MatdiffError(f"the size {dim} is unknown: no value fixes dimension {exc.args[0]}") from None

    def run(self, node: Node) -> np.ndarray:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            from ..expr.writer import to_latex

            if isinstance(node, (Partial, Differential)):
                what = "a differential" if isinstance(node, Differential) else "a derivative written out"
                raise UnsupportedError(f"{to_latex(node)} is {what}, not a value: it cannot be evaluated")
            raise UnsupportedError(f"cannot evaluate {to_latex(node)}")
        value = handler(self, node)
        if self.mode == "check" and np.iscomplexobj(value):
            # The complex step's derivative of every intermediate value: a derivative that is
            # exactly zero by cancellation inside a product (X X^{-1}, tr(X^{-1} A X)) is judged
            # against these, as a cancelling sum is judged against its terms.
            self.term_scale_imag = max(self.term_scale_imag, _max_abs(value.imag))
        return value

    def _positive_real_part(self, u: np.ndarray, what: str) -> None:
        """Guard a branch cut on the negative real axis (sqrt, fractional powers, log)."""
        if self.mode == "check":
            if np.any(np.real(u) <= 0):
                raise OutOfDomain(f"{what} of a number with non-positive real part")
        elif not self.complex_ok and np.any(u < 0):
            raise OutOfDomain(f"{what} of a negative number")

    def _power(self, u: np.ndarray, exponent: Fraction) -> np.ndarray:
        if exponent.denominator == 1:
            k = int(exponent)
            if k < 0 and self.mode == "check" and np.any(u == 0):
                raise OutOfDomain("negative power of zero")
            return u ** k
        self._positive_real_part(u, "a fractional power")
        return u ** float(exponent)

    def _log(self, u: np.ndarray, of_det: bool) -> np.ndarray:
        if self.mode == "check" or of_det:
            signs = np.sign(np.real(u))
            if self.mode == "check" and np.any(signs == 0):
                raise OutOfDomain("logarithm of zero")
            return np.log(u * signs)
        self._positive_real_part(u, "a logarithm")
        return np.log(u)

    def _inverse(self, a: np.ndarray) -> np.ndarray:
        try:
            inv = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            if self.mode == "check":
                raise OutOfDomain("singular matrix") from None
            raise MatdiffError("cannot invert a singular matrix") from None
        if self.mode == "check":
            n = a.shape[-1]
            estimate = n * _max_abs(a) * _max_abs(inv)
            if not np.isfinite(estimate) or estimate > MAX_CONDITION:
                raise OutOfDomain("ill-conditioned matrix")
        return inv


# ---------------------------------------------------------------- one handler per node type


def _sym(ev: Evaluator, node: Sym) -> np.ndarray:
    try:
        return ev.values[node.name]
    except KeyError:
        raise MatdiffError(f"no value given for the symbol {node.name}") from None


def _num(ev: Evaluator, node: Num) -> np.ndarray:
    return np.full((1, 1), float(node.value))


def _identity(ev: Evaluator, node: Identity) -> np.ndarray:
    return _eye(ev.size(node.n))


def _zero(ev: Evaluator, node: Zero) -> np.ndarray:
    return np.zeros((ev.size(node.nrows), ev.size(node.ncols)))


def _ones(ev: Evaluator, node: Ones) -> np.ndarray:
    return np.ones((ev.size(node.n), 1))


def _commutation(ev: Evaluator, node: Commutation) -> np.ndarray:
    return commutation_matrix(ev.size(node.m), ev.size(node.n))


def _add(ev: Evaluator, node: Add) -> np.ndarray:
    terms = [ev.run(term) for term in node.terms]
    for term in terms:
        if np.iscomplexobj(term):
            ev.term_scale_real = max(ev.term_scale_real, _max_abs(term.real))
            ev.term_scale_imag = max(ev.term_scale_imag, _max_abs(term.imag))
        else:
            ev.term_scale_real = max(ev.term_scale_real, _max_abs(term))
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _mul(ev: Evaluator, node: Mul) -> np.ndarray:
    """Left to right with ``product_shape``'s rule: a 1x1 factor or partial product scales."""
    acc: np.ndarray | None = None
    acc_shape = SCALAR
    for factor in node.factors:
        value = ev.run(factor)
        if acc is None:
            acc, acc_shape = value, factor.shape
        elif acc_shape == SCALAR:
            acc, acc_shape = acc * value, factor.shape
        elif factor.shape == SCALAR:
            acc = acc * value
        else:
            acc, acc_shape = acc @ value, (acc_shape[0], factor.shape[1])
    assert acc is not None
    return acc


def _transpose(ev: Evaluator, node: Transpose) -> np.ndarray:
    return np.swapaxes(ev.run(node.arg), -1, -2)  # never conjugated


def _inverse(ev: Evaluator, node: Inverse) -> np.ndarray:
    a = ev.run(node.arg)
    if node.arg.shape == SCALAR:
        if ev.mode == "check" and np.any(a == 0):
            raise OutOfDomain("reciprocal of zero")
        return 1.0 / a
    return ev._inverse(a)


def _power(ev: Evaluator, node: Power) -> np.ndarray:
    a = ev.run(node.arg)
    if node.arg.shape == SCALAR:
        return ev._power(a, node.exponent)
    if node.exponent.denominator != 1:
        raise UnsupportedError(f"a fractional power {node.exponent} of a matrix")
    k = int(node.exponent)
    if k < 0:
        return np.linalg.matrix_power(ev._inverse(a), -k)
    return np.linalg.matrix_power(a, k)


def integer_value(ev: Evaluator, node: Node, what: str) -> int:
    """The value of an integer expression (an exponent, a bound of a sum): one integer, not a batch."""
    value = np.asarray(ev.run(node))
    first = complex(value.reshape(-1)[0]) if value.size else complex("nan")
    if (not value.size or np.any(value != value.reshape(-1)[0]) or first.imag != 0
            or first.real != round(first.real) or abs(first.real) > 10**6):
        raise MatdiffError(f"{what} must be an integer; give its symbols integer values")
    return int(round(first.real))


def _symbolic_power(ev: Evaluator, node: SymbolicPower) -> np.ndarray:
    k = integer_value(ev, node.exponent, "an exponent")
    a = ev.run(node.arg)
    if node.arg.shape == SCALAR:
        return ev._power(a, Fraction(k))
    if k < 0:
        return np.linalg.matrix_power(ev._inverse(a), -k)
    if k == 0:
        return np.broadcast_to(_eye(a.shape[-1]), a.shape).copy()
    return np.linalg.matrix_power(a, k)


def _factorial(ev: Evaluator, node: Factorial) -> np.ndarray:
    k = integer_value(ev, node.arg, "the argument of a factorial")
    if k < 0:
        raise MatdiffError(f"the factorial of a negative number ({k}!)")
    return np.full((1, 1), float(math.factorial(k)) if k <= 170 else np.inf)


def _sum(ev: Evaluator, node: Sum) -> np.ndarray:
    """``sum_{k=lower}^{upper} body``, the index bound to each integer in turn (empty: a zero).

    A series (``upper`` is ``\\infty``) is summed until its terms stop changing the total: the
    real and imaginary parts of :data:`SERIES_QUIET` terms in a row below ``SERIES_RTOL`` times the
    total's (the imaginary part is a complex-step derivative, which must converge too)."""
    lower = integer_value(ev, node.lower, "the lower bound of a sum")
    if isinstance(node.upper, Infinity):
        return _series(ev, node, lower)
    upper = integer_value(ev, node.upper, "the upper bound of a sum")
    if upper - lower > MAX_SUM_TERMS:
        raise UnsupportedError(f"a sum of {upper - lower + 1} terms is too long to evaluate")
    name = node.var.name
    saved = ev.values.get(name)
    total: np.ndarray | None = None
    try:
        for k in range(lower, upper + 1):
            ev.values[name] = np.full((1, 1), float(k))
            term = ev.run(node.body)
            total = term if total is None else total + term
    finally:
        if saved is None:
            ev.values.pop(name, None)
        else:
            ev.values[name] = saved
    if total is None:
        return np.zeros((ev.size(node.rows), ev.size(node.cols)))
    return total


def _series(ev: Evaluator, node: Sum, lower: int) -> np.ndarray:
    name = node.var.name
    saved = ev.values.get(name)
    total: np.ndarray | None = None
    quiet = 0
    try:
        for k in range(lower, lower + MAX_SERIES_TERMS):
            ev.values[name] = np.full((1, 1), float(k))
            term = ev.run(node.body)
            total = term if total is None else total + term
            quiet = quiet + 1 if _negligible(term, total) else 0
            if quiet >= SERIES_QUIET:
                return total
    finally:
        if saved is None:
            ev.values.pop(name, None)
        else:
            ev.values[name] = saved
    raise OutOfDomain(f"the series over {name} did not converge in {MAX_SERIES_TERMS} terms")


def _negligible(term: np.ndarray, total: np.ndarray) -> bool:
    parts = [(term.real, total.real)] + ([(term.imag, total.imag)] if np.iscomplexobj(total) else [])
    for t, s in parts:
        size = _max_abs(s)
        if _max_abs(t) > SERIES_RTOL * size and (size > 0 or _max_abs(t) > 0):
            return False
    return True


def _hadamard_power(ev: Evaluator, node: HadamardPower) -> np.ndarray:
    return ev._power(ev.run(node.arg), node.exponent)


def _frac(ev: Evaluator, node: Frac) -> np.ndarray:
    den = ev.run(node.den)
    if ev.mode == "check" and np.any(den == 0):
        raise OutOfDomain("division by zero")
    return ev.run(node.num) / den


def _hadamard(ev: Evaluator, node: Hadamard) -> np.ndarray:
    return ev.run(node.left) * ev.run(node.right)


def _kron(ev: Evaluator, node: Kron) -> np.ndarray:
    return kron(ev.run(node.left), ev.run(node.right))


def _trace(ev: Evaluator, node: Trace) -> np.ndarray:
    return np.trace(ev.run(node.arg), axis1=-2, axis2=-1)[..., None, None]


def _det(ev: Evaluator, node: Det) -> np.ndarray:
    return np.linalg.det(ev.run(node.arg))[..., None, None]


def _func(ev: Evaluator, node: Func) -> np.ndarray:
    info = FUNCTIONS.get(node.name)
    if info is None:
        raise UnsupportedError(
            f"unknown function {node.name!r}; supported: {', '.join(sorted(FUNCTIONS))}"
        )
    u = ev.run(node.arg)
    if node.name in ("log", "ln"):
        return ev._log(u, of_det=isinstance(node.arg, Det))
    if node.name == "sqrt":
        ev._positive_real_part(u, "a square root")
    return info.numeric(np, u)


def _softmax(ev: Evaluator, node: Softmax) -> np.ndarray:
    u = ev.run(node.arg)
    # a real shift per vector leaves softmax unchanged and keeps exp from overflowing
    shifted = u - np.max(np.real(u), axis=-2, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-2, keepdims=True)


def _norm_sq(ev: Evaluator, node: NormSq) -> np.ndarray:
    u = ev.run(node.arg)
    if norm_kind(node) == "spectral":  # \|X\|_2^2 of a matrix: never the Frobenius norm
        return _singular_values_squared(u)[..., -1:, None]
    return np.sum(u * u, axis=(-2, -1))[..., None, None]  # no conjugate: complex-analytic


def _singular_values_squared(u: np.ndarray) -> np.ndarray:
    """The eigenvalues of U^T U (or U U^T, the smaller), sorted by real part: σ_i² for a real U.

    Without a conjugate this is the analytic continuation the complex-step check needs (valid
    where the singular values are distinct and, for roots of them, not zero).
    """
    gram = np.swapaxes(u, -1, -2) @ u if u.shape[-2] >= u.shape[-1] else u @ np.swapaxes(u, -1, -2)
    eig = np.linalg.eigvals(gram)
    if not np.iscomplexobj(u):
        eig = np.clip(np.real(eig), 0.0, None)
    return np.take_along_axis(eig, np.argsort(np.real(eig), axis=-1), axis=-1)


def _norm(ev: Evaluator, node: Norm) -> np.ndarray:
    u = ev.run(node.arg)
    kind = norm_kind(node)
    if kind == "l1":
        return np.sum(u * np.sign(np.real(u)), axis=(-2, -1))[..., None, None]  # |u| continued analytically
    if kind in ("spectral", "nuclear"):
        sigma = np.sqrt(_singular_values_squared(u))
        return (sigma[..., -1:] if kind == "spectral" else np.sum(sigma, axis=-1, keepdims=True))[..., None]
    if kind != "euclid":  # pragma: no cover - the reader refuses the matrix 1-norm
        raise UnsupportedError(f"cannot evaluate the norm {node.sub} of a matrix")
    return np.sqrt(np.sum(u * u, axis=(-2, -1)))[..., None, None]


#: The callables of the abstract functions in use (``functions={\\ell: scalar}``): name -> a tuple
#: (function, first derivative or gradient, second derivative, ...), each taking an array whose last
#: two axes are the argument's (rows, cols).  Set with :func:`using_functions`.
_FUNCTIONS: ContextVar[Mapping[str, Sequence[Callable[..., Any]]]] = ContextVar("matdiff_functions", default={})


@contextmanager
def using_functions(functions: Mapping[str, Any]) -> Iterator[None]:
    """Evaluate abstract functions with these callables (a callable, or a tuple of derivatives)."""
    table = {name: tuple(fns) if isinstance(fns, (tuple, list)) else (fns,) for name, fns in functions.items()}
    token = _FUNCTIONS.set({**_FUNCTIONS.get(), **table})
    try:
        yield
    finally:
        _FUNCTIONS.reset(token)


#: Stated assumptions the random points must satisfy: (kind, symbol name, value) — see
#: :mod:`matdiff_tex.rules.assumptions`.  Set with :func:`using_assumptions`.
_ASSUMPTIONS: ContextVar[tuple[tuple[str, str, float], ...]] = ContextVar("matdiff_assumptions", default=())


@contextmanager
def using_assumptions(assumptions: Sequence[tuple[str, str, float]]) -> Iterator[None]:
    """Draw points that satisfy these assumptions (:func:`satisfy_assumptions`)."""
    token = _ASSUMPTIONS.set(tuple(assumptions))
    try:
        yield
    finally:
        _ASSUMPTIONS.reset(token)


#: Values of the integer symbols (``n`` in ``X^{n}``) at which the checks run; set with
#: :func:`using_integers`.
_INTEGERS: ContextVar[Mapping[str, int]] = ContextVar("matdiff_integers", default={})


@contextmanager
def using_integers(values: Mapping[str, int]) -> Iterator[None]:
    """Give these integer symbols these values at every random point (:func:`satisfy_assumptions`)."""
    token = _INTEGERS.set(dict(values))
    try:
        yield
    finally:
        _INTEGERS.reset(token)


def integer_symbols(node: Node) -> frozenset[str]:
    """The free symbols that stand for integers: in a symbolic exponent or a bound of a sum."""
    bound = {n.var.name for n in node.walk() if isinstance(n, Sum)}
    places = [n.exponent for n in node.walk() if isinstance(n, SymbolicPower)]
    places += [b for n in node.walk() if isinstance(n, Sum) for b in (n.lower, n.upper)]
    return frozenset(n.name for place in places for n in place.walk() if isinstance(n, Sym) and n.name not in bound)


#: The integers substituted for a symbolic exponent n when a derivation is checked.
INTEGER_POINTS = (1, 2, 3, 5)


def integer_points(node: Node) -> list[dict[str, int]]:
    """Assignments of the integer symbols of ``node`` to check at (``[{}]`` when it has none): each
    symbol takes 1, 2, 3 and 5, several symbols in staggered order."""
    names = sorted(integer_symbols(node))
    if not names:
        return [{}]
    count = len(INTEGER_POINTS)
    return [{name: INTEGER_POINTS[(i + j) % count] for j, name in enumerate(names)} for i in range(count)]


def satisfy_assumptions(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Move random values onto the assumptions in use: entries summing to c, orthonormal columns or rows;
    the integer symbols get the integers in use."""
    for name, value in _INTEGERS.get().items():
        if name in values:
            values[name] = np.full((1, 1), float(value))
    for kind, name, value in _ASSUMPTIONS.get():
        if name not in values:
            continue
        v = values[name]
        if kind == "sum":
            values[name] = v * (value / np.sum(v, axis=(-2, -1), keepdims=True))
        elif kind == "columns":
            values[name] = np.linalg.qr(v)[0]
        elif kind == "rows":
            values[name] = np.swapaxes(np.linalg.qr(np.swapaxes(v, -1, -2))[0], -1, -2)
        elif kind == "symmetric":
            values[name] = (v + np.swapaxes(v, -1, -2)) / 2
    return values


def _abstract(name: str, order: int) -> Callable[..., Any]:
    table = _FUNCTIONS.get().get(name)
    if table is None:
        raise MatdiffError(f"no callable given for the function {name}")
    if order >= len(table):
        what = "its gradient" if order == 1 else f"its derivative of order {order}"
        raise MatdiffError(f"no callable given for {what} of the function {name}: give a tuple (f, f', ...)")
    return table[order]


def _applied(ev: Evaluator, node: Applied) -> np.ndarray:
    u = ev.run(node.arg)
    out = np.asarray(_abstract(node.name, node.primes)(u))
    if node.kind == "scalar":
        return out.reshape(out.shape[: u.ndim - 2] + (1, 1)) if out.ndim >= u.ndim - 2 else out
    return np.broadcast_to(out, u.shape)


def _gradient(ev: Evaluator, node: Gradient) -> np.ndarray:
    u = ev.run(node.arg)
    return np.broadcast_to(np.asarray(_abstract(node.name, 1)(u)), u.shape)


def random_functions(kinds: Mapping[str, str], seed: int = 0) -> dict[str, tuple[Callable[..., Any], ...]]:
    """Smooth, complex-analytic stand-ins for abstract functions, with their exact derivatives.

    ``scalar``: l(U) = sum(A ⊙ sin U) + (sum(C ⊙ U))² / 2 (not separable), gradient
    A ⊙ cos U + (sum(C ⊙ U)) C, with A and C drawn for U's shape; ``elementwise``:
    f(u) = α sin(βu + δ) + γu² and its derivatives of any order.
    """
    out: dict[str, tuple[Callable[..., Any], ...]] = {}
    for index, (name, kind) in enumerate(sorted(kinds.items())):
        rng = np.random.default_rng(seed * 1000 + index)
        if kind == "scalar":
            out[name] = _random_scalar_function(int(rng.integers(1 << 30)))
        else:
            a, b, c, g = rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5), rng.uniform(-1, 1), rng.uniform(0.2, 0.8)
            out[name] = tuple(_elementwise_derivative(a, b, c, g, k) for k in range(6))
    return out


def _random_scalar_function(seed: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def coefficients(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([seed, *shape[-2:]])
        return rng.uniform(0.5, 1.5, shape[-2:]), rng.uniform(-1.0, 1.0, shape[-2:])

    def value(u: np.ndarray) -> np.ndarray:
        a, c = coefficients(u.shape)
        return np.sum(a * np.sin(u), axis=(-2, -1)) + np.sum(c * u, axis=(-2, -1)) ** 2 / 2

    def gradient(u: np.ndarray) -> np.ndarray:
        a, c = coefficients(u.shape)
        return a * np.cos(u) + np.sum(c * u, axis=(-2, -1))[..., None, None] * c

    return value, gradient


def _elementwise_derivative(a: float, b: float, c: float, g: float, k: int) -> Callable[..., Any]:
    poly = {0: lambda u: g * u * u, 1: lambda u: 2 * g * u, 2: lambda u: 2 * g + 0 * u}.get(k, lambda u: 0 * u)
    return lambda u: a * b**k * np.sin(b * u + c + k * np.pi / 2) + poly(u)


def _expm(ev: Evaluator, node: Expm) -> np.ndarray:
    return expm(ev.run(node.arg))


def _vec(ev: Evaluator, node: Vec) -> np.ndarray:
    return vec(ev.run(node.arg))


def _vech(ev: Evaluator, node: Vech) -> np.ndarray:
    return vech(ev.run(node.arg))


def _duplication(ev: Evaluator, node: Duplication) -> np.ndarray:
    return duplication_matrix(ev.size(node.n))


def _diag(ev: Evaluator, node: Diag) -> np.ndarray:
    v = ev.run(node.arg)
    return v * _eye(v.shape[-2])


def _integral(ev: Evaluator, node: Integral) -> np.ndarray:
    """``int_0^1 body ds``: the variable is bound to all quadrature nodes at once (a new batch axis)."""
    nodes, weights = gauss_legendre_01(QUADRATURE_NODES)
    outer_ndim = ev.batch_ndim + 2
    name = node.var.name
    saved = ev.values.get(name)
    ev.values[name] = nodes.reshape((-1,) + (1,) * outer_ndim)
    ev.batch_ndim += 1
    try:
        body = ev.run(node.body)
    finally:
        ev.batch_ndim -= 1
        if saved is None:
            del ev.values[name]
        else:
            ev.values[name] = saved
    if body.ndim < outer_ndim + 1:
        body = body.reshape((1,) * (outer_ndim + 1 - body.ndim) + body.shape)
    if body.shape[0] == 1:  # the body does not depend on the variable
        return body[0] * weights.sum()
    return np.tensordot(weights, body, axes=(0, 0))


def _colored(ev: Evaluator, node: Colored) -> np.ndarray:
    return ev.run(node.arg)


def _named(ev: Evaluator, node: Named) -> np.ndarray:
    return ev.run(node.definition)


def _written(ev: Evaluator, node: Written) -> np.ndarray:
    return ev.run(node.node)


_HANDLERS: dict[type, Callable[[Evaluator, Any], np.ndarray]] = {
    Sym: _sym,
    Num: _num,
    Identity: _identity,
    Zero: _zero,
    Ones: _ones,
    Commutation: _commutation,
    Duplication: _duplication,
    Add: _add,
    Mul: _mul,
    Transpose: _transpose,
    Inverse: _inverse,
    Power: _power,
    SymbolicPower: _symbolic_power,
    Factorial: _factorial,
    Sum: _sum,
    HadamardPower: _hadamard_power,
    Frac: _frac,
    Hadamard: _hadamard,
    Kron: _kron,
    Trace: _trace,
    Det: _det,
    Func: _func,
    Softmax: _softmax,
    NormSq: _norm_sq,
    Norm: _norm,
    Applied: _applied,
    Gradient: _gradient,
    Expm: _expm,
    Vec: _vec,
    Vech: _vech,
    Diag: _diag,
    Integral: _integral,
    Colored: _colored,
    Named: _named,
    Written: _written,
}


# ---------------------------------------------------------------- the public entry point


def symbols_of(node: Node) -> dict[str, Sym]:
    """The free symbols of a tree by name (an integral's variable is bound inside its body)."""
    found: dict[str, Sym] = {}

    def visit(n: Node, bound: frozenset[str]) -> None:
        if isinstance(n, Sym) and n.name not in bound:
            found.setdefault(n.name, n)
        if isinstance(n, (Integral, Sum)):
            bound = bound | {n.var.name}
        for kid in n.children():
            visit(kid, bound)

    visit(node, frozenset())
    return found


def as_matrix(name: str, value: Any, dtype: type) -> np.ndarray:
    """A user's value as a 2-D array: scalars are 1x1, 1-D arrays column vectors."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise MatdiffError(f"the value of {name} is not numeric: {exc}") from None
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(-1, 1)
    if array.ndim == 2:
        return array
    raise ShapeError(f"the value of {name} has {array.ndim} axes (shape {array.shape}); expected at most 2")


def _shape_words(shape: tuple[int, int]) -> str:
    return f"{shape[0]}x{shape[1]}"


def evaluate_node(
    node: Node,
    values: Mapping[str, Any],
    dims: Mapping[str, int] | None = None,
    *,
    dtype: type = float,
    mode: Mode = "plain",
) -> np.ndarray:
    """The value of ``node`` as a 2-D array (scalars 1x1) for the symbol ``values``.

    ``dims`` binds the dimension names in the tree's sizes.  Values are checked against each
    symbol's shape (a ``ShapeError`` names the symbol and both shapes).  In float ``plain`` mode a
    logarithm, root or fractional power of a negative number raises :class:`OutOfDomain`; pass
    ``dtype=complex`` to get the principal branch instead.
    """
    bindings = dict(dims or {})
    arrays: dict[str, np.ndarray] = {}
    for name, sym in symbols_of(node).items():
        if name not in values:
            raise MatdiffError(f"no value given for the symbol {name}")
        array = as_matrix(name, values[name], dtype)
        rows, cols = (_size(sym.nrows, bindings, name), _size(sym.ncols, bindings, name))
        if array.shape != (rows, cols):
            raise ShapeError(
                f"the value of {name} has shape {_shape_words(array.shape)}, "
                f"but {name} is {_shape_words((rows, cols))} in the expression"
            )
        arrays[name] = array
    evaluator = Evaluator(arrays, bindings, mode=mode, complex_ok=np.dtype(dtype).kind == "c")
    with np.errstate(all="ignore"):
        out = evaluator.run(node)
    rows, cols = (evaluator.size(node.rows), evaluator.size(node.cols))
    return np.array(np.broadcast_to(out, (rows, cols)))  # a fresh, writeable 2-D array


def _size(dim: Dim, bindings: Mapping[str, int], name: str) -> int:
    try:
        return dim.value(dict(bindings))
    except KeyError as exc:
        raise MatdiffError(f"the size of {name} is unknown: no value fixes dimension {exc.args[0]}") from None
