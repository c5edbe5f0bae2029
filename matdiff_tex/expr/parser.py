"""Precedence parser: tokens of F or X -> raw tree (:mod:`matdiff_tex.expr.raw`).

Precedence, tightest first:

1. postfix: ``^{\\top}`` and the other transposes, ``^{-1}``, ``^{-\\top}``, ``^{k}``,
   ``^{\\circ k}``, subscripts (``\\boldsymbol{W}_1``, ``\\boldsymbol{I}_{n}``);
2. function application: ``\\log x``, ``\\operatorname{tr}(...)``, ``\\det X``,
   ``\\sqrt{x}``; without parentheses the argument is the next factor with its postfix
   operators (``\\log x^2`` = log(x²), ``\\log\\det X`` = log(det X),
   ``\\operatorname{tr} AB`` = tr(A)·B); with parentheses postfix operators after ``)``
   apply to the result (``\\operatorname{tr}(X)^2`` = (tr X)²);
3. juxtaposition, ``\\cdot`` and ``\\times`` (``\\times`` between scalars only);
4. ``\\odot``, ``\\circ``, ``\\otimes``, one level, left-associative:
   ``\\boldsymbol{A}\\boldsymbol{C} \\otimes \\boldsymbol{B}\\boldsymbol{D}`` = (AC) ⊗ (BD);
5. unary minus: ``-A \\odot B`` = -(A ⊙ B);
6. ``+`` and ``-``.

Atoms: symbols (styled by ``\\boldsymbol``/``\\mathbf``/``\\bm``/``\\vec`` around them;
a styled group of several letters is their product), numbers, ``\\frac``, groups
``( )``, ``[ ]``, ``{ }`` and their ``\\left``/``\\bigl`` forms, determinant bars
``|X|``, squared norms ``\\|x\\|_2^2``, ``e^{...}``, ``\\int_0^1 ... \\,\\mathrm{d}s``,
``\\textcolor{c}{...}`` (read as its content).  A brace group is transparent: a product
inside it joins the surrounding product; parentheses keep their product nested.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from fractions import Fraction
from typing import Mapping

from ..errors import Field, LatexSyntaxError, MatdiffError, UnsupportedError
from .functions import FUNCTION_MACROS, FUNCTIONS
from .dims import half_square_base
from .lexer import Tok
from .raw import DimSpec, Kind, Raw, SymRef, negate, num

MAX_EXPONENT = 64
MAX_DIGITS = 300  # digits of a number: float64, which the numeric check uses, ends near 1e308
MAX_NESTING = 40
MAX_SIZE = 10000

GREEK_LOWER = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
    "pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega ell".split()
)
GREEK_UPPER = frozenset("Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())

#: While set (by evaluate(), which reads what derive() writes), ``\boldsymbol{D}_{n}`` is the duplication
#: matrix D_n; in the F of a directive ``\boldsymbol{D}_{n}`` stays the author's own symbol.
RESULT_NOTATION: ContextVar[bool] = ContextVar("matdiff_result_notation", default=False)

#: Macros that put a style on the letters of their argument.
STYLE_MACROS = {"boldsymbol": "boldsymbol", "mathbf": "mathbf", "bm": "bm", "vec": "vec", "pmb": "boldsymbol"}
#: Macros whose argument is an upright word (``\operatorname{tr}``) or letter (``\mathrm{d}``).
WORD_MACROS = frozenset(["operatorname", "mathrm", "text", "textrm", "mathsf", "textsf", "rm"])
#: How many arguments the macros that take some have (for ``^\mathrm{T}`` and similar).
ARG_COUNTS = {**{m: 1 for m in STYLE_MACROS}, **{m: 1 for m in WORD_MACROS},
              "frac": 2, "dfrac": 2, "tfrac": 2, "sqrt": 1, "textcolor": 2}

#: Words after ``\operatorname`` (or ``\mathrm``, ``\text``) and what they are.
FUNCTION_WORDS: dict[str, tuple[str, str | None]] = {
    "tr": ("tr", None), "Tr": ("tr", None), "trace": ("tr", None),
    "det": ("det", None), "vec": ("vec", None), "vech": ("vech", None), "diag": ("diag", None),
    "softmax": ("softmax", None), "expm": ("expm", None), "sech": ("sech", None), "sigmoid": ("func", "sigma"),
    **{name: ("func", name) for name in ("exp", "log", "ln", "sin", "cos", "tanh", "sqrt", "sign")},
    "sgn": ("func", "sign"),
}
#: Function macros (``\log``) and what they are.
FUNCTION_HEADS: dict[str, tuple[str, str | None]] = {
    **{macro[1:]: ("func", name) for macro, name in FUNCTION_MACROS.items()},
    "det": ("det", None), "tr": ("tr", None), "Tr": ("tr", None),
}

TRANSPOSE_MACROS = frozenset(["top", "intercal", "mathsf", "mathrm", "text", "rm"])
SUPPORTED = (
    "supported: \\boldsymbol \\mathbf \\bm \\vec, Greek letters, numbers, \\frac, \\sqrt, "
    "\\exp \\log \\ln \\sin \\cos \\tanh \\sigma, \\det, \\operatorname{tr|vec|diag|softmax|expm}, "
    "^{\\top} ^{-1} ^{-\\top} ^{k} ^{\\circ k}, \\odot \\circ \\otimes \\cdot \\times, |X| \\lvert \\rvert, "
    "\\|x\\|_2^2, ( ) [ ] \\left \\right \\bigl \\bigr, e^{X}, \\int_0^1 \\,\\mathrm{d}s, \\textcolor, "
    "\\sum_{k=0}^{n-1}"
)
CHAIN_STOP_MACROS = frozenset(["odot", "circ", "otimes", "rvert", "rVert"])
_SUB_NAME = re.compile(r"[A-Za-z0-9]+")
_DIM_POWER = r"(?:\^(?:\{(\d+)\}|(\d)))?"  # n^{2}: the writer's n n
_DIM_PART = re.compile(r"(\d*)((?:[A-Za-z](?:_(?:\{[A-Za-z0-9]+\}|[A-Za-z0-9]))?(?:\^(?:\{\d+\}|\d))?)*)")
_DIM_NAME = re.compile(r"([A-Za-z])(?:_(?:\{([A-Za-z0-9]+)\}|([A-Za-z0-9])))?" + _DIM_POWER)


def dim_name(letter: str, sub: str | None) -> str:
    """``n``, ``n_1``, ``n_{12}`` — the spelling :class:`~matdiff_tex.expr.dims.Dim` prints."""
    if not sub:
        return letter
    return f"{letter}_{sub}" if len(sub) == 1 else f"{letter}_{{{sub}}}"


class Parser:
    """Parses one token list (F, X, or a group inside them)."""

    def __init__(
        self,
        source: str,
        field_name: Field,
        tokens: list[Tok],
        *,
        style: str | None = None,
        bound: frozenset[str] = frozenset(),
        extent: tuple[int, int] | None = None,
        depth: int = 0,
        functions: Mapping[str, str] | None = None,
    ) -> None:
        self.src = source
        self.field = field_name
        self.toks = tokens
        self.i = 0
        self.style = style
        self.bound = bound
        self.closers: list[str] = []
        self.extent = extent if extent is not None else (0, len(source))
        self.depth = depth
        self.functions = functions or {}  # abstract functions: name -> "scalar" | "elementwise"

    # ------------------------------------------------------------ helpers

    def err(self, message: str, span: tuple[int, int], cls: type[MatdiffError] = LatexSyntaxError) -> MatdiffError:
        return cls(message, field=self.field, span=span)

    def peek(self, ahead: int = 0) -> Tok | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def text(self, span: tuple[int, int]) -> str:
        return self.src[span[0] : span[1]]

    def end_pos(self) -> int:
        return self.toks[self.i - 1].end if self.i else self.extent[0]

    def sub(self, tokens: list[Tok], extent: tuple[int, int], *, style: str | None = None,
            bound: frozenset[str] | None = None) -> "Parser":
        self.nest(extent)
        return Parser(self.src, self.field, tokens, style=self.style if style is None else style,
                      bound=self.bound if bound is None else bound, extent=extent, depth=self.depth + 1,
                      functions=self.functions)

    def nest(self, span: tuple[int, int]) -> None:
        """Refuse absurd nesting (it would exhaust Python's stack) with a clear message."""
        if self.depth + len(self.closers) >= MAX_NESTING:
            raise self.err(f"the expression is nested too deeply (more than {MAX_NESTING} levels)", span,
                           UnsupportedError)

    def parse_group(self, group: Tok, *, style: str | None = None, what: str = "group") -> Raw:
        """The expression inside a brace group."""
        inner = (group.start + 1, group.end - 1) if group.kind == "group" else group.span
        tokens = group.body if group.kind == "group" else [group]
        if not tokens:
            raise self.err(f"empty {what} {self.text(group.span)}", group.span)
        return self.sub(tokens, inner, style=style).parse_all()

    def grab_arg(self, macro: Tok) -> Tok:
        """The argument of ``macro``: the next group or single token."""
        tok = self.peek()
        if tok is None:
            raise self.err(f"\\{macro.text} needs an argument", macro.span)
        self.i += 1
        return tok

    def grab_script(self, op: Tok) -> tuple[list[Tok], tuple[int, int]]:
        """The tokens of a ``^``/``_`` argument (a group's body, or one token with its arguments)."""
        first = self.peek()
        if first is None:
            raise self.err(f"'{op.text}' needs an argument", op.span)
        if first.kind == "group":
            self.i += 1
            if not first.body:
                raise self.err(f"empty {'superscript' if op.text == '^' else 'subscript'}", (op.start, first.end))
            return first.body, first.span
        self.i += 1
        tokens = [first]
        for _ in range(ARG_COUNTS.get(first.text, 0) if first.kind == "macro" else 0):
            tokens.append(self.grab_arg(first))
        return tokens, (first.start, tokens[-1].end)

    # ------------------------------------------------------------ levels

    def parse_all(self) -> Raw:
        if not self.toks:
            raise self.err("empty expression", self.extent)
        node = self.parse_sum()
        if self.i < len(self.toks):
            raise self.unexpected(self.toks[self.i])
        return node

    def unexpected(self, tok: Tok) -> MatdiffError:
        if tok.is_char(")", "]") or (tok.kind == "delim" and _is_closing(tok)):
            return self.err(f"unbalanced parentheses: this '{self.text(tok.span)}' closes nothing", tok.span)
        if tok.is_char("'"):
            return self.prime_error(tok)
        if tok.is_char(","):
            return self.comma_error(tok)
        if tok.is_char("|") or tok.is_macro("rvert", "vert") or (tok.kind == "delim" and tok.text == "|"):
            return self.err("unbalanced determinant bars: this '|' closes nothing", tok.span)
        return self.err(f"unexpected '{self.text(tok.span)}'", tok.span)

    def comma_error(self, tok: Tok) -> MatdiffError:
        return self.err("a comma: F is one expression, and a pair or list such as (y, z) is not read; "
                        "differentiate each part in its own directive", tok.span, UnsupportedError)

    def prime_error(self, tok: Tok) -> MatdiffError:
        return self.err("a prime ' is not read as a transpose: write ^{\\top}", tok.span, UnsupportedError)

    def parse_sum(self) -> Raw:
        terms = [self.parse_signed()]
        while (tok := self.peek()) is not None and tok.is_char("+", "-"):
            self.i += 1
            operand = self.parse_signed()
            terms.append(operand if tok.text == "+" else negate(operand, (tok.start, operand.span[1])))
        if len(terms) == 1:
            return terms[0]
        return Raw("add", tuple(terms), (terms[0].span[0], terms[-1].span[1]))

    def parse_signed(self) -> Raw:
        tok = self.peek()
        if tok is not None and tok.is_char("-", "+"):
            self.i += 1
            inner = self.parse_signed()
            return inner if tok.text == "+" else negate(inner, (tok.start, inner.span[1]))
        return self.parse_kron()

    def parse_kron(self) -> Raw:
        left = self.parse_chain()
        while (tok := self.peek()) is not None and tok.is_macro("odot", "circ", "otimes"):
            self.i += 1
            right = self.parse_chain()
            op = "kron" if tok.text == "otimes" else "had"
            left = Raw(op, (left, right), (left.span[0], right.span[1]), tok.text)
        return left

    def parse_chain(self) -> Raw:
        factors: list[Raw] = []
        times: set[int] = set()
        self.add_factor(factors, self.parse_unit())
        while (tok := self.peek()) is not None:
            if tok.is_macro("cdot", "times"):
                self.i += 1
                if tok.text == "times":
                    times.add(len(factors))
                self.add_factor(factors, self.parse_unit())
            elif self.starts_unit(tok):
                self.add_factor(factors, self.parse_unit())
            else:
                break
        if len(factors) == 1:
            return factors[0]
        span = (factors[0].span[0], factors[-1].span[1])
        if not times:
            factors = _leading_coefficient(factors, span)
            if len(factors) == 1:
                return factors[0]
        return Raw("mul", tuple(factors), span, frozenset(times))

    @staticmethod
    def add_factor(factors: list[Raw], unit: Raw) -> None:
        if unit.op == "mul" and unit.grouped == "brace" and not unit.value:
            factors.extend(unit.kids)
        else:
            factors.append(unit)

    def starts_unit(self, tok: Tok) -> bool:
        innermost = self.closers[-1] if self.closers else None
        if tok.kind == "group":
            return True
        if tok.kind == "char":
            if tok.text == "|":
                return innermost != "|"
            return tok.text.isalnum() or tok.text in "([."
        if tok.kind == "delim":
            if _is_closing(tok):
                return False
            if tok.size.endswith("l") or tok.size == "left":
                return True
            return tok.text in "([" or (tok.text == "|" and innermost != "|") or (
                tok.text == "\\|" and innermost != "\\|")
        if tok.text in CHAIN_STOP_MACROS or tok.text in ("cdot", "times"):
            return False
        if tok.text in ("vert",):
            return innermost != "|"
        if tok.text in ("|", "Vert"):
            return innermost != "\\|"
        return True

    # ------------------------------------------------------------ function application

    def parse_unit(self) -> Raw:
        tok = self.peek()
        if tok is not None and self.functions and (named := self.abstract_head(tok)) is not None:
            return self.parse_abstract(*named)
        head = self.function_head(tok) if tok is not None else None
        if head is None:
            return self.parse_postfix()
        return self.parse_application(*head)

    def abstract_head(self, tok: Tok) -> tuple[str, bool, int] | None:
        """(name, gradient?, tokens) when ``tok`` starts ``\\ell(...)``, ``f'(...)`` or ``\\nabla \\ell(...)``."""
        gradient = tok.is_macro("nabla")
        head = self.peek(1) if gradient else tok
        if head is None or self.style is not None:
            return None
        name = head.text if (head.kind == "char" and head.text.isalpha()) or (
            head.kind == "macro" and (head.text in GREEK_LOWER or head.text in GREEK_UPPER)) else None
        if name is None or name not in self.functions:
            return None
        nxt = self.peek(2 if gradient else 1)
        if nxt is None or not (self.opens_paren(nxt) or nxt.is_char("'")):
            return None
        return name, gradient, 2 if gradient else 1

    def parse_abstract(self, name: str, gradient: bool, ntoks: int) -> Raw:
        """An abstract function applied: ``\\ell(u)``, ``f'(u)``, ``f''(u)``, ``\\nabla \\ell(u)``."""
        start = self.peek().start  # type: ignore[union-attr]
        self.i += ntoks
        primes = 0
        while (tok := self.peek()) is not None and tok.is_char("'"):
            primes += 1
            self.i += 1
        tok = self.peek()
        if tok is None or not self.opens_paren(tok):
            raise self.err(f"write the argument of the function {self.text((start, self.end_pos()))} in parentheses",
                           (start, self.end_pos()), UnsupportedError)
        if gradient and primes:
            raise self.err("write either \\nabla or primes on a function, not both", (start, self.end_pos()),
                           UnsupportedError)
        kind = self.functions[name]
        if kind == "scalar" and primes:
            raise self.err(f"{name} is a scalar function of a vector or matrix: write its gradient \\nabla {name}(...)",
                           (start, self.end_pos()), UnsupportedError)
        if kind == "elementwise" and gradient:
            raise self.err(f"{name} acts element by element: write its derivative with a prime, {name}'(...)",
                           (start, self.end_pos()), UnsupportedError)
        arg = self.parse_paren()
        node = Raw("afunc", (arg,), (start, self.end_pos()), (name, kind, "grad" if gradient else primes))
        return self.parse_postfix_ops(node)

    def word_of(self, macro: Tok) -> tuple[str, Tok] | None:
        """``\\operatorname{tr}`` -> ("tr", the argument token), if the next token is a word."""
        arg = self.peek(1)
        if arg is None:
            return None
        if arg.kind == "group" and arg.body and all(t.kind == "char" and t.text.isalpha() for t in arg.body):
            return "".join(t.text for t in arg.body), arg
        if arg.kind == "char" and arg.text.isalpha():
            return arg.text, arg
        return None

    def function_head(self, tok: Tok) -> tuple[str, str | None, str, int] | None:
        """(kind, function name, style, number of tokens) when ``tok`` starts a function."""
        if tok.kind != "macro":
            return None
        if tok.text == "sigma":
            nxt = self.peek(1)
            if nxt is None or not (nxt.is_char("'", "(", "[") or (nxt.kind == "delim" and not _is_closing(nxt))
                                   or nxt.kind == "group"):
                return None
        if tok.text in FUNCTION_HEADS:
            kind, name = FUNCTION_HEADS[tok.text]
            return kind, name, "operatorname" if kind == "tr" else tok.text, 1
        if tok.text in WORD_MACROS:
            found = self.word_of(tok)
            if found is None:
                return None
            word, _ = found
            if word == "d":
                return "diff", None, tok.text, 2
            if word in FUNCTION_WORDS:
                kind, name = FUNCTION_WORDS[word]
                return kind, name, tok.text, 2
        return None

    def parse_application(self, kind: str, name: str | None, style: str, ntoks: int) -> Raw:
        head_start = self.peek().start  # type: ignore[union-attr]
        head_text_tok = self.toks[self.i + ntoks - 1]
        self.i += ntoks
        power: Fraction | None = None
        primes = 0
        while (tok := self.peek()) is not None:
            if tok.is_char("'") and name == "sigma":
                primes += 1
                self.i += 1
            elif tok.is_char("'"):
                raise self.prime_error(tok)
            elif tok.is_char("^") and kind in ("func", "sech") and power is None and name != "sqrt":
                self.i += 1
                tokens, span = self.grab_script(tok)
                power = self.exponent_value(tokens, span)
                if power is None:
                    raise self.err(f"cannot read the power {self.text(span)} of a function: use a number",
                                   span, UnsupportedError)
            else:
                break
        head_span = (head_start, self.end_pos())
        if kind == "sech":
            if power != 2:
                raise self.err("only \\operatorname{sech}^{2} is supported", head_span, UnsupportedError)
            kind, name, power = "func", "sech2", None
        if primes:
            if primes > 3:
                raise self.err("at most three primes on \\sigma are supported", head_span, UnsupportedError)
            name = ("sigma_p", "sigma_pp", "sigma_ppp")[primes - 1]
        if kind == "func" and name not in FUNCTIONS:  # pragma: no cover - table and reader disagree
            raise self.err(f"unknown function {self.text(head_span)}", head_span, UnsupportedError)
        if name == "sqrt":
            return self.parse_sqrt(head_span)
        what = self.text((head_start, head_text_tok.end))
        tok = self.peek()
        if tok is None:
            raise self.err(f"{what} needs an argument", head_span)
        if self.opens_paren(tok):
            arg = self.parse_paren()
            node = self.parse_postfix_ops(self.apply(kind, name, style, arg, (head_start, self.end_pos())))
        else:
            arg = self.parse_unit()
            node = self.apply(kind, name, style, arg, (head_start, arg.span[1]))
        if power is not None:
            node = self.power(node, power, node.span)
        return node

    def parse_sqrt(self, head_span: tuple[int, int]) -> Raw:
        tok = self.peek()
        if tok is not None and tok.is_char("["):
            raise self.err("\\sqrt[n]{...} is not supported: write a power such as ^{1/3}", tok.span,
                           UnsupportedError)
        macro = self.toks[self.i - 1]
        arg_tok = self.grab_arg(macro)
        arg = self.parse_group(arg_tok, what="argument of \\sqrt")
        node = Raw("func", (arg,), (head_span[0], arg_tok.end), "sqrt")
        return self.parse_postfix_ops(node)

    @staticmethod
    def apply(kind: str, name: str | None, style: str, arg: Raw, span: tuple[int, int]) -> Raw:
        if kind == "func":
            return Raw("func", (arg,), span, name)
        if kind == "tr":
            return Raw("tr", (arg,), span, style)
        if kind == "det":
            return Raw("det", (arg,), span, "det")
        if kind == "expm":
            return Raw("expm", (arg,), span, "expm")
        return Raw(kind, (arg,), span)  # vec, diag, softmax, diff

    # ------------------------------------------------------------ postfix

    def parse_postfix(self) -> Raw:
        return self.parse_postfix_ops(self.parse_atom())

    def parse_postfix_ops(self, node: Raw) -> Raw:
        while (tok := self.peek()) is not None:
            if tok.is_char("^"):
                self.i += 1
                tokens, span = self.grab_script(tok)
                node = self.superscript(node, tokens, span)
            elif tok.is_char("_"):
                self.i += 1
                tokens, span = self.grab_script(tok)
                node = self.subscript(node, tokens, span)
            elif tok.is_char("'"):
                raise self.prime_error(tok)
            elif tok.is_char("!"):
                self.i += 1
                node = Raw("fact", (node,), (node.span[0], tok.end))
            else:
                break
        return node

    def is_transpose(self, tokens: list[Tok]) -> bool:
        tokens = _unwrap(tokens)
        if len(tokens) == 1:
            tok = tokens[0]
            return tok.is_char("T") or tok.is_macro("top", "intercal", "mathsf", "mathrm", "text", "rm")
        if len(tokens) == 2 and tokens[0].is_macro("mathsf", "mathrm", "text", "rm", "mathit"):
            arg = _unwrap([tokens[1]])
            return len(arg) == 1 and arg[0].is_char("T")
        return False

    def superscript(self, node: Raw, tokens: list[Tok], span: tuple[int, int]) -> Raw:
        whole = (node.span[0], span[1])
        tokens = _unwrap(tokens)
        if self.is_transpose(tokens):
            if len(tokens) == 1 and tokens[0].is_macro("mathsf", "mathrm", "text", "rm"):
                raise self.err("write the transpose as ^{\\top}", span)
            return Raw("T", (node,), whole)
        if tokens[0].is_char("-") and len(tokens) > 1 and self.is_transpose(tokens[1:]):
            return Raw("invT", (node,), whole)
        if tokens[0].is_macro("circ"):
            value = self.exponent_value(tokens[1:], span)
            if value is None:
                raise self.err(f"cannot read the Hadamard power {self.text(span)}: write ^{{\\circ k}} with a number k",
                               span, UnsupportedError)
            self.check_exponent(value, span)
            return Raw("hpow", (node,), whole, value)
        if any(t.is_char("'", "*") or t.is_macro("prime", "dagger", "ast") for t in tokens):
            if any(t.is_char("'") or t.is_macro("prime") for t in tokens):
                raise self.prime_error(tokens[0])
            raise self.err("conjugate transposes are not supported (real matrices only): write ^{\\top}",
                           span, UnsupportedError)
        if len(tokens) == 1 and tokens[0].is_char("H"):
            raise self.err("conjugate transposes are not supported (real matrices only): write ^{\\top}",
                           span, UnsupportedError)
        value = self.exponent_value(tokens, span)
        if value is None:
            exponent = self.integer_expression(tokens, span)
            if exponent is None:
                raise self.err(
                    f"cannot read the exponent {self.text(span)}: exponents are numbers (^{{2}}, ^{{-1}}, ^{{1/2}}), "
                    "symbolic integers (^{n}, ^{n-1}, ^{2n+1}), ^{\\top}, ^{-\\top} or ^{\\circ k}",
                    span,
                    UnsupportedError,
                )
            return Raw("spow", (node, exponent), whole)
        return self.power(node, value, whole)

    def integer_expression(self, tokens: list[Tok], span: tuple[int, int]) -> Raw | None:
        """``n``, ``n-1-k``, ``2n+1``: a linear expression of plain one-letter scalars and integers
        (a symbolic integer exponent or summation bound), or None."""
        tokens = _unwrap(tokens)
        if not tokens or not all(t.kind == "char" and (t.text.isdigit() or t.text in "+-" or (
                t.text.isascii() and t.text.islower())) for t in tokens):
            return None
        try:
            self.nest(span)
            tree = Parser(self.src, self.field, tokens, bound=self.bound, extent=span, depth=self.depth + 1,
                          functions=self.functions).parse_all()
        except MatdiffError:
            return None
        return tree if _is_integer_expression(tree) else None

    def power(self, node: Raw, value: Fraction, span: tuple[int, int]) -> Raw:
        self.check_exponent(value, span)
        if value == -1:
            return Raw("inv", (node,), span)
        return Raw("pow", (node,), span, value)

    def check_exponent(self, value: Fraction, span: tuple[int, int]) -> None:
        if abs(value.numerator) > MAX_EXPONENT or value.denominator > MAX_EXPONENT:
            raise self.err(f"the exponent {value} is too large: at most {MAX_EXPONENT} is supported", span,
                           UnsupportedError)

    def exponent_value(self, tokens: list[Tok], span: tuple[int, int]) -> Fraction | None:
        """The number in an exponent (``2``, ``-1``, ``1/2``, ``-\\frac{1}{2}``, ``0.5``) or None."""
        tokens = _unwrap(tokens)
        if not tokens:
            return None
        slash = [k for k, t in enumerate(tokens) if t.is_char("/")]
        try:
            if len(slash) == 1:
                k = slash[0]
                top = self.sub(tokens[:k], span).parse_all() if k else None
                bottom = self.sub(tokens[k + 1 :], span).parse_all() if k + 1 < len(tokens) else None
                if top is None or bottom is None:
                    return None
                a, b = const_value(top), const_value(bottom)
                return None if a is None or not b else a / b
            if slash:
                return None
            return const_value(self.sub(tokens, span).parse_all())
        except MatdiffError:
            return None

    def subscript(self, node: Raw, tokens: list[Tok], span: tuple[int, int]) -> Raw:
        whole = (node.span[0], span[1])
        if node.op in ("T", "inv", "invT", "pow") and node.kids[0].op in ("sym", "ident", "ones", "zero"):
            inner = self.subscript(node.kids[0], tokens, span)  # X^{\top}_{1} is (X_1)^T, as TeX shows it
            return Raw(node.op, (inner,), whole, node.value)
        text = self.text((tokens[0].start, tokens[-1].end)) if tokens else ""
        if tokens and tokens[0].kind == "group" and len(tokens) == 1:  # pragma: no cover - grab_script unwraps
            text = text[1:-1]
        if node.op == "sym" and "_" not in node.value.name and not node.grouped:
            ref: SymRef = node.value
            compact = "".join(text.split())
            if ref.name == "D" and ref.kind == "matrix" and RESULT_NOTATION.get() and \
                    re.fullmatch(r"[A-Za-z]|[1-9][0-9]*", compact):
                return Raw("dup", (), whole, (ref.style, self.dim_spec(compact, span)))
            if ref.name == "K" and ref.kind == "matrix" and ("," in compact or re.fullmatch(r"[A-Za-z]{2}", compact)):
                m, n = self.commutation_sizes(compact, span)
                return Raw("comm", (), whole, (ref.style, m, n))
            if not _SUB_NAME.fullmatch(compact):
                raise self.err(
                    f"cannot read the subscript {self.text(span)}: a symbol's subscript is letters and digits "
                    "(x_i, \\boldsymbol{W}_{12})",
                    span,
                    UnsupportedError,
                )
            return Raw("sym", (), whole, SymRef(f"{ref.name}_{compact}", ref.kind, ref.style))
        if node.op == "num" and node.value in (0, 1) and not node.grouped and self.style is None:
            # the plain-style zero and ones the writer prints next to a plain X: 0_{m \times n}, 1_{n}
            node = Raw("zero", (), node.span, ("plain", None, None)) if node.value == 0 else \
                Raw("ones", (), node.span, ("plain", None))
        if node.op in ("ident", "ones") and node.value[1] is None and not node.grouped:
            return Raw(node.op, (), whole, (node.value[0], self.dim_spec(text, span)))
        if node.op == "zero" and node.value[1] is None and not node.grouped:
            parts = re.split(r"\\times|,", text)
            if len(parts) > 2:
                raise self.err(f"cannot read the size {self.text(span)}: write 0_{{p \\times q}}", span)
            rows = self.dim_spec(parts[0], span)
            cols = self.dim_spec(parts[1], span) if len(parts) == 2 else (1, ())
            return Raw("zero", (), whole, (node.value[0], rows, cols))
        raise self.err(
            f"a subscript is only read on a symbol (x_i, \\boldsymbol{{W}}_1) or on \\boldsymbol{{I}}, "
            f"\\boldsymbol{{0}}, \\boldsymbol{{1}}, \\boldsymbol{{K}}; got {self.text(whole)}",
            span,
            UnsupportedError,
        )

    def commutation_sizes(self, compact: str, span: tuple[int, int]) -> tuple[DimSpec, DimSpec]:
        if "," in compact:
            parts = compact.split(",")
            if len(parts) != 2:
                raise self.err(f"cannot read the sizes {self.text(span)} of K: write K_{{m,n}}", span)
            return self.dim_spec(parts[0], span), self.dim_spec(parts[1], span)
        return (1, (compact[0],)), (1, (compact[1],))

    def dim_spec(self, text: str, span: tuple[int, int]) -> DimSpec:
        """``n``, ``mn``, ``3n``, ``n^{2}``, ``12``, ``m \\cdot n_1`` -> (coeff, names)."""
        coeff, names = 1, []
        parts = [part.strip() for part in text.split("\\cdot")]
        for part in parts:
            compact = "".join(part.split())
            if half_square_base(compact) is not None and _DIM_NAME.fullmatch(half_square_base(compact) or ""):
                names.append(compact)  # n(n+1)/2, the size of vech(X): the solver ties it to n
                continue
            match = _DIM_PART.fullmatch(compact)
            if not compact or match is None:
                raise self.err(f"cannot read the size {self.text(span)}: write a number or a name such as n, mn, n_1",
                               span)
            digits, letters = match.groups()
            if digits:
                coeff *= int(digits)
            for name_match in _DIM_NAME.finditer(letters):
                letter, braced, single, power_braced, power = name_match.groups()
                count = int(power_braced or power or 1)
                if not 1 <= count <= 8:
                    raise self.err(f"cannot read the size {self.text(span)}: a power of a size name is at most 8", span)
                names.extend([dim_name(letter, braced or single)] * count)
        if coeff < 1:
            raise self.err(f"a size must be at least 1, got {self.text(span)}", span)
        if coeff > MAX_SIZE:
            raise self.err(f"the size {coeff} is too large: at most {MAX_SIZE} is supported", span, UnsupportedError)
        return coeff, tuple(sorted(names))

    # ------------------------------------------------------------ atoms

    def parse_atom(self) -> Raw:
        tok = self.peek()
        if tok is None:
            end = self.end_pos()
            what = self.text(self.toks[self.i - 1].span) if self.i else ""
            raise self.err(f"expected an expression after '{what}'" if what else "expected an expression",
                           (end, end))
        self.i += 1
        if tok.kind == "char":
            return self.char_atom(tok)
        if tok.kind == "group":
            node = self.parse_group(tok)
            node.grouped = node.grouped or "brace"
            if node.op != "sym":
                node.span = tok.span
            return node
        if tok.kind == "delim":
            self.i -= 1
            if _is_closing(tok):
                raise self.unexpected(tok)
            if tok.text in "([":
                return self.parse_paren()
            if tok.text == "|":
                return self.parse_bars()
            if tok.text == "\\|":
                return self.parse_norm()
            raise self.err(f"unsupported delimiter {self.text(tok.span)}", tok.span, UnsupportedError)
        return self.macro_atom(tok)

    def char_atom(self, tok: Tok) -> Raw:
        text = tok.text
        if text.isalpha() and text.isascii():
            return self.letter(text, tok)
        if text.isdigit() or text == ".":
            return self.number(tok)
        if text in "([":
            self.i -= 1
            return self.parse_paren()
        if text == "|":
            self.i -= 1
            return self.parse_bars()
        if text == "'":
            raise self.prime_error(tok)
        if text in "^_":
            raise self.err(f"'{text}' without a base", tok.span)
        if text in "+-":
            raise self.err(f"expected an operand, got '{text}': put a negative factor in parentheses", tok.span)
        if text in ")]":
            raise self.unexpected(tok)
        raise self.err(f"unexpected '{text}'", tok.span, LatexSyntaxError)

    def letter(self, text: str, tok: Tok) -> Raw:
        style = self.style or "plain"
        if text == "e" and self.style is None and (nxt := self.peek()) is not None and nxt.is_char("^"):
            return self.euler_power(tok)
        if text == "I":
            return Raw("ident", (), tok.span, (style, None))
        if text in self.bound and self.style is None:
            return Raw("bvar", (), tok.span, text)
        return Raw("sym", (), tok.span, SymRef(text, _kind(text.isupper(), self.style), style))

    def euler_power(self, base: Tok) -> Raw:
        caret = self.take()
        tokens, span = self.grab_script(caret)
        exponent = self.sub(tokens, span).parse_all()
        return Raw("epow", (exponent,), (base.start, span[1]))

    def number(self, first: Tok) -> Raw:
        chars = [first]
        while ((tok := self.peek()) is not None and tok.kind == "char" and (tok.text.isdigit() or tok.text == ".")
               and tok.start == chars[-1].end):  # "2 2" is two numbers, as the writer separates factors
            chars.append(self.take())
        text = "".join(t.text for t in chars)
        span = (first.start, chars[-1].end)
        self.refuse_e_notation(chars[-1], span)
        if text.count(".") > 1 or text == ".":
            raise self.err(f"cannot read the number {self.text(span)}", span)
        if len(text.replace(".", "").lstrip("0")) > MAX_DIGITS:
            raise self.err(f"the number {self.text(span)[:20]}... has more than {MAX_DIGITS} digits: the numeric "
                           "check computes in floating point, which cannot hold it; scale it or name it with "
                           "a letter", span, UnsupportedError)
        if self.style is not None and text in ("0", "1"):
            return Raw("zero" if text == "0" else "ones", (), span,
                       (self.style, None, None) if text == "0" else (self.style, None))
        return num(Fraction(text), span)

    def refuse_e_notation(self, last: Tok, span: tuple[int, int]) -> None:
        """``1e5``, ``2.5E-3``: E notation is not LaTeX; reading it as 1·e·5 would be a silent misreading."""
        run = [last]
        for ahead in range(3):
            tok = self.peek(ahead)
            if tok is None or tok.kind != "char" or tok.start != run[-1].end:
                return
            run.append(tok)
            if ahead == 0 and not tok.is_char("e", "E"):
                return
            if ahead == 1 and tok.is_char("+", "-"):
                continue
            if ahead >= 1:
                if not tok.text.isdigit():
                    return
                break
        else:
            return
        whole = (span[0], run[-1].end)
        raise self.err(
            f"{self.text(whole)} looks like a number in E notation, which LaTeX does not have: write "
            f"{self.text(span)} \\times 10^{{k}} (or separate the factors of a product with a space or \\cdot)",
            whole, UnsupportedError)

    def macro_atom(self, tok: Tok) -> Raw:
        name = tok.text
        if name in GREEK_LOWER or name in GREEK_UPPER:
            if name in self.bound and self.style is None:  # pragma: no cover - integration variables are letters
                return Raw("bvar", (), tok.span, name)
            return Raw("sym", (), tok.span, SymRef(name, _kind(name in GREEK_UPPER, self.style),
                                                   self.style or "plain"))
        if name in STYLE_MACROS:
            arg = self.grab_arg(tok)
            node = self.parse_group(arg, style=STYLE_MACROS[name], what=f"argument of \\{name}")
            if node.op == "mul":
                node.grouped = node.grouped or "brace"
            if node.op != "sym":
                node.span = (tok.start, arg.end)
            else:
                node.span = (tok.start, arg.end) if node.span[1] <= arg.end else node.span
            return node
        if name in ("frac", "dfrac", "tfrac"):
            top_tok = self.grab_arg(tok)
            bottom_tok = self.grab_arg(tok)
            top = self.parse_group(top_tok, what="numerator")
            bottom = self.parse_group(bottom_tok, what="denominator")
            span = (tok.start, bottom_tok.end)
            a, b = const_value(top), const_value(bottom)
            if b == 0:
                raise self.err("division by zero", span)
            if a is not None and b is not None:
                return num(a / b, span)
            return Raw("frac", (top, bottom), span)
        if name in ("|", "Vert", "lVert"):
            self.i -= 1
            return self.parse_norm()
        if name in ("lvert", "vert"):
            self.i -= 1
            return self.parse_bars()
        if name == "int":
            return self.parse_integral(tok)
        if name == "sum":
            return self.parse_sum_symbol(tok)
        if name == "textcolor":
            self.grab_arg(tok)
            content = self.grab_arg(tok)
            node = self.parse_group(content, what="\\textcolor content")
            node.grouped = node.grouped or "brace"
            return node
        if name in WORD_MACROS:
            arg = self.grab_arg(tok)
            word = self.text(arg.span).strip("{} ")
            if word == "e" and (nxt := self.peek()) is not None and nxt.is_char("^"):
                return self.euler_power(tok)
            if word == "e":
                return Raw("sym", (), (tok.start, arg.end), SymRef("e", "scalar", "plain"))
            raise self.err(f"unknown function \\{name}{{{word}}}; {SUPPORTED}", (tok.start, arg.end),
                           UnsupportedError)
        if name in ("top", "intercal"):
            raise self.err(f"\\{name} stands only in a superscript: X^{{\\top}}", tok.span)
        if name == "prime":
            raise self.prime_error(tok)
        if name in ("odot", "otimes", "circ", "cdot", "times"):
            raise self.err(f"\\{name} needs an operand on its left", tok.span)
        if name in ("rvert", "rVert"):
            raise self.unexpected(tok)
        raise self.err(f"unknown macro \\{name}; {SUPPORTED}", tok.span, UnsupportedError)

    # ------------------------------------------------------------ delimited atoms

    def opens_paren(self, tok: Tok) -> bool:
        if tok.kind == "char":
            return tok.text in "(["
        return tok.kind == "delim" and not _is_closing(tok) and tok.text in "(["

    def delimited(self, kind: str) -> tuple[Raw, Tok, Tok]:
        """Parse ``open expr close`` where ``kind`` is the closer: ``)``, ``]``, ``|`` or ``\\|``."""
        opener = self.take()
        self.nest(opener.span)
        self.closers.append(kind)
        try:
            tok = self.peek()
            if tok is not None and self.closes(tok, kind, opener) and not _symmetric(tok):
                raise self.err(f"empty {self.text(opener.span)}{self.text(tok.span)}", (opener.start, tok.end))
            node = self.parse_sum()
        finally:
            self.closers.pop()
        closer = self.peek()
        if closer is not None and closer.is_char(","):
            raise self.comma_error(closer)
        if closer is None or not self.closes(closer, kind, opener):
            if closer is not None and (closer.is_char(")", "]") or (closer.kind == "delim" and _is_closing(closer))):
                raise self.err(
                    f"unbalanced parentheses: '{self.text(opener.span)}' is closed by '{self.text(closer.span)}'",
                    (opener.start, closer.end),
                )
            shown = self.text(opener.span)
            raise self.err(f"unbalanced parentheses: this '{shown}' is never closed", opener.span)
        self.i += 1
        return node, opener, closer

    def closes(self, tok: Tok, kind: str, opener: Tok) -> bool:
        """Does ``tok`` close the group that ``opener`` opened (``\\left`` pairs with ``\\right``)?"""
        left = opener.kind == "delim" and opener.size == "left"
        if tok.kind == "delim":
            if left:
                return tok.size == "right" and tok.text == kind
            return tok.size not in ("right", "middle") and not tok.size.endswith("l") and tok.text == kind
        if left:
            return False
        if kind == "|":
            return tok.is_char("|") or tok.is_macro("rvert", "vert")
        if kind == "\\|":
            return tok.is_macro("|", "rVert", "Vert")
        return tok.is_char(kind)

    def parse_paren(self) -> Raw:
        opener = self.peek()
        assert opener is not None
        kind = ")" if opener.text == "(" else "]"
        node, opener, closer = self.delimited(kind)
        node.grouped = "paren"
        node.span = (opener.start, closer.end)
        return node

    def parse_bars(self) -> Raw:
        node, opener, closer = self.delimited("|")
        return Raw("det", (node,), (opener.start, closer.end), "bars")

    def parse_norm(self) -> Raw:
        node, opener, closer = self.delimited("\\|")
        span = (opener.start, closer.end)
        sub = ""
        sub_end = span[1]
        power: Fraction | None = None
        for _ in range(2):
            tok = self.peek()
            if tok is not None and tok.is_char("_") and not sub:
                self.i += 1
                tokens, sub_span = self.grab_script(tok)
                sub = self.norm_subscript(tokens, sub_span)
                sub_end = sub_span[1]
            elif tok is not None and tok.is_char("^") and power is None:
                self.i += 1
                tokens, sup_span = self.grab_script(tok)
                power = self.exponent_value(tokens, sup_span)
                if power is None:
                    raise self.err(f"cannot read the exponent {self.text(sup_span)} of the norm", sup_span,
                                   UnsupportedError)
            else:
                break
        whole = (span[0], self.end_pos())
        if power == 2 and sub in ("", "2", "F"):
            return Raw("normsq", (node,), whole, sub)
        norm = Raw("norm", (node,), (span[0], sub_end), sub)
        return norm if power is None else self.power(norm, power, whole)

    def norm_subscript(self, tokens: list[Tok], span: tuple[int, int]) -> str:
        tokens = _unwrap(tokens)
        if len(tokens) == 2 and tokens[0].is_macro("mathrm", "text", "mathsf", "rm"):
            tokens = _unwrap([tokens[1]])
        if len(tokens) == 1 and tokens[0].is_char("2", "F", "1", "*"):
            return tokens[0].text
        if len(tokens) == 1 and tokens[0].is_macro("ast"):
            return "*"
        raise self.err(f"unsupported norm {self.text(span)}: write \\|x\\|_2, \\|x\\|_1, \\|X\\|_F, \\|X\\|_2 "
                       "(spectral) or \\|X\\|_* (nuclear)", span, UnsupportedError)

    def parse_integral(self, tok: Tok) -> Raw:
        limits: dict[str, Fraction | None] = {}
        while (op := self.peek()) is not None and op.is_char("_", "^") and op.text not in limits:
            self.i += 1
            tokens, span = self.grab_script(op)
            limits[op.text] = self.exponent_value(tokens, span)
        if limits.get("_") != 0 or limits.get("^") != 1:
            raise self.err("only integrals \\int_{0}^{1} ... \\,\\mathrm{d}s are supported", tok.span,
                           UnsupportedError)
        start = self.i
        inner = 0  # integrals nested in the body close with their own differential first
        for j in range(start, len(self.toks)):
            cand = self.toks[j]
            if cand.is_macro("int"):
                inner += 1
            if cand.is_macro(*WORD_MACROS) and j + 2 < len(self.toks):
                arg = self.toks[j + 1]
                word = self.text(arg.span).strip("{} ")
                var = self.toks[j + 2]
                if word == "d" and var.kind == "char" and var.text.isalpha():
                    if inner == 0:
                        break
                    inner -= 1
        else:
            raise self.err("the integral needs its differential: \\int_{0}^{1} ... \\,\\mathrm{d}s", tok.span)
        if j == start:
            raise self.err("the integral has no body", (tok.start, self.toks[j].end))
        body_toks = self.toks[start:j]
        self.i = j + 3
        body = self.sub(body_toks, (body_toks[0].start, body_toks[-1].end),
                        bound=self.bound | {var.text}).parse_all()
        return Raw("int", (body,), (tok.start, var.end), var.text)


    def parse_sum_symbol(self, tok: Tok) -> Raw:
        """``\\sum_{k=0}^{n-1} body``: the body runs to the end of the term (the next ``+`` or ``-``
        outside brackets), as a reader takes it; ``k`` is bound in the body."""
        usage = "write a sum as \\sum_{k=0}^{n-1} (or \\sum_{k=0}^{\\infty}) with a letter k and integer bounds"
        scripts: dict[str, tuple[list[Tok], tuple[int, int]]] = {}
        while (op := self.peek()) is not None and op.is_char("_", "^") and op.text not in scripts:
            self.i += 1
            scripts[op.text] = self.grab_script(op)
        if set(scripts) != {"_", "^"}:
            raise self.err(usage, tok.span, UnsupportedError)
        low_toks, low_span = scripts["_"]
        low_toks = _unwrap(low_toks)
        if (len(low_toks) < 3 or not low_toks[1].is_char("=") or low_toks[0].kind != "char"
                or not (low_toks[0].text.isascii() and low_toks[0].text.islower())):
            raise self.err(usage, low_span, UnsupportedError)
        var = low_toks[0].text
        lower = self.integer_expression(low_toks[2:], (low_toks[2].start, low_toks[-1].end))
        up_toks, up_span = scripts["^"]
        infinite = len(_unwrap(up_toks)) == 1 and _unwrap(up_toks)[0].is_macro("infty")
        upper = Raw("infty", (), up_span) if infinite else self.integer_expression(up_toks, up_span)
        if lower is None or upper is None or any(n.op == "sym" and n.value.name == var
                                                 for n in (*lower.walk(), *upper.walk())):
            raise self.err(usage, (tok.start, scripts["^"][1][1]), UnsupportedError)
        if self.peek() is None:
            raise self.err("the sum has no body", tok.span)
        saved = self.bound
        self.bound = saved | {var}
        try:
            body = self.parse_kron()
        finally:
            self.bound = saved
        for node in body.walk():  # x_k: entries are not read, and a symbol x_k would not vary with k
            if node.op == "sym" and "_" in node.value.name and var in node.value.name.split("_", 1)[1]:
                raise self.err(f"entries indexed by the summation index {var} are not supported; the terms "
                               "of a sum may depend on it through exponents only (\\boldsymbol{A}^{k})",
                               node.span, UnsupportedError)
        return Raw("sum", (lower, upper, body), (tok.start, body.span[1]), var)


# ---------------------------------------------------------------- helpers


def _is_integer_expression(node: Raw) -> bool:
    """Sums and differences of integers, one-letter plain scalars and integer multiples of them."""
    if node.op == "num":
        return node.value.denominator == 1
    if node.op == "bvar":
        return True
    if node.op == "sym":
        return node.value.kind == "scalar" and node.value.style == "plain" and len(node.value.name) == 1
    if node.op in ("add", "neg"):
        return all(_is_integer_expression(kid) for kid in node.kids)
    if node.op == "mul" and not node.value:
        letters = [kid for kid in node.kids if kid.op != "num"]
        return len(letters) <= 1 and all(_is_integer_expression(kid) for kid in node.kids)
    return False


def _kind(upper: bool, style: str | None) -> Kind:
    if upper:
        return "matrix"
    return "scalar" if style is None else "vector"


def _is_closing(tok: Tok) -> bool:
    return tok.kind == "delim" and (tok.size == "right" or (tok.size.endswith("r") and tok.size != "right"
                                                             and tok.size[:-1] in ("big", "Big", "bigg", "Bigg")))


def _leading_coefficient(factors: list[Raw], span: tuple[int, int]) -> list[Raw]:
    """Numbers in a product become one leading coefficient (``a (-2)`` is ``-2 a``), as the writer prints."""
    values = [const_value(f) for f in factors]
    if not any(v is not None for v in values):
        return factors
    coeff = Fraction(1)
    rest = []
    for factor, value in zip(factors, values):
        if value is None:
            rest.append(factor)
        else:
            coeff *= value
    if not rest:
        return [num(coeff, span)]
    if coeff == 1 and values[0] is None:
        return rest
    first = next(f for f, v in zip(factors, values) if v is not None)
    return ([num(coeff, first.span)] if coeff != 1 else []) + rest


def _symmetric(tok: Tok) -> bool:
    """``|`` or ``\\|`` that may open as well as close (where an operand is due, it opens)."""
    if tok.kind == "delim":
        return tok.text in ("|", "\\|") and not _is_closing(tok) and tok.size != "left"
    return tok.is_char("|") or tok.is_macro("|", "vert", "Vert")


def _unwrap(tokens: list[Tok]) -> list[Tok]:
    while len(tokens) == 1 and tokens[0].kind == "group":
        tokens = tokens[0].body
    return tokens


def const_value(node: Raw) -> Fraction | None:
    """The value of a raw tree made of numbers only, else None."""
    if node.op == "num":
        return node.value
    if node.op == "neg":
        inner = const_value(node.kids[0])
        return None if inner is None else -inner
    if node.op == "mul" and not node.value:
        total = Fraction(1)
        for kid in node.kids:
            value = const_value(kid)
            if value is None:
                return None
            total *= value
        return total
    if node.op == "frac":
        a, b = const_value(node.kids[0]), const_value(node.kids[1])
        return None if a is None or not b else a / b
    return None


def parse_tokens(source: str, field_name: Field, tokens: list[Tok], functions: Mapping[str, str] | None = None) -> Raw:
    """The raw tree of a whole F or X (``functions``: names of abstract functions)."""
    return Parser(source, field_name, tokens, functions=functions).parse_all()
