"""Expression tree -> LaTeX, in the style of the seed posts.

Precedence, loosest first: ``+``/``-`` < ``\\otimes``/``\\odot`` < juxtaposition <
function application < postfix (``^{\\top}``, powers).  Operands of ``\\otimes`` and
``\\odot`` that are not atoms are parenthesised, as seed 002 writes
``\\boldsymbol{I} \\otimes (\\boldsymbol{AB})``; runs of plain symbols of one bold style
merge into one group (``\\boldsymbol{ABX}``).  Everything written here is read back
by :mod:`matdiff_tex.expr.reader`.
"""

from __future__ import annotations

from contextvars import ContextVar
from fractions import Fraction
from functools import singledispatch

import re

from .functions import FUNCTIONS
from .nodes import (
    Add,
    Colored,
    Commutation,
    Det,
    Diag,
    Differential,
    Duplication,
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
    Named,
    Written,
    Node,
    Applied,
    Gradient,
    Norm,
    NormSq,
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
    Vech,
    Vec,
    Zero,
)

ADD, KRON, MUL, APPLY, POSTFIX, ATOM = range(6)
_LEFT_RIGHT = re.compile(r"\\(left|right)(?![a-zA-Z])\s*(\\[a-zA-Z]+|\\.|.)")

STYLE_MACROS = {
    "boldsymbol": r"\boldsymbol",
    "mathbf": r"\mathbf",
    "bm": r"\bm",
    "vec": r"\vec",
}


#: Mark places where a long row may be broken (see :func:`to_latex_breakable`): before a ``+`` or
#: ``-`` (BREAK); between the factors of a product or before ``\otimes``/``\odot``
#: (BREAK_PRODUCT, a worse place).
BREAK = "\x1e"
BREAK_PRODUCT = "\x1f"
_breakable: ContextVar[bool] = ContextVar("breakable", default=False)


def to_latex(node: Node) -> str:
    """The LaTeX for ``node``."""
    return _write(node)


def to_latex_breakable(node: Node) -> str:
    r"""The LaTeX for ``node`` with :data:`BREAK` before every place a long row may be broken:
    before each ``+``/``-`` of a sum (also inside parentheses), between the factors of a product,
    before ``\otimes`` and ``\odot``.  Marks inside braces (a fraction, a script, ``\text``) or
    ``\left ... \right`` cannot be used; :func:`break_points` sorts them out.
    Removing every BREAK gives :func:`to_latex`."""
    token = _breakable.set(True)
    try:
        return _write(node)
    finally:
        _breakable.reset(token)


def _mark(kind: str = BREAK) -> str:
    return kind if _breakable.get() else ""


def break_points(text: str) -> tuple[list[str], list[tuple[int, bool]]]:
    """``text`` (with break marks) cut at its usable marks: the pieces, and for each mark between
    two pieces its depth in parentheses (0: not inside any) and whether it is inside a product."""
    pieces: list[str] = []
    depths: list[tuple[int, bool]] = []
    start = braces = lefts = parens = 0
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            match = _LEFT_RIGHT.match(text, i)
            if match:
                lefts += 1 if match.group(1) == "left" else -1
                out.append(match.group(0))
                i = match.end()
                continue
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch in (BREAK, BREAK_PRODUCT):
            if braces == 0 and lefts == 0:
                pieces.append("".join(out).rstrip())
                depths.append((parens, ch == BREAK_PRODUCT))
                out = []
            i += 1
            continue
        if ch == "{":
            braces += 1
        elif ch == "}":
            braces -= 1
        elif ch in "([" and braces == 0:
            parens += 1
        elif ch in ")]" and braces == 0:
            parens -= 1
        out.append(ch)
        i += 1
    pieces.append("".join(out))
    return pieces, depths


# ---------------------------------------------------------------- helpers


def _styled(letter: str, style: str) -> str:
    macro = STYLE_MACROS.get(style)
    return letter if macro is None else f"{macro}{{{letter}}}"


def _symbol_base(name: str) -> tuple[str, str]:
    """``"W_1"`` -> (``W``, ``1``); Greek names get their backslash."""
    base, _, sub = name.partition("_")
    if len(base) > 1 and base.isalpha():
        base = "\\" + base
    return base, sub


def _sub(text: str) -> str:
    return f"_{{{text}}}" if text else ""


def number(value: Fraction) -> str:
    """``3``, ``\\frac{1}{2}``, ``-\\frac{3}{4}``."""
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def exponent(value: Fraction) -> str:
    """An exponent inside ``^{...}``: ``2``, ``-1``, ``1/2``."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def precedence(node: Node) -> int:
    """How tightly ``node`` binds when written."""
    if isinstance(node, Add):
        return ADD
    if isinstance(node, (Kron, Hadamard)):
        return KRON
    if isinstance(node, Mul):
        return MUL
    if isinstance(node, Num):
        return ATOM if node.value >= 0 and node.value.denominator == 1 else MUL
    if isinstance(node, (Transpose, Inverse, Power, HadamardPower, SymbolicPower, Factorial)):
        return POSTFIX
    if isinstance(node, Sum):  # its body runs to the end of the term: parentheses in any product
        return ADD
    if isinstance(node, Integral):
        return APPLY
    if isinstance(node, Frac):
        return ATOM
    if isinstance(node, Written):
        return precedence(node.node)
    return ATOM


def _is_plain_atom(node: Node) -> bool:
    return isinstance(node, (Sym, Identity, Zero, Ones, Commutation, Duplication, Named))


def _wrap(node: Node, minimum: int) -> str:
    text = _write(node)
    return f"({text})" if precedence(node) < minimum else text


def _postfix_base(node: Node) -> str:
    """The base of ``^{...}``: atoms and function calls as they are, the rest in parentheses."""
    if isinstance(node, Partial):  # (∂f/∂X)^T: parentheses as tall as the fraction
        return f"\\left({_write(node)}\\right)"
    if isinstance(node, (Transpose, Inverse, Power, HadamardPower, SymbolicPower, Factorial, NormSq, Expm)) \
            or precedence(node) < ATOM:
        return f"({_write(node)})"
    if isinstance(node, Func) and isinstance(node.arg, Det):  # \log|X|^{2} would read as log(|X|^2)
        return f"({_write(node)})"
    return _write(node)


# ---------------------------------------------------------------- nodes


@singledispatch
def _write(node: Node) -> str:
    raise TypeError(f"no LaTeX writer for {type(node).__name__}")


@_write.register
def _(node: Sym) -> str:
    base, sub = _symbol_base(node.name)
    return _styled(base, node.style) + _sub(sub)


@_write.register
def _(node: Num) -> str:
    return number(node.value)


@_write.register
def _(node: Identity) -> str:
    return _styled("I", node.style) + (_sub(node.n.latex()) if node.sized else "")


def _with_size(node: Node) -> Node:
    """``node`` with an identity written without its size (the author's ``\\boldsymbol{I}``) given
    one: a factor of a Kronecker product, where no neighbour tells the size."""
    if isinstance(node, Identity) and not node.sized:
        return Identity(node.n, node.style)
    if isinstance(node, Transpose) and isinstance(node.arg, Identity) and not node.arg.sized:
        return Transpose(Identity(node.arg.n, node.arg.style))
    return node


@_write.register
def _(node: Zero) -> str:
    return _styled("0", node.style) + f"_{{{node.nrows.latex()} \\times {node.ncols.latex()}}}"


@_write.register
def _(node: Ones) -> str:
    return _styled("1", node.style) + _sub(node.n.latex())


@_write.register
def _(node: Commutation) -> str:
    m, n = node.m.latex(), node.n.latex()
    single = len(m) == 1 and len(n) == 1 and m.isalpha() and n.isalpha()
    return _styled("K", node.style) + _sub(m + n if single else f"{m},{n}")


@_write.register
def _(node: Duplication) -> str:
    return _styled("D", node.style) + _sub(node.n.latex())


@_write.register
def _(node: Add) -> str:
    return (" " + _mark()).join(signed_terms(node))


def signed_terms(node: Add) -> list[str]:
    """The terms of a sum as written: ``a``, ``+ b``, ``- c`` (also used to wrap long lines)."""
    parts: list[str] = []
    for i, term in enumerate(node.terms):
        text = _wrap(term, ADD + 1) if isinstance(term, Add) else _write(term)
        if i == 0:
            parts.append(text)
        elif text.startswith("-"):
            parts.append(f"- {text[1:].lstrip()}")
        else:
            parts.append(f"+ {text}")
    return parts


def _mergeable(node: Node) -> bool:
    return (
        isinstance(node, Sym)
        and node.kind == "matrix"
        and node.style in STYLE_MACROS
        and len(node.name) == 1
    )


@_write.register
def _(node: Mul) -> str:
    coeff = Fraction(1)
    numer: list[Node] = []
    denom: list[Node] = []
    factors = node.factors
    if (len(factors) == 2 and factors[0] == Num(Fraction(-1)) and isinstance(factors[1], Mul)
            and not any(isinstance(f, Num) for f in factors[1].factors)):  # -(y x^T w) is -y x^T w, read back
        factors = (factors[0], *factors[1].factors)  # as the same tree; -(2X) keeps its parentheses
    for factor in factors:
        if isinstance(factor, Num):
            coeff *= factor.value
        elif isinstance(factor, Power) and factor.arg.is_scalar and factor.exponent < 0:
            denom.append(factor.arg if factor.exponent == -1 else Power(factor.arg, -factor.exponent))
        elif isinstance(factor, Inverse) and factor.arg.is_scalar:
            denom.append(factor.arg)
        else:
            numer.append(factor)
    sign = "-" if coeff < 0 else ""
    coeff = abs(coeff)
    pieces: list[str] = []
    if denom:
        scalars = [f for f in numer if f.is_scalar]
        numer = [f for f in numer if not f.is_scalar]
        top_parts = ([str(coeff.numerator)] if coeff.numerator != 1 or not scalars else []) + _factor_texts(scalars)
        several = len(denom) > 1 or coeff.denominator != 1
        bottom_parts = ([str(coeff.denominator)] if coeff.denominator != 1 else []) + [
            _wrap(d, MUL + 1) if several else _write(d) for d in denom
        ]
        pieces.append(f"\\frac{{{' '.join(top_parts)}}}{{{' '.join(bottom_parts)}}}")
    elif coeff != 1 or not numer:
        pieces.append(number(coeff))
    pieces.extend(_factor_texts(numer))
    if len(pieces) > 1 and _breakable.get():  # never between a number and what it multiplies
        head = pieces[:2] if re.fullmatch(r"[0-9]+|\\frac\{[0-9]+\}\{[0-9]+\}", pieces[0]) else pieces[:1]
        pieces = [" ".join(head), *pieces[len(head):]]
    return sign + (" " + _mark(BREAK_PRODUCT)).join(pieces)


def _factor_texts(factors: list[Node]) -> list[str]:
    """Factors of a product, merging runs of bare bold matrices of one style."""
    texts: list[str] = []
    run: list[Sym] = []

    def flush() -> None:
        if run:
            texts.append(_styled("".join(s.name for s in run), run[0].style))
            run.clear()

    for factor in factors:
        if _mergeable(factor) and (not run or run[0].style == factor.style):  # type: ignore[union-attr]
            run.append(factor)  # type: ignore[arg-type]
            continue
        flush()
        if _mergeable(factor):
            run.append(factor)  # type: ignore[arg-type]
            continue
        texts.append(_wrap(factor, MUL + 1) if precedence(factor) <= MUL else _write(factor))
    flush()
    # ``\, \mathrm{d}s \text{vec}(...)`` reads "dsvec": a thin space ends an integral's ``ds``
    return [text + " \\," if text.startswith("\\int") and i + 1 < len(texts) else text for i, text in enumerate(texts)]


@_write.register
def _(node: Transpose) -> str:
    if isinstance(node.arg, Inverse) and not node.arg.arg.is_scalar:
        return f"{_postfix_base(node.arg.arg)}^{{-\\top}}"
    return f"{_postfix_base(node.arg)}^{{\\top}}"


@_write.register
def _(node: Inverse) -> str:
    if node.arg.is_scalar:
        return f"\\frac{{1}}{{{_write(node.arg)}}}"
    return f"{_postfix_base(node.arg)}^{{-1}}"


@_write.register
def _(node: Power) -> str:
    if node.arg.is_scalar and node.exponent < 0:
        positive = node.arg if node.exponent == -1 else Power(node.arg, -node.exponent)
        return f"\\frac{{1}}{{{_write(positive)}}}"
    return f"{_postfix_base(node.arg)}^{{{exponent(node.exponent)}}}"


@_write.register
def _(node: SymbolicPower) -> str:
    return f"{_postfix_base(node.arg)}^{{{_write(node.exponent)}}}"


@_write.register
def _(node: Factorial) -> str:
    return f"{_postfix_base(node.arg)}!"


@_write.register
def _(node: Infinity) -> str:
    return "\\infty"


@_write.register
def _(node: Sum) -> str:
    body = _write(node.body)
    if (precedence(node.body) < KRON and not isinstance(node.body, Sum)) or body.startswith("-"):
        body = f"\\left({body}\\right)"
    return f"\\sum_{{{_write(node.var)}={_write(node.lower)}}}^{{{_write(node.upper)}}} {body}"


@_write.register
def _(node: HadamardPower) -> str:
    return f"{_postfix_base(node.arg)}^{{\\circ {exponent(node.exponent)}}}"


@_write.register
def _(node: Frac) -> str:
    return f"\\frac{{{_write(node.num)}}}{{{_write(node.den)}}}"


@_write.register
def _(node: Hadamard) -> str:
    left = _write(node.left) if isinstance(node.left, Hadamard) else _wrap(node.left, APPLY)  # associative
    return f"{left} {_mark(BREAK_PRODUCT)}\\{node.op} {_wrap(node.right, APPLY)}"


@_write.register
def _(node: Kron) -> str:
    left = _write(node.left) if isinstance(node.left, Kron) else _wrap(_with_size(node.left), APPLY)  # associative
    return f"{left} {_mark(BREAK_PRODUCT)}\\otimes {_wrap(_with_size(node.right), APPLY)}"


@_write.register
def _(node: Trace) -> str:
    macro = node.style if node.style in ("operatorname", "mathrm", "text") else "operatorname"
    return f"\\{macro}{{tr}}({_write(node.arg)})"


@_write.register
def _(node: Det) -> str:
    if node.style == "det":
        return f"\\det({_write(node.arg)})"
    return f"|{_write(node.arg)}|"


@_write.register
def _(node: Func) -> str:
    info = FUNCTIONS[node.name]
    if node.name == "sqrt":
        return f"\\sqrt{{{_write(node.arg)}}}"
    if node.name in ("log", "ln") and isinstance(node.arg, Det):
        det = node.arg
        return f"{info.latex}\\det({_write(det.arg)})" if det.style == "det" else f"{info.latex}{_write(det)}"
    return f"{info.latex}({_write(node.arg)})"


@_write.register
def _(node: Softmax) -> str:
    return f"\\operatorname{{softmax}}({_write(node.arg)})"


@_write.register
def _(node: NormSq) -> str:
    sub = f"_{{{node.sub}}}" if node.sub else ""
    return f"\\|{_write(node.arg)}\\|{sub}^{{2}}"


@_write.register
def _(node: Applied) -> str:
    return f"{_function_name(node.name)}{chr(39) * node.primes}({_write(node.arg)})"


@_write.register
def _(node: Gradient) -> str:
    return f"\\nabla {_function_name(node.name)}({_write(node.arg)})"


def _function_name(name: str) -> str:
    base, sub = _symbol_base(name)
    return base + _sub(sub)


@_write.register
def _(node: Norm) -> str:
    sub = f"_{{{node.sub}}}" if node.sub else ""
    return f"\\|{_write(node.arg)}\\|{sub}"


@_write.register
def _(node: Expm) -> str:
    if node.style == "expm":
        return f"\\operatorname{{expm}}({_write(node.arg)})"
    return f"e^{{{_write(node.arg)}}}"


@_write.register
def _(node: Vec) -> str:
    return f"\\text{{vec}}({_write(node.arg)})"


@_write.register
def _(node: Vech) -> str:
    return f"\\text{{vech}}({_write(node.arg)})"


@_write.register
def _(node: Diag) -> str:
    return f"\\operatorname{{diag}}({_write(node.arg)})"


@_write.register
def _(node: Integral) -> str:
    return f"\\int_{{0}}^{{1}} {_write(node.body)} \\, \\mathrm{{d}}{_write(node.var)}"


@_write.register
def _(node: Differential) -> str:
    if _is_plain_atom(node.arg):
        return f"\\mathrm{{d}}{_write(node.arg)}"
    if isinstance(node.arg, Partial):  # d(∂f/∂X) in a Hessian: parentheses that fit the fraction
        return f"\\mathrm{{d}}\\left({_write(node.arg)}\\right)"
    if isinstance(node.arg, Transpose) and isinstance(node.arg.arg, Partial):  # d((∂f/∂X)^T) = (d ∂f/∂X)^T
        return f"\\mathrm{{d}}{_write(node.arg)}"
    return f"\\mathrm{{d}}({_write(node.arg)})"


@_write.register
def _(node: Partial) -> str:
    num = _wrap(node.num, MUL)
    if num.startswith("-"):  # \partial -(...) would read as a minus sign after ∂: group it
        num = f"({num})"
    if node.den2 is None:
        return f"\\frac{{\\partial {num}}}{{\\partial {_write(node.den)}}}"
    if node.den2 == node.den and node.den.is_scalar:  # second derivative by a scalar
        return f"\\frac{{\\partial^{{2}} {num}}}{{\\partial {_postfix_base(node.den)}^{{2}}}}"
    return f"\\frac{{\\partial^{{2}} {num}}}{{\\partial {_write(node.den)} \\, \\partial {_write(node.den2)}}}"


@_write.register
def _(node: Colored) -> str:
    return f"\\textcolor{{{node.color}}}{{{_write(node.arg)}}}"


@_write.register
def _(node: Named) -> str:
    return _write(node.name)


@_write.register
def _(node: Written) -> str:
    return node.latex
