"""``matdiff-tex lint``: proofread the matrix calculus a person typed.

Every claim of a note is checked numerically, never trusted:

- a derivative ``\\frac{\\partial F}{\\partial X} = R`` (also ``\\partial F / \\partial X``,
  ``\\nabla_X f``, ``\\mathrm{d}F/\\mathrm{d}X``, Hessians ``\\frac{\\partial^2 f}{\\partial X
  \\partial X^{\\top}}`` and ``\\nabla^2 f``) is compared with the complex-step derivative of F in
  the page's layout, at two random points where every dimension has its own size;
- a chain ``&= ...`` after a claim or after a differential ``\\mathrm{d}f = ...``: every row is
  compared with the true value (the derivative, or the differential in a random direction), so
  the wrong row is the one reported — and a row that merely repeats a wrong row is not;
- an identity between two expressions over the same matrices (``vec(ABC) = (C^T ⊗ A) vec(B)``,
  a series written out with ``\\sum``).

When a result is wrong the message says why when it can tell (the other layout, a symmetric
matrix assumed, Kronecker factors swapped, a commutation matrix missing) and gives matdiff-tex's
own, checked result.  Anything that cannot be read, sized or decided is *skipped* with a reason,
never reported: a false alarm is worse than a missed mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import MatdiffError
from ..expr.nodes import Commutation, Differential, Kron, Node, Sym
from ..expr.reader import read_derivative_input, read_expression, read_raw
from ..expr.writer import to_latex
from .lint_claims import (
    CannotExpand,
    Derivative,
    definition_of,
    derivative_of,
    expand_sums,
    normalise,
    substitute,
)
from .lint_source import Chain, Fact, Page, Piece, read_page, symbol_name
from .numeric import OutOfDomain, commutation_matrix, evaluate_node, symbols_of
from .verify import _arrange, _hessian, _jacobian, _square, _Sizing
from .verify_steps import _dims, _value

RTOL = 1e-7
HESSIAN_RTOL = 1e-4
CLEARLY_WRONG = 1e-4  # a relative difference above this at some point is a mistake, not rounding
POINTS = 2
LARGEST = 8
_NAMES_FOR_HOLE = ("Z", "Q", "W", "V", "U")
REPEAT = "repeat"  # a verdict: the row equals the wrong row before it (reported once, there)
#: A page's own layout for matrices by matrices: ∂Y/∂X = [∂Y_kl/∂X], each block shaped like X (seed 003).
BLOCK = "block"


def block_arrangement(jacobian: np.ndarray, f_shape: tuple[int, int], x_shape: tuple[int, int]) -> np.ndarray:
    """∂vec Y/∂(vec X)^T rearranged as [∂Y_kl/∂X]: entry (k·m + i, l·n + j) is ∂Y_kl/∂X_ij."""
    (p, q), (m, n) = f_shape, x_shape
    return jacobian.reshape(p, q, m, n, order="F").transpose(0, 2, 1, 3).reshape(p * m, q * n)


@dataclass(frozen=True, slots=True)
class Finding:
    """One wrong claim (``severity="error"``) or one claim that could not be checked (``"skipped"``)."""

    path: str
    line: int
    col: int
    severity: str
    message: str
    claim: str = ""
    correct: str | None = None

    def format(self) -> str:
        word = "error" if self.severity == "error" else "note"
        return f"{self.path}:{self.line}:{self.col}: {word}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.col, "severity": self.severity,
                "message": self.message, "claim": self.claim, "correct": self.correct}


@dataclass(slots=True)
class Report:
    """What a lint run found: errors, skipped claims and how many claims were checked."""

    findings: list[Finding] = field(default_factory=list)
    checked: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def skipped(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "skipped"]

    def extend(self, other: "Report") -> None:
        self.findings += other.findings
        self.checked += other.checked

    def summary(self) -> str:
        claims = "claim" if self.checked == 1 else "claims"
        return f"{self.checked} {claims} checked, {len(self.errors)} wrong, {len(self.skipped)} skipped"


class Skip(Exception):
    """This claim cannot be checked; the message says why."""


# ---------------------------------------------------------------- the public entry points


def lint_text(text: str, fmt: str = "markdown", *, layout: str | None = None,
              shapes: Mapping[str, Any] | None = None, path: str = "<text>",
              site: Mapping[str, Any] | None = None) -> list[Finding]:
    """The wrong claims of a note held in memory (``fmt``: markdown, latex or text)."""
    return lint_report(text, fmt, layout=layout, shapes=shapes, path=path, site=site).errors


def lint_report(text: str, fmt: str = "markdown", *, layout: str | None = None,
                shapes: Mapping[str, Any] | None = None, path: str = "<text>",
                site: Mapping[str, Any] | None = None) -> Report:
    """Every finding of a note: wrong claims and skipped ones, and the count of checked claims."""
    from ..options import resolve, site_options

    page = read_page(text, fmt)
    cli: dict[str, Any] = {}
    if layout is not None and layout != "mixed":
        cli["layout"] = layout
    if shapes:
        cli["shapes"] = tuple(dict(shapes).items())
    try:
        options = resolve(page.front_matter, site_options(cli), dict(site or {}))  # as render does
    except MatdiffError:
        options = resolve({}, {}, {})
    page_layout = "mixed" if layout == "mixed" and "layout" not in page.front_matter else options.layout
    return _Linter(text, path, page, page_layout, dict(options.shapes)).run()


LINT_MODES = ("warn", "error", "off")
#: Text that may hold a claim: a page without any of these is not read at all.
CLAIM_TRIGGERS = ("\\partial", "\\nabla", "\\mathrm{d}", "\\mathrm d", "\\sum", "\\otimes", "\\operatorname{vec}")


def lint_for_site(text: str, fmt: str, path: str, options: Mapping[str, Any] | None) -> list[Finding]:
    """The wrong claims of one page for a site generator (MkDocs, Hexo): site ``layout``/``shapes`` apply."""
    from ..options import site_options

    if not any(trigger in text for trigger in CLAIM_TRIGGERS):
        return []
    try:
        site = site_options({k: v for k, v in (options or {}).items() if k in ("layout", "shapes")})
    except MatdiffError:
        site = {}
    return lint_report(text, fmt, path=path, site=site).errors


# ---------------------------------------------------------------- numbers for one claim


@dataclass
class _Point:
    values: dict[str, np.ndarray]
    direction: np.ndarray


class _Numbers:
    """F, X and the symbols' sizes made concrete; values at random points; the true values."""

    def __init__(self, f_text: str, x_text: str, shapes: Mapping[str, Any], symmetric: set[str],
                 order: int = 1, scale: float = 1.0) -> None:
        try:
            read = read_derivative_input(f_text, x_text, shapes or None)
        except MatdiffError as exc:
            raise Skip(f"cannot read it: {exc.message}") from None
        self.f, self.x = read.f, read.x
        self.given = dict(shapes or {})
        if self.x.name not in symbols_of(self.f) and not _has(self.f, Differential):
            raise Skip(f"{x_text.strip()} does not occur in {f_text.strip()}")
        names: set[str] = set()
        for node in (self.f, self.x):
            for dim in _dims(node):
                if dim.coeff > LARGEST:
                    raise Skip("its sizes are too large to check")
                names.update(dim.names)
        self.sizes = {name: 2 + k for k, name in enumerate(sorted(names))}
        self.symbols = dict(read.symbols)
        self.shapes = {name: (s.nrows.value(self.sizes), s.ncols.value(self.sizes)) for name, s in read.symbols.items()}
        self.order = order
        self.symmetric = {s for s in symmetric if s in self.shapes and self.shapes[s][0] == self.shapes[s][1]}
        self.points: list[_Point] = []
        rng = np.random.default_rng(20240611)
        for _ in range(POINTS):
            self.points.append(self._point(rng, scale))

    def _point(self, rng: np.random.Generator, scale: float) -> _Point:
        values = {}
        for name in sorted(self.shapes):
            rows, cols = self.shapes[name]
            value = _square(rng, rows) if rows == cols > 1 else rng.uniform(0.5, 1.5, (rows, cols))
            if name in self.symmetric:
                value = (value + value.T) / 2
            values[name] = scale * value
        x_shape = self.shapes[self.x.name]
        return _Point(values, rng.uniform(-1.0, 1.0, x_shape))

    @property
    def f_shape(self) -> tuple[int, int]:
        return self.f.rows.value(self.sizes), self.f.cols.value(self.sizes)

    def name_identity_derivative(self, name: str) -> None:
        """Give ``name`` the value ∂X/∂X of the claim's variable in the block layout (seed 003's E)."""
        m, n = self.shapes[self.x.name]
        value = block_arrangement(np.eye(m * n), (m, n), (m, n))
        self.shapes[name] = value.shape
        for point in self.points:
            point.values[name] = value

    def symmetrised(self, name: str) -> "_Numbers":
        twin = object.__new__(_Numbers)
        twin.__dict__.update(self.__dict__)
        twin.symmetric = self.symmetric | {name}
        twin.points = [
            _Point({k: (v + v.T) / 2 if k == name else v for k, v in p.values.items()}, p.direction)
            for p in self.points
        ]
        return twin

    # -- true values

    def derivative(self, point: _Point, layout: str, vec_x: bool = False) -> np.ndarray:
        sizing = _Sizing(self.f, self.x, self.f, self.sizes)
        with np.errstate(all="ignore"):
            if self.order == 2:
                return _hessian(sizing, point.values)[0]
            jac = _jacobian(sizing, point.values)[0]
        m, n = self.shapes[self.x.name]
        if layout == BLOCK:
            return block_arrangement(jac, self.f_shape, (m, n))
        if vec_x:  # by vec(X): the Jacobian as it is
            return jac if layout == "numerator" else jac.T
        return _arrange(jac, sizing, layout)  # as the engine lays it out (by a scalar: F's shape)

    # -- the author's expressions

    def read(self, text: str, fit: list[tuple[int, int]]) -> tuple[Node, bool]:
        """``text`` read with the claim's sizes; free sizes (``I``, ``K``) fitted to a shape of ``fit``."""
        first: MatdiffError | None = None
        try:
            return read_expression(text, self.shapes), False
        except MatdiffError as exc:
            first = exc
        hole = next(h for h in _NAMES_FOR_HOLE if h not in self.shapes and not re.search(rf"(?<![\\A-Za-z]){h}", text))
        for shape in fit:
            try:
                node = read_expression(f"{text} + \\mathbf{{{hole}}}", {**self.shapes, hole: shape})
            except MatdiffError:
                continue
            kids = node.children()
            return (kids[0] if len(kids) == 2 else node.with_children(kids[:-1])), False
        try:
            return read_expression(text, self.shapes, self.sizes), True
        except MatdiffError:
            raise Skip(f"cannot read it: {first.message}") from None

    def value(self, node: Node, point: _Point) -> np.ndarray:
        with np.errstate(all="ignore"):
            if _has(node, Differential):
                return _value(node, self.x, point.values, point.direction, self.sizes)
            return np.real(evaluate_node(node, point.values, self.sizes, dtype=complex, mode="check"))


def _has(node: Node, kind: type) -> bool:
    return any(isinstance(n, kind) for n in node.walk())


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> bool | None:
    """True when equal, False when clearly different, None when in between (or not comparable)."""
    if a.shape != b.shape:
        return False
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return None
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 0.0, float(np.max(np.abs(a))) if a.size else 0.0)
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    if diff <= rtol * scale:
        return True
    return False if diff > CLEARLY_WRONG * scale * (100 if rtol > RTOL else 1) else None


def _matches(values: list[np.ndarray], targets: list[np.ndarray], rtol: float, fit: bool = False) -> bool | None:
    verdicts = [_close(_fit(v, t) if fit else v, t, rtol) for v, t in zip(values, targets)]
    if all(v is True for v in verdicts):
        return True
    if any(v is False for v in verdicts):
        return False
    return None


def _fit(value: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A row's value in the target's form: vec of a matrix, or the trace when a scalar is meant."""
    if value.shape == target.shape:
        return value
    if value.size == target.size and min(value.shape) > 1 and target.shape[1] == 1:  # vec(dF) = ... after dF
        return value.reshape(-1, 1, order="F")
    if value.size == target.size and min(target.shape) > 1 and value.shape[1] == 1:
        return value.reshape(target.shape, order="F")
    if target.shape == (1, 1) and value.ndim == 2 and value.shape[0] == value.shape[1]:
        return np.array([[np.trace(value)]])
    return value


# ---------------------------------------------------------------- a page


class _Linter:
    def __init__(self, text: str, path: str, page: Page, layout: str, shapes: dict[str, Any]) -> None:
        self.text = text
        self.path = path
        self.page = page
        self.layout = layout
        self.shapes = shapes
        self.report = Report()
        self.definitions: dict[str, tuple[str, str | None, int]] = {}

    def run(self) -> Report:
        for chain in self.page.chains:
            try:
                self._chain(chain)
            except Skip as skip:
                self._skip(chain.head, str(skip))
            except MatdiffError as exc:
                self._skip(chain.head, f"cannot read it: {exc.message}")
            except Exception as exc:  # noqa: BLE001 - a claim lint cannot handle is skipped, never a crash
                self._skip(chain.head, f"cannot check it ({type(exc).__name__}: {exc})")
        return self.report

    # -- findings

    def _error(self, piece: Piece, message: str, correct: str | None) -> None:
        line, col = _position(self.text, piece.start)
        self.report.findings.append(Finding(self.path, line, col, "error", message, piece.text, correct))

    def _skip(self, piece: Piece, why: str) -> None:
        line, col = _position(self.text, piece.start)
        self.report.findings.append(Finding(self.path, line, col, "skipped", f"not checked: {why}", piece.text))

    # -- facts in force at an offset

    def _context(self, offset: int, chain: Chain | None = None) -> tuple[dict[str, Any], set[str]]:
        """Sizes and symmetric matrices in force at ``offset``; a matrix said to be symmetric in the
        notes of ``chain`` itself ("$X$ symmetric: ...", as render writes it) is symmetric for it."""
        shapes: dict[str, Any] = {}
        symmetric: set[str] = {fact.name for fact in self.page.facts if chain is not None
                               and fact.kind == "symmetric" and chain.head.start <= fact.offset < chain.end}
        fresh = 0
        for fact in self.page.facts:
            if fact.offset > offset:
                break
            if fact.kind == "symmetric":
                symmetric.add(fact.name)
            elif fact.kind == "vector" and fact.name.islower():
                fresh += 1
                shapes[fact.name] = f"k_{fresh} x 1"
            elif fact.kind in ("scalar", "matrix"):
                shapes.pop(fact.name, None)
        shapes.update(self.shapes)
        return shapes, symmetric

    # -- one chain

    def _chain(self, chain: Chain) -> None:
        head = normalise(chain.head.text)
        if chain.prose and not chain.members:
            self._prose(chain)
            return
        if not chain.members:
            return
        derivative = derivative_of(head)
        if derivative is not None:
            self._derivative(chain, derivative)
            return
        definition = definition_of(head)
        if definition is not None:
            name, args = definition
            member = normalise(chain.members[0][0].text)
            if derivative_of(member) is None and not re.search(rf"(?<![\\A-Za-z]){name}(?![A-Za-z])", member):
                self.definitions[name] = (member, args, chain.head.start)
            return
        if "\\mathrm{d}" in head:
            self._differential(chain, head)
            return
        self._identity(chain, head)

    def _defined(self, f: str) -> tuple[str, str | None]:
        """F with a definition put in its place when F is a defined name (``f``, ``F(X)``)."""
        found = definition_of(f)
        if found is None:
            return f, None
        name, args = found
        if name in self.definitions:
            text, def_args, _ = self.definitions[name]
            return text, def_args
        if args is not None:
            raise Skip(f"{f.strip()} is a function the page does not define")
        return f, None

    def _variable(self, f: str, given: str, def_args: str | None) -> str:
        if given:
            return given
        if def_args:
            return def_args
        names = [m for m in ("X", "x") if re.search(rf"(?<![\\A-Za-z]){m}(?![A-Za-z])|\{{\s*{m}\s*\}}", f)]
        if len(names) != 1:
            raise Skip("the variable of \\nabla is not written and cannot be told from the page")
        style = re.search(rf"(\\(?:mathbf|boldsymbol|bm)\s*\{{?\s*{names[0]}\s*\}}?)", f)
        return style.group(1) if style else names[0]

    def _prose(self, chain: Chain) -> None:
        scalar = [(n, d) for n, d in self.definitions.items() if symbol_name(n) and n.islower()]
        if not scalar:
            raise Skip("a Hessian or gradient in words, but no function f is defined before it")
        name, (text, args, _) = max(scalar, key=lambda item: item[1][2])
        order = 2 if chain.prose == "hessian" else 1
        claim = Derivative(name, "", order, "denominator" if order == 1 else None)
        self._derivative(Chain(chain.head, [(chain.head, chain.head_row)], chain.head_row, False, chain.region),
                         claim, as_words=True)

    # -- derivative claims

    def _derivative(self, chain: Chain, claim: Derivative, as_words: bool = False) -> None:
        f_text, def_args = self._defined(normalise(claim.f))
        x_text = self._variable(f_text, normalise(claim.x), def_args)
        shapes, symmetric = self._context(chain.head.start, chain)
        layout = claim.layout or chain.layout or self.layout
        if layout == "mixed":
            layout = None  # decided below, once F's shape is known: gradients denominator, Jacobians numerator
        readings = _readings(f_text, [m.text for m, _ in chain.members])
        errors: dict[int, list[str]] = {}
        verdicts: dict[int, tuple[bool | None, str | None]] = {}
        last_skip: dict[int, str] = {}
        for reading, (f_read, members) in enumerate(readings):
            try:
                numbers = _Numbers(f_read, x_text, shapes, symmetric, claim.order)
            except Skip as skip:
                if reading == 0:
                    raise
                continue
            scalar = numbers.f.rows.value(numbers.sizes) == 1 == numbers.f.cols.value(numbers.sizes)
            block = self._block_layout(chain, claim, numbers, members)
            checker = _Checker(numbers, BLOCK if block else layout or ("denominator" if scalar else "numerator"),
                               claim, f_read, x_text, self.layout, context=block)
            for k, member in enumerate(members):
                if verdicts.get(k, (None, None))[0] is True:
                    continue
                try:
                    verdict, message = checker.member(member)
                except Skip as skip:
                    last_skip.setdefault(k, str(skip))
                    continue
                if verdict is False and any(self._cites_assumption(chain, j) for j in range(k + 1)):
                    last_skip.setdefault(k, "it rests on an assumption a note of the chain states (a symmetric "
                                            "matrix, a stated value), which the page does not give lint")
                    continue
                if verdict is True or k not in verdicts or verdicts[k][0] is None:
                    verdicts[k] = (verdict, message)
                    checker.record(k, verdict)
        self._report_chain(chain, verdicts, last_skip, as_words)

    def _cites_assumption(self, chain: Chain, k: int) -> bool:
        """Whether the annotation of member ``k``'s row (``\\Longrightarrow \\text{...}``, on its line or the
        continuation lines up to the next member) calls on an assumption: symmetry, or a stated value."""
        piece = chain.members[k][0]
        start = piece.start + len(piece.text)
        stop = chain.members[k + 1][0].start if k + 1 < len(chain.members) else (chain.end or len(self.text))
        return _ASSUMPTION_NOTE.search(self.text, start, max(start, stop)) is not None

    def _block_layout(self, chain: Chain, claim: Derivative, numbers: _Numbers, members: list[str]) -> str:
        """When the page defined ∂Y/∂X of matrices as [∂Y_kl/∂X] before this claim (by matrices, in no
        stated layout), say so in words, after naming the page's ∂X/∂X (E) in the rows; else ''."""
        facts = [f for f in self.page.facts if f.offset < chain.head.start]
        defined = [f for f in facts if f.kind == "block_layout"]
        if not defined or claim.layout is not None or chain.layout is not None or claim.order != 1:
            return ""
        if min(*numbers.f_shape, *numbers.shapes[numbers.x.name]) < 2:
            return ""  # only matrices by matrices
        line = _position(self.text, defined[-1].offset)[0]
        said = [f"this page's layout of line {line}, ∂Y/∂X = [∂Y_kl/∂X]"]
        for fact in facts:
            if (fact.kind == "identity_derivative" and fact.name not in numbers.shapes
                    and any(re.search(rf"(?<![\\A-Za-z]){fact.name}(?![A-Za-z])", m) for m in members)):
                numbers.name_identity_derivative(fact.name)
                x = numbers.x.name
                said.append(f"{fact.name} = ∂{x}/∂{x} as on line {_position(self.text, fact.offset)[0]}")
        return f"(in {'; '.join(said)})"

    def _report_chain(self, chain: Chain, verdicts: dict[int, tuple[bool | None, str | None]],
                      skips: dict[int, str], as_words: bool = False,
                      same_as_previous: Callable[[int], bool] | None = None) -> None:
        previous_ok = True
        previous_row = chain.head_row
        for k, (piece, row) in enumerate(chain.members):
            if k not in verdicts or verdicts[k][0] is None:
                self._skip(piece, skips.get(k, "the numbers are inconclusive"))
                previous_ok = True
                continue
            self.report.checked += 1
            ok, message = verdicts[k]
            if ok == REPEAT:
                previous_row = row
                continue
            if ok:
                previous_ok = True
            else:
                assert message is not None
                text, correct = message.split("\x00") if "\x00" in message else (message, None)
                if previous_ok and row != previous_row and k > 0:
                    text = f"row {row} does not follow from row {previous_row}: {text}"
                self._error(piece, text, correct)
                previous_ok = False
            previous_row = row

    # -- differential chains: d f = ..., vec(dF) = ...

    def _differential(self, chain: Chain, head: str) -> None:
        members = [normalise(m.text) for m, _ in chain.members]
        variables = set()
        for text in members:
            for m in re.finditer(r"\\mathrm\{d\}\s*(\\(?:mathbf|boldsymbol|bm)\s*\{?\s*[A-Za-z]\s*\}?|[A-Za-z](?![A-Za-z]))", text):
                variables.add(m.group(1))
        names = {symbol_name(v) for v in variables}
        if len(names) != 1:
            return  # not a chain of differentials in one variable: nothing to check
        x_text = sorted(variables)[0]
        f_head = head
        for name, (text, _, offset) in self.definitions.items():
            if offset < chain.head.start and re.search(rf"\\mathrm\{{d\}}\s*\(?\s*(?:\\operatorname\{{vec\}}\s*\(?)?\s*(?:\\(?:mathbf|boldsymbol|bm)\s*\{{?\s*)?{name}(?![A-Za-z])", f_head):
                f_head = substitute(f_head, name, text, True)
        if re.search(r"\\nabla|\\partial", f_head):
            raise Skip("the differential of something the page does not define")
        shapes, symmetric = self._context(chain.head.start, chain)
        numbers = _Numbers(f_head, x_text, shapes, symmetric)
        if not _depends(numbers.f, numbers.x):
            raise Skip(f"{chain.head.text} does not depend on {x_text}: is it defined on the page?")
        head_values = [numbers.value(numbers.f, p) for p in numbers.points]
        checker = _Checker(numbers, "numerator", None, f_head, x_text, self.layout, head_values)
        verdicts: dict[int, tuple[bool | None, str | None]] = {}
        skips: dict[int, str] = {}
        for k, text in enumerate(members):
            try:
                verdicts[k] = checker.member(text)
                checker.record(k, verdicts[k][0])
            except Skip as skip:
                skips[k] = str(skip)
        self._report_chain(chain, verdicts, skips)

    # -- identities between expressions

    def _identity(self, chain: Chain, head: str) -> None:
        if re.search(r"\\partial|\\nabla|\\mathrm\{d\}", head):
            return
        try:
            head_symbols = _symbols(head)
        except (MatdiffError, CannotExpand):
            return
        if not head_symbols:
            return
        members = [normalise(m.text) for m, _ in chain.members]
        shapes, symmetric = self._context(chain.head.start, chain)
        verdicts: dict[int, tuple[bool | None, str | None]] = {}
        skips: dict[int, str] = {}
        considered = False
        for k, member in enumerate(members):
            try:
                if _symbols(member) != head_symbols or re.search(r"\\partial|\\nabla|\\mathrm\{d\}", member):
                    continue
            except (MatdiffError, CannotExpand):
                continue
            outcome = None
            for h, m in _readings_pair(head, member):
                try:
                    hx, mx = expand_sums(h), expand_sums(m)
                    numbers = _identity_numbers(hx, mx, shapes, symmetric)
                except (Skip, CannotExpand):
                    continue
                if not any(s.kind != "scalar" for s in numbers.symbols.values()):
                    break
                considered = True
                head_values = [numbers.value(numbers.f, p) for p in numbers.points]
                checker = _Checker(numbers, "numerator", None, hx, "", self.layout, head_values, identity=True)
                try:
                    verdict = checker.member(mx)
                except Skip as skip:
                    skips[k] = str(skip)
                    continue
                if outcome is None or verdict[0] is True:
                    outcome = verdict
                if verdict[0] is True:
                    break
            if outcome is not None:
                verdicts[k] = outcome
        if considered:
            kept = Chain(chain.head, [m for k, m in enumerate(chain.members) if k in verdicts or k in skips],
                         chain.head_row, chain.display, chain.region)
            index = {old: new for new, old in enumerate(k for k in range(len(chain.members)) if k in verdicts or k in skips)}
            self._report_chain(kept, {index[k]: v for k, v in verdicts.items()}, {index[k]: v for k, v in skips.items()})


#: Words of a row's note that call on an assumption (render writes "$X$ symmetric: ...", "a symmetric
#: matrix equals its transpose", "use the stated value of $y$", and the same in Chinese).
_ASSUMPTION_NOTE = re.compile(r"symmetric|stated value|assum|given that|对称|已知条件|假设")


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _symbols(text: str) -> set[str]:
    text = expand_sums(text)
    return {node.value.name for node in read_raw(text, "F").walk() if node.op == "sym"}


def _depends(f: Node, x: Sym) -> bool:
    for node in f.walk():
        if isinstance(node, Differential) and any(isinstance(n, Sym) and n.name == x.name for n in node.arg.walk()):
            return True
    return False


def _readings(f: str, members: list[str]) -> list[tuple[str, list[str]]]:
    """How F and the rows may be meant: as written and, with ``\\exp`` of a matrix, the matrix exponential."""
    members = [normalise(m) for m in members]
    out = [(f, members)]
    if "\\exp" in f or any("\\exp" in m for m in members):
        swap = lambda s: re.sub(r"\\exp(?![A-Za-z])", r"\\operatorname{expm}", s)  # noqa: E731
        out.append((swap(f), [swap(m) for m in members]))
    return out


def _readings_pair(head: str, member: str) -> list[tuple[str, str]]:
    return [(h, m[0]) for h, m in _readings(head, [member])]


def _identity_numbers(head: str, member: str, shapes: Mapping[str, Any], symmetric: set[str]) -> _Numbers:
    """Sizes for ``head = member`` read together (their difference must make sense)."""
    joint = f"({head}) - ({member})"
    try:
        raw = read_raw(joint, "F")
    except MatdiffError as exc:
        raise Skip(str(exc)) from None
    candidates = [n for n in raw.walk() if n.op == "sym" and n.value.kind != "scalar"]
    if not candidates:
        raise Skip("no matrix in it")
    x_source = joint[candidates[0].span[0]:candidates[0].span[1]].strip()
    while x_source.startswith("(") and x_source.endswith(")"):
        x_source = x_source[1:-1].strip()
    numbers = _Numbers(joint, x_source, shapes, symmetric, scale=0.5)
    numbers.f = numbers.read(head, [])[0]
    return numbers


# ---------------------------------------------------------------- judging one row


class _Checker:
    """Judges the rows of one claim against the true value, and tells why a wrong one is wrong."""

    def __init__(self, numbers: _Numbers, layout: str, claim: Derivative | None, f_text: str, x_text: str,
                 page_layout: str, targets: list[np.ndarray] | None = None, identity: bool = False,
                 context: str = "") -> None:
        self.n = numbers
        self.context = context  # the page's own conventions the verdict rests on, said in every message
        self.layout = layout
        self.claim = claim
        self.f_text = f_text
        self.x_text = x_text
        self.page_layout = page_layout
        self.fixed = targets
        self.identity = identity
        self.rtol = HESSIAN_RTOL if claim is not None and claim.order == 2 else RTOL
        self.history: list[tuple[bool | None, list[np.ndarray] | None]] = []
        self._last_values: list[np.ndarray] | None = None

    def targets(self, numbers: _Numbers, layout: str) -> list[np.ndarray]:
        if self.fixed is not None and numbers is self.n:
            return self.fixed
        if self.claim is None:
            return [numbers.value(numbers.f, p) for p in numbers.points]
        return [numbers.derivative(p, layout, self.claim.vec_x) for p in numbers.points]

    def record(self, k: int, verdict: bool | None) -> None:
        self.history.append((verdict, self._last_values))

    def member(self, text: str) -> tuple[bool | None, str | None]:
        text = written = normalise(text)
        if re.search(r"\\textcolor|\\color", text) and (derivative_of(text) or "\\partial" in text):
            raise Skip("a row about one coloured copy of the variable")
        nested = derivative_of(text)
        if nested is not None:
            return self._nested(nested, text)
        if re.search(r"\\partial|\\nabla", text):
            raise Skip("a row with a derivative inside it")
        try:
            text = expand_sums(text)
        except CannotExpand as exc:
            raise Skip(str(exc)) from None
        if self.claim is not None and "\\mathrm{d}" in text and "\\int" not in text:
            raise Skip("a differential in a chain of derivatives")
        try:
            unknown = _symbols(text) - set(self.n.shapes)
        except MatdiffError as exc:
            raise Skip(f"cannot read it: {exc.message}") from None
        if unknown:
            raise Skip(f"{', '.join(sorted(unknown))} does not occur in the claim's function")
        targets = self.targets(self.n, self.layout)
        other = "denominator" if self.layout == "numerator" else "numerator"
        fits = [t.shape for t in targets[:1]] + ([self.targets(self.n, other)[0].shape] if self.claim else [])
        node, guessed = self.n.read(text, fits)
        try:
            values = [self.n.value(node, p) for p in self.n.points]
        except (OutOfDomain, MatdiffError, np.linalg.LinAlgError, ValueError) as exc:
            raise Skip(f"cannot evaluate it: {exc}") from None
        self._last_values = values
        verdict = _matches(values, targets, self.rtol, self.fixed is not None)
        if verdict is True:
            return True, None
        if verdict is None or guessed:
            raise Skip("the numbers are inconclusive" if verdict is None else "a size in it had to be guessed")
        if self.history and self.history[-1][0] is False and self.history[-1][1] is not None:
            if _matches(values, self.history[-1][1], self.rtol, self.fixed is not None) is True:
                return REPEAT, None  # it repeats the wrong row before it: reported there
        why = self._why(node, written, values, targets)
        if self.context:
            message, _, correct = why.partition("\x00")
            why = f"{message} {self.context}\x00{correct}"
        return False, why

    def _nested(self, claim: Derivative, text: str) -> tuple[bool | None, str | None]:
        """A row that is itself a derivative (``\\frac{\\partial \\text{vec}(AXB)}{\\partial \\text{vec}(X)}``)."""
        if self.claim is None or symbol_name(claim.x) != self.n.x.name or claim.order != self.claim.order:
            raise Skip("a row with a derivative by another variable")
        try:
            inner = _Numbers(normalise(claim.f), claim.x, {k: v for k, v in self.n.shapes.items()}, self.n.symmetric,
                             claim.order)
        except Skip:
            raise
        inner.points = self.n.points
        layout = claim.layout or self.layout
        try:
            values = [inner.derivative(p, layout, claim.vec_x) for p in inner.points]
        except (OutOfDomain, MatdiffError, ValueError) as exc:
            raise Skip(f"cannot evaluate it: {exc}") from None
        self._last_values = values
        verdict = _matches(values, self.targets(self.n, self.layout), self.rtol)
        if verdict is None:
            raise Skip("the numbers are inconclusive")
        return (True, None) if verdict else (False, f"{text} is not the derivative claimed")

    # -- why a row is wrong

    def _why(self, node: Node, text: str, values: list[np.ndarray], targets: list[np.ndarray]) -> str:
        if self.layout == BLOCK and values[0].shape != targets[0].shape:
            return f"wrong: {text} does not have the size of the derivative\x00"
        correct = self._correct()
        tail = f"; the right result is {correct}" if correct else ""
        if self.claim is not None and self.claim.layout is None:
            other = "denominator" if self.layout == "numerator" else "numerator"
            if _matches(values, self.targets(self.n, other), self.rtol) is True:
                what = "transposed" if targets[0].shape != values[0].shape or targets[0].shape[0] == targets[0].shape[1] else "the other arrangement"
                return (f"holds in {other} layout, this page uses {self.layout} (the result is {what}){tail}"
                        f"\x00{correct or ''}")
        for name in sorted(self.n.shapes):
            rows, cols = self.n.shapes[name]
            if rows != cols or rows < 2 or name in self.n.symmetric:
                continue
            twin = self.n.symmetrised(name)
            try:
                twin_values = [twin.value(node, p) for p in twin.points]
            except (OutOfDomain, MatdiffError, np.linalg.LinAlgError):
                continue
            for layout in (self.layout, "denominator" if self.layout == "numerator" else "numerator"):
                if self.fixed is not None:
                    twin_targets = [twin.value(twin.f, p) for p in twin.points]
                else:
                    twin_targets = self.targets(twin, layout)
                if _matches(twin_values, twin_targets, self.rtol, self.fixed is not None) is True:
                    symbol = self._symbol_text(name)
                    extra = "" if layout == self.layout else f" and holds in {layout} layout only"
                    general = f"the derivative is {correct}" if correct else "it is something else"
                    if self.claim is None:
                        general = "the two sides differ"
                    return (f"wrong: for a general {symbol} {general}; {text} needs {symbol} symmetric{extra}"
                            f"\x00{correct or ''}")
                if self.claim is None or self.claim.layout is not None:
                    break
        for variant in _kron_swaps(node):
            try:
                swapped = [self.n.value(variant, p) for p in self.n.points]
            except (OutOfDomain, MatdiffError, ValueError):
                continue
            if _matches(swapped, targets, self.rtol, self.fixed is not None) is True:
                return f"the Kronecker factors are swapped{tail}\x00{correct or ''}"
        if _missing_k(values, targets, self.rtol):
            return f"missing the commutation matrix K{tail}\x00{correct or ''}"
        if self.claim is None:
            return f"wrong: {text} is not equal to {self.f_text if len(self.f_text) < 80 else 'the left-hand side'}\x00"
        return f"wrong{tail}\x00{correct or ''}"

    def _symbol_text(self, name: str) -> str:
        sym = self.n.symbols.get(name)
        if sym is None:
            return name
        return to_latex(sym)

    def _correct(self) -> str | None:
        if self.claim is None or self.layout == BLOCK:
            return None  # matdiff-tex derives in numerator and denominator layout only
        if hasattr(self, "_correct_cache"):
            return self._correct_cache  # type: ignore[has-type]
        from ..engine import derive

        try:
            derivation = derive(self.f_text, self.x_text, layout=self.layout, shapes=self.n.given or None,
                                order=self.claim.order)
            found: str | None = derivation.result_latex
        except MatdiffError:
            found = None
        except Exception:  # noqa: BLE001 - the message is still useful without it
            found = None
        self._correct_cache = found
        return found


def _kron_swaps(node: Node) -> list[Node]:
    """``node`` with the factors of one Kronecker product swapped, for each product."""
    out = []
    krons = [n for n in node.walk() if isinstance(n, Kron)]
    for target in krons:
        def swap(n: Node, target: Node = target) -> Node:
            if n is target:
                return Kron(n.right, n.left)  # type: ignore[attr-defined]
            kids = n.children()
            return n.with_children([swap(k) for k in kids]) if kids else n
        out.append(swap(node))
    return out


def _missing_k(values: list[np.ndarray], targets: list[np.ndarray], rtol: float) -> bool:
    """Whether a commutation matrix on either side turns the row into the true value."""
    rows, cols = values[0].shape
    if values[0].shape != targets[0].shape:
        return False
    for size, side in ((cols, "right"), (rows, "left")):
        for m in range(2, size):
            if size % m or size // m < 2:
                continue
            k = commutation_matrix(m, size // m)
            fixed = [v @ k if side == "right" else k @ v for v in values]
            if _matches(fixed, targets, rtol) is True:
                return True
    return False
