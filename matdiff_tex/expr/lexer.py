"""F or X as a token stream: pylatexenc does the TeX lexing, we flatten its nodes.

pylatexenc (2.x, ``tolerant_parsing=False``) finds macros, brace groups and
comments and reports unbalanced braces; it runs with an *empty* macro database so
that no macro grabs arguments behind our back (``\\'`` is not an accent here, and
``\\boldsymbol X`` gives the same tokens as ``\\boldsymbol{X}`` up to the group).
The parser takes macro arguments itself: a brace group or a single token.

Tokens:

* ``char``  one significant character (``A``, ``2``, ``+``, ``^``, ``(`` ...);
  whitespace is dropped;
* ``macro`` a control sequence without arguments (``text`` is the name without
  the backslash); spacing macros (``\\,``, ``\\quad`` ...) are dropped;
* ``group`` a ``{...}`` group with its tokens in ``body``;
* ``delim`` a sized delimiter, ``\\left(`` or ``\\bigr]`` merged into one token whose
  ``text`` is the delimiter (``(``, ``|``, ``\\|``, ``.``) and ``size`` the macro.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pylatexenc import macrospec
from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
    LatexWalker,
    LatexWalkerError,
    LatexWalkerParseError,
)

from ..errors import Field, LatexSyntaxError, UnsupportedError

TokKind = Literal["char", "macro", "group", "delim"]

#: Spacing and style-only macros that carry no meaning for the mathematics.
IGNORED_MACROS = frozenset(
    [",", ";", ":", "!", ">", " ", "quad", "qquad", "displaystyle", "textstyle", "mathstrut",
     "thinspace", "medspace", "thickspace", "enspace", "negthinspace", "limits", "nolimits"]
)

#: Macros that size the delimiter after them.
SIZE_MACROS = frozenset(
    ["left", "right", "middle"]
    + [f"{size}{side}" for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")]
)

#: Delimiters a size macro may take, as the parser names them.
DELIMITER_MACROS = {"|": "\\|", "lvert": "|", "rvert": "|", "vert": "|", "lVert": "\\|",
                    "rVert": "\\|", "Vert": "\\|", "{": "\\{", "}": "\\}"}
DELIMITER_CHARS = frozenset("()[]|.")


@dataclass(slots=True)
class Tok:
    """One token of F or X with its character span in the source string."""

    kind: TokKind
    text: str
    start: int
    end: int
    body: list["Tok"] = field(default_factory=list)
    size: str = ""

    def is_char(self, *chars: str) -> bool:
        return self.kind == "char" and self.text in chars

    def is_macro(self, *names: str) -> bool:
        return self.kind == "macro" and self.text in names

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


def _context_db() -> macrospec.LatexContextDb:
    db = macrospec.LatexContextDb()
    db.add_context_category("matdiff", macros=[], environments=[], specials=[])
    db.set_unknown_macro_spec(macrospec.MacroSpec(""))
    db.set_unknown_environment_spec(macrospec.EnvironmentSpec(""))
    return db


_DB = _context_db()


def tokenize(source: str, field_name: Field) -> list[Tok]:
    """The tokens of ``source``; LaTeX syntax errors become :class:`LatexSyntaxError`."""
    walker = LatexWalker(source, latex_context=_DB, tolerant_parsing=False)
    try:
        nodes, _, _ = walker.get_latex_nodes(parsing_state=walker.make_parsing_state(in_math_mode=True))
    except LatexWalkerParseError as exc:
        raise _syntax_error(exc, source, field_name) from None
    except RecursionError:
        raise UnsupportedError("the expression is nested too deeply", field=field_name,
                               span=(0, len(source))) from None
    except LatexWalkerError as exc:  # pragma: no cover - other pylatexenc failures
        raise LatexSyntaxError(f"cannot read the LaTeX: {exc}", field=field_name, span=(0, len(source))) from None
    return _merge_delimiters(_flatten(nodes, source, field_name), source, field_name)


def _syntax_error(exc: LatexWalkerParseError, source: str, field_name: Field) -> LatexSyntaxError:
    message = exc.msg or "malformed LaTeX"
    pos = exc.pos if isinstance(exc.pos, int) else len(source)
    if exc.open_contexts:
        what, opened_at, _, _ = exc.open_contexts[-1]
        if "brace" in what:
            return LatexSyntaxError(
                "unbalanced braces: this '{' is never closed", field=field_name, span=(opened_at, opened_at + 1)
            )
        if "environment" in what:
            return LatexSyntaxError(
                f"unbalanced LaTeX: the {what} is never closed", field=field_name, span=(opened_at, pos)
            )
        return LatexSyntaxError(f"unbalanced LaTeX: {what} is never closed", field=field_name, span=(opened_at, pos))
    if "closing brace" in message:
        return LatexSyntaxError(
            "unbalanced braces: this '}' closes nothing", field=field_name, span=(pos, pos + 1)
        )
    return LatexSyntaxError(f"malformed LaTeX: {message}", field=field_name, span=(pos, min(pos + 1, len(source))))


def _flatten(nodes: list, source: str, field_name: Field) -> list[Tok]:
    tokens: list[Tok] = []
    for node in nodes:
        if node is None or isinstance(node, LatexCommentNode):
            continue
        start, end = node.pos, node.pos + node.len
        if isinstance(node, LatexCharsNode):
            for offset, char in enumerate(node.chars):
                if not char.isspace() and char != "~":
                    tokens.append(Tok("char", char, start + offset, start + offset + 1))
        elif isinstance(node, LatexMacroNode):
            name = node.macroname
            if name in IGNORED_MACROS:
                continue
            # pylatexenc counts the whitespace after a macro name into the node
            text_end = start + 1 + len(name)
            tokens.append(Tok("macro", name, start, text_end))
        elif isinstance(node, LatexGroupNode):
            if node.delimiters != ("{", "}"):  # pragma: no cover - only braces are groups here
                raise LatexSyntaxError("unexpected group", field=field_name, span=(start, end))
            tokens.append(Tok("group", "{}", start, end, _flatten(node.nodelist, source, field_name)))
        elif isinstance(node, LatexSpecialsNode):  # pragma: no cover - no specials are defined
            tokens.append(Tok("char", node.specials_chars, start, end))
        elif isinstance(node, LatexMathNode):
            raise LatexSyntaxError(
                "math delimiters ($, \\( ... \\)) cannot appear inside F or X: write the formula only",
                field=field_name,
                span=(start, end),
            )
        elif isinstance(node, LatexEnvironmentNode):
            raise UnsupportedError(
                f"the environment {{{node.environmentname}}} is not supported: write matrices as symbols",
                field=field_name,
                span=(start, end),
            )
        else:  # pragma: no cover - defensive
            raise LatexSyntaxError("unexpected LaTeX", field=field_name, span=(start, end))
    return tokens


def _merge_delimiters(tokens: list[Tok], source: str, field_name: Field) -> list[Tok]:
    """``\\left`` + ``(`` -> one ``delim`` token; recursively inside groups."""
    merged: list[Tok] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "group":
            tok.body = _merge_delimiters(tok.body, source, field_name)
        if tok.kind == "macro" and tok.text in SIZE_MACROS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            delim = _delimiter_of(nxt)
            if delim is None:
                raise LatexSyntaxError(
                    f"\\{tok.text} must be followed by a delimiter such as ( [ | \\|",
                    field=field_name,
                    span=tok.span if nxt is None else (tok.start, nxt.end),
                )
            assert nxt is not None
            merged.append(Tok("delim", delim, tok.start, nxt.end, size=tok.text))
            i += 2
            continue
        merged.append(tok)
        i += 1
    return merged


def _delimiter_of(tok: Tok | None) -> str | None:
    if tok is None:
        return None
    if tok.kind == "char" and tok.text in DELIMITER_CHARS:
        return tok.text
    if tok.kind == "macro" and tok.text in DELIMITER_MACROS:
        return DELIMITER_MACROS[tok.text]
    return None
