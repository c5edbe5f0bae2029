"""The typed expression tree shared by the reader, the rules, the checker and the writer.

Every node is a frozen dataclass whose ``shape`` (rows, cols) is computed when it is
built, so a rule that builds a non-conformable product fails at once instead of
printing nonsense.  Scalars are 1x1.  Nodes read from the author's LaTeX keep the
span of their source text (``span``, excluded from equality) for error messages.

Symbols remember how the author wrote them (``style``: ``boldsymbol``, ``mathbf``,
``bm``, ``vec`` or ``plain``) and constants built by the rules copy the style of the
variable, so ``\\mathbf`` stays ``\\mathbf`` in the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from typing import Callable, Iterator, Literal

from ..errors import ShapeError
from .dims import ONE, SCALAR, Dim, Shape, half_square, shape_text

Span = tuple[int, int] | None
Kind = Literal["matrix", "vector", "scalar"]


class Node:
    """Base of all expression nodes."""

    __slots__ = ()
    shape: Shape
    _child_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", self._shape())

    def _shape(self) -> Shape:
        return SCALAR

    @property
    def rows(self) -> Dim:
        return self.shape[0]

    @property
    def cols(self) -> Dim:
        return self.shape[1]

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR

    @property
    def is_square(self) -> bool:
        return self.shape[0] == self.shape[1]

    def children(self) -> tuple["Node", ...]:
        names = self._child_fields
        if len(names) == 1:  # most nodes: one child, or one tuple of them (called by the million)
            value = getattr(self, names[0])
            return value if type(value) is tuple else (value,)
        kids: list[Node] = []
        for name in names:
            value = getattr(self, name)
            if isinstance(value, tuple):
                kids.extend(value)
            else:
                kids.append(value)
        return tuple(kids)

    def with_children(self, kids: tuple["Node", ...] | list["Node"]) -> "Node":
        """The same node with new children (in ``children()`` order); the node itself when they are
        the very same objects (most rewrite passes change nothing below most nodes)."""
        kids = list(kids)
        current = self.children()
        if len(kids) == len(current) and all(new is old for new, old in zip(kids, current)):
            return self
        changes: dict[str, object] = {}
        for name in self._child_fields:
            value = getattr(self, name)
            if isinstance(value, tuple):
                changes[name] = tuple(kids[: len(value)])
                del kids[: len(value)]
            else:
                changes[name] = kids.pop(0)
        return replace(self, **changes)

    def walk(self) -> Iterator["Node"]:
        """This node and all its descendants, parents first (children in order)."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            kids = node.children()
            if kids:
                stack.extend(reversed(kids))

    def contains(self, target: "Node") -> bool:
        return any(node == target for node in self.walk())


def _require(condition: bool, message: "str | Callable[[], str]") -> None:
    """Raise ShapeError unless ``condition``; a message that needs formatting is passed as a
    function, so it is only written when the error happens (nodes are built by the thousand)."""
    if not condition:
        raise ShapeError(message() if callable(message) else message)


# ---------------------------------------------------------------- atoms


@dataclass(frozen=True, slots=True)
class Sym(Node):
    """A named matrix, vector or scalar: ``\\boldsymbol{X}``, ``\\mathbf{x}``, ``\\lambda``."""

    name: str
    kind: Kind
    nrows: Dim = ONE
    ncols: Dim = ONE
    style: str = "boldsymbol"
    span: Span = field(default=None, compare=False, repr=False)
    shape: Shape = field(init=False, compare=False, repr=False)

    def _shape(self) -> Shape:
        return (self.nrows, self.ncols)


@dataclass(frozen=True, slots=True)
class Num(Node):
    """A rational scalar constant."""

    value: Fraction
    span: Span = field(default=None, compare=False, repr=False)
    shape: Shape = field(init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Identity(Node):
    """The identity matrix ``I_n``."""

    n: Dim
    style: str = field(default="boldsymbol", compare=False)  # notation only: I is I however it is written
    #: notation only: False for the author's ``\boldsymbol{I}`` written without a size, printed so
    #: (the writer adds the size where nothing else gives it: a factor of a Kronecker product)
    sized: bool = field(default=True, compare=False)
    shape: Shape = field(init=False, compare=False, repr=False)

    def _shape(self) -> Shape:
        return (self.n, self.n)


@dataclass(frozen=True, slots=True)
class Zero(Node):
    """The zero matrix of a given size."""

    nrows: Dim
    ncols: Dim
    style: str = field(default="boldsymbol", compare=False)  # notation only: I is I however it is written
    shape: Shape = field(init=False, compare=False, repr=False)

    def _shape(self) -> Shape:
        return (self.nrows, self.ncols)


@dataclass(frozen=True, slots=True)
class Ones(Node):
    """The column vector of ones ``1_n``."""

    n: Dim
    style: str = field(default="boldsymbol", compare=False)  # notation only: I is I however it is written
    shape: Shape = field(init=False, compare=False, repr=False)

    def _shape(self) -> Shape:
        return (self.n, ONE)


@dataclass(frozen=True, slots=True)
class Commutation(Node):
    """The commutation matrix ``K_{mn}``: ``K_{mn} vec(A) = vec(A^T)`` for ``A`` of size m x n."""

    m: Dim
    n: Dim
    style: str = field(default="boldsymbol", compare=False)  # notation only: I is I however it is written
    shape: Shape = field(init=False, compare=False, repr=False)

    def _shape(self) -> Shape:
        size = self.m * self.n
        return (size, size)


@dataclass(frozen=True, slots=True)
class Duplication(Node):
    """The duplication matrix ``D_n`` (n^2 x n(n+1)/2): ``D_n vech(S) = vec(S)`` for a symmetric n x n S."""

    n: Dim
    style: str = field(default="boldsymbol", compare=False)  # notation only
    shape: Shape = field(init=False, compare=False, repr=False)

    def _shape(self) -> Shape:
        return (self.n * self.n, half_square(self.n))


# ---------------------------------------------------------------- algebra


@dataclass(frozen=True, slots=True)
class Add(Node):
    """A sum of two or more terms of one shape."""

    terms: tuple[Node, ...]
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("terms",)

    def _shape(self) -> Shape:
        first = self.terms[0].shape
        for term in self.terms[1:]:
            _require(
                term.shape == first,
                lambda: f"cannot add a {shape_text(first)} and a {shape_text(term.shape)} term",
            )
        return first


def product_shape(shapes: list[Shape]) -> Shape:
    """Shape of a juxtaposition product; 1x1 factors act as scalars."""
    acc: Shape | None = None
    for shape in shapes:
        if acc is None or acc == SCALAR:
            acc = shape
        elif shape == SCALAR:
            continue
        else:
            _require(
                acc[1] == shape[0],
                lambda: f"cannot multiply a {shape_text(acc)} matrix by a {shape_text(shape)} matrix",
            )
            acc = (acc[0], shape[1])
    return acc if acc is not None else SCALAR


@dataclass(frozen=True, slots=True)
class Mul(Node):
    """A product by juxtaposition; 1x1 factors are scalars and may stand anywhere."""

    factors: tuple[Node, ...]
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("factors",)

    def _shape(self) -> Shape:
        return product_shape([f.shape for f in self.factors])


@dataclass(frozen=True, slots=True)
class Transpose(Node):
    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        return (self.arg.shape[1], self.arg.shape[0])


@dataclass(frozen=True, slots=True)
class Inverse(Node):
    """The matrix inverse (or the reciprocal of a scalar)."""

    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        _require(self.arg.is_square, lambda: f"cannot invert a non-square {shape_text(self.arg.shape)} matrix")
        return self.arg.shape


@dataclass(frozen=True, slots=True)
class Power(Node):
    """An integer power of a square matrix, or any rational power of a scalar."""

    arg: Node
    exponent: Fraction
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        _require(self.arg.is_square, lambda: f"cannot raise a non-square {shape_text(self.arg.shape)} matrix to a power")
        return self.arg.shape


@dataclass(frozen=True, slots=True)
class SymbolicPower(Node):
    """``X^{n}``, ``X^{n-1-k}``: a square matrix (or a scalar) to a symbolic integer power.

    ``exponent`` is a scalar expression of integer symbols (``n``, a summation index ``k``) and
    integers; it is a non-negative integer wherever it is evaluated."""

    arg: Node
    exponent: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg", "exponent")

    def _shape(self) -> Shape:
        _require(self.arg.is_square, lambda: f"cannot raise a non-square {shape_text(self.arg.shape)} matrix to a power")
        _require(self.exponent.is_scalar, "an exponent must be a scalar")
        return self.arg.shape


@dataclass(frozen=True, slots=True)
class Sum(Node):
    """``\\sum_{k=lower}^{upper} body`` over an integer index (empty when upper < lower; a series when
    ``upper`` is :class:`Infinity`, evaluated by truncation once its terms stop mattering)."""

    var: Sym
    lower: Node
    upper: Node
    body: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("lower", "upper", "body")

    def _shape(self) -> Shape:
        return self.body.shape


@dataclass(frozen=True, slots=True)
class Factorial(Node):
    """``n!``, ``(p + q + 1)!`` of a non-negative integer expression (a scalar)."""

    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)


@dataclass(frozen=True, slots=True)
class Infinity(Node):
    """``\\infty``: the upper bound of an infinite series (a :class:`Sum`), nothing else."""

    shape: Shape = field(init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class HadamardPower(Node):
    """An element-wise power ``U^{\\circ k}``."""

    arg: Node
    exponent: Fraction
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        return self.arg.shape


@dataclass(frozen=True, slots=True)
class Frac(Node):
    """``\\frac{num}{den}`` with a scalar denominator."""

    num: Node
    den: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("num", "den")

    def _shape(self) -> Shape:
        _require(self.den.is_scalar, "the denominator of \\frac must be a scalar")
        return self.num.shape


@dataclass(frozen=True, slots=True)
class Hadamard(Node):
    """Element-wise product ``A \\odot B`` (``op``: the author's symbol, ``odot`` or ``circ``)."""

    left: Node
    right: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    op: str = field(default="odot", compare=False)
    _child_fields = ("left", "right")

    def _shape(self) -> Shape:
        _require(
            self.left.shape == self.right.shape,
            lambda: f"the Hadamard product needs equal sizes, got {shape_text(self.left.shape)} and "
            f"{shape_text(self.right.shape)}",
        )
        return self.left.shape


@dataclass(frozen=True, slots=True)
class Kron(Node):
    """Kronecker product ``A \\otimes B``."""

    left: Node
    right: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("left", "right")

    def _shape(self) -> Shape:
        return (self.left.rows * self.right.rows, self.left.cols * self.right.cols)


# ---------------------------------------------------------------- functions


@dataclass(frozen=True, slots=True)
class Trace(Node):
    arg: Node
    style: str = "operatorname"
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        _require(self.arg.is_square, lambda: f"the trace needs a square matrix, got {shape_text(self.arg.shape)}")
        return SCALAR


@dataclass(frozen=True, slots=True)
class Det(Node):
    """The determinant, written ``|X|`` (``style="bars"``) or ``\\det(X)``."""

    arg: Node
    style: str = "bars"
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        _require(self.arg.is_square, lambda: f"the determinant needs a square matrix, got {shape_text(self.arg.shape)}")
        return SCALAR


@dataclass(frozen=True, slots=True)
class Func(Node):
    """A named scalar function; applied to a vector or matrix it acts element by element.

    ``name`` is a key of :data:`matdiff_tex.expr.functions.FUNCTIONS` (``exp``, ``log``,
    ``sin``, ``cos``, ``tanh``, ``sigma``, ``sqrt``, ``sigma_p`` ...).
    """

    name: str
    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        return self.arg.shape


@dataclass(frozen=True, slots=True)
class Applied(Node):
    """An abstract function named by the author (``functions={\\ell: scalar, f: elementwise}``).

    ``kind="scalar"``: a scalar function of a vector or matrix, ``\\ell(u)`` (``primes`` is 0);
    ``kind="elementwise"``: a scalar function applied entry by entry, ``f(u)``, and with
    ``primes = k`` its k-th derivative ``f'(u)``, ``f''(u)`` ... entry by entry.
    """

    name: str
    arg: Node
    kind: str = "elementwise"
    primes: int = 0
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        return SCALAR if self.kind == "scalar" else self.arg.shape


@dataclass(frozen=True, slots=True)
class Gradient(Node):
    """``\\nabla \\ell(u)``: the gradient of an abstract scalar function at u (u's shape)."""

    name: str
    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        return self.arg.shape


@dataclass(frozen=True, slots=True)
class Softmax(Node):
    """``softmax(u) = exp(u) / (1^T exp(u))`` of a column vector."""

    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        _require(self.arg.cols.is_one, lambda: f"softmax needs a column vector, got {shape_text(self.arg.shape)}")
        return self.arg.shape


@dataclass(frozen=True, slots=True)
class NormSq(Node):
    """``\\|x\\|_2^2`` of a vector or ``\\|X\\|_F^2`` of a matrix (``sub`` as written: "", "2", "F")."""

    arg: Node
    sub: str = "2"
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)


@dataclass(frozen=True, slots=True)
class Norm(Node):
    """A norm ``\\|u\\|_{sub}`` (``sub`` as written: "", "2", "F", "1", "*").

    Of a column vector "", "2" and "F" are the Euclidean norm and "1" the sum of absolute
    values; of a matrix "" and "F" are the Frobenius norm, "2" the spectral norm (the largest
    singular value) and "*" the nuclear norm (the sum of the singular values): see
    :func:`norm_kind`.
    """

    arg: Node
    sub: str = "2"
    span: Span = field(default=None, compare=False, repr=False)
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)


def norm_kind(node: "Norm | NormSq") -> str:
    """``euclid`` (2-norm of a vector, Frobenius of a matrix), ``l1``, ``spectral`` or ``nuclear``."""
    vector = node.arg.cols.is_one
    if node.sub == "1":
        return "l1" if vector else "matrix-1"
    if vector or node.sub in ("", "F"):
        return "euclid"
    return "spectral" if node.sub == "2" else "nuclear"


@dataclass(frozen=True, slots=True)
class Expm(Node):
    """The matrix exponential, written ``e^{X}`` (``style="e"``) or ``\\operatorname{expm}(X)``."""

    arg: Node
    style: str = "e"
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        _require(self.arg.is_square, lambda: f"the matrix exponential needs a square matrix, got {shape_text(self.arg.shape)}")
        return self.arg.shape


@dataclass(frozen=True, slots=True)
class Vec(Node):
    """Column-stacking ``vec(A)``."""

    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        return (self.arg.rows * self.arg.cols, ONE)


@dataclass(frozen=True, slots=True)
class Vech(Node):
    """``vech(X)``: the entries of a square X on and below the diagonal, column by column."""

    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        _require(self.arg.is_square, lambda: f"vech needs a square matrix, got {shape_text(self.arg.shape)}")
        return (half_square(self.arg.rows), ONE)


@dataclass(frozen=True, slots=True)
class Diag(Node):
    """``diag(v)``: the diagonal matrix with the entries of a column vector."""

    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        _require(self.arg.cols.is_one, lambda: f"diag needs a column vector, got {shape_text(self.arg.shape)}")
        return (self.arg.rows, self.arg.rows)


@dataclass(frozen=True, slots=True)
class Integral(Node):
    """``\\int_0^1 body \\, d var`` over a scalar variable (the derivative of expm)."""

    var: Sym
    body: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("body",)

    def _shape(self) -> Shape:
        return self.body.shape


# ---------------------------------------------------------------- presentation only


@dataclass(frozen=True, slots=True)
class Differential(Node):
    """``\\mathrm{d}X`` — or ``\\mathrm{d}(expr)`` not yet expanded."""

    arg: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        return self.arg.shape


@dataclass(frozen=True, slots=True)
class Partial(Node):
    """``\\frac{\\partial num}{\\partial den}`` (``den2`` set: a second derivative)."""

    num: Node
    den: Node
    den2: Node | None = None
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("num", "den")


@dataclass(frozen=True, slots=True)
class Colored(Node):
    """``\\textcolor{color}{arg}`` — marks the factor being differentiated (seed 000)."""

    arg: Node
    color: str
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("arg",)

    def _shape(self) -> Shape:
        return self.arg.shape


def node_fields(node: Node) -> dict[str, object]:
    """The constructor fields of a node (for debugging and generic rebuilding)."""
    return {f.name: getattr(node, f.name) for f in fields(node) if f.init}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Written(Node):
    """F as the author typed it (``\\|y - X\\beta\\|^2``, ``\\circ``, ``\\mathrm{tr}``): printed as
    ``latex``, evaluated (and checked) as ``node``.  Only the rows a derivation prints hold it."""

    node: Node
    latex: str
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("node",)

    def _shape(self) -> Shape:
        return self.node.shape


@dataclass(frozen=True, slots=True)
class Named(Node):
    """A name a derivation introduces for a long expression ("记 f = ...", "where s = ..."):
    written as ``name``, evaluated (and checked) as ``definition``."""

    name: Sym
    definition: Node
    shape: Shape = field(init=False, compare=False, repr=False)
    _child_fields = ("definition",)

    def _shape(self) -> Shape:
        return self.definition.shape
