"""Every line of a derivation is checked too, not only its result.

:func:`matdiff_tex.check.verify.check_derivative` proves the last line.  The lines before it are
equalities of differentials (``dF = ...``, ``vec(dF) = ...``, ``df = tr(...)``); here each
chain of such lines is evaluated at a random point X with a random direction E: ``dX`` is E
and a differential not yet expanded, ``d(g)``, is the directional derivative of g computed
by the complex step, ``Im g(X + i h E) / h`` — no rule is used.  Every line of a chain (and
its left-hand side) must have the same value.  Lines about partial derivatives (the
identification, the seed-002 sandwich rows) are what the final check covers and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..derivation import Step, chains
from ..errors import InternalError, MatdiffError
from ..expr.dims import Dim
from ..expr.nodes import Differential, Integral, Node, Partial, Sym
from ..expr.writer import to_latex
from .budget import Cost, estimate
from .numeric import OutOfDomain, evaluate_node, symbols_of

STEP = 1e-20
RTOL = 1e-8
LARGEST_SIZE = 8  # given sizes above this are not worth a line-by-line check (the result still is)


def check_steps(steps: Sequence[Step], x: Sym, seed: int = 1) -> None:
    """Raise InternalError when a line of a differential chain differs from the lines before it."""
    sizes = _small_sizes(steps, x)
    if sizes is None:
        return
    points = []
    for attempt in range(3):  # another point when a line cannot be evaluated at one (a singular matrix)
        rng = np.random.default_rng(seed + attempt)
        values = _random_values(steps, sizes, rng)
        points.append((values, rng.uniform(-1.0, 1.0, (x.nrows.value(sizes), x.ncols.value(sizes)))))
    for chain in chains(steps):
        _check_chain(chain, x, points, sizes)


def _check_chain(chain: list[Step], x: Sym, points: list, sizes: dict[str, int]) -> None:
    nodes = [step.expr for step in chain]
    if chain[0].lhs is not None and not _has(chain[0].lhs, Partial):
        nodes.insert(0, chain[0].lhs)
    nodes = [n for n in nodes if not _has(n, Partial)]
    if len(nodes) < 2 or not any(_has(n, Differential) for n in nodes):
        return
    for values, direction in points:
        try:
            computed = [_value(n, x, values, direction, sizes) for n in nodes]
            break
        except (OutOfDomain, MatdiffError, np.linalg.LinAlgError):
            continue
    else:
        return  # no point where every line can be evaluated: the final check still stands
    scale = max(1.0, *(float(np.max(np.abs(v))) for v in computed))
    for node, value in zip(nodes[1:], computed[1:]):
        if value.shape != computed[0].shape or np.max(np.abs(value - computed[0])) > RTOL * scale:
            raise InternalError(f"derivation line check failed: {to_latex(node)} differs from {to_latex(nodes[0])}")


def _value(node: Node, x: Sym, values: dict, direction: np.ndarray, sizes: dict[str, int]) -> np.ndarray:
    """``node`` with every differential replaced by its numeric value."""
    bound = dict(values)
    counter = iter(range(10**6))

    def replace(n: Node) -> Node:
        if isinstance(n, Differential):
            name = f"__d{next(counter)}"
            bound[name] = _directional(n.arg, x, values, direction, sizes)
            return Sym(name, "matrix", n.rows, n.cols)
        kids = n.children()
        if not kids:
            return n
        return n.with_children([replace(k) for k in kids])

    if any(isinstance(n, Integral) and _differential_of(n.body, n.var) for n in node.walk()):
        raise MatdiffError("a differential of an expression in the integration variable")
    result = evaluate_node(replace(node), bound, sizes, dtype=complex, mode="check")
    return np.real(result)


def _directional(g: Node, x: Sym, values: dict, direction: np.ndarray, sizes: dict[str, int]) -> np.ndarray:
    if isinstance(g, Sym) and g.name == x.name:
        return direction
    shifted = dict(values)
    shifted[x.name] = values[x.name] + 1j * STEP * direction
    return np.imag(evaluate_node(g, shifted, sizes, dtype=complex, mode="check")) / STEP


def _differential_of(node: Node, var: Sym) -> bool:
    """Whether ``node`` holds ``d(g)`` with g depending on ``var`` (its value would vary with var)."""
    return any(
        isinstance(n, Differential) and any(isinstance(m, Sym) and m.name == var.name for m in n.arg.walk())
        for n in node.walk()
    )


def _has(node: Node, kind: type) -> bool:
    return any(isinstance(n, kind) for n in node.walk())


def _dims(node: Node):
    for n in node.walk():
        for d in n.shape:
            yield d
        for attr in ("nrows", "ncols", "n", "m"):
            value = getattr(n, attr, None)
            if isinstance(value, Dim):
                yield value


def _small_sizes(steps: Sequence[Step], x: Sym) -> dict[str, int] | None:
    """A small size for every dimension name, within the memory and work budget: distinct sizes
    when they fit, else fewer distinct ones (X's own names first, so they stay apart); None when
    a given size is large or nothing fits (the result is still checked)."""
    names: set[str] = set()
    for step in steps:
        for node in (step.expr, step.lhs):
            if node is None:
                continue
            for dim in _dims(node):
                if dim.coeff > LARGEST_SIZE:
                    return None
                names.update(dim.names)
    x_names = set(x.rows.names) | set(x.cols.names)
    ordered = sorted(names, key=lambda name: (name not in x_names, name))
    for distinct in (len(ordered), 3, 2):
        sizes = {name: 2 + i % max(distinct, 1) for i, name in enumerate(ordered)}
        if _cost(steps, sizes).fits:
            return sizes
    return None


def _cost(steps: Sequence[Step], sizes: dict[str, int]) -> Cost:
    """Every line and left-hand side is evaluated on its own (each differential once more)."""
    total = Cost()
    for step in steps:
        for node in (step.expr, step.lhs):
            if node is not None:
                cost = estimate(node, sizes)
                total = total + Cost(cost.memory, 2 * cost.work)
    return total


def _random_values(steps: Sequence[Step], sizes: Mapping[str, int], rng: np.random.Generator) -> dict:
    values: dict = {}
    for step in steps:
        for node in (step.expr, step.lhs):
            if node is None:
                continue
            for name, sym in symbols_of(node).items():
                if name in values:
                    continue
                rows, cols = sym.nrows.value(dict(sizes)), sym.ncols.value(dict(sizes))
                if rows == cols and rows > 1:
                    values[name] = 0.3 * rng.uniform(0.5, 1.5, (rows, cols)) + (0.45 * rows + 0.5) * np.eye(rows)
                else:
                    values[name] = rng.uniform(0.5, 1.5, (rows, cols))
    return values
