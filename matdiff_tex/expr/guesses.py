"""Readings that are legal but probably not what the author meant (SPEC section 8, issue 7).

Each check looks at the raw tree of F (after shape inference) and returns
:class:`~matdiff_tex.errors.ReadingWarning` objects that carry the field and span,
like errors do; the document layer places them at ``path:line:col`` and ``--strict``
turns them into errors.

* ``tr(XY)`` without a backslash: the letters of a function name read as a product;
* ``F(X)``: a symbol followed by a parenthesised symbol reads as a product, not a call;
* ``\\exp``/``\\log``/``\\sin``... of a square matrix: element-wise, not the matrix function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..errors import Field, ReadingWarning
from .dims import Dim
from .functions import FUNCTIONS
from .raw import Raw

#: Function names that, spelt as plain letters, an author surely meant as the function.
BARE_FUNCTIONS = {
    "tr": r"\operatorname{tr}", "Tr": r"\operatorname{tr}", "det": r"\det", "log": r"\log", "ln": r"\ln",
    "exp": r"\exp", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh", "vec": r"\operatorname{vec}",
    "diag": r"\operatorname{diag}",
}
_FIRST_LETTERS = frozenset(word[0] for word in BARE_FUNCTIONS)
#: Element-wise functions and what the author may have meant instead on a square matrix.
MATRIX_MEANING = {
    "exp": "for the matrix exponential write e^{{{arg}}}",
    "log": "the matrix logarithm is not supported",
    "ln": "the matrix logarithm is not supported",
    "sin": "the matrix sine is not supported",
    "cos": "the matrix cosine is not supported",
    "tanh": "the matrix tanh is not supported",
    "sqrt": "the matrix square root is not supported",
}

DimOf = Callable[[object], Dim]


def reading_warnings(source: str, field: Field, tree: Raw, dim: DimOf) -> list[ReadingWarning]:
    """Every guess in ``tree`` (the raw tree of ``source``), in source order."""
    found = [*_bare_function_names(source, field, tree), *_call_syntax(source, field, tree),
             *_elementwise_of_square(source, field, tree, dim)]
    return sorted(found, key=lambda warning: warning.span or (0, 0))


def _text(source: str, node: Raw) -> str:
    return source[node.span[0]:node.span[1]]


def _bare_function_names(source: str, field: Field, tree: Raw) -> Iterator[ReadingWarning]:
    """``tr(XY)``: plain letters spelling a function name, right before a parenthesised factor."""
    for node in tree.walk():
        if node.op != "mul":
            continue
        kids = node.kids
        for i, first in enumerate(kids):
            if first.op != "sym" or first.value.name not in _FIRST_LETTERS:
                continue
            for word, macro in BARE_FUNCTIONS.items():
                end = i + len(word)
                if end >= len(kids) or not _spells(source, kids[i:end], word):
                    continue
                arg = kids[end]
                if arg.grouped != "paren" or arg.span[0] != kids[end - 1].span[1]:
                    continue
                letters = " ".join(word)
                yield ReadingWarning(
                    f"'{word}' without a backslash is read as the product {letters} of {len(word)} scalars; "
                    f"write {macro}{_text(source, arg)} for the function",
                    field=field, span=(first.span[0], arg.span[1]))


def _spells(source: str, letters: tuple[Raw, ...], word: str) -> bool:
    """Plain one-letter scalars, written next to each other, spelling ``word``."""
    for node, char in zip(letters, word):
        if node.op != "sym" or node.grouped or node.value.style != "plain" or _text(source, node) != char:
            return False
    return all(a.span[1] == b.span[0] for a, b in zip(letters, letters[1:]))


def _call_syntax(source: str, field: Field, tree: Raw) -> Iterator[ReadingWarning]:
    """``F(X)``: a matrix or vector symbol right before a parenthesised single symbol."""
    for node in tree.walk():
        if node.op != "mul":
            continue
        for head, arg in zip(node.kids, node.kids[1:]):
            if (head.op == "sym" and head.value.kind != "scalar" and arg.op == "sym" and arg.grouped == "paren"
                    and arg.span[0] == head.span[1]):
                name, inner = _text(source, head), _text(source, arg)[1:-1].strip()
                yield ReadingWarning(
                    f"{name}{_text(source, arg)} is read as the product {name} {inner}, not as a function "
                    f"{name} applied to {inner}; write {name} {inner} for the product, or the function's formula",
                    field=field, span=(head.span[0], arg.span[1]))


def _elementwise_of_square(source: str, field: Field, tree: Raw, dim: DimOf) -> Iterator[ReadingWarning]:
    """``\\exp(X)`` of a square matrix X: read entry by entry, which may not be what was meant."""
    for node in tree.walk():
        if node.op != "func" or node.value not in MATRIX_MEANING or node.kids[0].shape is None:
            continue
        rows, cols = (dim(term) for term in node.kids[0].shape)
        if rows != cols or rows.is_one:
            continue
        kid = node.kids[0]
        arg = _text(source, kid)
        inner = arg[1:-1].strip() if kid.grouped == "paren" else arg
        macro = FUNCTIONS[node.value].latex
        start = source.rfind(macro, node.span[0], kid.span[0])
        yield ReadingWarning(
            f"{macro} of the square matrix {inner} is read element-wise (entry by entry); "
            + MATRIX_MEANING[node.value].format(arg=inner),
            field=field, span=(start if start >= 0 else node.span[0], kid.span[1]))
