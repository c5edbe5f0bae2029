"""The author's spelling kept in the printed rows (issue 7, item 4).

Every left-hand side and the rows of the first chain reprint F exactly as typed (a :class:`Written` node:
printed as the author's text, evaluated as the tree), and the author's choices carry through
every row: ``\\mathrm{tr}`` (or ``\\text{tr}``) for every trace, ``\\circ`` for every Hadamard
product.  Rows are restyled after the derivation, before the line-by-line check, so they are
checked as printed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .derivation import Step
from .expr.nodes import Hadamard, Named, Node, Trace, Written

_TRACE = re.compile(r"\\(operatorname|mathrm|text)\s*\{\s*(?:tr|Tr|trace)\s*\}")


@dataclass(frozen=True)
class Spelling:
    """What the author typed: F's text, the trace macro, the Hadamard symbol (None: not used)."""

    text: str
    trace: str | None
    hadamard: str | None

    @classmethod
    def of(cls, f_latex: str) -> "Spelling":
        traces = {m.group(1) for m in _TRACE.finditer(f_latex)}
        marks = set(re.findall(r"\\(odot|circ)(?![a-zA-Z])", f_latex))
        return cls(" ".join(f_latex.split()), traces.pop() if len(traces) == 1 else None,
                   marks.pop() if len(marks) == 1 else None)

    def restyle(self, node: Node, f: Node) -> Node:
        """``node`` with F written as typed and the author's trace and Hadamard symbols."""
        if node == f and self.text:
            return Written(f, self.text)
        if isinstance(node, Written):
            return node
        kids = node.children()
        new = node.with_children([self.restyle(kid, f) for kid in kids]) if kids else node
        if isinstance(new, Trace) and self.trace and new.style != self.trace:
            new = replace(new, style=self.trace)
        if isinstance(new, Hadamard) and self.hadamard and new.op != self.hadamard:
            new = replace(new, op=self.hadamard)
        return new


def keep_spelling(steps: Sequence[Step], f: Node, f_latex: str) -> list[Step]:
    """The steps with F as typed and the author's symbols (nothing to do without F's text)."""
    if not f_latex.strip():
        return list(steps)
    spelling = Spelling.of(f_latex)

    def restyle(node: Node | None) -> Node | None:
        if node is None:
            return None
        if isinstance(node, Named):  # the name stays; its definition row shows F as typed
            return node
        return spelling.restyle(node, f)

    symbols = replace(spelling, text="")  # later rows: only the author's symbols
    out: list[Step] = []
    for i, step in enumerate(steps):
        first_chain = all(earlier.lhs is None for earlier in steps[1:i + 1])
        expr = restyle(step.expr) if first_chain else symbols.restyle(step.expr, f)
        out.append(replace(step, expr=expr, lhs=restyle(step.lhs),
                           note_args=tuple((key, restyle(value)) for key, value in step.note_args)))
    return out


def restyled(node: Node, f: Node, f_latex: str, *, as_typed: bool = True) -> Node:
    """One tree (the left-hand side; the result with ``as_typed=False``) with the author's spelling."""
    if not f_latex.strip():
        return node
    spelling = Spelling.of(f_latex)
    return (spelling if as_typed else replace(spelling, text="")).restyle(node, f)
