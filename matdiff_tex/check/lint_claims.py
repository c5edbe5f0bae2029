"""Recognising claims in a piece of LaTeX: ``\\frac{\\partial F}{\\partial X}``, ``\\nabla_X f``, ``\\mathrm{d}f``.

Pure text work, no numbers: :func:`derivative_of` says whether a piece is a derivative (and of
what, by what, which order, in which arrangement), :func:`expand_sums` writes out finite sums
and truncates factorial series, :func:`substitute` puts a definition in place of its name.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .lint_source import symbol_name

_FRAC = re.compile(r"\\[dt]?frac\s*")
_VEC = re.compile(r"^\s*\\(?:text|operatorname|mathrm)\s*\{\s*vec\s*\}\s*|^\s*vec\s*(?=\()")
_TRANSPOSED = re.compile(r"\^\s*(?:\{\s*(?:\\top|T|\\mathrm\{T\}|\\mathsf\{T\}|\\intercal)\s*\}|\\top|T)\s*$")


@dataclass(frozen=True, slots=True)
class Derivative:
    """``d F / d X`` as written: ``order`` 2 for a Hessian; ``layout`` forced by the notation or None."""

    f: str
    x: str
    order: int = 1
    layout: str | None = None  # "numerator" for d vec F / d (vec X)^T, "denominator" for a gradient
    vec_x: bool = False


def group(text: str, start: int) -> tuple[str, int] | None:
    """The ``{...}`` group at ``start`` (after blanks): its inside and the offset after it."""
    i = start
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text) or text[i] != "{":
        return None
    depth = 0
    for k in range(i, len(text)):
        if text[k] == "\\":
            continue
        if text[k] == "{" and (k == 0 or text[k - 1] != "\\"):
            depth += 1
        elif text[k] == "}" and text[k - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[i + 1 : k], k + 1
    return None


def normalise(text: str) -> str:
    """``\\mathrm d`` → ``\\mathrm{d}`` and the like, so the reader sees one spelling."""
    text = re.sub(r"\\(?:mathrm|operatorname|text|rm)\s*\{\s*d\s*\}|\\mathrm\s+d(?![A-Za-z])|\\mathrm\s*d(?=[^A-Za-z])|\\mathrm\s*d(?=[A-Za-z])",
                  r"\\mathrm{d}", text)
    text = re.sub(r"\\mathrm\{d\}\s*(?=[A-Za-z])", r"\\mathrm{d} ", text)
    text = re.sub(r"\\(?:mathrm|text|operatorname)\s*\{\s*vec\s*\}", r"\\operatorname{vec}", text)
    # operator names typed as plain letters (tr(X), vec(X)): not products of scalars t and r
    text = re.sub(r"(?<![\\A-Za-z])(tr|Tr|vec|det|diag)(?=\s*\()", r"\\operatorname{\1}", text)
    return text


def derivative_of(piece: str) -> Derivative | None:
    """The derivative a whole piece writes, if it is one."""
    text = piece.strip()
    fr = _FRAC.match(text)
    if fr:
        top = group(text, fr.end())
        bottom = group(text, top[1]) if top else None
        if top and bottom and not text[bottom[1]:].strip():
            return _from_parts(top[0], bottom[0])
        return None
    if text.startswith("\\nabla"):
        return _nabla(text)
    if "/" in text and text.startswith("\\partial"):
        top, _, bottom = text.partition("/")
        if "/" not in bottom:
            return _from_parts(top, bottom)
    return None


def _from_parts(top: str, bottom: str) -> Derivative | None:
    m = re.match(r"\s*(?:\\partial|\\mathrm\s*\{?d\}?|d(?![A-Za-z]))\s*(\^\s*\{?\s*2\s*\}?)?", top)
    if m is None:
        return None
    f = top[m.end():].strip()
    order = 2 if m.group(1) else 1
    parts = [p.strip() for p in re.split(r"\\partial|\\mathrm\s*\{?d\}?(?![A-Za-z])", bottom)]
    if parts[0] != "" or len(parts) not in (2, 3) or not f:
        return None
    x, layout, vec_x = _variable(parts[1])
    if x is None:
        return None
    if len(parts) == 3:  # \partial X \partial X^T
        x2, _, _ = _variable(_TRANSPOSED.sub("", parts[2]).strip().strip("()"))
        if order != 2 or x2 is None or symbol_name(x2) != symbol_name(x):
            return None
        return Derivative(_strip_vec(f), x, 2, None, vec_x)
    if order == 2:
        return None
    if vec_x and not _VEC.match(f) and layout is None:
        return Derivative(f, x, 1, None, True)
    return Derivative(_strip_vec(f), x, 1, layout, False)


def _variable(text: str) -> tuple[str | None, str | None, bool]:
    """X from the denominator: ``X``, ``\\text{vec}(X)``, ``(\\text{vec} X)^T`` (numerator layout)."""
    text = text.strip()
    layout = None
    if _TRANSPOSED.search(text) and _VEC.search(text.lstrip("(")):
        text = _TRANSPOSED.sub("", text).strip()
        layout = "numerator"
    vec = False
    inner = text
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1].strip()
    if _VEC.match(inner):
        vec = True
        inner = _VEC.sub("", inner).strip()
        if inner.startswith("(") and inner.endswith(")"):
            inner = inner[1:-1].strip()
    if symbol_name(inner) is None:
        return None, None, False
    return inner, layout, vec


def _strip_vec(f: str) -> str:
    if _VEC.match(f):
        inner = _VEC.sub("", f).strip()
        if inner.startswith("(") and inner.endswith(")"):
            return inner[1:-1].strip()
        return inner
    return f


def _nabla(text: str) -> Derivative | None:
    m = re.match(
        r"\\nabla\s*(\^\s*\{?\s*2\s*\}?)?\s*(?:_\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+\s*\{[^{}]*\}|\\[A-Za-z]+\s+[A-Za-z]|[A-Za-z]))?"
        r"\s*(\^\s*\{?\s*2\s*\}?)?\s*",
        text,
    )
    if m is None:
        return None
    f = text[m.end():].strip()
    if not f or "\\nabla" in f:
        return None
    x = (m.group(2) or "").strip()
    if x.startswith("{"):
        x = x[1:-1].strip()
    order = 2 if (m.group(1) or m.group(3)) else 1
    return Derivative(f, x, order, "denominator" if order == 1 else None)


# ---------------------------------------------------------------- sums and series

_SUM = re.compile(r"\\sum\s*_\s*\{\s*([a-z])\s*=\s*([^{}]+?)\s*\}\s*\^\s*(\{[^{}]*\}|\\infty|\d|[a-z])")
SERIES_TERMS = 20
MAX_TERMS = 250


class CannotExpand(Exception):
    """A sum whose limits are not numbers, a series that may not converge, or too many terms."""


def expand_sums(text: str) -> str:
    """Write out ``\\sum_{n=a}^{b}`` as a sum of terms; ``\\infty`` is cut after 30 terms (factorial series only)."""
    count = [0]
    while True:
        m = _SUM.search(text)
        if m is None:
            return _arithmetic(text)
        var, low, high = m.group(1), _arithmetic(m.group(2)), m.group(3).strip("{} ")
        body_start = m.end()
        body_end = _term_end(text, body_start)
        body = text[body_start:body_end]
        if high == "\\infty":
            if "!" not in body:
                raise CannotExpand("an infinite series without factorials")
            upper = int(_number(low)) + SERIES_TERMS
        else:
            upper = int(_number(_arithmetic(high)))
        lower = int(_number(low))
        terms = []
        for k in range(lower, upper + 1):
            count[0] += 1
            if count[0] > MAX_TERMS:
                raise CannotExpand("too many terms")
            terms.append("(" + _arithmetic(_put(body, var, k)) + ")")
        text = text[: m.start()] + "(" + (" + ".join(terms) if terms else "0") + ")" + text[body_end:]


def _number(text: str) -> float:
    if not re.fullmatch(r"[\d\s+\-*()]+", text):
        raise CannotExpand(f"a sum limit {text!r} is not a number")
    return eval(text, {"__builtins__": {}})  # noqa: S307 - digits and + - * ( ) only


def _term_end(text: str, start: int) -> int:
    depth = 0
    k = start
    while k < len(text):
        ch = text[k]
        if ch == "\\":
            k += 2
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            if depth == 0:
                return k
            depth -= 1
        elif ch in "+-" and depth == 0 and k > start and text[start:k].strip():
            return k
        k += 1
    return len(text)


def _put(body: str, var: str, k: int) -> str:
    body = re.sub(rf"(?<=[\^_])\s*{var}(?![A-Za-z])", "{%d}" % k, body)
    return re.sub(rf"(?<![\\A-Za-z]){var}(?![A-Za-z])", "(%d)" % k, body)


def _arithmetic(text: str) -> str:
    """Evaluate digit arithmetic in exponents and factorials: ``((3) + 1)!`` → ``24``."""
    simple = r"[\d\s+\-*()]+"
    for _ in range(50):
        before = text
        text = re.sub(r"\((" + simple + r")\)\s*!|(\d+)\s*!",
                      lambda m: str(math.factorial(int(_number(m.group(1) or m.group(2))))), text)
        text = re.sub(r"\^\s*\{(" + simple + r")\}", lambda m: "^{%d}" % int(_number(m.group(1))), text)
        text = re.sub(r"\{\s*\((\d+)\)\s*\}", r"{\1}", text)
        if text == before:
            return text
    return text


# ---------------------------------------------------------------- definitions


def token_pattern(name: str, args: bool) -> re.Pattern[str]:
    """Occurrences of the symbol ``name`` in any style, with ``(args)`` after it when ``args``."""
    styled = rf"\\(?:mathbf|boldsymbol|bm|mathit)\s*(?:\{{\s*{name}\s*\}}|\s*{name}(?![A-Za-z]))"
    plain = rf"(?<![\\A-Za-z]){name}(?![A-Za-z_])"
    call = r"(?:\s*\((?:[^()]|\([^()]*\))*\))" + ("?" if not args else "?")
    return re.compile(rf"(?:{styled}|{plain}){call}")


def substitute(text: str, name: str, definition: str, args: bool) -> str:
    """``text`` with every occurrence of ``name`` (and its ``(args)``) replaced by ``(definition)``."""
    return token_pattern(name, args).sub(lambda m: "(" + definition + ")", text)


def definition_of(head: str) -> tuple[str, str | None] | None:
    """``f``, ``\\mathbf F(\\mathbf X)``: the name being defined and its argument text."""
    name = symbol_name(head)
    if name is not None:
        return name, None
    m = re.fullmatch(r"\s*(.+?)\s*\((.+)\)\s*", head)
    if m and symbol_name(m.group(1)) and symbol_name(m.group(2)):
        return symbol_name(m.group(1)), m.group(2).strip()  # type: ignore[return-value]
    return None
