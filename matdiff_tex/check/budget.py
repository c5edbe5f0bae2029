"""What a numeric check will cost, estimated from the tree before a single array is made.

The checks evaluate F at every perturbation of X at once (a batch axis) and the result once
per point.  Commutation matrices, Kronecker products and identities of products of sizes grow
as a power of the sizes chosen, so one short directive (``X ⊗ X ⊗ X ⊗ X ⊗ X``) could otherwise
ask for gigabytes.  :func:`estimate` adds up, node by node, the numbers an evaluation holds
(complex, 16 bytes each; a node that depends on X once per batch entry; an integral's body once
per quadrature node) and the multiply-adds of its products, inverses and Kronecker products.  It
is an upper bound of the peak: a node's value, the values of its children (evaluated in turn,
earlier ones still held) and the temporaries of a product.

The limits: :data:`MEMORY_BUDGET` bytes (``MATDIFF_TEX_MEMORY_MB``, default 256) and
:data:`WORK_BUDGET` multiply-adds (about a second of numpy).  The checker picks smaller sizes
until an evaluation fits, and refuses with a :class:`~matdiff_tex.errors.LimitError` when even
the smallest do not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from ..expr.nodes import Commutation, Det, Expm, Integral, Inverse, Kron, Mul, Node, Power, Sum, Sym, SymbolicPower

BYTES_PER_NUMBER = 16  # complex128
QUADRATURE_POINTS = 24  # numeric.QUADRATURE_NODES, without importing numpy here
SUM_TERMS = 8  # terms of a finite sum as the checks evaluate it (n = 1, 2, 3, 5)


def _memory_budget() -> int:
    try:
        megabytes = float(os.environ.get("MATDIFF_TEX_MEMORY_MB", "256"))
    except ValueError:
        megabytes = 256.0
    return int(max(megabytes, 1.0) * 2**20)


#: Bytes one numeric evaluation may hold (``MATDIFF_TEX_MEMORY_MB``, default 256 MB).
MEMORY_BUDGET = _memory_budget()
#: Multiply-adds one numeric evaluation may do (about a second of numpy on one core).
WORK_BUDGET = 4e8


@dataclass(frozen=True, slots=True)
class Cost:
    """Bytes held and multiply-adds done by an evaluation (upper bounds)."""

    memory: float = 0.0
    work: float = 0.0

    def __add__(self, other: "Cost") -> "Cost":
        """Two evaluations one after the other: the larger peak, the work of both."""
        return Cost(max(self.memory, other.memory), self.work + other.work)

    @property
    def fits(self) -> bool:
        return self.memory <= MEMORY_BUDGET and self.work <= WORK_BUDGET

    def describe(self) -> str:
        return f"about {self.memory / 2**20:,.0f} MB and {self.work:.2g} multiply-adds"


def budget_words() -> str:
    return (f"the budget is {MEMORY_BUDGET / 2**20:,.0f} MB (MATDIFF_TEX_MEMORY_MB) and "
            f"{WORK_BUDGET:.2g} multiply-adds")


def estimate(node: Node, bindings: Mapping[str, int], *, batch: int = 1, x_name: str | None = None) -> Cost:
    """The cost of evaluating ``node`` with ``batch`` copies of every value that depends on ``x_name``."""
    binds = dict(bindings)

    def size(d) -> int:
        try:
            return d.value(binds)
        except KeyError:
            return 8  # an unbound name: the evaluator will refuse it anyway

    def visit(n: Node, scale: int) -> tuple[bool, float, float, float]:
        """(depends on X, peak bytes while evaluating, bytes of the value, multiply-adds)."""
        inner_scale = scale * QUADRATURE_POINTS if isinstance(n, Integral) else scale
        depends = isinstance(n, Sym) and n.name == x_name
        held = peak = work = 0.0
        for kid in n.children():  # children are evaluated in turn, earlier values still held
            kid_depends, kid_peak, kid_out, kid_work = visit(kid, inner_scale)
            depends = depends or kid_depends
            peak = max(peak, held + kid_peak)
            held += kid_out
            work += kid_work
        copies = scale * (batch if depends else 1)
        rows, cols = size(n.rows), size(n.cols)
        entries = float(rows) * cols
        out = entries * copies * BYTES_PER_NUMBER
        temporary = 0.0
        if isinstance(n, Commutation):
            out = entries * 8.0  # real, made once
        elif isinstance(n, Kron):
            temporary = out  # the broadcast product before its reshape
            work += entries * copies
        elif isinstance(n, Mul):
            acc: tuple[int, int] | None = None  # as numeric._mul goes: left to right, 1x1 scales
            for factor in n.factors:
                r, c = size(factor.rows), size(factor.cols)
                if acc is None:
                    acc = (r, c)
                elif acc == (1, 1):
                    work += float(r) * c * copies
                    acc = (r, c)
                elif (r, c) == (1, 1):
                    work += float(acc[0]) * acc[1] * copies
                else:
                    work += float(acc[0]) * acc[1] * c * copies
                    temporary = max(temporary, float(acc[0]) * c * copies * BYTES_PER_NUMBER)
                    acc = (acc[0], c)
        elif isinstance(n, (Inverse, Det, Power, SymbolicPower, Expm)) and rows > 1:
            repeat = 20 if isinstance(n, Expm) else 2
            work += repeat * float(rows) ** 3 * copies
        elif isinstance(n, Sum):  # the body once per term; the checks sum a handful (n <= 5)
            work *= SUM_TERMS
        peak = max(peak, held + out + temporary)
        return depends, peak, out, work

    _, peak, _, work = visit(node, 1)
    return Cost(peak, work)
