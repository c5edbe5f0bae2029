"""Shorter derivations, the way the seed posts' authors write them: names and merged steps.

Names.  A long function gets a name, printed once in a first row ``f &= F`` and used in every
left-hand side after it (``\\mathrm{d}f``, ``\\frac{\\partial f}{\\partial w}``), as seed 001
writes ``l = ...`` and seed 002 ``f(X) = ABX``.  The name is a :class:`~matdiff_tex.expr.nodes.Named`
node: written as the name, evaluated as its definition, so the line-by-line check
(:mod:`matdiff_tex.check.verify_steps`) runs on the rows exactly as they are printed.

Repeated sub-expressions.  A function of the variable that the rows repeat (``σ(Xw)``,
``softmax(Wx)``) is named where it first appears, "记 $\\boldsymbol{s} = σ(Xw)$" / "where ...", in that
row's note (or on the row ``f = F`` when F shows it), and the name is used from there on, up to the
result, which is written out in full.  The same Named node keeps the check exact.

Merged steps.  A row that only rewrites ``\\mathrm{d}(\\boldsymbol{X}^{\\top})`` as
``\\mathrm{d}\\boldsymbol{X}^{\\top}`` or ``\\mathrm{d}(AX)`` as ``A\\mathrm{d}X``, moves a scalar out of
a trace or vec, drops an identity (``I^{\\top} = I``; not in seed 002's sandwich steps, and a row
whose note says it inserts one stays) or repeats its own left-hand side
(``\\mathrm{d}y = \\mathrm{d}y``) is merged into its neighbour, and so are consecutive
applications of linearity.  Only rows are left out:
every row that stays is still one of the engine's checked steps, in order.

Repeated rows.  A row printed exactly like the row before it (``&= R`` after ``&= R``) is a step
that shows nothing: :func:`drop_repeated_rows` leaves it out, whatever made it (two rules that
rewrite a tree the same way on paper, a name or the author's spelling making two rows alike).
"""

from __future__ import annotations

from collections.abc import Sequence

from .derivation import Step
from .derivation import chains
from collections import Counter
from dataclasses import replace

from .expr.nodes import (Differential, Expm, Func, Identity, Mul, Named, Node, Num, Softmax, Sym, Trace, Transpose,
                         Vec)
from .expr.writer import STYLE_MACROS, to_latex
from .rules.build import transpose_chain

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


# ---------------------------------------------------------------- merged steps


def _plain(node: Node, identities: bool = True, x: Sym | None = None) -> Node:
    """``node`` with the differences trivial steps make undone: d(Xᵀ) as (dX)ᵀ, d(AXB) as A dX B
    (A, B free of ``x``), tr(cA) and vec(cA) as c tr(A) and c vec(A), Iᵀ as I, (x xᵀ)ᵀ as x xᵀ, and (``identities``) identity factors dropped from products."""
    kids = node.children()
    if kids:
        node = node.with_children([_plain(kid, identities, x) for kid in kids])
    if isinstance(node, Differential) and isinstance(node.arg, Transpose):
        return Transpose(Differential(node.arg.arg))
    if isinstance(node, Differential) and isinstance(node.arg, Mul) and x is not None:
        varying = [i for i, f in enumerate(node.arg.factors) if any(n == x for n in f.walk())]
        if len(varying) == 1 and node.arg.factors[varying[0]] == x:
            factors = list(node.arg.factors)
            factors[varying[0]] = Differential(x)
            node = Mul(tuple(factors))
    if isinstance(node, Vec) and isinstance(node.arg, Mul):
        factors = node.arg.factors  # vec(c A) as c vec(A), c a 1x1 product at the front (1ᵀy, 2, ...)
        cut = max((k for k in range(1, len(factors)) if _scalar_product(factors[:k])), default=0)
        if cut:
            rest = factors[cut:]
            return Mul((*factors[:cut], replace(node, arg=rest[0] if len(rest) == 1 else Mul(tuple(rest)))))
    if isinstance(node, Trace) and isinstance(node.arg, Mul) and isinstance(node.arg.factors[0], Num):
        rest = node.arg.factors[1:]  # tr(c A) as c tr(A)
        return Mul((node.arg.factors[0], replace(node, arg=rest[0] if len(rest) == 1 else Mul(tuple(rest)))))
    if isinstance(node, Transpose) and isinstance(node.arg, Identity) and identities:
        return node.arg
    if isinstance(node, Transpose) and isinstance(node.arg, Mul) and _symmetric_product(node.arg):
        return node.arg  # (x x^T)^T, (A^T A)^T: a product that is its own transpose
    if isinstance(node, Mul):
        factors = [g for f in node.factors for g in (f.factors if isinstance(f, Mul) else (f,))]
        if identities:
            factors = [f for f in factors if not isinstance(f, Identity)] or factors[:1]
        if factors != list(node.factors):
            return factors[0] if len(factors) == 1 else Mul(tuple(factors))
    return node


def _symmetric_product(product: Mul) -> bool:
    """Whether ``product`` reads the same transposed, factor by factor (x x^T, A^T B A with B^T = B
    written as such is not seen: only the letters count)."""
    try:
        return transpose_chain(product.factors) == product
    except Exception:  # not a matrix chain
        return False


def _scalar_product(factors: Sequence[Node]) -> bool:
    try:
        return (factors[0] if len(factors) == 1 else Mul(tuple(factors))).is_scalar
    except Exception:  # not a product at all
        return False


def _same(a: Node, b: Node, identities: bool = True, x: Sym | None = None) -> bool:
    try:
        return a == b or _plain(a, identities, x) == _plain(b, identities, x)
    except Exception:  # a rebuilt node refused its new children: not the same
        return False


def merge_trivial_steps(steps: Sequence[Step], x: Sym | None = None) -> list[Step]:
    """The steps with trivial rows merged into their neighbours (see the module docs)."""
    out: list[Step] = []
    identities = not any(step.rule == "sandwich" for step in steps)  # seed 002 shows AX = AXI, Iᵀ = I
    for chain in chains(list(steps)):
        rows = list(chain)
        # a first row that only restates its left-hand side hands the left-hand side on
        while len(rows) > 1 and rows[0].lhs is not None and _same(rows[0].lhs, rows[0].expr, False) \
                and rows[0].rule != "define":
            first, second = rows[0], rows[1]
            rows[:2] = [Step(expr=second.expr, rule=second.rule, note=second.note, note_args=second.note_args,
                             lhs=first.lhs)]
        if len(rows) == 1 and rows[0].lhs is not None and rows[0].rule != "define" \
                and _same(rows[0].lhs, rows[0].expr, False) and len(steps) > 1:
            continue  # d(Xᵀ) = dXᵀ on its own: the next chain starts from it anyway
        merged: list[Step] = [rows[0]]
        for row in rows[1:]:
            previous = merged[-1]
            linear_again = previous.note == row.note == "linearity"
            visible = row.note == "insert_identity"  # the identity is the point of that row
            if (not visible and _same(previous.expr, row.expr, identities, x)) or linear_again:
                note, args = (previous.note, previous.note_args) if previous.note and not linear_again \
                    else (row.note, row.note_args)
                merged[-1] = Step(expr=row.expr, rule=row.rule, note=note, note_args=args, lhs=previous.lhs)
            else:
                merged.append(row)
        out.extend(merged)
    return out


# ---------------------------------------------------------------- repeated sub-expressions

#: A sub-expression is named when it is at least this wide (rough glyphs) and found in this many rows.
REPEAT_WIDTH, REPEAT_ROWS, MAX_NAMES = 6, 3, 2
_PREFERRED = {"softmax": "p", "sigma": "s", "exp": "u", "expm": "E"}
_FALLBACK = {"scalar": ("u", "v", "z", "t"), "vector": ("u", "v", "z", "q", "r"), "matrix": ("U", "V", "Z", "Q", "R")}


def _outside_names(node: Node | None):
    """The subtrees of ``node``, not entering Named nodes."""
    if node is None:
        return
    yield node
    if isinstance(node, Named):
        return
    for kid in node.children():
        yield from _outside_names(kid)


def _candidate(node: Node, x: Sym) -> bool:
    return (isinstance(node, (Func, Softmax, Expm)) and not isinstance(node.arg, (Sym, Named))
            and any(isinstance(n, Sym) and n.name == x.name for n in node.walk())
            and not any(isinstance(n, (Differential, Named)) for n in node.walk()))


def _sub_name(node: Node, x: Sym, taken: set[str]) -> Sym | None:
    kind = "scalar" if node.is_scalar else "vector" if node.cols.is_one else "matrix"
    style = "plain" if kind == "scalar" else x.style if x.style in STYLE_MACROS else "boldsymbol"
    key = node.name if isinstance(node, Func) else "softmax" if isinstance(node, Softmax) else "expm"
    preferred = _PREFERRED.get(key)
    if preferred is not None:
        preferred = preferred.upper() if kind == "matrix" else preferred.lower()
    for name in ((preferred,) if preferred else ()) + _FALLBACK[kind]:
        if name not in taken:
            return Sym(name, kind, node.rows, node.cols, style)
    return None


def name_repeats(steps: Sequence[Step], f: Node, x: Sym) -> list[Step]:
    """The steps with up to two repeated sub-expressions named (see the module docs)."""
    from .render import visual_width

    steps = list(steps)
    # not in f = F (the author's expression) nor in the last row (the result, written out in full)
    body = [i for i, step in enumerate(steps[:-1]) if step.rule != "define"]
    taken = _symbol_names(f, x) | {n.name.name for step in steps for n in _outside_names(step.lhs)
                                   if isinstance(n, Named)}
    for _ in range(MAX_NAMES):
        rows: Counter[Node] = Counter()
        for i in body:
            rows.update({n for n in _outside_names(steps[i].expr) if _candidate(n, x)})
        found = [(count * visual_width(to_latex(node)), node) for node, count in rows.items()
                 if count >= REPEAT_ROWS and visual_width(to_latex(node)) >= REPEAT_WIDTH]
        if not found:
            break
        node = max(found, key=lambda item: item[0])[1]
        symbol = _sub_name(node, x, taken)
        if symbol is None:
            break
        taken.add(symbol.name)
        named = Named(symbol, node)
        first = True
        for i, step in enumerate(steps):  # "f = F, 记 p = ...": defined where F is first written out
            if step.rule == "define" and any(n == node for n in step.expr.walk()):
                steps[i] = replace(step, defines=step.defines + (named,))
                first = False
        for i in body:
            step = steps[i]
            expr, lhs = substitute(step.expr, node, named), step.lhs  # left-hand sides keep F as it reads
            if expr is step.expr:
                continue
            defines = step.defines + ((named,) if first else ())
            first = False
            steps[i] = Step(expr=expr, rule=step.rule, note=step.note, note_args=step.note_args, lhs=lhs,
                            defines=defines)
    return steps


# ---------------------------------------------------------------- repeated rows


def drop_repeated_rows(steps: Sequence[Step]) -> list[Step]:
    """The steps without a continuation row printed exactly like the row before it.

    A row with its own left-hand side always stays (it says something new: ``∂f/∂X = G`` after
    ``&= G``); a dropped row's names ("记 s = ...") move to the row that stays."""
    out: list[Step] = []
    previous = None
    for step in steps:
        text = to_latex(step.expr)
        if out and step.lhs is None and text == previous:
            if step.defines:
                out[-1] = replace(out[-1], defines=out[-1].defines + step.defines)
            continue
        out.append(step)
        previous = text
    return out
