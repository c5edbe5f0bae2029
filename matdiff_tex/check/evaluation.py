"""``evaluate(latex, values)``: compute a LaTeX expression with numpy — nothing is differentiated.

It reads anything ``derive()`` writes (Kronecker products, ``\\boldsymbol{K}_{mn}``,
``\\operatorname{diag}(\\text{vec}(...))``, identities with or without sizes, the integral form
of the derivative of ``e^{X}``) and the notation of SPEC section 3.  Sizes come from the
values: a 1-D array is a column vector, a Python or numpy scalar is a scalar.  Dimension
names in subscripts (``\\boldsymbol{I}_{n}``) are bound by the reader's shape inference; a
name that no value fixes (``\\boldsymbol{I}_{n} \\otimes \\boldsymbol{A}``) can be given as an
integer in ``values`` (``{"n": 4}``) or in ``dims``.  Symbolic integer powers
(``\\boldsymbol{A}^{n-1-k}``) and finite sums (``\\sum_{k=0}^{n-1}``) take the integer n from
``values`` or from ``dims`` too.

The arithmetic is float; a logarithm, root or fractional power of a negative number switches
to complex (principal branches) and the result is complex only if its imaginary part is not
zero.  The logarithm of a determinant is ``log|det X|``, as ``derive()`` writes ``\\log|X|``.
"""

from __future__ import annotations

import numbers
from typing import Any, Mapping

import numpy as np

from ..errors import MatdiffError, ShapeError
from ..expr.dims import SCALAR
from ..expr.reader import read_expression, read_raw
from ..expr.shapes import symbol_key
from .numeric import OutOfDomain, as_matrix, evaluate_node, symbols_of, using_functions


def evaluate(latex: str, values: Mapping[str, Any], dims: Mapping[str, int] | None = None,
             functions: Mapping[str, str] | None = None) -> np.ndarray | float | complex:
    """The value of ``latex`` for the symbol ``values``: a float (or complex) when the expression
    is scalar, otherwise a 2-D array (column vectors n x 1).

    ``values`` maps symbol names (``"X"``, ``"lambda"`` or ``"\\\\lambda"``, ``"W_1"``) to numbers
    or arrays; an integer under a name that is not a symbol of the expression binds a dimension
    name (``{"n": 4}`` for ``\\boldsymbol{I}_{n}``), as does ``dims``.

    Abstract functions (``\\ell(u)``, ``\\nabla \\ell(u)``, ``f'(u)``) take Python callables: a
    callable, or a tuple ``(f, f', f'', ...)`` (``(ell, gradient of ell)`` for a scalar function),
    each called on a 2-D array.  ``functions`` gives their kinds (``{r"\\ell": "scalar"}``); a
    function not listed is scalar when its value at a 2 x 1 array of ones is a single number.
    """
    named = _by_symbol_name(values)
    callables = {name: v for name, v in named.items() if callable(v) or (
        isinstance(v, (tuple, list)) and v and all(callable(f) for f in v))}
    named = {name: v for name, v in named.items() if name not in callables}
    kinds = {symbol_key(k): v for k, v in (functions or {}).items()}
    for name, fns in callables.items():
        kinds.setdefault(name, _probe_kind(fns))
    wanted = _symbol_names(latex, kinds)
    for key, value in (dims or {}).items():  # an integer symbol (n in X^{n}, \\sum_{k=0}^{n-1}) from dims
        if symbol_key(key) in wanted and symbol_key(key) not in named:
            named[symbol_key(key)] = int(value)
    missing = sorted(wanted - set(named))
    if missing:
        raise MatdiffError(
            f"no value given for the symbol{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"in {latex.strip()}"
        )
    is_complex = any(np.iscomplexobj(named[name]) for name in wanted)
    arrays = {name: as_matrix(name, named[name], complex if is_complex else float) for name in wanted}
    bindings = {name: int(v) for name, v in named.items() if name not in wanted and _is_int(v)}
    bindings.update({symbol_key(k): int(v) for k, v in (dims or {}).items()})

    shapes = {name: array.shape for name, array in arrays.items()}
    node = read_expression(latex, shapes, bindings or None, functions=kinds)
    for name, sym in symbols_of(node).items():  # the reader's kinds against the values given
        if sym.kind == "vector" and arrays[name].shape[1] != 1:
            raise ShapeError(
                f"{name} is a column vector in {latex.strip()}, but its value has shape "
                f"{arrays[name].shape[0]}x{arrays[name].shape[1]}"
            )
    with using_functions(callables):
        try:
            out = evaluate_node(node, arrays, {}, dtype=complex if is_complex else float)
        except OutOfDomain:
            out = evaluate_node(node, arrays, {}, dtype=complex)
    if np.iscomplexobj(out) and not np.any(out.imag):
        out = out.real
    if node.shape == SCALAR:
        return complex(out[0, 0]) if np.iscomplexobj(out) else float(out[0, 0])
    return out


def _by_symbol_name(values: Mapping[str, Any]) -> dict[str, Any]:
    named: dict[str, Any] = {}
    for key, value in values.items():
        name = symbol_key(key)
        if name in named:
            raise MatdiffError(f"two values are given for the symbol {name} ({key!r} and another spelling)")
        named[name] = value
    return named


def _symbol_names(latex: str, functions: Mapping[str, str] | None = None) -> set[str]:
    """The names of the symbols written in ``latex`` (integration variables excluded)."""
    from ..expr.parser import RESULT_NOTATION

    token = RESULT_NOTATION.set(True)  # D_n is the duplication matrix, as read_expression() reads it
    try:
        return {node.value.name for node in read_raw(latex, "F", functions).walk() if node.op == "sym"}
    finally:
        RESULT_NOTATION.reset(token)


def _probe_kind(fns: Any) -> str:
    first = fns[0] if isinstance(fns, (tuple, list)) else fns
    try:
        return "scalar" if np.size(first(np.ones((2, 1)))) == 1 else "elementwise"
    except Exception:  # noqa: BLE001 - a callable that cannot take the probe: say how to give the kind
        raise MatdiffError("cannot tell whether a function is scalar or element-wise: pass functions=") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
