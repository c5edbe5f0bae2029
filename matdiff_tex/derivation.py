"""What the engine hands to the renderer: a derivation as data.

The engine records :class:`Step` objects holding expression trees; it never
formats LaTeX.  The renderer asks :meth:`Derivation.rows` for the lines to put
in a template, each already written as LaTeX by the expression writer, plus a
note key that the templates turn into zh or en text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from .expr.nodes import Node

Layout = Literal["numerator", "denominator"]
T = TypeVar("T", "Step", "Row")


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a derivation: ``lhs &= expr  ==> note``.

    ``lhs`` is set on the first line of a chain (``\\mathrm{d}f``, the derivative
    itself, ``\\text{vec}(\\mathrm{d}F)``); later lines of the chain leave it None.
    ``note`` is a key of the notes table in ``templates/notes.toml``; ``note_args``
    are expressions the note text mentions (e.g. ``var`` for the variable).
    """

    expr: "Node"
    rule: str
    note: str | None = None
    note_args: tuple[tuple[str, "Node"], ...] = ()
    lhs: "Node | None" = None
    defines: tuple["Node", ...] = ()  # names (Named nodes) this line introduces: "记 s = σ(Xw)"


@dataclass(frozen=True, slots=True)
class Row:
    """A step written out as LaTeX, ready for a template."""

    lhs: str | None
    rhs: str
    note: str | None
    note_args: dict[str, str]
    rule: str
    marked: str = ""  # rhs with the places it may be broken at (matdiff_tex.expr.writer.BREAK)
    defines: tuple[tuple[str, str], ...] = ()  # (name, definition) introduced on this row


@dataclass(frozen=True)
class Derivation:
    """The checked derivative of ``f`` by ``x`` with the steps that lead to it."""

    f_latex: str
    x_latex: str
    layout: Layout
    order: int
    lhs: "Node"
    result: "Node"
    steps: tuple[Step, ...]
    shape: tuple[int | str, int | str]
    dims: dict[str, int | str] = field(default_factory=dict)
    checked: bool = False
    warnings: tuple = ()  # ReadingWarning: readings of F that are probably not what was meant

    @property
    def lhs_latex(self) -> str:
        """``\\frac{\\partial F}{\\partial X}`` as the author's symbols print."""
        from .expr.writer import to_latex

        return to_latex(self.lhs)

    @property
    def result_latex(self) -> str:
        from .expr.writer import to_latex

        return to_latex(self.result)

    def rows(self) -> list[Row]:
        """Every step as LaTeX: what the templates iterate over (written once per derivation: a
        derivation shown in several forms is written out again from these rows)."""
        written = self.__dict__.get("_rows")
        if written is None:
            written = tuple(self._written_rows())
            object.__setattr__(self, "_rows", written)  # a cache beside the fields, not a field
        return list(written)

    def _written_rows(self) -> list[Row]:
        from .expr.writer import to_latex, to_latex_breakable

        return [
            Row(
                lhs=None if step.lhs is None else to_latex(step.lhs),
                rhs=to_latex(step.expr),
                note=step.note,
                note_args={name: to_latex(node) for name, node in step.note_args},
                rule=step.rule,
                marked=to_latex_breakable(step.expr),
                defines=tuple((to_latex(n.name), to_latex(n.definition)) for n in step.defines),  # type: ignore[attr-defined]
            )
            for step in self.steps
        ]

    def to_markdown(self, *, lang: str = "zh", steps: str = "full") -> str:
        """The derivation as a Markdown display block (``$$\\begin{equation}...$$``), as
        ``matdiff-tex render`` writes it for a directive alone on its line."""
        from .options import ResolvedOptions
        from .render import render_derivation
        from .scan.model import Placement

        options = ResolvedOptions(layout=self.layout, lang=lang, steps=steps)
        return render_derivation(self, options, Placement.DISPLAY, "markdown",
                                 "hessian" if self.order == 2 else "deriv")

    def _repr_markdown_(self) -> str:
        """Jupyter/IPython: the derivation typeset by the notebook's MathJax."""
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        """Jupyter/IPython (and nbconvert to LaTeX): the same display block."""
        return self.to_markdown()


def chains(lines: Sequence[T]) -> list[list[T]]:
    """Steps or rows grouped into chains: one with a left-hand side and the ``&=`` lines after it."""
    out: list[list[T]] = []
    for line in lines:
        if line.lhs is not None or not out:
            out.append([])
        out[-1].append(line)
    return out
