"""The derivative table: (F, X, shapes, order) with an independent numpy definition of F.

Shared by ``tests/test_derive_table.py`` (which compares ``derive()`` with central finite
differences of each ``fn``) and ``benchmarks/bench_derive.py`` (which times ``derive()`` and
sympy's own matrix differentiation on the same expressions).

Each numpy ``fn`` is written here by hand from the mathematics, never read through the
project's parser: it takes ``{name: value}`` (matrices and column vectors as 2-D float arrays,
scalars as floats) and returns F as an array or a float.

Sizes are distinct wherever the expression allows it (X 3x4, A 2x3, B 4x5, ...) so that a
swapped transpose or Kronecker order changes the shape or the numbers.  Square matrices are
well conditioned (``c I + 0.3 * random``) and entries are positive where a logarithm or a square
root needs them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

BOTH = ("numerator", "denominator")

# ----------------------------------------------------------------------------- value kinds


@dataclass(frozen=True)
class Val:
    """How to draw one symbol's value: ``kind`` and its size (``cols=None`` for a scalar)."""

    kind: str  # gauss | square | pos | spd | onehot | scalar | small
    rows: int = 1
    cols: int | None = 1

    @property
    def shape(self) -> tuple[int, int] | None:
        return None if self.cols is None else (self.rows, self.cols)

    def draw(self, rng: np.random.Generator) -> Any:
        r, c = self.rows, self.cols
        if self.kind == "scalar":
            return float(rng.uniform(0.5, 1.5))
        if self.kind == "gauss":
            return rng.standard_normal((r, c))
        if self.kind == "small":  # for exponentials: keeps entries of e^X and exp(XB) moderate
            return 0.4 * rng.standard_normal((r, c))
        if self.kind == "pos":
            return rng.uniform(0.5, 2.0, (r, c))
        if self.kind == "square":
            assert r == c
            return 2.0 * np.eye(r) + 0.3 * rng.standard_normal((r, r))
        if self.kind == "spd":
            assert r == c
            m = rng.standard_normal((r, r))
            return m @ m.T / r + np.eye(r)
        if self.kind == "onehot":
            y = np.zeros((r, 1))
            y[rng.integers(r)] = 1.0
            return y
        raise ValueError(self.kind)


def G(r: int, c: int = 1) -> Val:
    return Val("gauss", r, c)


def SQ(n: int) -> Val:
    return Val("square", n, n)


def POS(r: int, c: int = 1) -> Val:
    return Val("pos", r, c)


def SPD(n: int) -> Val:
    return Val("spd", n, n)


def SMALL(r: int, c: int = 1) -> Val:
    return Val("small", r, c)


def ONEHOT(n: int) -> Val:
    return Val("onehot", n, 1)


SCALAR = Val("scalar", 1, None)

# ----------------------------------------------------------------------------- numpy helpers


def sig(u: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-u))


def softmax(u: np.ndarray) -> np.ndarray:
    e = np.exp(u - np.max(u))
    return e / np.sum(e)


def expm(a: np.ndarray) -> np.ndarray:
    """Matrix exponential by scaling and squaring of a Taylor series (sum_k A^k / k!)."""
    norm = np.linalg.norm(a, 1)
    s = max(0, int(np.ceil(np.log2(norm / 0.25))) if norm > 0 else 0)
    b = a / 2.0**s
    term = np.eye(a.shape[0])
    total = term.copy()
    for k in range(1, 25):
        term = term @ b / k
        total = total + term
    for _ in range(s):
        total = total @ total
    return total


def scal(a: np.ndarray) -> float:
    """The single entry of a 1x1 array."""
    a = np.asarray(a)
    assert a.size == 1, a.shape
    return float(a.reshape(()))


inv = np.linalg.inv
det = np.linalg.det
mpow = np.linalg.matrix_power


# ----------------------------------------------------------------------------- finite differences

FD_STEP = 1e-6  # first derivatives: central differences, error O(h^2) + O(eps/h)
FD_STEP_2 = 1e-4  # Hessians: central second differences, error O(h^2) + O(eps/h^2)
RTOL_1 = 1e-5
RTOL_2 = 1e-3


def vec(a: Any) -> np.ndarray:
    """vec stacks columns (SPEC section 4): column-major ravel of a 2-D array."""
    return np.atleast_2d(np.asarray(a, dtype=float)).ravel(order="F")


def as_matrix(a: Any) -> np.ndarray:
    """F's value as a 2-D array (a scalar is 1x1, a column vector n x 1)."""
    arr = np.asarray(a, dtype=float)
    return arr.reshape(1, 1) if arr.ndim == 0 else np.atleast_2d(arr)


def _perturbed(values: dict[str, Any], var: str, shift: np.ndarray) -> dict[str, Any]:
    x0 = values[var]
    return {**values, var: x0 + shift.reshape(x0.shape, order="F")}


def fd_jacobian(fn: Callable, values: dict[str, Any], var: str, h: float = FD_STEP) -> tuple[np.ndarray, tuple[int, int]]:
    """d vec F / d (vec X)^T by central differences: (pq x mn), and F's shape (p, q)."""
    x0 = values[var]
    mn = x0.size
    f_shape = as_matrix(fn(values)).shape
    jac = np.empty((f_shape[0] * f_shape[1], mn))
    for j in range(mn):
        e = np.zeros(mn)
        e[j] = h
        jac[:, j] = (vec(fn(_perturbed(values, var, e))) - vec(fn(_perturbed(values, var, -e)))) / (2 * h)
    return jac, f_shape


def fd_hessian(fn: Callable, values: dict[str, Any], var: str, h: float = FD_STEP_2) -> np.ndarray:
    """d^2 f / d vec X d (vec X)^T by central second differences of a scalar fn: (mn x mn)."""
    mn = values[var].size

    def f(shift: np.ndarray) -> float:
        out = as_matrix(fn(_perturbed(values, var, shift)))
        assert out.shape == (1, 1), "a Hessian needs a scalar f"
        return float(out[0, 0])

    hess = np.empty((mn, mn))
    for i in range(mn):
        for j in range(i, mn):
            ei = np.zeros(mn)
            ej = np.zeros(mn)
            ei[i] += h
            ej[j] += h
            hess[i, j] = hess[j, i] = (f(ei + ej) - f(ei - ej) - f(-ei + ej) + f(-ei - ej)) / (4 * h * h)
    return hess



# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    """One row of the table.

    ``shapes``: ``"given"`` passes every matrix/vector size of ``vals`` to ``derive(shapes=)``;
    ``None`` lets the reader infer symbolic sizes (the seed examples, written as the posts write
    them) and ``evaluate`` binds them from the arrays.
    """

    id: str
    f: str
    x: str
    var: str
    vals: dict[str, Val]
    fn: Callable[[dict[str, Any]], Any]
    order: int = 1
    shapes: str | None = "given"
    layouts: tuple[str, ...] = BOTH
    tags: tuple[str, ...] = field(default=())

    def derive_shapes(self) -> dict[str, tuple[int, int]] | None:
        if self.shapes is None:
            return None
        return {name: v.shape for name, v in self.vals.items() if v.shape is not None}

    def values(self, seed: int = 0) -> dict[str, Any]:
        rng = np.random.default_rng(zlib.crc32(f"{self.id}/{seed}".encode()))
        return {name: v.draw(rng) for name, v in self.vals.items()}


B = r"\boldsymbol"


def C(id, f, x, vals, fn, **kw) -> Case:  # noqa: E741 - short constructor for a readable table
    """``x`` is the variable's value name; its LaTeX is ``\\boldsymbol{x}`` unless given as ``x_latex``."""
    x_latex = kw.pop("x_latex", rf"\boldsymbol{{{x}}}")
    return Case(id=id, f=f, x=x_latex, var=x, vals=vals, fn=fn, **kw)


CASES: list[Case] = [
    # --- sums, scalar multiples, linear maps ------------------------------------------------
    C("sum", r"\boldsymbol{X} + \boldsymbol{A}", "X", {"X": G(3, 4), "A": G(3, 4)}, lambda v: v["X"] + v["A"]),
    C("lincomb", r"3\boldsymbol{X} - 2\boldsymbol{A}\boldsymbol{X}", "X", {"X": G(3, 4), "A": G(3, 3)},
      lambda v: 3 * v["X"] - 2 * v["A"] @ v["X"]),
    C("scalar_mult", r"a\boldsymbol{X}", "X", {"a": SCALAR, "X": G(3, 4)}, lambda v: v["a"] * v["X"]),
    C("half_XtA", r"\frac{1}{2}\boldsymbol{X}^{\top}\boldsymbol{A}", "X", {"X": G(3, 4), "A": G(3, 2)},
      lambda v: 0.5 * v["X"].T @ v["A"]),
    C("AXB", r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}", "X", {"A": G(2, 3), "X": G(3, 4), "B": G(4, 5)},
      lambda v: v["A"] @ v["X"] @ v["B"]),
    C("AXtB", r"\boldsymbol{A}\boldsymbol{X}^{\top}\boldsymbol{B}", "X", {"A": G(2, 4), "X": G(3, 4), "B": G(3, 5)},
      lambda v: v["A"] @ v["X"].T @ v["B"]),
    C("Xt", r"\boldsymbol{X}^{T}", "X", {"X": G(3, 4)}, lambda v: v["X"].T),
    C("Wx_by_W", r"\boldsymbol{W}\boldsymbol{x}", "W", {"W": G(2, 3), "x": G(3)}, lambda v: v["W"] @ v["x"]),
    # --- X appearing 2 and 3 times ----------------------------------------------------------
    C("XtAX", r"\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X}", "X", {"X": G(3, 4), "A": G(3, 3)},
      lambda v: v["X"].T @ v["A"] @ v["X"]),
    C("XAX", r"\boldsymbol{X}\boldsymbol{A}\boldsymbol{X}", "X", {"X": G(3, 4), "A": G(4, 3)},
      lambda v: v["X"] @ v["A"] @ v["X"]),
    C("XXt", r"\boldsymbol{X}\boldsymbol{X}^{\top}", "X", {"X": G(3, 4)}, lambda v: v["X"] @ v["X"].T),
    C("AXBXC", r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}\boldsymbol{X}\boldsymbol{C}", "X",
      {"A": G(2, 3), "X": G(3, 4), "B": G(4, 3), "C": G(4, 5)},
      lambda v: v["A"] @ v["X"] @ v["B"] @ v["X"] @ v["C"]),
    C("X2", r"\boldsymbol{X}^2", "X", {"X": G(3, 3)}, lambda v: v["X"] @ v["X"]),
    C("X3", r"\boldsymbol{X}^{3}", "X", {"X": G(3, 3)}, lambda v: mpow(v["X"], 3)),
    # --- inverse and negative powers -----------------------------------------------------------
    C("Xinv", r"\boldsymbol{X}^{-1}", "X", {"X": SQ(3)}, lambda v: inv(v["X"])),
    C("Xinv2", r"\boldsymbol{X}^{-2}", "X", {"X": SQ(3)}, lambda v: mpow(inv(v["X"]), 2)),
    C("XinvT", r"\boldsymbol{X}^{-\top}", "X", {"X": SQ(3)}, lambda v: inv(v["X"]).T),
    C("AXinvB", r"\boldsymbol{A}\boldsymbol{X}^{-1}\boldsymbol{B}", "X", {"A": G(2, 3), "X": SQ(3), "B": G(3, 4)},
      lambda v: v["A"] @ inv(v["X"]) @ v["B"]),
    C("XtX_inv", r"(\boldsymbol{X}^{\top}\boldsymbol{X})^{-1}", "X", {"X": G(4, 3)},
      lambda v: inv(v["X"].T @ v["X"])),
    # --- trace -----------------------------------------------------------------------------
    C("trX", r"\operatorname{tr}(\boldsymbol{X})", "X", {"X": G(3, 3)}, lambda v: np.trace(v["X"])),
    C("trAXB", r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X}\boldsymbol{B})", "X",
      {"A": G(2, 3), "X": G(3, 4), "B": G(4, 2)}, lambda v: np.trace(v["A"] @ v["X"] @ v["B"])),
    C("trXtAX", r"\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})", "X",
      {"X": G(4, 3), "A": G(4, 4)}, lambda v: np.trace(v["X"].T @ v["A"] @ v["X"])),
    C("trAXinv", r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X}^{-1})", "X", {"A": G(3, 3), "X": SQ(3)},
      lambda v: np.trace(v["A"] @ inv(v["X"]))),
    C("trX3", r"\mathrm{tr}(\boldsymbol{X}^3)", "X", {"X": G(3, 3)}, lambda v: np.trace(mpow(v["X"], 3))),
    C("TrXXt", r"\operatorname{Tr}(\boldsymbol{X}\boldsymbol{X}^{\top})", "X", {"X": G(3, 4)},
      lambda v: np.trace(v["X"] @ v["X"].T)),
    # --- determinant and log-determinant -----------------------------------------------------
    C("det_bars", r"|\boldsymbol{X}|", "X", {"X": SQ(3)}, lambda v: det(v["X"])),
    C("det_AXB", r"\det(\boldsymbol{A}\boldsymbol{X}\boldsymbol{B})", "X",
      {"A": G(2, 3), "X": G(3, 4), "B": G(4, 2)}, lambda v: det(v["A"] @ v["X"] @ v["B"])),
    C("logdet_bars", r"\log|\boldsymbol{X}|", "X", {"X": SQ(3)}, lambda v: np.log(abs(det(v["X"])))),
    C("logdet", r"\log\det\boldsymbol{X}", "X", {"X": SQ(3)}, lambda v: np.log(det(v["X"]))),
    C("logdet_XtAX", r"\log|\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X}|", "X", {"X": G(4, 3), "A": SPD(4)},
      lambda v: np.log(det(v["X"].T @ v["A"] @ v["X"]))),
    C("det_lvert_X2", r"\lvert \boldsymbol{X}^{2} \rvert", "X", {"X": SQ(3)}, lambda v: det(v["X"] @ v["X"])),
    # --- Hadamard -------------------------------------------------------------------------------
    C("had_XA", r"\boldsymbol{X} \odot \boldsymbol{A}", "X", {"X": G(3, 4), "A": G(3, 4)}, lambda v: v["X"] * v["A"]),
    C("had_XX", r"\boldsymbol{X} \circ \boldsymbol{X}", "X", {"X": G(3, 4)}, lambda v: v["X"] * v["X"]),
    C("had_AX_B", r"(\boldsymbol{A}\boldsymbol{X}) \odot \boldsymbol{B}", "X",
      {"A": G(2, 3), "X": G(3, 4), "B": G(2, 4)}, lambda v: (v["A"] @ v["X"]) * v["B"]),
    C("tr_had", r"\operatorname{tr}(\boldsymbol{A}^{\top}(\boldsymbol{X} \odot \boldsymbol{B}))", "X",
      {"A": G(3, 4), "X": G(3, 4), "B": G(3, 4)}, lambda v: np.trace(v["A"].T @ (v["X"] * v["B"]))),
    C("had_vec", r"\boldsymbol{a} \odot \boldsymbol{x}", "x", {"a": G(4), "x": G(4)}, lambda v: v["a"] * v["x"]),
    # --- Kronecker --------------------------------------------------------------------------------
    C("kron_AX", r"\boldsymbol{A} \otimes \boldsymbol{X}", "X", {"A": G(2, 3), "X": G(4, 2)},
      lambda v: np.kron(v["A"], v["X"])),
    C("kron_XA", r"\boldsymbol{X} \otimes \boldsymbol{A}", "X", {"A": G(2, 3), "X": G(4, 2)},
      lambda v: np.kron(v["X"], v["A"])),
    C("kron_xa", r"\boldsymbol{x} \otimes \boldsymbol{a}", "x", {"x": G(3), "a": G(2)},
      lambda v: np.kron(v["x"], v["a"])),
    # --- element-wise functions ---------------------------------------------------------------
    C("exp_x", r"\exp(\boldsymbol{x})", "x", {"x": G(4)}, lambda v: np.exp(v["x"])),
    C("log_X", r"\log(\boldsymbol{X})", "X", {"X": POS(3, 4)}, lambda v: np.log(v["X"])),
    C("sin_Ax", r"\sin(\boldsymbol{A}\boldsymbol{x})", "x", {"A": G(4, 3), "x": G(3)}, lambda v: np.sin(v["A"] @ v["x"])),
    C("cos_X", r"\cos(\boldsymbol{X})", "X", {"X": G(3, 4)}, lambda v: np.cos(v["X"])),
    C("tanh_Wx", r"\tanh(\boldsymbol{W}\boldsymbol{x})", "W", {"W": G(2, 3), "x": G(3)},
      lambda v: np.tanh(v["W"] @ v["x"])),
    C("sigma_Ax", r"\sigma(\boldsymbol{A}\boldsymbol{x})", "x", {"A": G(2, 3), "x": G(3)}, lambda v: sig(v["A"] @ v["x"])),
    C("sqrt_x", r"\sqrt{\boldsymbol{x}}", "x", {"x": POS(4)}, lambda v: np.sqrt(v["x"])),
    C("hpow_x3", r"\boldsymbol{x}^{\circ 3}", "x", {"x": G(4)}, lambda v: v["x"] ** 3),
    C("hpow_X2", r"\boldsymbol{X}^{\circ 2}", "X", {"X": G(3, 4)}, lambda v: v["X"] ** 2),
    C("ones_log_x", r"\boldsymbol{1}^{\top}\log(\boldsymbol{x})", "x", {"x": POS(4)}, lambda v: np.sum(np.log(v["x"]))),
    C("exp_X", r"\exp(\boldsymbol{X})", "X", {"X": G(2, 3)}, lambda v: np.exp(v["X"])),
    # --- softmax ----------------------------------------------------------------------------------
    C("softmax_x", r"\operatorname{softmax}(\boldsymbol{x})", "x", {"x": G(4)}, lambda v: softmax(v["x"])),
    C("softmax_Wx", r"\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})", "W", {"W": G(3, 4), "x": G(4)},
      lambda v: softmax(v["W"] @ v["x"])),
    # --- squared norms ---------------------------------------------------------------------------
    C("norm_x", r"\|\boldsymbol{x}\|_2^2", "x", {"x": G(4)}, lambda v: np.sum(v["x"] ** 2)),
    C("norm_Axb", r"\|\boldsymbol{A}\boldsymbol{x} - \boldsymbol{b}\|^2", "x", {"A": G(4, 3), "x": G(3), "b": G(4)},
      lambda v: np.sum((v["A"] @ v["x"] - v["b"]) ** 2)),
    C("normF_X", r"\|\boldsymbol{X}\|_F^2", "X", {"X": G(3, 4)}, lambda v: np.sum(v["X"] ** 2)),
    C("normF_AXB", r"\|\boldsymbol{A}\boldsymbol{X} - \boldsymbol{B}\|_F^2", "X",
      {"A": G(2, 3), "X": G(3, 4), "B": G(2, 4)}, lambda v: np.sum((v["A"] @ v["X"] - v["B"]) ** 2)),
    # --- scalar functions of scalar sub-expressions -----------------------------------------------
    C("softplus", r"\log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))", "w", {"x": G(4), "w": G(4)},
      lambda v: np.log1p(np.exp(scal(v["x"].T @ v["w"])))),
    C("quad_sq", r"(\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x})^2", "x", {"x": G(3), "A": G(3, 3)},
      lambda v: scal(v["x"].T @ v["A"] @ v["x"]) ** 2),
    C("exp_trAX", r"\exp(\operatorname{tr}(\boldsymbol{A}\boldsymbol{X}))", "X", {"A": SMALL(4, 3), "X": SMALL(3, 4)},
      lambda v: np.exp(np.trace(v["A"] @ v["X"]))),
    C("sqrt_xtx", r"\sqrt{\boldsymbol{x}^{\top}\boldsymbol{x}}", "x", {"x": G(4)}, lambda v: np.sqrt(np.sum(v["x"] ** 2))),
    C("rayleigh", r"\frac{\boldsymbol{a}^{\top}\boldsymbol{x}}{\boldsymbol{x}^{\top}\boldsymbol{x}}", "x",
      {"a": G(4), "x": G(4)}, lambda v: scal(v["a"].T @ v["x"]) / np.sum(v["x"] ** 2)),
    # --- a scalar function times a matrix --------------------------------------------------------
    C("detX_Xinv", r"|\boldsymbol{X}|\boldsymbol{X}^{-1}", "X", {"X": SQ(3)}, lambda v: det(v["X"]) * inv(v["X"])),
    C("trX_X", r"\operatorname{tr}(\boldsymbol{X})\boldsymbol{X}", "X", {"X": G(3, 3)}, lambda v: np.trace(v["X"]) * v["X"]),
    C("x_xtx", r"\boldsymbol{x}(\boldsymbol{x}^{\top}\boldsymbol{x})", "x", {"x": G(3)},
      lambda v: v["x"] * np.sum(v["x"] ** 2)),
    # --- matrix exponential ----------------------------------------------------------------------
    C("expm_X", r"e^{\boldsymbol{X}}", "X", {"X": SMALL(3, 3)}, lambda v: expm(v["X"])),
    C("tr_expm_X", r"\operatorname{tr}(e^{\boldsymbol{X}})", "X", {"X": SMALL(3, 3)}, lambda v: np.trace(expm(v["X"]))),
    C("tr_A_expm", r"\operatorname{tr}(\boldsymbol{A}\operatorname{expm}(\boldsymbol{X}))", "X",
      {"A": G(3, 3), "X": SMALL(3, 3)}, lambda v: np.trace(v["A"] @ expm(v["X"]))),
    # --- vector by vector, matrix by vector -------------------------------------------------------
    C("Ax", r"\boldsymbol{A}\boldsymbol{x}", "x", {"A": G(2, 3), "x": G(3)}, lambda v: v["A"] @ v["x"]),
    C("xxt", r"\boldsymbol{x}\boldsymbol{x}^{\top}", "x", {"x": G(3)}, lambda v: v["x"] @ v["x"].T),
    C("Axbt", r"\boldsymbol{A}\boldsymbol{x}\boldsymbol{b}^{\top}", "x", {"A": G(2, 3), "x": G(3), "b": G(4)},
      lambda v: v["A"] @ v["x"] @ v["b"].T),
    # --- scalar by vector, scalar by matrix -------------------------------------------------------
    C("atx", r"\boldsymbol{a}^{\top}\boldsymbol{x}", "x", {"a": G(4), "x": G(4)}, lambda v: scal(v["a"].T @ v["x"])),
    C("xtAx", r"\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}", "x", {"x": G(3), "A": G(3, 3)},
      lambda v: scal(v["x"].T @ v["A"] @ v["x"])),
    C("atXb", r"\boldsymbol{a}^{\top}\boldsymbol{X}\boldsymbol{b}", "X", {"a": G(3), "X": G(3, 4), "b": G(4)},
      lambda v: scal(v["a"].T @ v["X"] @ v["b"])),
    # --- notation variants of SPEC section 3 and further combinations ---------------------------
    C("mathbf_Ax", r"\mathbf{A}\mathbf{x}", "x", {"A": G(2, 3), "x": G(3)}, lambda v: v["A"] @ v["x"], x_latex=r"\mathbf{x}"),
    C("bm_vec_Ax", r"\bm{A}\vec{x}", "x", {"A": G(2, 3), "x": G(3)}, lambda v: v["A"] @ v["x"], x_latex=r"\vec{x}"),
    C("left_right_sum", r"\left( \boldsymbol{A} + \boldsymbol{B} \right)\boldsymbol{X}", "X",
      {"A": G(2, 3), "B": G(2, 3), "X": G(3, 4)}, lambda v: (v["A"] + v["B"]) @ v["X"]),
    C("left_bars_det", r"\left| \boldsymbol{X} \right|", "X", {"X": SQ(3)}, lambda v: det(v["X"])),
    C("text_tr_mathrm_T", r"\text{tr}(\boldsymbol{X}^{\mathrm{T}}\boldsymbol{X})", "X", {"X": G(3, 4)},
      lambda v: np.trace(v["X"].T @ v["X"])),
    C("mathsf_T", r"\operatorname{tr}(\boldsymbol{X}^{\mathsf{T}}\boldsymbol{A})", "X", {"X": G(3, 4), "A": G(3, 4)},
      lambda v: np.trace(v["X"].T @ v["A"])),
    C("ln_det", r"\ln|\boldsymbol{X}|", "X", {"X": SQ(3)}, lambda v: np.log(abs(det(v["X"])))),
    C("vec_X", r"\operatorname{vec}(\boldsymbol{X})", "X", {"X": G(3, 4)}, lambda v: v["X"].reshape(-1, 1, order="F")),
    C("diag_x_a", r"\operatorname{diag}(\boldsymbol{x})\boldsymbol{a}", "x", {"x": G(4), "a": G(4)},
      lambda v: np.diag(v["x"].ravel()) @ v["a"]),
    C("cdot_AX", r"\boldsymbol{A} \cdot \boldsymbol{X}", "X", {"A": G(2, 3), "X": G(3, 4)}, lambda v: v["A"] @ v["X"]),
    C("X_plus_I", r"\boldsymbol{X} + \boldsymbol{I}", "X", {"X": G(3, 3)}, lambda v: v["X"] + np.eye(3)),
    C("ones_X_ones", r"\boldsymbol{1}^{\top}\boldsymbol{X}\boldsymbol{1}", "X", {"X": G(3, 4)}, lambda v: np.sum(v["X"])),
    C("lambda_xtx", r"\lambda \boldsymbol{x}^{\top}\boldsymbol{x}", "x", {"lambda": SCALAR, "x": G(4)},
      lambda v: v["lambda"] * np.sum(v["x"] ** 2)),
    C("brackets", r"[\boldsymbol{A}\boldsymbol{x}]^{\top}\boldsymbol{b}", "x", {"A": G(2, 3), "x": G(3), "b": G(2)},
      lambda v: scal((v["A"] @ v["x"]).T @ v["b"])),
    C("ridge", r"\frac{1}{2}\|\boldsymbol{X}\boldsymbol{w} - \boldsymbol{y}\|_2^2 + \frac{\lambda}{2}\|\boldsymbol{w}\|^2", "w",
      {"X": G(5, 3), "w": G(3), "y": G(5), "lambda": SCALAR},
      lambda v: 0.5 * np.sum((v["X"] @ v["w"] - v["y"]) ** 2) + 0.5 * v["lambda"] * np.sum(v["w"] ** 2)),
    C("xtx_sq", r"(\boldsymbol{x}^{\top}\boldsymbol{x})^{2}", "x", {"x": G(3)}, lambda v: np.sum(v["x"] ** 2) ** 2),
    C("xxta", r"\boldsymbol{x}\boldsymbol{x}^{\top}\boldsymbol{a}", "x", {"x": G(3), "a": G(3)},
      lambda v: v["x"] @ v["x"].T @ v["a"]),
    C("AX0", r"\boldsymbol{A}\boldsymbol{X}^{0}", "X", {"A": G(2, 3), "X": G(3, 3)}, lambda v: v["A"] @ np.eye(3)),
    C("X_had_Xinv", r"\boldsymbol{X} \odot \boldsymbol{X}^{-1}", "X", {"X": SQ(3)}, lambda v: v["X"] * inv(v["X"])),
    C("XT_kron_X", r"\boldsymbol{X}^{\top} \otimes \boldsymbol{X}", "X", {"X": G(2, 3)}, lambda v: np.kron(v["X"].T, v["X"])),
    C("expm_2X", r"e^{2\boldsymbol{X}}", "X", {"X": SMALL(3, 3)}, lambda v: expm(2 * v["X"])),
    C("expm_Xt", r"\operatorname{expm}(\boldsymbol{X}^{\top})", "X", {"X": SMALL(3, 3)}, lambda v: expm(v["X"].T)),
    C("X_over_trX", r"\frac{\boldsymbol{X}}{\operatorname{tr}(\boldsymbol{X})}", "X", {"X": SQ(3)},
      lambda v: v["X"] / np.trace(v["X"])),
    C("detX_sq", r"|\boldsymbol{X}|^2", "X", {"X": SQ(3)}, lambda v: det(v["X"]) ** 2),
    C("trX_sq", r"\operatorname{tr}(\boldsymbol{X})^2", "X", {"X": G(3, 3)}, lambda v: np.trace(v["X"]) ** 2),
    C("tr_kron", r"\operatorname{tr}(\boldsymbol{X} \otimes \boldsymbol{A})", "X", {"X": G(3, 3), "A": G(2, 2)},
      lambda v: np.trace(np.kron(v["X"], v["A"]))),
    C("log_sigma", r"\log\sigma(\boldsymbol{w}^{\top}\boldsymbol{x})", "w", {"w": G(4), "x": G(4)},
      lambda v: np.log(sig(scal(v["w"].T @ v["x"])))),
    C("gauss", r"\exp(-\frac{1}{2}\boldsymbol{x}^{\top}\boldsymbol{x})", "x", {"x": G(4)},
      lambda v: np.exp(-0.5 * np.sum(v["x"] ** 2))),
    C("tanh_sq", r"\tanh(\boldsymbol{x})^{\top}\tanh(\boldsymbol{x})", "x", {"x": G(4)}, lambda v: np.sum(np.tanh(v["x"]) ** 2)),
    C("softmax_ta", r"\operatorname{softmax}(\boldsymbol{x})^{\top}\boldsymbol{a}", "x", {"x": G(4), "a": G(4)},
      lambda v: scal(softmax(v["x"]).T @ v["a"])),
    # --- X absent from F ----------------------------------------------------------------------------
    C("absent_AB", r"\boldsymbol{A}\boldsymbol{B}", "X", {"A": G(2, 3), "B": G(3, 4), "X": G(3, 5)},
      lambda v: v["A"] @ v["B"]),
    C("absent_trA", r"\operatorname{tr}(\boldsymbol{A})", "X", {"A": G(3, 3), "X": G(2, 4)}, lambda v: np.trace(v["A"])),
    # --- seed examples, written as the posts write them, sizes inferred -------------------------------
    C("seed002_ABX", r"\boldsymbol{ABX}", "X", {"A": G(2, 3), "B": G(3, 4), "X": G(4, 5)},
      lambda v: v["A"] @ v["B"] @ v["X"], shapes=None, tags=("seed",)),
    C("seed000_A2", r"\boldsymbol{A}^2", "A", {"A": G(3, 3)}, lambda v: v["A"] @ v["A"], shapes=None, tags=("seed",)),
    C("seed000_A3", r"\boldsymbol{A}^3", "A", {"A": G(3, 3)}, lambda v: mpow(v["A"], 3), shapes=None, tags=("seed",)),
    C("seed001_ex1_AX", r"\boldsymbol{A}\boldsymbol{X}", "X", {"A": G(2, 3), "X": G(3, 4)},
      lambda v: v["A"] @ v["X"], shapes=None, tags=("seed",)),
    C("seed001_ex2_logdet", r"\log|\boldsymbol{X}|", "X", {"X": SQ(3)}, lambda v: np.log(abs(det(v["X"]))),
      shapes=None, tags=("seed",)),
    C("seed001_ex2_hessian", r"\log|\boldsymbol{X}|", "X", {"X": SQ(3)}, lambda v: np.log(abs(det(v["X"]))),
      shapes=None, order=2, tags=("seed",)),
    C("seed001_ex3_Aexp", r"\boldsymbol{A}\exp(\boldsymbol{X}\boldsymbol{B})", "X",
      {"A": G(2, 3), "X": SMALL(3, 4), "B": SMALL(4, 5)}, lambda v: v["A"] @ np.exp(v["X"] @ v["B"]),
      shapes=None, tags=("seed",)),
    C("seed001_ex4_logistic", r"-y\boldsymbol{x}^{\top}\boldsymbol{w} + \log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))",
      "w", {"y": SCALAR, "x": G(4), "w": G(4)},
      lambda v: -v["y"] * scal(v["x"].T @ v["w"]) + np.log1p(np.exp(scal(v["x"].T @ v["w"]))),
      shapes=None, tags=("seed",)),
    C("seed001_ex4_hessian", r"-y\boldsymbol{x}^{\top}\boldsymbol{w} + \log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))",
      "w", {"y": SCALAR, "x": G(4), "w": G(4)},
      lambda v: -v["y"] * scal(v["x"].T @ v["w"]) + np.log1p(np.exp(scal(v["x"].T @ v["w"]))),
      shapes=None, order=2, tags=("seed",)),
    C("seed001_ex5_softmax", r"-\boldsymbol{y}^{\top}\log\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})", "W",
      {"y": ONEHOT(3), "W": G(3, 4), "x": G(4)}, lambda v: -scal(v["y"].T @ np.log(softmax(v["W"] @ v["x"]))),
      shapes=None, tags=("seed",)),
    C("seed001_ex5_hessian", r"-\boldsymbol{y}^{\top}\log\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})", "W",
      {"y": ONEHOT(3), "W": G(3, 4), "x": G(4)}, lambda v: -scal(v["y"].T @ np.log(softmax(v["W"] @ v["x"]))),
      shapes=None, order=2, tags=("seed",)),
    C("seed004_AX", r"\mathbf{A}\mathbf{X}", "X", {"A": G(2, 3), "X": G(3, 4)}, lambda v: v["A"] @ v["X"],
      shapes=None, x_latex=r"\mathbf{X}", tags=("seed",)),
    C("seed004_logdet_hessian", r"\log|\mathbf{X}|", "X", {"X": SQ(3)}, lambda v: np.log(abs(det(v["X"]))),
      shapes=None, order=2, x_latex=r"\mathbf{X}", tags=("seed",)),
    C("seed004_trXtAX_hessian", r"\mathrm{tr}(\mathbf{X}^T\mathbf{A}\mathbf{X})", "X", {"X": G(4, 3), "A": G(4, 4)},
      lambda v: np.trace(v["X"].T @ v["A"] @ v["X"]), shapes=None, order=2, x_latex=r"\mathbf{X}", tags=("seed",)),
    # --- Hessians (order=2) ---------------------------------------------------------------------------
    C("hess_xtAx", r"\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}", "x", {"x": G(3), "A": G(3, 3)},
      lambda v: scal(v["x"].T @ v["A"] @ v["x"]), order=2),
    C("hess_trXtAX", r"\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})", "X",
      {"X": G(4, 3), "A": G(4, 4)}, lambda v: np.trace(v["X"].T @ v["A"] @ v["X"]), order=2),
    C("hess_logdet", r"\log\det\boldsymbol{X}", "X", {"X": SQ(3)}, lambda v: np.log(det(v["X"])), order=2),
    C("hess_norm_Axb", r"\|\boldsymbol{A}\boldsymbol{x} - \boldsymbol{b}\|^2", "x",
      {"A": G(4, 3), "x": G(3), "b": G(4)}, lambda v: np.sum((v["A"] @ v["x"] - v["b"]) ** 2), order=2),
    C("hess_logistic", r"-y\boldsymbol{x}^{\top}\boldsymbol{w} + \log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))", "w",
      {"y": SCALAR, "x": G(3), "w": G(3)},
      lambda v: -v["y"] * scal(v["x"].T @ v["w"]) + np.log1p(np.exp(scal(v["x"].T @ v["w"]))), order=2),
    C("hess_xent", r"-\boldsymbol{y}^{\top}\log\operatorname{softmax}(\boldsymbol{W}\boldsymbol{x})", "W",
      {"y": ONEHOT(3), "W": G(3, 2), "x": G(2)}, lambda v: -scal(v["y"].T @ np.log(softmax(v["W"] @ v["x"]))), order=2),
    C("hess_trAXinv", r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X}^{-1})", "X", {"A": G(3, 3), "X": SQ(3)},
      lambda v: np.trace(v["A"] @ inv(v["X"])), order=2),
    C("hess_normF_AXB", r"\|\boldsymbol{A}\boldsymbol{X} - \boldsymbol{B}\|_F^2", "X",
      {"A": G(2, 3), "X": G(3, 2), "B": G(2, 2)}, lambda v: np.sum((v["A"] @ v["X"] - v["B"]) ** 2), order=2),
    C("hess_sigma_sum", r"\boldsymbol{1}^{\top}\sigma(\boldsymbol{A}\boldsymbol{x})", "x", {"A": G(2, 3), "x": G(3)},
      lambda v: np.sum(sig(v["A"] @ v["x"])), order=2),
]

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "case ids must be unique"
