"""Read F and X (SPEC section 3) into typed expression trees with resolved sizes.

    read_derivative_input(f, x, shapes) -> ReadResult     # for derive()
    read_expression(latex, shapes, dims=None) -> Node      # for evaluate()

Three stages, each in its own module:

1. :mod:`~matdiff_tex.expr.lexer` — pylatexenc 2 (``tolerant_parsing=False``) finds
   macros, groups and comments; unbalanced braces are a :class:`LatexSyntaxError`.
2. :mod:`~matdiff_tex.expr.parser` — a precedence parser over those tokens builds a
   raw tree that keeps every source span.  Precedence, tightest first: postfix
   (``^{\\top}``, ``^{-1}``, ``^{k}``, subscripts) > function application (``\\log x``
   takes the next factor) > juxtaposition / ``\\cdot`` / ``\\times`` > ``\\odot``,
   ``\\circ``, ``\\otimes`` > unary minus > ``+``, ``-``.
3. :mod:`~matdiff_tex.expr.shapes` — union-find shape inference over F and X
   together; then the nodes of :mod:`~matdiff_tex.expr.nodes` are built.

Kinds come from notation: bold or ``\\vec`` lower case (Latin or Greek) is a column
vector n x 1, upper case (bold or plain, Latin or Greek) a matrix, plain lower case
or Greek a scalar.  X's notation decides the kind of its name everywhere; a size
given in ``shapes`` turns a plain lower-case name into a vector or matrix.  In a
product, factors that are 1x1 act as scalars (``|X| X^{-1}``); numbers in a product
become one leading coefficient.  Unknown sizes get fresh names: X is m x n (n x n when
square, n x 1 for a vector), the others take the next free names of m, n, p, q, r ...
in order of appearance, avoiding the author's dimension names and one-letter scalars.

Readings chosen where LaTeX is ambiguous: ``\\frac{1}{b}`` is ``b^{-1}`` (``Power``),
other fractions are ``Frac``; a scalar's ``^{-1}`` is ``Power(b, -1)``, a matrix's is
``Inverse``; ``^{-\\top}`` is ``Transpose(Inverse(X))``; ``e^{...}`` is ``Expm`` of a
matrix and ``Func("exp")`` of a scalar; ``\\exp`` is always element-wise;
``\\textcolor{c}{x}`` is ``x``; ``\\boldsymbol{0}_{n}`` is an n x 1 zero.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import AbstractSet, Any, Callable, Mapping

from ..errors import Field, LatexSyntaxError, MatdiffError, ReadingWarning, ShapeError, UnsupportedError
from .dims import Dim
from .guesses import reading_warnings
from .lexer import tokenize
from .nodes import (
    Add,
    Applied,
    Commutation,
    Duplication,
    Det,
    Diag,
    Differential,
    Expm,
    Factorial,
    Frac,
    Func,
    Gradient,
    Hadamard,
    HadamardPower,
    Identity,
    Infinity,
    Integral,
    Inverse,
    Kron,
    Mul,
    Node,
    Norm,
    NormSq,
    Num,
    Ones,
    Power,
    Softmax,
    Sum,
    Sym,
    SymbolicPower,
    Trace,
    Transpose,
    Vec,
    Vech,
    Zero,
)
from .parser import RESULT_NOTATION, parse_tokens
from .raw import Raw, SymRef
from .shapes import (
    ONE,
    GivenShape,
    Inference,
    Origin,
    Solver,
    SymbolInfo,
    Term,
    given_term,
    normalize_shapes,
    symbol_latex,
)

__all__ = ["ReadResult", "read_derivative_input", "read_expression", "read_raw"]


@dataclass(frozen=True)
class ReadResult:
    """F and X read together.

    ``dims`` maps every dimension name the reader chose to what it is (``"rows of
    \\boldsymbol{X}"``) and every dimension name written by the author (``I_{n}``,
    ``shapes={"X": "n x n"}``) that the sizes fixed to a number to that number.
    ``dim_sources`` maps a dimension name to a (symbol name, axis) that has it, so a
    caller holding values can bind it (axis 0: rows, 1: columns).
    """

    f: Node
    x: Sym
    dims: dict[str, int | str]
    symbols: dict[str, Sym]
    dim_sources: dict[str, tuple[str, int]]
    warnings: tuple[ReadingWarning, ...] = ()


def read_derivative_input(f: str, x: str, shapes: Mapping[str, Any] | None = None,
                          symmetric: AbstractSet[str] = frozenset(),
                          functions: Mapping[str, str] | None = None) -> ReadResult:
    """Read the expression ``f`` and the variable ``x`` of ``\\deriv<f><x>``.

    ``symmetric`` names matrices known to be symmetric: they are square (their sizes are unified).
    The last readings are remembered (a directive is read for its guessed readings, then again
    by derive()): a repeated call returns the same trees and warnings with fresh dictionaries.
    """
    key = _reading_key(f, x, shapes, symmetric, functions)
    if key is None:
        return _read_derivative_input(f, x, shapes, symmetric, functions)
    found = _READINGS.get(key)
    if found is None:
        found = _read_derivative_input(f, x, shapes, symmetric, functions)
        if len(_READINGS) >= _READINGS_KEPT:
            del _READINGS[next(iter(_READINGS))]
        _READINGS[key] = found
    return replace(found, dims=dict(found.dims), symbols=dict(found.symbols), dim_sources=dict(found.dim_sources))


_READINGS: dict[tuple[Any, ...], "ReadResult"] = {}
_READINGS_KEPT = 512


def forget_readings() -> None:
    """Forget the remembered readings (benchmarks time a first reading)."""
    _READINGS.clear()


def _frozen(value: Any) -> Any:
    """``value`` as a hashable key (lists and mappings made tuples); TypeError when it cannot be."""
    if isinstance(value, Mapping):
        return ("{}", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("[]", tuple(_frozen(v) for v in value))
    hash(value)
    return (type(value).__name__, value)


def _reading_key(f: str, x: str, shapes: Any, symmetric: Any, functions: Any) -> tuple[Any, ...] | None:
    try:
        return (f, x, _frozen(shapes or {}), frozenset(symmetric or ()), _frozen(functions or {}))
    except TypeError:  # a size given as something unhashable (a numpy array): not remembered
        return None


def _read_derivative_input(f: str, x: str, shapes: Mapping[str, Any] | None,
                           symmetric: AbstractSet[str], functions: Mapping[str, str] | None) -> ReadResult:
    raw_x = read_raw(x, "X")
    raw_f = read_raw(f, "F", functions)
    if raw_x.op != "sym" or raw_x.grouped == "paren":
        raise UnsupportedError(
            f"the variable must be a single symbol such as \\boldsymbol{{X}} or \\boldsymbol{{x}}, got {x.strip()}",
            field="X",
            span=(len(x) - len(x.lstrip()), len(x.rstrip())),
        )
    _refuse_entries(raw_f, raw_x.value)
    context = _Context({"F": f, "X": x}, normalize_shapes(shapes), evaluating=False)
    context.symmetric = frozenset(symmetric)
    context.declare([("X", raw_x), ("F", raw_f)], variable=raw_x.value.name)
    info = context.symbols[raw_x.value.name]
    if info.kind == "scalar":  # a derivative by a scalar t: F must not write the same name as a vector
        for node in raw_f.walk():
            if node.op == "sym" and node.value.name == raw_x.value.name and node.value.kind != "scalar":
                raise ShapeError(
                    f"{x.strip()} is a scalar in X but written as a {node.value.kind} in F "
                    f"({f[node.span[0]:node.span[1]]}): write the variable as in F",
                    field="F", span=node.span)
    context.infer("X", raw_x)
    context.infer("F", raw_f)
    context.solver.settle()
    context.finish()
    tree = context.build("F", raw_f)
    var = context.build("X", raw_x)
    assert isinstance(var, Sym)
    warnings = tuple(reading_warnings(f, "F", raw_f, context.dim))
    return ReadResult(tree, var, context.dims(), dict(context.syms), context.dim_sources(), warnings)


def _refuse_entries(raw_f: Raw, var: SymRef) -> None:
    """``X_{ij}`` (or the scalar ``x_1`` next to the vector ``\\boldsymbol{x}``) in F is an entry of X.

    The reader has no entries: such a subscripted name would be an unrelated symbol and its
    derivative by X zero.  ``\\boldsymbol{W}_1`` next to ``\\boldsymbol{W}`` stays a symbol of its own.
    """
    if "_" in var.name:
        return
    for node in raw_f.walk():
        if node.op != "sym" or not node.value.name.startswith(var.name + "_"):
            continue
        sub = node.value.name[len(var.name) + 1 :]
        if sub.isalpha() or node.value.kind == "scalar":
            raise UnsupportedError(
                f"{raw_f_text(node)} reads as an entry of the variable, and entries are not supported "
                "(it would be a symbol unrelated to the variable): write a product with basis vectors "
                "such as \\boldsymbol{e}_i^{\\top} \\boldsymbol{X} \\boldsymbol{e}_j, or rename the symbol",
                field="F",
                span=node.span,
            )


def raw_f_text(node: Raw) -> str:
    sub = node.value.name.split("_", 1)[1]
    base = symbol_latex(node.value.name.split("_", 1)[0], node.value.style)
    return f"{base}_{{{sub}}}"


def read_expression(
    latex: str,
    shapes: Mapping[str, Any],
    dims: Mapping[str, int] | None = None,
    *,
    field: Field = "F",
    functions: Mapping[str, str] | None = None,
) -> Node:
    """Read one expression whose symbol sizes are known integers (from numpy arrays).

    Dimension names in subscripts (``\\boldsymbol{I}_{n}``, ``\\boldsymbol{K}_{mn}``,
    ``\\boldsymbol{0}_{p \\times q}``) are bound from the sizes by inference, or from
    ``dims``; a name that stays unbound is a :class:`ShapeError` naming it.
    """
    token = RESULT_NOTATION.set(True)  # D_n is the duplication matrix in what derive() writes
    try:
        raw = read_raw(latex, field, functions)
    finally:
        RESULT_NOTATION.reset(token)
    context = _Context({field: latex}, normalize_shapes(shapes), evaluating=True)
    for name, value in (dims or {}).items():
        context.solver.unify(
            context.solver.labeled(name, Origin(name, None, None)),
            (int(value), ()),
            lambda name=name: ShapeError(f"the dimension {name} is given twice with different sizes"),
        )
    context.declare([(field, raw)], variable=None)
    context.infer(field, raw)
    context.solver.settle()
    context.finish()
    return context.build(field, raw)


def read_raw(source: str, field: Field, functions: Mapping[str, str] | None = None) -> Raw:
    """The raw tree of F or X (no shapes yet); empty input is an error.

    ``functions`` maps the names of abstract functions to their kind (``"scalar"``, ``"elementwise"``).
    """
    if not source.strip():
        raise LatexSyntaxError(f"{field} is empty", field=field, span=(0, len(source)))
    return parse_tokens(source, field, tokenize(source, field), functions)


# ---------------------------------------------------------------- the work


class _Context:
    def __init__(self, sources: dict[str, str], given: dict[str, GivenShape], *, evaluating: bool) -> None:
        self.sources = sources
        self.given = given
        self.evaluating = evaluating
        self.symmetric: frozenset[str] = frozenset()
        self.solver = Solver()
        self.symbols: dict[str, SymbolInfo] = {}
        self.preferred: list[tuple[Term, str]] = []
        self.reserved: set[str] = set()
        self.inference = Inference(self.solver, sources, self.symbols, self.naming)
        self.names: dict[int, str] = {}
        self.syms: dict[str, Sym] = {}

    def naming(self) -> dict[int, str]:
        return self.solver.names(self.preferred, self.reserved)

    def text(self, field: Field, span: tuple[int, int]) -> str:
        return self.sources[field][span[0] : span[1]]

    # ------------------------------------------------------------ symbols

    def declare(self, trees: list[tuple[Field, Raw]], variable: str | None) -> None:
        """Decide kind, style and size terms of every symbol (the variable's first)."""
        seen: dict[str, list[tuple[SymRef, Field, tuple[int, int]]]] = {}
        for field, tree in trees:
            for node in tree.walk():
                if node.op == "sym":
                    seen.setdefault(node.value.name, []).append((node.value, field, node.span))
                elif node.op == "bvar":
                    self.reserved.add(node.value)
        for name, occurrences in seen.items():
            occurrences.sort(key=lambda occ: (occ[1] != "F", occ[2][0]))
            if len(name) == 1 and occurrences[0][0].kind == "scalar":
                self.reserved.add(name)
        order = sorted(seen, key=lambda n: (n != variable, 0))
        for name in order:
            self.symbols[name] = self._symbol(name, seen[name], variable)

    def _symbol(self, name: str, occurrences: list[tuple[SymRef, Field, tuple[int, int]]],
                variable: str | None) -> SymbolInfo:
        first, field, span = occurrences[0]
        text = symbol_latex(name, first.style)
        if name == variable:
            own = next(ref for ref, f, _ in occurrences if f == "X")
            kind = own.kind
        else:
            kind = first.kind
            for ref, f, s in occurrences[1:]:
                if ref.kind != kind:
                    raise ShapeError(
                        f"{name} is written both as a {kind} ({text}) and as a {ref.kind} "
                        f"({symbol_latex(name, ref.style)}): one name is one symbol",
                        field=f,
                        span=s,
                    )
        given = self.given.get(name)
        if given is not None:
            kind = self._given_kind(name, kind, given, text, field, span)
            rows = given_term(self.solver, given[0], Origin(f"rows of {text}", field, span, name, 0))
            cols = given_term(self.solver, given[1], Origin(f"columns of {text}", field, span, name, 1))
        elif kind == "matrix":
            rows = self.solver.var(Origin(f"rows of {text}", field, span, name, 0), not_one=True)
            cols = self.solver.var(Origin(f"columns of {text}", field, span, name, 1), not_one=True)
            if name == variable:
                self.preferred += [(rows, "m"), (cols, "n")]
        elif kind == "vector":
            rows = self.solver.var(Origin(f"length of {text}", field, span, name, 0), not_one=True)
            cols = ONE
            if name == variable:
                self.preferred.append((rows, "n"))
        else:
            rows = cols = ONE
        if name in self.symmetric:
            self._square_symmetric(name, kind, text, rows, cols, field, span)
        return SymbolInfo(name, kind, first.style, rows, cols, text, field, span)

    def _square_symmetric(self, name: str, kind: str, text: str, rows: Term, cols: Term, field: Field,
                          span: tuple[int, int]) -> None:
        """A matrix declared symmetric is square."""
        if kind != "matrix":
            raise ShapeError(f"symmetric={name}: {text} is a {kind}, not a matrix", field=field, span=span)
        self.solver.unify(rows, cols, lambda: ShapeError(
            f"symmetric={name}: a symmetric matrix is square, but the size of {text} is given as not square",
            field=field, span=span))

    @staticmethod
    def _given_kind(name: str, kind: str, given: GivenShape, text: str, field: Field,
                    span: tuple[int, int]) -> str:
        rows, cols = given
        if kind == "vector" and cols != 1:
            raise ShapeError(
                f"{text} is written as a column vector but its shape is given as {rows}x{cols}",
                field=field,
                span=span,
            )
        if kind == "scalar" and (rows, cols) != (1, 1):
            return "vector" if cols == 1 else "matrix"
        return kind

    # ------------------------------------------------------------ shapes

    def infer(self, field: Field, tree: Raw) -> None:
        self.inference.infer(tree, field)

    def finish(self) -> None:
        """Name the free dimensions; when evaluating, every size must be a number."""
        if len(self.preferred) == 2:
            rows, cols = (term for term, _ in self.preferred)
            if self.solver.norm(rows) == self.solver.norm(cols):
                self.preferred = [(rows, "n")]
        self.names = self.naming()
        if self.evaluating:
            self._require_numbers()
        for name, info in self.symbols.items():
            self.syms[name] = Sym(name, info.kind, self.dim(info.rows), self.dim(info.cols), info.style,
                                  span=info.span)  # type: ignore[arg-type]

    def _require_numbers(self) -> None:
        for v in range(len(self.solver.parent)):
            coeff, free = self.solver.norm((1, (v,)))
            if not free:
                continue
            root = free[0]
            origin = self.solver.origins[root]
            label = self.solver.labels[root]
            what = f"the dimension {label}" if label else f"the {origin.what}"
            where = f" in {self.text(origin.field, origin.span)}" if label and origin.span and origin.field else ""
            raise ShapeError(
                f"cannot bind {what}{where} from the sizes of the values; give it with dims= "
                "or use it next to a symbol of known size",
                field=origin.field,
                span=origin.span,
            )

    def dim(self, term: Term) -> Dim:
        coeff, free = self.solver.norm(term)
        return Dim(coeff, tuple(sorted(self.names[v] for v in free)))

    def dims(self) -> dict[str, int | str]:
        out: dict[str, int | str] = {}
        labels = {label for label in self.solver.labels if label}
        for root, name in self.names.items():
            if name not in labels:
                out[name] = self._description(root)
        for label, var in self.solver.by_label.items():
            value = self.solver.value((1, (var,)))
            if value is not None:
                out[label] = value
        return out

    def _description(self, root: int) -> str:
        members = [v for v in range(len(self.solver.parent)) if self.solver.find(v) == root]
        for v in members:
            if self.solver.origins[v].symbol is not None:
                return self.solver.origins[v].what
        return self.solver.origins[members[0]].what

    def dim_sources(self) -> dict[str, tuple[str, int]]:
        out: dict[str, tuple[str, int]] = {}
        for name, info in self.symbols.items():
            for axis, term in enumerate((info.rows, info.cols)):
                coeff, free = self.solver.norm(term)
                if coeff == 1 and len(free) == 1:
                    out.setdefault(self.names[free[0]], (name, axis))
        return out

    # ------------------------------------------------------------ typed nodes

    def build(self, field: Field, node: Raw) -> Node:
        return _Builder(self, field).build(node)


class _Builder:
    def __init__(self, context: _Context, field: Field) -> None:
        self.context = context
        self.field = field

    def build(self, node: Raw) -> Node:
        kids = [self.build(kid) for kid in node.kids]
        try:
            return BUILDERS[node.op](self, node, kids)
        except MatdiffError as exc:
            if exc.span is None:
                exc.field, exc.span = self.field, node.span
            raise

    def dim(self, term: Term) -> Dim:
        return self.context.dim(term)

    def sym(self, node: Raw, kids: list[Node]) -> Node:
        sym = self.context.syms[node.value.name]
        return replace(sym, span=node.span)

    def bvar(self, node: Raw, kids: list[Node]) -> Node:
        return Sym(node.value, "scalar", style="plain", span=node.span)

    def integral(self, node: Raw, kids: list[Node]) -> Node:
        return Integral(Sym(node.value, "scalar", style="plain"), kids[0])

    def symbolic_power(self, node: Raw, kids: list[Node]) -> Node:
        """``X^{n}``; an exponent that is a number after all (``^{n-n+2}``) is a plain power."""
        base, exponent = kids
        if isinstance(exponent, Num):
            return Power(base, exponent.value) if exponent.value != -1 or base.is_scalar else Inverse(base)
        return SymbolicPower(base, exponent)

    def finite_sum(self, node: Raw, kids: list[Node]) -> Node:
        return Sum(Sym(node.value, "scalar", style="plain"), kids[0], kids[1], kids[2])

    def duplication(self, node: Raw, kids: list[Node]) -> Node:
        style, spec = node.value
        return Duplication(self.dim(self.context.solver.spec(spec, Origin("", None, None))), style)

    def commutation(self, node: Raw, kids: list[Node]) -> Node:
        style, m, n = node.value
        solver = self.context.solver  # the labels exist since inference: spec() finds them
        origin = Origin("", None, None)
        return Commutation(self.dim(solver.spec(m, origin)), self.dim(solver.spec(n, origin)), style)

    def fraction(self, node: Raw, kids: list[Node]) -> Node:
        """``\\frac{a}{b}``; ``\\frac{1}{b}`` is the power ``b^{-1}`` (``\\frac{1}{a^{k}}``: ``a^{-k}``)."""
        top, bottom = kids
        if top != Num(Fraction(1)):
            return Frac(top, bottom)
        if isinstance(bottom, Power) and bottom.exponent > 0 and not node.kids[1].grouped:
            return Power(bottom.arg, -bottom.exponent)
        return Power(bottom, Fraction(-1))

    def epow(self, node: Raw, kids: list[Node]) -> Node:
        return Func("exp", kids[0]) if kids[0].is_scalar else Expm(kids[0], "e")

    def norm_squared(self, node: Raw, kids: list[Node]) -> Node:
        """``\\|u\\|_2^2``; of a matrix ``_2`` is the spectral norm, squared (never Frobenius)."""
        if node.value == "2" and not kids[0].cols.is_one:
            return Power(Norm(kids[0], "2", span=node.span), Fraction(2))
        return NormSq(kids[0], node.value)

    def norm(self, node: Raw, kids: list[Node]) -> Node:
        if node.value == "1" and not kids[0].cols.is_one:
            raise UnsupportedError(
                "\\|X\\|_1 of a matrix (the largest column sum) is not supported; \\|x\\|_1 of a vector is",
                field=self.field, span=node.span)
        return Norm(kids[0], node.value, span=node.span)

    def inverse(self, node: Raw, kids: list[Node]) -> Node:
        return Power(kids[0], Fraction(-1)) if kids[0].is_scalar else Inverse(kids[0])


def _shape_of(builder: _Builder, node: Raw) -> tuple[Dim, Dim]:
    return builder.dim(node.shape[0]), builder.dim(node.shape[1])


Build = Callable[[_Builder, Raw, list[Node]], Node]

BUILDERS: dict[str, Build] = {
    "sym": _Builder.sym,
    "bvar": _Builder.bvar,
    "num": lambda b, n, k: Num(n.value, span=n.span),
    "ident": lambda b, n, k: Identity(_shape_of(b, n)[0], n.value[0], sized=n.value[1] is not None),
    "ones": lambda b, n, k: Ones(_shape_of(b, n)[0], n.value[0]),
    "zero": lambda b, n, k: Zero(*_shape_of(b, n), n.value[0]),
    "comm": _Builder.commutation,
    "dup": _Builder.duplication,
    "mul": lambda b, n, k: Mul(tuple(k)),
    "add": lambda b, n, k: Add(tuple(k)),
    "neg": lambda b, n, k: Mul((Num(Fraction(-1)), k[0])),
    "T": lambda b, n, k: Transpose(k[0]),
    "inv": _Builder.inverse,
    "invT": lambda b, n, k: Transpose(Inverse(k[0])),
    "pow": lambda b, n, k: Power(k[0], n.value),
    "hpow": lambda b, n, k: HadamardPower(k[0], n.value),
    "frac": _Builder.fraction,
    "had": lambda b, n, k: Hadamard(k[0], k[1]),
    "kron": lambda b, n, k: Kron(k[0], k[1]),
    "tr": lambda b, n, k: Trace(k[0], n.value),
    "det": lambda b, n, k: Det(k[0], n.value),
    "func": lambda b, n, k: Func(n.value, k[0]),
    "softmax": lambda b, n, k: Softmax(k[0]),
    "normsq": _Builder.norm_squared,
    "norm": _Builder.norm,
    "afunc": lambda b, n, k: Gradient(n.value[0], k[0]) if n.value[2] == "grad" else
    Applied(n.value[0], k[0], n.value[1], n.value[2]),
    "expm": lambda b, n, k: Expm(k[0], "expm"),
    "epow": _Builder.epow,
    "vec": lambda b, n, k: Vec(k[0]),
    "vech": lambda b, n, k: Vech(k[0]),
    "diag": lambda b, n, k: Diag(k[0]),
    "int": _Builder.integral,
    "spow": _Builder.symbolic_power,
    "fact": lambda b, n, k: Factorial(k[0]),
    "infty": lambda b, n, k: Infinity(),
    "sum": _Builder.finite_sum,
    "diff": lambda b, n, k: Differential(k[0]),
}
