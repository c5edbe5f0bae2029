"""The independent check of every derivative (SPEC section 6).

:func:`check_derivative` evaluates F numerically and differentiates it numerically — it never
looks at the rule set — and compares the outcome with the engine's result at random points.

Method
    First derivatives by the complex step: ``dF/dx_k = Im F(X + i h E_k) / h`` with
    ``h = 1e-20``.  Every numeric operation is complex-analytic (see :mod:`matdiff_tex.check.numeric`),
    so this is exact to machine precision: no subtractive cancellation, no step to tune.  All mn
    perturbations are evaluated in one batched walk of the tree.  Hessians by central
    differences (step ``1e-4 * max|X|``) of the complex-step gradient, again in one batch.

Sizes
    Only which sizes are equal and which are 1 matters to a derivation, so every dimension
    name gets its own small integer (2, 3, 4, ...): a swapped transpose or Kronecker order then
    fails on shapes or values, and square constraints survive because they are shared names.
    Given integer sizes are kept when they are all at most 6; otherwise they are replaced,
    order-preserving, by 2, 3, 4, ... (1 stays 1) — a 1000 x 1000 problem costs what a 3 x 3
    one costs.  Sizes in the result that are products of given sizes (``I_{56}`` for a 7 x 8
    X) follow their factors; when no consistent small replacement exists (a given 56 x 56
    matrix times ``vec(X)``), the check runs at the true sizes if that is affordable and
    otherwise refuses (an :class:`InternalError`: never an unchecked result).  If a point is unusable (a root of a negative number, a singular matrix —
    e.g. ``(AXB)^{-1}`` is singular when the inner sizes are the smaller), the check retries
    with the sizes permuted and the values rescaled.

Points
    Every entry is uniform in [0.5, 1.5], so traces, quadratic forms, products and sums of
    the symbols — the usual arguments of log, sqrt and fractional powers — are positive;
    square matrices get a dominant diagonal (``0.3 S + (0.45 n + 0.5) I`` with the entries
    of S in [0.5, 1.5]: Gershgorin puts every eigenvalue in the right half-plane), so they are
    invertible, well-conditioned and have a positive determinant; S is drawn above the
    diagonal from [1, 1.5] and below from [0.5, 0.8], so ``X`` and ``X^T`` always differ by
    far more than the tolerance, whatever the random draw.
    Two independent points per check.

Tolerance
    ``max|R - J| <= rtol * scale`` with ``rtol = 1e-7`` (first order) or ``1e-4`` (Hessian);
    ``scale`` is the largest entry of J, of R, of any term summed while computing them and of
    the complex-step derivative of any intermediate value of F, so a result that is correctly
    zero by cancellation (in a sum, or in a product such as ``X X^{-1}`` or
    ``tr(X^{-1} A X)``) passes and a wrong one does not.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import AbstractSet, Callable, Iterator, Literal, Mapping

import numpy as np

from ..errors import InternalError, LimitError, MatdiffError, ShapeError
from ..expr.dims import SCALAR, Dim
from ..expr.nodes import Commutation, Duplication, Identity, Node, Ones, Sym, Zero
from .budget import Cost, budget_words, estimate
from .numeric import Evaluator, OutOfDomain, duplication_matrix, satisfy_assumptions, symbols_of

Layout = Literal["numerator", "denominator"]

COMPLEX_STEP = 1e-20
HESSIAN_STEP = 1e-4  # relative to the largest entry of X
FIRST_ORDER_RTOL = 1e-7
HESSIAN_RTOL = 1e-4
SMALL_SIZE = 6  # given sizes up to this are used as they are
POINTS = 2
MAX_FALLBACK_ENTRIES = 5_000_000  # numbers held at once when true sizes must be used
MAX_SIZE_FACTORS = 4

#: (size assignment, scale of the values) tried in turn while a point is unusable.
_ATTEMPTS = [(0, 1.0), (1, 1.0), (0, 0.1), (0, 10.0), (2, 1.0), (1, 0.1), (3, 1.0), (1, 10.0), (0, 0.01), (2, 0.1)]


class _Unmappable(Exception):
    """A given size in the result cannot be expressed through the sizes of F and X."""


@dataclass(frozen=True, slots=True)
class _Sizing:
    """The trees with their integer sizes (possibly) made small, and values for the names."""

    f: Node
    x: Sym
    result: Node
    bindings: dict[str, int]
    symmetric: frozenset[str] = frozenset()
    vech: bool = False  # the derivative by vech(X) (X symmetric): the Jacobian times D_n

    def shape(self, node: Node) -> str:
        return f"{node.rows.value(self.bindings)}x{node.cols.value(self.bindings)}"

    def describe(self) -> str:
        names = ", ".join(f"{k}={v}" for k, v in sorted(self.bindings.items()))
        return f"F {self.shape(self.f)}, X {self.shape(self.x)}" + (f" ({names})" if names else "")


def check_derivative(
    f: Node,
    x: Sym,
    result: Node,
    *,
    layout: Layout,
    order: int = 1,
    dims: Mapping[str, int | str] | None = None,
    seed: int = 0,
    symmetric: AbstractSet[str] = frozenset(),
    vech: bool = False,
) -> None:
    """Raise :class:`InternalError` unless ``result`` is the derivative of ``f`` by ``x``.

    The derivative is meant in ``layout`` as SPEC section 4 defines it (``order=2``: the Hessian
    ``d^2 f / d vec X d (vec X)^T`` of a scalar ``f``).  ``dims`` gives sizes the author fixed
    for dimension names (an int, or another name meaning "the same size").  ``symmetric``
    names symmetric matrices: their values are drawn symmetric and, when X is one of them, X
    is perturbed along symmetric directions only (the derivative is then ``J (I + K)/2``).
    ``vech``: the derivative by vech(X) of a symmetric X, ``J D_n`` in numerator layout (``D_n^T J^T``
    in denominator layout, ``D_n^T H D_n`` for a Hessian).
    """
    if layout not in ("numerator", "denominator"):
        raise ValueError(f"layout must be 'numerator' or 'denominator', not {layout!r}")
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, not {order!r}")
    if not isinstance(x, Sym):
        raise InternalError(f"derivative check: the variable must be a symbol, got {type(x).__name__}")
    if order == 2 and f.shape != SCALAR:
        raise InternalError("derivative check: a Hessian needs a scalar function")
    unknown = set(symbols_of(result)) - set(symbols_of(f)) - {x.name}
    if unknown:
        raise InternalError(f"derivative check failed: the result uses unknown symbols {sorted(unknown)}")

    rng = np.random.default_rng(seed)
    sizings, shrunk = _affordable_sizings(f, x, result, dims or {}, order, rng)
    sizings = [replace(s, symmetric=frozenset(symmetric) | ({x.name} if vech else set()), vech=vech) for s in sizings]
    try:
        _run_attempts(sizings, layout, order, rng)
    except InternalError:
        if not shrunk:
            raise
        # A result may legitimately hold a given size as a number (tr(I_{1000}) = 1000), which
        # shrinking the sizes breaks: confirm the failure at the true sizes when affordable.
        try:
            full, _ = _sizings(f, x, result, dims or {}, order, rng, shrink=False)
            full = [replace(s, symmetric=frozenset(symmetric) | ({x.name} if vech else set()), vech=vech) for s in full]
        except InternalError:
            full = []
        full = [sizing for sizing in full if _cost(sizing, order).fits]
        if not full:
            raise
        _run_attempts(full, layout, order, rng)


#: Ways to size a check, cheapest last: (shrink given sizes even when small, distinct free sizes).
_SIZE_PLANS = ((False, None), (True, None), (True, 3), (True, 2))


def _cost(sizing: _Sizing, order: int) -> Cost:
    """What checking at ``sizing`` holds and computes: F at every perturbation, the result once."""
    m, n = sizing.x.rows.value(sizing.bindings), sizing.x.cols.value(sizing.bindings)
    batch = m * n if order == 1 else 2 * (m * n) ** 2
    return (estimate(sizing.f, sizing.bindings, batch=batch, x_name=sizing.x.name)
            + estimate(sizing.result, sizing.bindings))


def _affordable_sizings(
    f: Node, x: Sym, result: Node, dims: Mapping[str, int | str], order: int, rng: np.random.Generator
) -> tuple[list[_Sizing], bool]:
    """The sizings to try, made smaller (given sizes shrunk, fewer distinct sizes) until they fit the
    memory and work budget; a :class:`LimitError` when even the smallest do not."""
    smallest: Cost | None = None
    for force, distinct in _SIZE_PLANS:
        sizings, shrunk = _sizings(f, x, result, dims, order, rng, shrink=True, force_shrink=force,
                                   distinct=distinct)
        costs = [_cost(sizing, order) for sizing in sizings]
        fitting = [sizing for sizing, cost in zip(sizings, costs) if cost.fits]
        if fitting:
            return fitting, shrunk
        smallest = min(costs, key=lambda cost: cost.memory + cost.work)
    raise LimitError(
        f"this derivative is too large to check numerically: even at the smallest sizes the check "
        f"needs {smallest.describe() if smallest else 'too much'}, and {budget_words()}; "
        "split the expression into smaller directives"
    )


def _run_attempts(sizings: list[_Sizing], layout: Layout, order: int, rng: np.random.Generator) -> None:
    """Check at two points for the first (sizes, scale) attempt where both are usable."""
    problems: list[str] = []
    for index, scale in _ATTEMPTS:
        if index >= len(sizings):
            continue
        sizing = sizings[index]
        try:
            for _ in range(POINTS):
                _check_at_point(sizing, layout, order, rng, scale)
            return
        except OutOfDomain as exc:
            problems.append(f"{sizing.describe()}, scale {scale:g}: {exc}")
        except InternalError:
            raise
        except MatdiffError as exc:  # e.g. a node the evaluator does not know: a bug, not the user's
            raise InternalError(f"derivative check: cannot evaluate F or the result: {exc}") from exc
    raise InternalError(
        "derivative check failed: found no point where F and the result can be evaluated; tried "
        + "; ".join(problems)
    )


# ---------------------------------------------------------------- one point


def _check_at_point(sizing: _Sizing, layout: Layout, order: int, rng: np.random.Generator, scale: float) -> None:
    values = _random_values(sizing, rng, scale)
    if order == 1:
        numeric, floor = _jacobian(sizing, values)
        expected = _arrange(numeric, sizing, layout)
        rtol = FIRST_ORDER_RTOL
    else:
        expected, floor = _hessian(sizing, values)
        rtol = HESSIAN_RTOL
    if sizing.vech:  # by vech(X): vec(dX) = D_n vech(dX)
        d = duplication_matrix(values[sizing.x.name].shape[0])
        if order == 2:
            expected = d.T @ expected @ d
        else:
            expected = numeric @ d if layout == "numerator" else (numeric @ d).T

    evaluator = Evaluator(values, sizing.bindings, mode="check")
    with np.errstate(all="ignore"):
        got = evaluator.run(sizing.result)
    shape = (evaluator.size(sizing.result.rows), evaluator.size(sizing.result.cols))
    got = np.broadcast_to(got, shape)
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(expected))):
        raise OutOfDomain("a value is not finite")

    what = f"{'Hessian' if order == 2 else layout + ' layout'}, {sizing.describe()}"
    if got.shape != expected.shape:
        raise InternalError(
            f"derivative check failed: the result is {got.shape[0]}x{got.shape[1]} but the derivative "
            f"is {expected.shape[0]}x{expected.shape[1]} ({what})"
        )
    error = float(np.max(np.abs(got - expected))) if got.size else 0.0
    scale_ = max(_max_abs(expected), _max_abs(got), evaluator.term_scale_real, floor)
    if error > rtol * scale_:
        raise InternalError(
            f"derivative check failed: max error {error:.3g} against entries up to {scale_:.3g} "
            f"(relative {error / scale_:.3g} > {rtol:g}; {what})"
        )


def _max_abs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if a.size else 0.0


@lru_cache(maxsize=64)
def _unit_perturbations(m: int, n: int) -> np.ndarray:
    """``E_k`` (mn, m, n) with ``vec(E_k) = e_k`` — k runs in vec (column-major) order."""
    units = np.eye(m * n).reshape(m * n, n, m).transpose(0, 2, 1).copy()
    units.flags.writeable = False
    return units


def _directions(sizing: _Sizing, m: int, n: int) -> np.ndarray:
    """The perturbations of X: unit matrices, or their symmetric parts ``(E_k + E_k^T)/2`` for a
    symmetric X (``vec`` of them is ``(I + K) e_k / 2``: the derivative along symmetric directions)."""
    units = _unit_perturbations(m, n)
    if sizing.x.name in sizing.symmetric:
        return (units + units.transpose(0, 2, 1)) / 2
    return units


def _run_batched(tree: Node, values: dict[str, np.ndarray], bindings: dict[str, int], batch: int) -> tuple[np.ndarray, Evaluator]:
    evaluator = Evaluator(values, bindings, mode="check")
    with np.errstate(all="ignore"):
        out = evaluator.run(tree)
    rows, cols = evaluator.size(tree.rows), evaluator.size(tree.cols)
    return np.broadcast_to(out, (batch, rows, cols)), evaluator


def _jacobian(sizing: _Sizing, values: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
    """``d vec F / d (vec X)^T`` (pq x mn) by the complex step, and the scale of F's sums."""
    x0 = values[sizing.x.name]
    m, n = x0.shape
    units = _directions(sizing, m, n)
    perturbed = dict(values)
    perturbed[sizing.x.name] = x0 + (1j * COMPLEX_STEP) * units
    out, evaluator = _run_batched(sizing.f, perturbed, sizing.bindings, m * n)
    p, q = out.shape[-2:]
    jac = out.imag.transpose(0, 2, 1).reshape(m * n, p * q).T / COMPLEX_STEP
    return jac, evaluator.term_scale_imag / COMPLEX_STEP


def _hessian(sizing: _Sizing, values: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
    """``d^2 f / d vec X d (vec X)^T``: central differences of the complex-step gradient."""
    x0 = values[sizing.x.name]
    m, n = x0.shape
    size = m * n
    units = _directions(sizing, m, n)
    delta = HESSIAN_STEP * _max_abs(x0)
    shifted = np.concatenate([x0 + delta * units, x0 - delta * units])  # (2mn, m, n)
    points = shifted[:, None] + (1j * COMPLEX_STEP) * units[None]  # (2mn, mn, m, n)
    perturbed = dict(values)
    perturbed[sizing.x.name] = points.reshape(2 * size * size, m, n)
    out, evaluator = _run_batched(sizing.f, perturbed, sizing.bindings, 2 * size * size)
    grads = out.imag.reshape(2 * size, size) / COMPLEX_STEP
    hessian = (grads[:size] - grads[size:]) / (2 * delta)
    gradient_scale = max(_max_abs(grads), evaluator.term_scale_imag / COMPLEX_STEP)
    floor = 1e-6 * gradient_scale / max(_max_abs(x0), 1e-300)
    return (hessian + hessian.T) / 2, floor


def _arrange(jac: np.ndarray, sizing: _Sizing, layout: Layout) -> np.ndarray:
    """The numerator Jacobian laid out as SPEC section 4 says for this F, X and layout."""
    if sizing.x.shape == SCALAR and sizing.f.shape != SCALAR:  # by a scalar: dF/dt has F's shape
        p, q = sizing.f.rows.value(sizing.bindings), sizing.f.cols.value(sizing.bindings)
        matrix = jac.reshape((p, q), order="F")
        return matrix.T if layout == "denominator" and q == 1 else matrix
    if sizing.f.shape == SCALAR:
        m = sizing.x.rows.value(sizing.bindings)
        n = sizing.x.cols.value(sizing.bindings)
        numerator = jac.reshape(n, m)  # the gradient transposed; 1 x m when X is a vector
    else:
        numerator = jac
    return numerator if layout == "numerator" else numerator.T


# ---------------------------------------------------------------- random points


def _random_values(sizing: _Sizing, rng: np.random.Generator, scale: float) -> dict[str, np.ndarray]:
    symbols = symbols_of(sizing.f) | symbols_of(sizing.result)
    symbols.setdefault(sizing.x.name, sizing.x)
    values: dict[str, np.ndarray] = {}
    for name in sorted(symbols):
        sym = symbols[name]
        rows, cols = sym.nrows.value(sizing.bindings), sym.ncols.value(sizing.bindings)
        values[name] = scale * (_square(rng, rows) if rows == cols > 1 else rng.uniform(0.5, 1.5, (rows, cols)))
        if name in sizing.symmetric and rows == cols:
            values[name] = (values[name] + values[name].T) / 2
    return satisfy_assumptions(values)


def _square(rng: np.random.Generator, n: int) -> np.ndarray:
    """Positive, diagonally dominant and clearly unsymmetric: ``|S_ij - S_ji| >= 0.06``."""
    upper = np.triu(rng.uniform(1.0, 1.5, (n, n)), 1)
    lower = np.tril(rng.uniform(0.5, 0.8, (n, n)), -1)
    diagonal = np.diag(rng.uniform(0.5, 1.5, n))
    return 0.3 * (upper + lower + diagonal) + (0.45 * n + 0.5) * np.eye(n)


# ---------------------------------------------------------------- sizes


def _leaf_dims(node: Node) -> Iterator[Dim]:
    for leaf in node.walk():
        if isinstance(leaf, Sym):
            yield leaf.nrows
            yield leaf.ncols
        elif isinstance(leaf, Identity | Ones):
            yield leaf.n
        elif isinstance(leaf, Zero):
            yield leaf.nrows
            yield leaf.ncols
        elif isinstance(leaf, Commutation):
            yield leaf.m
            yield leaf.n
        elif isinstance(leaf, Duplication):
            yield leaf.n


def _resolve(name: str, dims: Mapping[str, object], names: set[str]) -> int | str:
    """A dimension name's given size (an int), or the free name it stands for.

    A value that is another dimension name is an alias; any other text (the reader's
    ``"rows of \\boldsymbol{X}"``) only describes the name, which stays free.
    """
    seen: set[str] = set()
    current = name
    while current in dims and current not in seen:
        seen.add(current)
        given = dims[current]
        if isinstance(given, Dim):
            if given.is_int:
                return given.coeff
            if not given.is_atom:
                return current
            given = given.names[0]
        if isinstance(given, (int, np.integer)) and not isinstance(given, bool):
            return int(given)
        text = str(given).strip()
        if text.isdigit():
            return int(text)
        if text not in names and text not in dims:
            return current
        current = text
    return current


def _sizings(
    f: Node,
    x: Sym,
    result: Node,
    dims: Mapping[str, int | str],
    order: int,
    rng: np.random.Generator,
    *,
    shrink: bool,
    force_shrink: bool = False,
    distinct: int | None = None,
) -> tuple[list[_Sizing], bool]:
    """Size assignments to try in turn, and whether given sizes were shrunk.

    ``force_shrink`` replaces given sizes by small ones even when they are at most
    :data:`SMALL_SIZE`; ``distinct`` caps how many different sizes the free dimension names get
    (X's own dimension names come first, so X keeps distinct sizes when they are different names).
    """
    names = sorted({name for tree in (f, x, result) for d in _leaf_dims(tree) for name in d.names})
    resolved = {name: _resolve(name, dims, set(names)) for name in names}
    given = {name: v for name, v in resolved.items() if isinstance(v, int)}
    atoms = {d.coeff for tree in (f, x) for d in _leaf_dims(tree)} | set(given.values())
    atoms = {a for a in atoms if a > 1}
    int_map = None
    if shrink and (max(atoms, default=0) > SMALL_SIZE or (force_shrink and atoms)):
        int_map = {a: i + 2 for i, a in enumerate(sorted(atoms))}

    trees = (f, x, result)
    if int_map is not None:
        try:
            trees = tuple(_map_dims(tree, lambda d: Dim(_map_int(d.coeff, int_map), d.names)) for tree in trees)
        except (_Unmappable, ShapeError):
            int_map = None  # shrinking breaks a relation between sizes: use the true ones
    if int_map is None and max(atoms, default=0) > SMALL_SIZE:
        _require_affordable(f, x, given, order)

    def small(size: int) -> int:
        return size if int_map is None or size == 1 else int_map[size]

    x_names = set(x.rows.names) | set(x.cols.names)
    free = sorted({v for v in resolved.values() if isinstance(v, str)}, key=lambda v: (v not in x_names, v))
    taken = {small(v) for v in given.values()} | (set() if int_map is not None else atoms)
    count = len(free) if distinct is None else min(distinct, len(free))
    base = list(itertools.islice((v for v in itertools.count(2) if v not in taken), count))
    pool = [base[i % len(base)] for i in range(len(free))] if base else []
    permutations = [pool, pool[::-1]] + [[int(v) for v in rng.permutation(pool)] for _ in range(2)]
    fx, xx, rx = trees
    assert isinstance(xx, Sym)
    sizings: list[_Sizing] = []
    seen: set[tuple[int, ...]] = set()
    for permutation in permutations:
        if tuple(permutation) in seen:
            continue
        seen.add(tuple(permutation))
        chosen = dict(zip(free, permutation))
        bindings = {name: small(v) if isinstance(v, int) else chosen[v] for name, v in resolved.items()}
        sizings.append(_Sizing(fx, xx, rx, bindings))
    return sizings, int_map is not None


def _map_int(value: int, int_map: dict[int, int]) -> int:
    """A given size in small terms: directly, or as the unique product of given sizes."""
    if value == 1:
        return 1
    if value in int_map:
        return int_map[value]
    images: set[int] = set()
    atoms = sorted(int_map)
    count, combos = 2, 0
    while count <= MAX_SIZE_FACTORS or (count <= 16 and combos < 20_000):
        for combo in itertools.combinations_with_replacement(atoms, count):
            combos += 1
            if np.prod(combo, dtype=object) == value:
                images.add(int(np.prod([int_map[a] for a in combo], dtype=object)))
        count += 1
    if len(images) != 1:
        raise _Unmappable(value)
    return images.pop()


def _map_dims(node: Node, fn: Callable[[Dim], Dim]) -> Node:
    """The tree with every size ``d`` of a leaf replaced by ``fn(d)`` (shapes are recomputed)."""
    if isinstance(node, Sym):
        return replace(node, nrows=fn(node.nrows), ncols=fn(node.ncols))
    if isinstance(node, Identity | Ones):
        return replace(node, n=fn(node.n))
    if isinstance(node, Zero):
        return replace(node, nrows=fn(node.nrows), ncols=fn(node.ncols))
    if isinstance(node, Commutation):
        return replace(node, m=fn(node.m), n=fn(node.n))
    if isinstance(node, Duplication):
        return replace(node, n=fn(node.n))
    kids = node.children()
    if not kids:
        return node
    return node.with_children([_map_dims(kid, fn) for kid in kids])


def _require_affordable(f: Node, x: Sym, given: dict[str, int], order: int) -> None:
    """Refuse to check at the true sizes when the batched evaluation would be too large."""
    bindings = {name: 8 for tree in (f, x) for d in _leaf_dims(tree) for name in d.names} | given
    try:
        size_f = f.rows.value(bindings) * f.cols.value(bindings)
        size_x = x.rows.value(bindings) * x.cols.value(bindings)
    except KeyError:  # pragma: no cover - every name is bound above
        return
    points = size_x if order == 1 else 2 * size_x * size_x  # one evaluation of F per point
    entries = points * (size_f + size_x)
    if entries > MAX_FALLBACK_ENTRIES:
        raise InternalError(
            f"derivative check: the given sizes cannot be replaced by small ones here, and checking at "
            f"full size (F {size_f} entries, X {size_x} entries) would take {entries} numbers; "
            f"give the shapes as dimension names instead"
        )
