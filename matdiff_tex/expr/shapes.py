"""Shape inference over the raw tree: union-find over dimension variables.

Every size is a *term* ``coeff * v1 * v2 ...`` over dimension variables (the
rows of ``vec(X)`` are ``m*n``, a Kronecker product multiplies).  A variable is
free, bound to another term (an integer, or a product such as ``m*n``), or
carries a *label*: a dimension name the author chose (``shapes={"X": "n x n"}``,
``\\boldsymbol{I}_{n}``).  Two different labels never unify; a label may be
bound to an integer (``I_n + X`` with X 3x3 makes n = 3).

Products follow :func:`matdiff_tex.expr.nodes.product_shape`: in a chain, a
factor whose size is literally 1x1 *at that point* acts as a scalar (so
``|X| X^{-1}`` and ``x^T A x y`` work); otherwise the inner sizes unify.
The sizes of a symbol (a vector's length, a matrix's rows and columns) are never
forced to 1 by inference: ``x y`` for two vectors and ``X + a`` are errors, not
products or sums of scalars (a size given in ``shapes`` may be 1).

Constraints between products that cannot be solved yet (``a*b = c*d``) are kept and
retried; what is left at the end is solved factor by factor in order (the mixed
product ``(A ⊗ B)(C ⊗ D)``) or reported.
"""

from __future__ import annotations

import itertools
import operator
import re
from dataclasses import dataclass
from math import gcd
from typing import Any, Callable, Mapping

from ..errors import Field, MatdiffError, ShapeError, UnsupportedError
from .dims import half_square_base
from .parser import MAX_SIZE, dim_name
from .raw import DimSpec, Raw

Term = tuple[int, tuple[int, ...]]
ONE: Term = (1, ())
TermShape = tuple[Term, Term]
Fail = Callable[[], MatdiffError]

NAME_POOL = ("m", "n", "p", "q", "r", "s", "t", "u", "v", "w", "k", "l", "a", "b", "c", "d", "g", "h")
GivenDim = int | str
GivenShape = tuple[GivenDim, GivenDim]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a dimension variable comes from, for ``dims`` and messages."""

    what: str  # "rows of \\boldsymbol{A}", "size of \\boldsymbol{I}", "n"
    field: Field | None
    span: tuple[int, int] | None
    symbol: str | None = None  # the symbol whose axis this is
    axis: int = 0


class Solver:
    """Union-find over dimension variables with labels and bindings."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.labels: list[str | None] = []
        self.not_one: list[bool] = []
        self.origins: list[Origin] = []
        self.bound: dict[int, Term] = {}
        self.by_label: dict[str, int] = {}
        self.deferred: list[tuple[Term, Term, Fail, Fail]] = []
        self.half_squares: list[tuple[Term, Term]] = []  # (k, n) with k = n(n+1)/2: vech(X), D_n

    # ------------------------------------------------------------ variables

    def var(self, origin: Origin, *, label: str | None = None, not_one: bool = False) -> Term:
        self.parent.append(len(self.parent))
        self.labels.append(label)
        self.not_one.append(not_one)
        self.origins.append(origin)
        return (1, (len(self.parent) - 1,))

    def labeled(self, label: str, origin: Origin) -> Term:
        if label not in self.by_label:
            self.by_label[label] = self.var(origin, label=label)[1][0]
        return (1, (self.by_label[label],))

    def spec(self, spec: DimSpec, origin: Origin) -> Term:
        coeff, names = spec
        term: Term = (coeff, ())
        for name in names:
            factor = self.labeled(name, Origin(name, origin.field, origin.span))
            base = half_square_base(name)
            if base is not None and (factor, self.labeled(base, origin)) not in self.half_squares:
                self.half_squares.append((factor, self.labeled(base, Origin(base, origin.field, origin.span))))
            term = mul(term, factor)
        return term

    def find(self, v: int) -> int:
        root = v
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[v] != root:
            self.parent[v], v = root, self.parent[v]
        return root

    def norm(self, term: Term) -> Term:
        coeff, out = term[0], []
        for v in term[1]:
            root = self.find(v)
            if root in self.bound:
                c, vs = self.norm(self.bound[root])
                coeff *= c
                out.extend(vs)
            else:
                out.append(root)
        return coeff, tuple(out)

    def is_one(self, term: Term) -> bool:
        return self.norm(term) == ONE

    def is_scalar(self, shape: TermShape) -> bool:
        return self.is_one(shape[0]) and self.is_one(shape[1])

    def value(self, term: Term) -> int | None:
        coeff, vs = self.norm(term)
        return None if vs else coeff

    # ------------------------------------------------------------ unification

    def unify(self, a: Term, b: Term, fail: Fail, stuck: Fail | None = None) -> None:
        result = self._solve(self.norm(a), self.norm(b))
        if result is False:
            raise fail()
        if result is None:
            self.deferred.append((a, b, fail, stuck or fail))

    def unify_shapes(self, a: TermShape, b: TermShape, fail: Fail) -> None:
        self.unify(a[0], b[0], fail)
        self.unify(a[1], b[1], fail)

    def _solve(self, a: Term, b: Term) -> bool | None:
        """True: solved; False: impossible; None: not yet decidable."""
        ca, cb = a[0], b[0]
        va, vb = list(a[1]), list(b[1])
        for v in list(va):
            if v in vb:
                va.remove(v)
                vb.remove(v)
        g = gcd(ca, cb)
        ca, cb = ca // g, cb // g
        if not va and not vb:
            return ca == cb
        for cx, vx, cy, vy in ((ca, va, cb, vb), (cb, vb, ca, va)):
            if cx == 1 and len(vx) == 1:
                return self._bind(vx[0], (cy, tuple(vy)))
        for cx, vx, cy, vy in ((ca, va, cb, vb), (cb, vb, ca, va)):
            if not vx:  # cx = cy * product(vy), cx and cy coprime
                if cy != 1:
                    return False
                if cx == 1:
                    return all(self._bind(v, ONE) for v in vy)
                if len(set(vy)) == 1:  # n^k = c: K_{nn} next to a 9-entry vec binds n = 3
                    k, guess = len(vy), round(cx ** (1 / len(vy)))
                    root = next((r for r in (guess - 1, guess, guess + 1) if r > 0 and r**k == cx), None)
                    return False if root is None else self._bind(vy[0], (root, ()))
                return None
        return None

    def _bind(self, v: int, term: Term) -> bool:
        root = self.find(v)
        term = self.norm(term)
        if term == (1, (root,)):
            return True
        coeff, vs = term
        if coeff == 1 and len(vs) == 1:
            other = vs[0]
            la, lb = self.labels[root], self.labels[other]
            if la is not None and lb is not None and la != lb:
                return False
            keep, drop = min(root, other), max(root, other)
            self.parent[drop] = keep
            self.labels[keep] = la or lb
            self.not_one[keep] = self.not_one[root] or self.not_one[other]
            return True
        if term == ONE and self.not_one[root]:
            return False
        if root in vs:  # pragma: no cover - cancelled before binding
            return False
        self.bound[root] = term
        return True

    def settle(self) -> None:
        """Retry the constraints that waited; solve what is left factor by factor, or report it."""
        self._retry()
        for k, n in self.half_squares:  # n(n+1)/2 is no product of sizes: bound once n is a number
            coeff, free = self.norm(n)
            if not free and self.norm(k)[1]:
                self._bind(self.norm(k)[1][0], (coeff * (coeff + 1) // 2, ()))
        for a, b, fail, stuck in list(self.deferred):
            na, nb = self.norm(a), self.norm(b)
            if (na[0], sorted(na[1])) == (nb[0], sorted(nb[1])):
                continue
            if na[0] == nb[0] and len(na[1]) == len(nb[1]):
                for x, y in zip(na[1], nb[1]):
                    if self._solve(self.norm((1, (x,))), self.norm((1, (y,)))) is False:
                        raise fail()
                self._retry()
        self._retry()
        for a, b, fail, stuck in self.deferred:
            na, nb = self.norm(a), self.norm(b)
            if (na[0], sorted(na[1])) != (nb[0], sorted(nb[1])):
                raise stuck()
        self.deferred.clear()

    def _retry(self) -> None:
        progress = True
        while progress:
            progress = False
            for item in list(self.deferred):
                a, b, fail, _ = item
                result = self._solve(self.norm(a), self.norm(b))
                if result is False:
                    raise fail()
                if result:
                    self.deferred.remove(item)
                    progress = True

    # ------------------------------------------------------------ names

    def names(self, preferred: list[tuple[Term, str]], reserved: set[str]) -> dict[int, str]:
        """A name for every free root: its label, a preferred name, or the next of m, n, p, q ..."""
        roots = sorted({self.find(v) for v in range(len(self.parent))} - set(self.bound))
        used = {label for label in self.labels if label} | reserved
        out: dict[int, str] = {}
        for root in roots:
            if self.labels[root]:
                out[root] = self.labels[root]  # type: ignore[assignment]
        for term, name in preferred:
            coeff, vs = self.norm(term)
            if coeff == 1 and len(vs) == 1 and vs[0] not in out and name not in used:
                out[vs[0]] = name
                used.add(name)
        spare = (f"n_{i}" for i in itertools.count(1))  # made one at a time: usually none is needed
        pool = (name for name in itertools.chain(NAME_POOL, spare) if name not in used)
        for root in roots:
            if root not in out:
                out[root] = next(pool)
        return out

    def render(self, term: Term, names: dict[int, str]) -> str:
        coeff, vs = self.norm(term)
        parts = ([] if coeff == 1 and vs else [str(coeff)]) + sorted(names.get(v, "?") for v in vs)
        if all(len(p) == 1 for p in parts if not p.isdigit()) and sum(p.isdigit() for p in parts) <= 1:
            return "".join(parts)
        return "*".join(parts)


def mul(a: Term, b: Term) -> Term:
    return (a[0] * b[0], a[1] + b[1])


# ---------------------------------------------------------------- the shapes= argument

_STYLE_PREFIX = re.compile(r"\\(?:boldsymbol|mathbf|bm|vec|mathrm)\s*")
_SPLIT = re.compile(r"\s*(?:×|\\times|\*|,|\s[xX]\s|(?<=[0-9A-Za-z}])[xX](?=[0-9A-Za-z]))\s*")
_GIVEN_NAME = re.compile(r"([A-Za-z])(?:_(?:\{([A-Za-z0-9]+)\}|([A-Za-z0-9]+)))?")


def normalize_shapes(shapes: Mapping[str, Any] | None) -> dict[str, GivenShape]:
    """``{"A": "3x4", "x": 5, "\\lambda": (1, 1), "X": ("n", "n")}`` -> ``{name: (rows, cols)}``."""
    out: dict[str, GivenShape] = {}
    for key, spec in (shapes or {}).items():
        name = symbol_key(key)
        out[name] = _given_shape(name, spec)
    return out


def symbol_key(key: str) -> str:
    """``\\lambda`` -> ``lambda``; ``W_{1}`` -> ``W_1``; ``\\boldsymbol{X}`` -> ``X`` (the names symbols get)."""
    text = _STYLE_PREFIX.sub("", str(key).strip())
    return text.lstrip("\\").replace("{", "").replace("}", "").replace(" ", "").replace("\\", "")


def _given_shape(name: str, spec: Any) -> GivenShape:
    if isinstance(spec, str):
        parts = [part for part in _SPLIT.split(spec.strip())]
        if len(parts) == 1:
            return (_given_dim(name, parts[0], spec), 1)
        if len(parts) == 2:
            return (_given_dim(name, parts[0], spec), _given_dim(name, parts[1], spec))
        raise ShapeError(f"cannot read the shape {spec!r} of {name}: write rows x cols, e.g. 3x4 or n x n")
    if isinstance(spec, (tuple, list)):
        if len(spec) == 2:
            return (_given_dim(name, spec[0], spec), _given_dim(name, spec[1], spec))
        if len(spec) == 1:
            return (_given_dim(name, spec[0], spec), 1)
        if len(spec) == 0:  # the shape () of a numpy scalar
            return (1, 1)
        raise ShapeError(f"cannot read the shape {spec!r} of {name}: give (rows, cols)")
    return (_given_dim(name, spec, spec), 1)


def _given_dim(name: str, value: Any, whole: Any) -> GivenDim:
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            value = int(text)
        else:
            match = _GIVEN_NAME.fullmatch(text)
            if match is None:
                raise ShapeError(
                    f"cannot read the size {value!r} in the shape of {name}: use a number or a dimension name "
                    "such as n or n_1"
                )
            letter, braced, plain = match.groups()
            return dim_name(letter, braced or plain)
    if isinstance(value, bool):
        raise ShapeError(f"cannot read the size {value!r} in the shape of {name}")
    try:
        size = operator.index(value)
    except TypeError:
        raise ShapeError(f"cannot read the size {value!r} in the shape of {name}: use a number or a name") from None
    if size < 1:
        raise ShapeError(f"the shape {whole!r} of {name} has a size below 1")
    if size > MAX_SIZE:
        raise ShapeError(f"the shape {whole!r} of {name} is too large: sizes up to {MAX_SIZE} are supported")
    return size


def given_term(solver: Solver, value: GivenDim, origin: Origin) -> Term:
    if isinstance(value, int):
        return (value, ())
    return solver.labeled(value, origin)




# ---------------------------------------------------------------- inference


def symbol_latex(name: str, style: str) -> str:
    """How a symbol prints in messages: ``\\boldsymbol{W}_1``, ``\\lambda``, ``x_i``."""
    base, _, sub = name.partition("_")
    if len(base) > 1:
        base = "\\" + base
    macro = {"boldsymbol": "\\boldsymbol", "mathbf": "\\mathbf", "bm": "\\bm", "vec": "\\vec"}.get(style)
    text = f"{macro}{{{base}}}" if macro else base
    if sub:
        text += f"_{sub}" if len(sub) == 1 else f"_{{{sub}}}"
    return text


@dataclass(slots=True)
class SymbolInfo:
    """One symbol of F and X: its kind, style and size terms, and its first occurrence."""

    name: str
    kind: str
    style: str
    rows: Term
    cols: Term
    text: str
    field: Field
    span: tuple[int, int]


_OUTER_PARENS = re.compile(
    r"^(?:\\(?:left|[bB]igg?l?)\s*)?[(\[](.*)(?:\\(?:right|[bB]igg?r?)\s*)?[)\]]$", re.DOTALL
)


class Inference:
    """Computes the size of every raw node (stored in ``node.shape``), raising on conflicts."""

    def __init__(
        self,
        solver: Solver,
        sources: Mapping[str, str],
        symbols: Mapping[str, SymbolInfo],
        naming: Callable[[], dict[int, str]],
    ) -> None:
        self.solver = solver
        self.sources = sources
        self.symbols = symbols
        self.naming = naming
        self.field: Field = "F"

    # ------------------------------------------------------------ messages

    def text(self, node: Raw) -> str:
        """``node`` as the author wrote it (without outer parentheses)."""
        if node.op == "sym":
            return symbol_latex(node.value.name, node.value.style)
        text = self.sources[self.field][node.span[0] : node.span[1]].strip()
        if node.grouped == "paren":
            text = _OUTER_PARENS.sub(r"\1", text).strip()
        return text

    def texts(self, nodes: tuple[Raw, ...]) -> str:
        """Several factors: each as written when they are symbols, else the source text."""
        if all(node.op == "sym" for node in nodes):
            return "".join(self.text(node) for node in nodes)
        return self.sources[self.field][nodes[0].span[0] : nodes[-1].span[1]].strip()

    def size(self, shape: TermShape) -> str:
        names = self.naming()
        return f"{self.solver.render(shape[0], names)}x{self.solver.render(shape[1], names)}"

    def error(self, cls: type[MatdiffError], message: str, span: tuple[int, int]) -> MatdiffError:
        return cls(message, field=self.field, span=span)

    def described(self, node: Raw) -> str:
        return f"{self.text(node)} ({self.size(node.shape)})"

    def unify(self, a: Term, b: Term, fail: Fail, node: Raw) -> None:
        """``a = b`` at ``node``; if that cannot be decided yet, a later report names the sizes."""
        field = self.field

        def stuck() -> MatdiffError:
            names = self.naming()
            left, right = self.solver.render(a, names), self.solver.render(b, names)
            where = self.sources[field][node.span[0] : node.span[1]].strip()
            return ShapeError(
                f"cannot work out the sizes in {where}: {left} must equal {right}; give them with shapes= "
                "(or dims= when evaluating)",
                field=field,
                span=node.span,
            )

        self.solver.unify(a, b, fail, stuck)

    def unify_shapes(self, a: TermShape, b: TermShape, fail: Fail, node: Raw) -> None:
        self.unify(a[0], b[0], fail, node)
        self.unify(a[1], b[1], fail, node)

    def square(self, node: Raw, arg: Raw, what: str) -> None:
        """``arg`` must be square (unless it is a 1x1 scalar)."""
        if self.solver.is_scalar(arg.shape):
            return
        fail = lambda: self.error(ShapeError, f"{what} needs a square matrix, got {self.described(arg)}", node.span)  # noqa: E731
        self.unify(arg.shape[0], arg.shape[1], fail, node)

    def column(self, node: Raw, arg: Raw, what: str) -> None:
        if not self.solver.is_one(arg.shape[1]):
            raise self.error(ShapeError, f"{what} needs a column vector, got {self.described(arg)}", node.span)

    # ------------------------------------------------------------ walk

    def infer(self, node: Raw, field: Field) -> TermShape:
        self.field = field
        return self.visit(node)

    def visit(self, node: Raw) -> TermShape:
        for kid in node.kids:
            if node.op != "mul":
                self.visit(kid)
        shape = getattr(self, "_" + node.op)(node)
        node.shape = shape
        return shape

    def origin(self, what: str, node: Raw) -> Origin:
        return Origin(what, self.field, node.span)

    def _sym(self, node: Raw) -> TermShape:
        info = self.symbols[node.value.name]
        return (info.rows, info.cols)

    def _bvar(self, node: Raw) -> TermShape:
        return (ONE, ONE)

    def _num(self, node: Raw) -> TermShape:
        return (ONE, ONE)

    def _ident(self, node: Raw) -> TermShape:
        style, spec = node.value
        if spec is None:
            n = self.solver.var(self.origin(f"size of {self.text(node)}", node))
        else:
            n = self.solver.spec(spec, self.origin(self.text(node), node))
        return (n, n)

    def _ones(self, node: Raw) -> TermShape:
        style, spec = node.value
        if spec is None:
            return (self.solver.var(self.origin(f"length of {self.text(node)}", node)), ONE)
        return (self.solver.spec(spec, self.origin(self.text(node), node)), ONE)

    def _zero(self, node: Raw) -> TermShape:
        style, rows, cols = node.value
        if rows is None:
            return (self.solver.var(self.origin(f"rows of {self.text(node)}", node)),
                    self.solver.var(self.origin(f"columns of {self.text(node)}", node)))
        origin = self.origin(self.text(node), node)
        return (self.solver.spec(rows, origin), self.solver.spec(cols, origin))

    def _comm(self, node: Raw) -> TermShape:
        style, m, n = node.value
        origin = self.origin(self.text(node), node)
        rows, cols = self.solver.spec(m, origin), self.solver.spec(n, origin)
        # K_{mn} vec(A) = vec(A^T) for an m x n A; vec sizes list the columns first (see _vec)
        return (mul(rows, cols), mul(cols, rows))

    def _mul(self, node: Raw) -> TermShape:
        solver = self.solver
        first = node.kids[0]
        acc = self.visit(first)
        for index, kid in enumerate(node.kids[1:], 1):
            shape = self.visit(kid)
            left = node.kids[:index]
            if index in node.value and not (solver.is_scalar(acc) and solver.is_scalar(shape)):
                raise self.error(
                    ShapeError,
                    "\\times stands between scalars only: write juxtaposition or \\cdot for a matrix product "
                    "and \\otimes for a Kronecker product",
                    (first.span[0], kid.span[1]),
                )
            if solver.is_scalar(acc):
                acc = shape
            elif solver.is_scalar(shape):
                continue
            else:
                fail = self._product_failure(left, acc, kid, (first.span[0], kid.span[1]))
                self.unify(acc[1], shape[0], fail, node)
                acc = (acc[0], shape[1])
        return acc

    def _product_failure(self, left: tuple[Raw, ...], acc: TermShape, kid: Raw,
                         span: tuple[int, int]) -> Fail:
        left_text = self.text(left[0]) if len(left) == 1 else self.texts(left)

        def fail() -> MatdiffError:
            return self.error(
                ShapeError,
                f"cannot multiply {left_text} ({self.size(acc)}) by {self.described(kid)}",
                span,
            )

        return fail

    def _add(self, node: Raw) -> TermShape:
        first = node.kids[0]
        for term in node.kids[1:]:
            shown = term.kids[0] if term.op == "neg" else term
            fail = (lambda shown=shown: self.error(  # noqa: E731
                ShapeError, f"cannot add {self.described(first)} and {self.described(shown)}", node.span))
            self.unify_shapes(first.shape, term.shape, fail, node)
        return first.shape

    def _neg(self, node: Raw) -> TermShape:
        return node.kids[0].shape

    def _T(self, node: Raw) -> TermShape:
        rows, cols = node.kids[0].shape
        return (cols, rows)

    def _inv(self, node: Raw) -> TermShape:
        self.square(node, node.kids[0], "the inverse")
        return node.kids[0].shape

    def _invT(self, node: Raw) -> TermShape:
        self.square(node, node.kids[0], "the inverse")
        rows, cols = node.kids[0].shape
        return (cols, rows)

    def _pow(self, node: Raw) -> TermShape:
        arg = node.kids[0]
        if self.solver.is_scalar(arg.shape):
            return arg.shape
        if node.value.denominator != 1:
            raise self.error(
                UnsupportedError,
                f"a matrix power needs an integer exponent, got {node.value} for {self.described(arg)}; "
                "for element-wise powers write ^{\\circ k}",
                node.span,
            )
        self.square(node, arg, "a matrix power")
        return arg.shape

    def _spow(self, node: Raw) -> TermShape:
        arg = node.kids[0]
        if not self.solver.is_scalar(arg.shape):
            self.square(node, arg, "a matrix power")
        return arg.shape

    def _fact(self, node: Raw) -> TermShape:
        if not self.solver.is_scalar(node.kids[0].shape):
            raise self.error(ShapeError, f"a factorial needs an integer, got {self.described(node.kids[0])}", node.span)
        return (ONE, ONE)

    def _infty(self, node: Raw) -> TermShape:
        return (ONE, ONE)

    def _sum(self, node: Raw) -> TermShape:
        return node.kids[2].shape

    def _hpow(self, node: Raw) -> TermShape:
        return node.kids[0].shape

    def _frac(self, node: Raw) -> TermShape:
        top, bottom = node.kids
        if not self.solver.is_scalar(bottom.shape):
            raise self.error(
                ShapeError, f"the denominator of \\frac must be a scalar, got {self.described(bottom)}", node.span
            )
        return top.shape

    def _had(self, node: Raw) -> TermShape:
        left, right = node.kids
        fail = lambda: self.error(  # noqa: E731
            ShapeError,
            f"the Hadamard product needs equal sizes, got {self.described(left)} and {self.described(right)}",
            node.span,
        )
        self.unify_shapes(left.shape, right.shape, fail, node)
        return left.shape

    def _kron(self, node: Raw) -> TermShape:
        left, right = node.kids
        return (mul(left.shape[0], right.shape[0]), mul(left.shape[1], right.shape[1]))

    def _tr(self, node: Raw) -> TermShape:
        self.square(node, node.kids[0], "the trace")
        return (ONE, ONE)

    def _det(self, node: Raw) -> TermShape:
        arg = node.kids[0]
        if node.value == "bars" and self.solver.is_scalar(arg.shape):
            raise self.error(
                UnsupportedError,
                f"{self.text(node)} is the absolute value of a scalar, which is not supported; "
                "|X| is read as the determinant of a square matrix",
                node.span,
            )
        self.square(node, arg, "the determinant")
        return (ONE, ONE)

    def _func(self, node: Raw) -> TermShape:
        return node.kids[0].shape

    def _softmax(self, node: Raw) -> TermShape:
        self.column(node, node.kids[0], "softmax")
        return node.kids[0].shape

    def _normsq(self, node: Raw) -> TermShape:
        return (ONE, ONE)

    def _norm(self, node: Raw) -> TermShape:
        return (ONE, ONE)

    def _afunc(self, node: Raw) -> TermShape:
        name, kind, order = node.value
        return (ONE, ONE) if kind == "scalar" and order != "grad" else node.kids[0].shape

    def _expm(self, node: Raw) -> TermShape:
        self.square(node, node.kids[0], "the matrix exponential")
        return node.kids[0].shape

    def _epow(self, node: Raw) -> TermShape:
        arg = node.kids[0]
        if not self.solver.is_scalar(arg.shape):
            fail = lambda: self.error(  # noqa: E731
                ShapeError,
                f"the matrix exponential e^{{...}} needs a square matrix, got {self.described(arg)}; "
                "for the element-wise exponential write \\exp(...)",
                node.span,
            )
            self.unify(arg.shape[0], arg.shape[1], fail, node)
        return arg.shape

    def _dup(self, node: Raw) -> TermShape:
        """D_n: n^2 x n(n+1)/2 (the columns are a size of their own here; the node computes n(n+1)/2)."""
        style, spec = node.value
        n = self.solver.spec(spec, self.origin(self.text(node), node))
        k = self.solver.var(self.origin(self.text(node), node))
        self.solver.half_squares.append((k, n))
        return (mul(n, n), k)

    def _vech(self, node: Raw) -> TermShape:
        self.square(node, node.kids[0], "vech")
        k = self.solver.var(self.origin(self.text(node), node))
        self.solver.half_squares.append((k, node.kids[0].shape[0]))
        return (k, ONE)

    def _vec(self, node: Raw) -> TermShape:
        rows, cols = node.kids[0].shape
        return (mul(cols, rows), ONE)  # cols first: (A ⊗ B) vec(X) reads as vec(B X A^T), A beside the columns

    def _diag(self, node: Raw) -> TermShape:
        self.column(node, node.kids[0], "diag")
        rows = node.kids[0].shape[0]
        return (rows, rows)

    def _int(self, node: Raw) -> TermShape:
        return node.kids[0].shape

    def _diff(self, node: Raw) -> TermShape:
        return node.kids[0].shape
