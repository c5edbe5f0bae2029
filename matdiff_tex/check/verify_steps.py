"""Every line of a derivation is checked too, not only its result.

:func:`matdiff_tex.check.verify.check_derivative` proves the last line.  Here every chain of
printed lines (a left-hand side and the ``&=`` lines after it) is evaluated at a random point X
with a random direction E, and every line must have the value of its left-hand side:

* ``dX`` is E, and a differential not yet expanded, ``d(g)``, is the directional derivative of
  g by the complex step, ``Im g(X + i h E) / h`` (a central difference when g holds a partial
  derivative, as ``d(∂f/∂x)`` in a Hessian does);
* ``\\frac{\\partial F}{\\partial X}`` is the derivative in the derivation's layout (SPEC
  section 4), each column by the complex step along one entry of X; a coloured copy of X in the
  denominator (the product rule of seed 000) varies only that copy; a second derivative is a
  central difference of complex-step gradients.

No rule is used, so a line that asserts the other layout's matrix cannot be written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set as AbstractSet

from fractions import Fraction

import numpy as np

from ..derivation import Step, chains
from ..errors import InternalError, MatdiffError
from ..expr.dims import Dim, half_square_base
from ..expr.nodes import Add, Colored, Differential, Infinity, Integral, Node, Num, Partial, Sum, Sym, Vec, Vech, Zero
from ..expr.writer import to_latex
from .budget import Cost, estimate
from .numeric import Evaluator, OutOfDomain, duplication_matrix, evaluate_node, satisfy_assumptions, symbols_of

STEP = 1e-20
RTOL = 1e-8
FD_STEP = 1e-5  # central differences (of a partial derivative's value)
FD_RTOL = 1e-6
LARGEST_SIZE = 8  # a symbol given a side above this is not worth a line-by-line check (the result still is)


def check_steps(steps: Sequence[Step], x: Sym, seed: int = 1, *, layout: str = "numerator",
                symmetric: AbstractSet[str] = frozenset()) -> int:
    """Raise InternalError when a line of a chain differs from its left-hand side (``layout``: of the
    partial derivatives printed; ``symmetric``: matrices whose values are symmetric, X perturbed along
    symmetric directions when it is one); return how many chains of two or more lines were compared."""
    sizes = _small_sizes(steps, x)
    if sizes is None:
        return 0
    points = []
    for attempt in range(3):  # another point when a line cannot be evaluated at one (a singular matrix)
        rng = np.random.default_rng(seed + attempt)
        values = _random_values(steps, sizes, rng, symmetric)
        direction = rng.uniform(-1.0, 1.0, (x.nrows.value(sizes), x.ncols.value(sizes)))
        if x.name in symmetric:
            values["__symmetric"] = True
            direction = (direction + direction.T) / 2
        points.append((values, direction))
    return sum(_check_chain(chain, x, points, sizes, layout) for chain in chains(steps))


def _check_chain(chain: list[Step], x: Sym, points: list, sizes: dict[str, int], layout: str) -> bool:
    nodes = [step.expr for step in chain]
    if chain[0].lhs is not None:
        nodes.insert(0, chain[0].lhs)
    if len(nodes) < 2:
        return False
    for values, direction in points:
        try:
            computed = [_value(n, x, values, direction, sizes, layout) for n in nodes]
            break
        except (OutOfDomain, MatdiffError, np.linalg.LinAlgError):
            continue
    else:
        return False  # no point where every line can be evaluated: the final check still stands
    scale = max(1.0, *(float(np.max(np.abs(v))) for v in computed))
    rtol = FD_RTOL if any(_by_differences(n) for n in nodes) else RTOL
    for node, value in zip(nodes[1:], computed[1:]):
        if value.shape != computed[0].shape or np.max(np.abs(value - computed[0])) > rtol * scale:
            raise InternalError(f"derivation line check failed: {to_latex(node)} differs from {to_latex(nodes[0])}"
                                f" ({layout} layout)")
    return True


def _by_differences(node: Node) -> bool:
    """Whether the value of ``node`` needs a central difference (less exact than the complex step)."""
    return any((isinstance(n, Partial) and n.den2 is not None) or (isinstance(n, Differential) and _has(n.arg, Partial))
               for n in node.walk())


def _value(node: Node, x: Sym, values: dict, direction: np.ndarray | None, sizes: dict[str, int],
           layout: str = "numerator") -> np.ndarray:
    """``node`` with every differential and partial derivative replaced by its numeric value."""
    bound = dict(values)
    counter = iter(range(10**6))

    def replace(n: Node) -> Node:
        if isinstance(n, Differential):
            assert direction is not None
            name = f"__d{next(counter)}"
            bound[name] = value = _directional(n.arg, x, values, direction, sizes, layout)
            if not _has(n.arg, Partial):  # a partial derivative's node has no symbolic size
                return Sym(name, "matrix", n.rows, n.cols)
            return Sym(name, "matrix", Dim(value.shape[0]), Dim(value.shape[1]))
        if isinstance(n, Partial):
            name = f"__d{next(counter)}"
            bound[name] = value = _partial(n, x, values, sizes, layout)
            return Sym(name, "matrix", Dim(value.shape[0]), Dim(value.shape[1]))
        kids = n.children()
        if not kids:
            return n
        return n.with_children([replace(k) for k in kids])

    if any(isinstance(n, Integral) and _differential_of(n.body, n.var) for n in node.walk()):
        raise MatdiffError("a differential of an expression in the integration variable")
    node = unroll_sums(node, values, sizes)  # a partial derivative in Σ_k is one per k
    result = evaluate_node(replace(node), bound, sizes, dtype=complex, mode="check")
    return np.real(result)


def unroll_sums(node: Node, values: dict, sizes: dict[str, int]) -> Node:
    """Every finite sum whose terms hold a differential or a partial derivative written out term by
    term (the index replaced by each integer), so that each term's derivative is its own."""
    if isinstance(node, Sum) and _varies_with_index(node):
        bounds = [int(round(float(np.real(evaluate_node(b, values, sizes)[0, 0])))) for b in (node.lower, node.upper)]
        terms = [unroll_sums(_substitute(node.body, node.var, Num(Fraction(k))), values, sizes)
                 for k in range(bounds[0], bounds[1] + 1)]
        if not terms:
            return Zero(node.rows, node.cols)
        return terms[0] if len(terms) == 1 else Add(tuple(terms))
    kids = node.children()
    return node.with_children([unroll_sums(k, values, sizes) for k in kids]) if kids else node


def _varies_with_index(node: Sum) -> bool:
    """Whether a term's partial derivative or differential depends on the index (dX does not)."""
    varies = any(isinstance(n, Partial) or (isinstance(n, Differential) and _mentions(n.arg, node.var))
                 for n in node.body.walk())
    if varies and isinstance(node.upper, Infinity):
        raise MatdiffError("a series whose terms hold derivatives cannot be checked term by term")
    return varies


def _mentions(node: Node, var: Sym) -> bool:
    return any(isinstance(n, Sym) and n.name == var.name for n in node.walk())


def _directional(g: Node, x: Sym, values: dict, direction: np.ndarray, sizes: dict[str, int],
                 layout: str) -> np.ndarray:
    if isinstance(g, Sym) and g.name == x.name:
        return direction
    if _has(g, Partial):  # d(∂f/∂x): the partial derivative's value has no complex extension here
        ahead, back = ({**values, x.name: values[x.name] + sign * FD_STEP * direction} for sign in (1, -1))
        return (_value(g, x, ahead, None, sizes, layout) - _value(g, x, back, None, sizes, layout)) / (2 * FD_STEP)
    shifted = dict(values)
    shifted[x.name] = values[x.name] + 1j * STEP * direction
    return np.imag(evaluate_node(g, shifted, sizes, dtype=complex, mode="check")) / STEP


def _partial(node: Partial, x: Sym, values: dict, sizes: dict[str, int], layout: str) -> np.ndarray:
    """The value of ``\\frac{\\partial num}{\\partial den}`` in ``layout`` (SPEC section 4)."""
    wrt = Sym("__wrt", x.kind, x.nrows, x.ncols, x.style)
    target = next((n for n in node.den.walk() if isinstance(n, Colored)), x)
    num = _substitute(node.num, target, wrt)
    if node.den2 is not None:  # the Hessian: a central difference of complex-step gradients
        count = values[x.name].size
        columns = []
        for k in range(count):
            step = FD_STEP * _unit(values[x.name].shape, k)
            if values.get("__symmetric"):  # P H P: symmetric steps of a gradient along symmetric directions
                step = (step + step.T) / 2
            ahead, back = ({**values, "__wrt": values[x.name] + sign * step} for sign in (1, -1))
            columns.append((_jacobian(num, ahead, sizes) - _jacobian(num, back, sizes))[0] / (2 * FD_STEP))
        hessian = np.array(columns).T
        if isinstance(node.den, Vech):  # by vech(X): D^T H D
            d = duplication_matrix(values[x.name].shape[0])
            return d.T @ hessian @ d
        return hessian
    jacobian = _jacobian(num, {**values, "__wrt": values[x.name]}, sizes)  # vec num by (vec X)^T
    if isinstance(node.den, Vech):  # by vech(X): vec(dX) = D vech(dX)
        by_vech = jacobian @ duplication_matrix(values[x.name].shape[0])
        return by_vech if layout == "numerator" else by_vech.T
    if x.is_scalar:  # dF/dt has F's shape; in denominator layout a column vector's is a row
        shape = num.shape
        derivative = jacobian.reshape((shape[0].value(sizes), shape[1].value(sizes)), order="F")
        return derivative.T if layout == "denominator" and derivative.shape[1] == 1 else derivative
    if jacobian.shape[0] == 1 and not isinstance(node.den, Vec) and not x.ncols.is_one:
        gradient = jacobian.reshape(values[x.name].shape, order="F")  # scalar by matrix: shaped like X
        return gradient.T if layout == "numerator" else gradient
    return jacobian if layout == "numerator" else jacobian.T


def _jacobian(num: Node, values: dict, sizes: dict[str, int]) -> np.ndarray:
    """d vec(num) / d (vec __wrt)^T by the complex step, one column per entry.

    All entries are stepped in one batched walk of ``num`` (as the result's own check does); its
    first column is computed again on its own and must agree, else the columns are computed one
    by one (a node whose evaluation would not batch cannot change a value unnoticed)."""
    base = values["__wrt"]
    units = _units(base.shape)
    if values.get("__symmetric"):  # along symmetric directions: J (I + K) / 2
        units = (units + units.transpose(0, 2, 1)) / 2
    first = _column(num, {**values, "__wrt": base + 1j * STEP * units[0]}, sizes)
    try:
        batched = _batched_value(num, {**values, "__wrt": base + 1j * STEP * units}, sizes)
    except (MatdiffError, ValueError, IndexError):
        batched = None
    if batched is not None:
        count, rows, cols = batched.shape
        columns = np.imag(batched).transpose(0, 2, 1).reshape(count, rows * cols) / STEP
        if np.array_equal(columns[0], first) or np.allclose(columns[0], first, rtol=1e-12, atol=1e-12):
            return columns.T
    rest = [_column(num, {**values, "__wrt": base + 1j * STEP * unit}, sizes) for unit in units[1:]]
    return np.array([first, *rest]).T


def _column(num: Node, shifted: dict, sizes: dict[str, int]) -> np.ndarray:
    value = evaluate_node(num, shifted, sizes, dtype=complex, mode="check")
    return np.imag(value).reshape(-1, order="F") / STEP


def _batched_value(node: Node, values: dict, sizes: dict[str, int]) -> np.ndarray:
    """``node`` at every point of the batch ``values["__wrt"]`` (k, rows, cols): (k, p, q)."""
    batch = values["__wrt"].shape[0]
    arrays: dict[str, np.ndarray] = {}
    for name, sym in symbols_of(node).items():
        if name not in values:
            raise MatdiffError(f"no value given for the symbol {name}")
        array = np.asarray(values[name], dtype=complex)
        if array.ndim < 2:
            array = array.reshape(1, 1) if array.ndim == 0 else array.reshape(-1, 1)
        if array.shape[-2:] != (sym.nrows.value(sizes), sym.ncols.value(sizes)):
            raise MatdiffError(f"the value of {name} does not have its shape")
        arrays[name] = array
    evaluator = Evaluator(arrays, dict(sizes), mode="check")
    with np.errstate(all="ignore"):
        out = evaluator.run(node)
    return np.broadcast_to(out, (batch, evaluator.size(node.rows), evaluator.size(node.cols)))


def _units(shape: tuple[int, int]) -> np.ndarray:
    """Every ``_unit(shape, k)``, k in vec (column-major) order: (rows * cols, rows, cols)."""
    rows, cols = shape
    return np.eye(rows * cols).reshape(rows * cols, cols, rows).transpose(0, 2, 1)


def _unit(shape: tuple[int, ...], k: int) -> np.ndarray:
    """The k-th entry of vec (column-major) set to one."""
    unit = np.zeros(shape)
    unit[np.unravel_index(k, shape, order="F")] = 1.0
    return unit


def _substitute(node: Node, target: Node, wrt: Sym) -> Node:
    """``node`` with ``target`` (X, or one coloured copy of it) replaced by ``wrt``."""
    if node == target or (isinstance(target, Sym) and isinstance(node, Sym) and node.name == target.name):
        return wrt
    kids = node.children()
    return node.with_children([_substitute(k, target, wrt) for k in kids]) if kids else node


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
                # Only a symbol's own given size counts: vec(X) of a 3x4 X is 12 long, and the
                # work of what is derived from the sizes is bounded by the budget below.
                names.update(name for name in dim.names if half_square_base(name) is None)  # n(n+1)/2 follows n
    if any(dim.coeff > LARGEST_SIZE for step in steps for node in (step.expr, step.lhs) if node is not None
           for sym in node.walk() if isinstance(sym, Sym) for dim in (sym.nrows, sym.ncols)):
        return None
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


def _random_values(steps: Sequence[Step], sizes: Mapping[str, int], rng: np.random.Generator,
                   symmetric: AbstractSet[str] = frozenset()) -> dict:
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
                    if name in symmetric:
                        values[name] = (values[name] + values[name].T) / 2
                else:
                    values[name] = rng.uniform(0.5, 1.5, (rows, cols))
    return satisfy_assumptions(values)
