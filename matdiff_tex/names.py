"""Names a derivation introduces to keep its rows short, the way the seed posts' authors do.

A long function gets a name, printed once in a first row ``f &= F`` and used in every
left-hand side after it (``\\mathrm{d}f``, ``\\frac{\\partial f}{\\partial w}``), as seed 001
writes ``l = ...`` and seed 002 ``f(X) = ABX``.  The name is a :class:`~matdiff_tex.expr.nodes.Named`
node: written as the name, evaluated as its definition, so the line-by-line check
(:mod:`matdiff_tex.check.verify_steps`) runs on the rows exactly as they are printed.
"""

from __future__ import annotations

from collections.abc import Sequence

from .derivation import Step
from .expr.nodes import Named, Node, Sym
from .expr.writer import STYLE_MACROS, to_latex

#: A function written wider than this (rough glyphs) is named; a Hessian's rows repeat it in
#: wider left-hand sides (d(∂f/∂X), ∂²f/∂vec X ∂vec Xᵀ), so it is named sooner.
NAME_WIDER_THAN = {1: 12, 2: 7}
CANDIDATES = {"scalar": ("f", "l", "g", "h", "\\phi"), "vector": ("f", "g", "h", "u"),
              "matrix": ("F", "G", "H", "M")}


def _symbol_names(*nodes: Node) -> set[str]:
    return {n.name for node in nodes for n in node.walk() if isinstance(n, Sym)}


def function_name(f: Node, x: Sym) -> Sym | None:
    """The symbol to call ``f`` by: f (scalar), **f** (vector), **F** (matrix), or the next free one."""
    kind = "scalar" if f.is_scalar else "vector" if f.cols.is_one else "matrix"
    taken = _symbol_names(f, x)
    style = "plain" if kind == "scalar" else x.style if x.style in STYLE_MACROS else "boldsymbol"
    for name in CANDIDATES[kind]:
        if name.lstrip("\\") not in taken:
            return Sym(name.lstrip("\\"), kind, f.rows, f.cols, style)
    return None


def substitute(node: Node, target: Node, replacement: Node) -> Node:
    """``node`` with every subtree equal to ``target`` replaced (a Named node is not entered)."""
    if node == target:
        return replacement
    if isinstance(node, Named):
        return node
    kids = node.children()
    if not kids:
        return node
    new = [substitute(kid, target, replacement) for kid in kids]
    return node if all(a is b for a, b in zip(new, kids)) else node.with_children(new)


def name_function(steps: Sequence[Step], f: Node, x: Sym, order: int) -> list[Step]:
    """The steps with a long ``f`` named: a first row ``name = f``, then the name in every row."""
    from .render import visual_width

    if not steps or isinstance(f, Sym) or visual_width(to_latex(f)) <= NAME_WIDER_THAN[order]:
        return list(steps)
    symbol = function_name(f, x)
    if symbol is None:
        return list(steps)
    named = Named(symbol, f)

    def rename(node: Node | None) -> Node | None:
        return None if node is None else substitute(node, f, named)

    renamed = [Step(expr=rename(step.expr), rule=step.rule, note=step.note,  # type: ignore[arg-type]
                    note_args=tuple((key, rename(value)) for key, value in step.note_args),  # type: ignore[misc]
                    lhs=rename(step.lhs)) for step in steps]
    return [Step(expr=f, rule="define", lhs=named), *renamed]
