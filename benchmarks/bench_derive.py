"""Benchmark: derive() (with its built-in check) against sympy's own matrix differentiation.

Run from the repository root:

    .venv/bin/python benchmarks/bench_derive.py            # print the Markdown report
    .venv/bin/python benchmarks/bench_derive.py --write    # ...and put it into benchmarks/README.md

For every row of the derivative table (``tests/derive_cases.py``), in one process:

* **matdiff-tex**: ``derive(F, X, layout=..., shapes=..., order=...)`` in both layouts — one call is
  one directive: reading the LaTeX, the derivation, its numeric check and the result tree.  After
  one warm-up pass over the whole table, each directive is timed ``--repeat`` times and its time is
  the median of those; the summary gives the median and 95th percentile over all directives.
* **sympy**: the same F built from ``MatrixSymbol`` objects of the same concrete sizes with
  sympy's matrix expressions (``Trace``, ``Determinant``, ``Inverse``, ``HadamardProduct``,
  ``KroneckerProduct``, ``log(Determinant(X))``, element-wise functions via ``applyfunc``), then
  ``F.diff(X)`` (twice for a Hessian), timed once with sympy's cache cleared before the call (a
  warm-up pass runs first).  The outcome is then classified:

  - *exception*: ``diff`` raised;
  - *unevaluated*: the result still contains a ``Derivative`` (e.g. ``Derivative(Determinant(X), X)``);
  - *wrong*: the numbers differ from central finite differences of the row's numpy definition;
  - *correct* / *correct, 4-D array*: the numbers agree; the second when a matrix-by-matrix (or
    matrix-by-vector) derivative comes back as a 4-index array instead of a matrix;
  - *right numbers, malformed shape*: the entries agree but the array's shape is neither reading
    below (a 1-D gradient; a p x 1 F by an m x n X given as (m, n, 1, p));
  - *no form*: sympy has no matrix expression for F (noted per row).

  How sympy's result is compared: sympy puts the variable's indices first.  A 4-index result
  ``R`` of shape (m, n, p, q) is read as ``R[i, j, k, l] = dF_kl / dX_ij`` and turned into the
  mn x pq matrix ``d vec F^T / d vec X`` (the denominator layout of SPEC section 4) with
  ``R.transpose(1, 0, 3, 2).reshape(m*n, p*q)``; a 2-index result is the gradient (m x n) for a
  scalar F — compared as ``vec`` of it — or, for a vector F by a vector x, the n x p matrix
  ``d F^T / d x`` as it is.  That is compared with the transposed finite-difference Jacobian
  ``d vec F / d (vec X)^T`` (relative tolerance 1e-5; 1e-3 for Hessians, by second differences).
  Numbers come from ``sympy.lambdify(symbols, result, "numpy")`` called with the arrays, else
  from ``result.as_explicit()`` with ``ImmutableMatrix`` values substituted and ``.doit()``; a
  result that no way can compute counts as *unevaluated*.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from derive_cases import CASES, RTOL_1, RTOL_2, Case, as_matrix, fd_hessian, fd_jacobian  # noqa: E402

# ----------------------------------------------------------------------------- sympy forms of F


def _sympy_forms() -> dict[str, Callable[[dict[str, Any]], Any]]:
    """Case id -> F built from sympy matrix expressions (``s`` maps names to MatrixSymbol/Symbol)."""
    import sympy as sp
    from sympy import (
        Determinant,
        DiagMatrix,
        Identity,
        HadamardPower,
        HadamardProduct,
        Inverse,
        KroneckerProduct,
        OneMatrix,
        Trace,
        exp,
        log,
    )

    t = sp.Symbol("t")

    def ew(body: Any, u: Any) -> Any:
        """Element-wise function: ``u.applyfunc(Lambda(t, body))`` (sympy's ElementwiseApplyFunction)."""
        return u.applyfunc(sp.Lambda(t, body))

    sigma = 1 / (1 + exp(-t))

    def softmax(u: Any) -> Any:
        e = ew(exp(t), u)
        return e * Inverse(OneMatrix(1, u.shape[0]) * e)

    def logistic(s: dict) -> Any:
        return -s["y"] * s["x"].T * s["w"] + ew(log(1 + exp(t)), s["x"].T * s["w"])

    def xent(s: dict) -> Any:
        return -s["y"].T * ew(log(t), softmax(s["W"] * s["x"]))

    forms: dict[str, Callable[[dict[str, Any]], Any]] = {
        "sum": lambda s: s["X"] + s["A"],
        "lincomb": lambda s: 3 * s["X"] - 2 * s["A"] * s["X"],
        "scalar_mult": lambda s: s["a"] * s["X"],
        "half_XtA": lambda s: s["X"].T * s["A"] / 2,
        "AXB": lambda s: s["A"] * s["X"] * s["B"],
        "AXtB": lambda s: s["A"] * s["X"].T * s["B"],
        "Xt": lambda s: s["X"].T,
        "Wx_by_W": lambda s: s["W"] * s["x"],
        "XtAX": lambda s: s["X"].T * s["A"] * s["X"],
        "XAX": lambda s: s["X"] * s["A"] * s["X"],
        "XXt": lambda s: s["X"] * s["X"].T,
        "AXBXC": lambda s: s["A"] * s["X"] * s["B"] * s["X"] * s["C"],
        "X2": lambda s: s["X"] ** 2,
        "X3": lambda s: s["X"] ** 3,
        "Xinv": lambda s: Inverse(s["X"]),
        "Xinv2": lambda s: s["X"] ** -2,
        "XinvT": lambda s: Inverse(s["X"]).T,
        "AXinvB": lambda s: s["A"] * Inverse(s["X"]) * s["B"],
        "XtX_inv": lambda s: Inverse(s["X"].T * s["X"]),
        "trX": lambda s: Trace(s["X"]),
        "trAXB": lambda s: Trace(s["A"] * s["X"] * s["B"]),
        "trXtAX": lambda s: Trace(s["X"].T * s["A"] * s["X"]),
        "trAXinv": lambda s: Trace(s["A"] * Inverse(s["X"])),
        "trX3": lambda s: Trace(s["X"] ** 3),
        "TrXXt": lambda s: Trace(s["X"] * s["X"].T),
        "det_bars": lambda s: Determinant(s["X"]),
        "det_AXB": lambda s: Determinant(s["A"] * s["X"] * s["B"]),
        "logdet_bars": lambda s: log(Determinant(s["X"])),
        "logdet": lambda s: log(Determinant(s["X"])),
        "logdet_XtAX": lambda s: log(Determinant(s["X"].T * s["A"] * s["X"])),
        "det_lvert_X2": lambda s: Determinant(s["X"] ** 2),
        "had_XA": lambda s: HadamardProduct(s["X"], s["A"]),
        "had_XX": lambda s: HadamardProduct(s["X"], s["X"]),
        "had_AX_B": lambda s: HadamardProduct(s["A"] * s["X"], s["B"]),
        "tr_had": lambda s: Trace(s["A"].T * HadamardProduct(s["X"], s["B"])),
        "had_vec": lambda s: HadamardProduct(s["a"], s["x"]),
        "kron_AX": lambda s: KroneckerProduct(s["A"], s["X"]),
        "kron_XA": lambda s: KroneckerProduct(s["X"], s["A"]),
        "kron_xa": lambda s: KroneckerProduct(s["x"], s["a"]),
        "exp_x": lambda s: ew(exp(t), s["x"]),
        "log_X": lambda s: ew(log(t), s["X"]),
        "sin_Ax": lambda s: ew(sp.sin(t), s["A"] * s["x"]),
        "cos_X": lambda s: ew(sp.cos(t), s["X"]),
        "tanh_Wx": lambda s: ew(sp.tanh(t), s["W"] * s["x"]),
        "sigma_Ax": lambda s: ew(sigma, s["A"] * s["x"]),
        "sqrt_x": lambda s: ew(sp.sqrt(t), s["x"]),
        "hpow_x3": lambda s: HadamardPower(s["x"], 3),
        "hpow_X2": lambda s: HadamardPower(s["X"], 2),
        "ones_log_x": lambda s: OneMatrix(1, s["x"].shape[0]) * ew(log(t), s["x"]),
        "exp_X": lambda s: ew(exp(t), s["X"]),
        "softmax_x": lambda s: softmax(s["x"]),
        "softmax_Wx": lambda s: softmax(s["W"] * s["x"]),
        "norm_x": lambda s: s["x"].T * s["x"],
        "norm_Axb": lambda s: (s["A"] * s["x"] - s["b"]).T * (s["A"] * s["x"] - s["b"]),
        "normF_X": lambda s: Trace(s["X"].T * s["X"]),
        "normF_AXB": lambda s: Trace((s["A"] * s["X"] - s["B"]).T * (s["A"] * s["X"] - s["B"])),
        "softplus": lambda s: ew(log(1 + exp(t)), s["x"].T * s["w"]),
        "quad_sq": lambda s: (s["x"].T * s["A"] * s["x"]) ** 2,
        "exp_trAX": lambda s: exp(Trace(s["A"] * s["X"])),
        "sqrt_xtx": lambda s: ew(sp.sqrt(t), s["x"].T * s["x"]),
        "rayleigh": lambda s: s["a"].T * s["x"] * Inverse(s["x"].T * s["x"]),
        "detX_Xinv": lambda s: Determinant(s["X"]) * Inverse(s["X"]),
        "trX_X": lambda s: Trace(s["X"]) * s["X"],
        "x_xtx": lambda s: s["x"] * (s["x"].T * s["x"]),
        # sympy has no matrix exponential of a MatrixSymbol; exp(X) is what a user would try
        "expm_X": lambda s: exp(s["X"]),
        "tr_expm_X": lambda s: Trace(exp(s["X"])),
        "tr_A_expm": lambda s: Trace(s["A"] * exp(s["X"])),
        "mathbf_Ax": lambda s: s["A"] * s["x"],
        "bm_vec_Ax": lambda s: s["A"] * s["x"],
        "left_right_sum": lambda s: (s["A"] + s["B"]) * s["X"],
        "left_bars_det": lambda s: Determinant(s["X"]),
        "text_tr_mathrm_T": lambda s: Trace(s["X"].T * s["X"]),
        "mathsf_T": lambda s: Trace(s["X"].T * s["A"]),
        "ln_det": lambda s: log(Determinant(s["X"])),
        "diag_x_a": lambda s: DiagMatrix(s["x"]) * s["a"],
        "cdot_AX": lambda s: s["A"] * s["X"],
        "X_plus_I": lambda s: s["X"] + Identity(s["X"].shape[0]),
        "ones_X_ones": lambda s: OneMatrix(1, s["X"].shape[0]) * s["X"] * OneMatrix(s["X"].shape[1], 1),
        "lambda_xtx": lambda s: s["lambda"] * s["x"].T * s["x"],
        "brackets": lambda s: (s["A"] * s["x"]).T * s["b"],
        "ridge": lambda s: ((s["X"] * s["w"] - s["y"]).T * (s["X"] * s["w"] - s["y"])) / 2
        + s["lambda"] / 2 * s["w"].T * s["w"],
        "xtx_sq": lambda s: (s["x"].T * s["x"]) ** 2,
        "xxta": lambda s: s["x"] * s["x"].T * s["a"],
        "AX0": lambda s: s["A"] * s["X"] ** 0,
        "X_had_Xinv": lambda s: HadamardProduct(s["X"], Inverse(s["X"])),
        "XT_kron_X": lambda s: KroneckerProduct(s["X"].T, s["X"]),
        "expm_2X": lambda s: exp(2 * s["X"]),
        "expm_Xt": lambda s: exp(s["X"].T),
        "X_over_trX": lambda s: s["X"] / Trace(s["X"]),
        "detX_sq": lambda s: Determinant(s["X"]) ** 2,
        "trX_sq": lambda s: Trace(s["X"]) ** 2,
        "tr_kron": lambda s: Trace(KroneckerProduct(s["X"], s["A"])),
        "log_sigma": lambda s: ew(log(sigma), s["w"].T * s["x"]),
        "gauss": lambda s: ew(exp(-t / 2), s["x"].T * s["x"]),
        "tanh_sq": lambda s: ew(sp.tanh(t), s["x"]).T * ew(sp.tanh(t), s["x"]),
        "softmax_ta": lambda s: softmax(s["x"]).T * s["a"],
        "Ax": lambda s: s["A"] * s["x"],
        "xxt": lambda s: s["x"] * s["x"].T,
        "Axbt": lambda s: s["A"] * s["x"] * s["b"].T,
        "atx": lambda s: s["a"].T * s["x"],
        "xtAx": lambda s: s["x"].T * s["A"] * s["x"],
        "atXb": lambda s: s["a"].T * s["X"] * s["b"],
        "absent_AB": lambda s: s["A"] * s["B"],
        "absent_trA": lambda s: Trace(s["A"]),
        "seed002_ABX": lambda s: s["A"] * s["B"] * s["X"],
        "seed000_A2": lambda s: s["A"] ** 2,
        "seed000_A3": lambda s: s["A"] ** 3,
        "seed001_ex1_AX": lambda s: s["A"] * s["X"],
        "seed001_ex2_logdet": lambda s: log(Determinant(s["X"])),
        "seed001_ex2_hessian": lambda s: log(Determinant(s["X"])),
        "seed001_ex3_Aexp": lambda s: s["A"] * ew(exp(t), s["X"] * s["B"]),
        "seed001_ex4_logistic": logistic,
        "seed001_ex4_hessian": logistic,
        "seed001_ex5_softmax": xent,
        "seed001_ex5_hessian": xent,
        "seed004_AX": lambda s: s["A"] * s["X"],
        "seed004_logdet_hessian": lambda s: log(Determinant(s["X"])),
        "seed004_trXtAX_hessian": lambda s: Trace(s["X"].T * s["A"] * s["X"]),
        "hess_xtAx": lambda s: s["x"].T * s["A"] * s["x"],
        "hess_trXtAX": lambda s: Trace(s["X"].T * s["A"] * s["X"]),
        "hess_logdet": lambda s: log(Determinant(s["X"])),
        "hess_norm_Axb": lambda s: (s["A"] * s["x"] - s["b"]).T * (s["A"] * s["x"] - s["b"]),
        "hess_logistic": logistic,
        "hess_xent": xent,
        "hess_trAXinv": lambda s: Trace(s["A"] * Inverse(s["X"])),
        "hess_normF_AXB": lambda s: Trace((s["A"] * s["X"] - s["B"]).T * (s["A"] * s["X"] - s["B"])),
        "hess_sigma_sum": lambda s: OneMatrix(1, s["A"].shape[0]) * ew(sigma, s["A"] * s["x"]),
    }
    return forms


NO_FORM = {"vec_X": "sympy's matrix expressions have no vec() of a MatrixSymbol"}


def _symbols(case: Case) -> dict[str, Any]:
    import sympy as sp

    return {
        name: sp.Symbol(name) if v.shape is None else sp.MatrixSymbol(name, *v.shape)
        for name, v in case.vals.items()
    }


def _numeric(result: Any, syms: dict[str, Any], values: dict[str, Any]) -> np.ndarray:
    """sympy's result at the point, the first way that works: ``lambdify`` (numpy printer, which
    prints sympy's array expressions as einsum/transpose); ``as_explicit()`` then substituting
    explicit matrices and ``doit()``; substituting and ``doit()`` directly."""
    import sympy as sp

    names = list(syms)
    subs = {
        syms[name]: (sp.Float(value) if np.ndim(value) == 0 else sp.ImmutableMatrix(np.asarray(value)))
        for name, value in values.items()
    }

    def by_lambdify() -> Any:
        fn = sp.lambdify([syms[name] for name in names], result, "numpy")
        with np.errstate(all="ignore"):
            return fn(*[values[name] for name in names])

    def by_explicit() -> Any:
        return result.as_explicit().subs(subs).doit()

    def by_subs() -> Any:
        return result.subs(subs).doit()

    error: Exception | None = None
    for way in (by_lambdify, by_explicit, by_subs):
        try:
            out = way()
            return np.array(out.tolist() if hasattr(out, "tolist") else out, dtype=float)
        except Exception as exc:  # noqa: BLE001 - try the next way
            error = exc
    assert error is not None
    raise error


def _as_denominator(arr: np.ndarray, f_shape: tuple[int, int], x_shape: tuple[int, int]) -> np.ndarray | None:
    """sympy's result as the mn x pq matrix d vec F^T / d vec X, or None when its shape fits no reading."""
    m, n = x_shape
    p, q = f_shape
    if arr.ndim == 4 and arr.shape == (m, n, p, q):
        return arr.transpose(1, 0, 3, 2).reshape(m * n, p * q)
    if arr.ndim == 2 and (p, q) == (1, 1) and arr.shape == (m, n):
        return arr.reshape(m * n, 1, order="F")
    if arr.ndim == 2 and n == 1 and q == 1 and arr.shape == (m, p):
        return arr
    if arr.size == 0 or arr.ndim == 0:
        return None
    return None


def _hessian_matrix(arr: np.ndarray, x_shape: tuple[int, int]) -> np.ndarray | None:
    m, n = x_shape
    if arr.ndim == 4 and arr.shape == (m, n, m, n):
        return arr.transpose(1, 0, 3, 2).reshape(m * n, m * n)
    if arr.ndim == 2 and n == 1 and arr.shape == (m, m):
        return arr
    return None


def _close(got: np.ndarray, want: np.ndarray, rtol: float) -> bool:
    if got.shape != want.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    return bool(np.max(np.abs(got - want)) <= rtol * scale) if want.size else True


def sympy_outcome(case: Case, form: Callable | None) -> tuple[float | None, str, str]:
    """(seconds for .diff, outcome, detail) for one case."""
    import sympy as sp
    from sympy.core.cache import clear_cache

    if form is None:
        return None, "no form", NO_FORM.get(case.id, "no sympy matrix-expression form of F")
    syms = _symbols(case)
    try:
        f = form(syms)
    except Exception as exc:  # noqa: BLE001 - building F is part of what sympy supports
        return None, "exception", f"building F: {type(exc).__name__}: {str(exc)[:80]}"
    var = syms[case.var]
    clear_cache()
    start = time.process_time()
    try:
        result = f.diff(var)
        if case.order == 2:
            result = result.diff(var)
    except RecursionError:
        return time.process_time() - start, "exception", "RecursionError"
    except Exception as exc:  # noqa: BLE001
        return time.process_time() - start, "exception", f"{type(exc).__name__}: {str(exc)[:80]}"
    seconds = time.process_time() - start
    text = str(result)
    short = text if len(text) <= 60 else text[:57] + "..."
    if result.has(sp.Derivative) or "Derivative" in type(result).__name__:
        return seconds, "unevaluated", short
    values = case.values()
    x_shape = np.shape(values[case.var])
    try:
        arr = _numeric(result, syms, values)
    except Exception as exc:  # noqa: BLE001
        return seconds, "unevaluated", f"cannot evaluate {short}: {type(exc).__name__}"
    if case.order == 2:
        mat = _hessian_matrix(arr, x_shape)
        want = fd_hessian(case.fn, values, case.var)
        rtol = RTOL_2
    else:
        jac, f_shape = fd_jacobian(case.fn, values, case.var)
        mat = _as_denominator(arr, f_shape, x_shape)
        want = jac.T
        rtol = RTOL_1
    if mat is None:
        # the numbers may still be right in a malformed array: a 1-D gradient, or F's two axes
        # swapped (sympy gives (m, n, 1, p) for a p x 1 F by an m x n X)
        if arr.ndim == 1 and arr.size == want.size and _close(arr.reshape(want.shape), want, rtol):
            return seconds, "right numbers, malformed shape", f"1-D array {arr.shape}: {short}"
        if arr.ndim == 4 and arr.size == want.size:
            m, n, a, b = arr.shape
            if _close(arr.transpose(1, 0, 2, 3).reshape(m * n, a * b), want, rtol):
                return seconds, "right numbers, malformed shape", f"shape {arr.shape} (F's axes swapped)"
        return seconds, "wrong", f"shape {arr.shape}: {short}"
    if not _close(mat, want, rtol):
        if not np.any(mat):
            return seconds, "wrong", f"all entries 0: {type(result).__name__} {short}"
        return seconds, "wrong", short
    if arr.ndim == 4 and not (case.order == 2 and arr.shape[1] == 1):
        return seconds, "correct, 4-D array", f"shape {arr.shape}"
    return seconds, "correct", short


# ----------------------------------------------------------------------------- derive timing


def time_derive(repeat: int) -> dict[str, Any]:
    """Per-directive times of ``derive()`` (median of ``repeat`` runs after a warm-up pass), the
    warm-up pass's own times (each directive's first call in the process), and the same
    directives with the engine's check switched off (to show what the check costs)."""
    from matdiff_tex import derive
    from matdiff_tex.engine import derive_nodes
    from matdiff_tex.expr.reader import forget_readings, read_derivative_input

    times: dict[tuple[str, str], float] = {}
    first: dict[tuple[str, str], float] = {}
    unchecked: dict[tuple[str, str], float] = {}
    reading: dict[tuple[str, str], float] = {}
    errors: dict[tuple[str, str], str] = {}
    directives = [(case, layout) for case in CASES for layout in case.layouts]
    imported_sympy: tuple[str, str] | None = None
    for case, layout in directives:  # warm-up: imports, numpy, lazily built tables
        had_sympy = "sympy" in sys.modules
        start = time.process_time()
        try:
            derive(case.f, case.x, layout=layout, shapes=case.derive_shapes(), order=case.order)
        except Exception as exc:  # noqa: BLE001 - reported, not timed
            errors[(case.id, layout)] = f"{type(exc).__name__}: {exc}"
        first[(case.id, layout)] = time.process_time() - start
        if not had_sympy and "sympy" in sys.modules:
            imported_sympy = (case.id, layout)
    for case, layout in directives:
        key = (case.id, layout)
        if key in errors:
            continue
        samples = []
        for _ in range(repeat):
            forget_readings()  # the reader remembers its last readings: time a first reading
            start = time.process_time()
            derive(case.f, case.x, layout=layout, shapes=case.derive_shapes(), order=case.order)
            samples.append(time.process_time() - start)
        times[key] = statistics.median(samples)
        samples = []
        for _ in range(repeat):
            forget_readings()
            start = time.process_time()
            parsed = read_derivative_input(case.f, case.x, case.derive_shapes())
            derive_nodes(parsed.f, parsed.x, layout=layout, order=case.order, dims=parsed.dims, check=False)
            samples.append(time.process_time() - start)
        unchecked[key] = statistics.median(samples)
        samples = []
        for _ in range(repeat):
            forget_readings()
            start = time.process_time()
            read_derivative_input(case.f, case.x, case.derive_shapes())
            samples.append(time.process_time() - start)
        reading[key] = statistics.median(samples)
    return {"times": times, "first": first, "unchecked": unchecked, "reading": reading, "errors": errors,
            "order": directives, "imported_sympy": imported_sympy}


def percentile(data: list[float], pct: float) -> float:
    """Linear-interpolation percentile (numpy's default)."""
    return float(np.percentile(np.asarray(data), pct))


# ----------------------------------------------------------------------------- report


def machine() -> list[str]:
    import sympy

    date = subprocess.run(["date"], capture_output=True, text=True).stdout.strip()
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "matdiff_tex"], capture_output=True, text=True).stdout
    return [
        f"- code: commit {head or '?'}" + (" with uncommitted changes in matdiff_tex/" if dirty.strip() else ""),
        f"- date: {date}",
        f"- CPUs (nproc): {os.cpu_count()}; {platform.machine()}, {platform.platform()}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, sympy {sympy.__version__}",
    ]


def md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report(repeat: int) -> str:
    timing = time_derive(repeat)
    times, errors = timing["times"], timing["errors"]
    first_key = (timing["order"][0][0].id, timing["order"][0][1])
    firsts = [t for key, t in timing["first"].items() if key != first_key and key not in errors]
    unchecked = sorted(timing["unchecked"].values())
    reading = sorted(timing["reading"].values())
    forms = _sympy_forms()
    for case in CASES[:5]:  # sympy warm-up
        sympy_outcome(case, forms.get(case.id))
    rows = []
    by_case: dict[str, tuple[str, str]] = {}
    outcomes: dict[str, int] = {}
    sympy_times = []
    for case in CASES:
        seconds, outcome, detail = sympy_outcome(case, forms.get(case.id))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        by_case[case.id] = (outcome, detail)
        if seconds is not None:
            sympy_times.append(seconds)
        cells = []
        for layout in ("numerator", "denominator"):
            key = (case.id, layout)
            cells.append(f"{times[key] * 1e3:.1f}" if key in times else "**error**")
        sym = "—" if seconds is None else f"{seconds * 1e3:.1f}"
        rows.append(
            f"| {case.id} | `{md_escape(case.f)}` | `{md_escape(case.x)}` | {case.order} | {cells[0]} | {cells[1]} "
            f"| {sym} | {outcome} | {md_escape(detail)} |"
        )
    all_times = sorted(times.values())
    ok = len(all_times)
    total = ok + len(errors)
    lines = [
        "## Results",
        "",
        *machine(),
        f"- command: `.venv/bin/python benchmarks/bench_derive.py --repeat {repeat} --write`",
        "",
        f"derive() + built-in check, one process, {ok} of {total} directives timed "
        f"({len(CASES)} table rows x 2 layouts; each directive's time is the median of {repeat} runs after one warm-up pass):",
        "",
        "| ms per directive | median | p95 | max | mean |",
        "| --- | --- | --- | --- | --- |",
        f"| derive() with its check (the figure the target is about) | {statistics.median(all_times) * 1e3:.1f} "
        f"| {percentile(all_times, 95) * 1e3:.1f} | {max(all_times) * 1e3:.1f} | {statistics.fmean(all_times) * 1e3:.1f} |",
        f"| first call of each directive in the process (warm-up pass, first directive excluded) "
        f"| {statistics.median(firsts) * 1e3:.1f} | {percentile(firsts, 95) * 1e3:.1f} | {max(firsts) * 1e3:.1f} "
        f"| {statistics.fmean(firsts) * 1e3:.1f} |",
        f"| read + derive without the check (engine internals, for comparison) | {statistics.median(unchecked) * 1e3:.1f} "
        f"| {percentile(unchecked, 95) * 1e3:.1f} | {max(unchecked) * 1e3:.1f} | {statistics.fmean(unchecked) * 1e3:.1f} |",
        f"| reading F and X alone (`read_derivative_input`) | {statistics.median(reading) * 1e3:.1f} "
        f"| {percentile(reading, 95) * 1e3:.1f} | {max(reading) * 1e3:.1f} | {statistics.fmean(reading) * 1e3:.1f} |",
        "",
        f"The very first directive, which imports the engine and the reader, took "
        f"{timing['first'][first_key] * 1e3:.0f} ms. "
        + (
            f"The first directive that needs sympy (`{timing['imported_sympy'][0]}`, "
            f"{timing['imported_sympy'][1]}: the engine imports it lazily for scalar sub-expressions) took "
            f"{timing['first'][timing['imported_sympy']] * 1e3:.0f} ms — sympy's import, once per process."
            if timing["imported_sympy"] else "No directive imported sympy."
        ),
        "",
        f"Target of issue 2: median <= 30 ms — **{'met' if statistics.median(all_times) <= 0.030 else 'NOT met'}**.",
        "",
    ]
    if errors:
        lines += ["derive() raised on these directives (not timed):", ""]
        lines += [f"- `{cid}` ({layout}): {md_escape(msg)}" for (cid, layout), msg in sorted(errors.items())]
        lines.append("")
    lines += [
        f"sympy {__import__('sympy').__version__} `MatrixExpr.diff` on the same {len(CASES)} expressions "
        f"(median {statistics.median(sympy_times) * 1e3:.1f} ms, p95 {percentile(sympy_times, 95) * 1e3:.1f} ms "
        "for the calls that returned or raised):",
        "",
        "| sympy outcome | rows |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in sorted(outcomes.items(), key=lambda kv: -kv[1])],
        "",
        *claims(by_case),
        "| case | F | X | order | derive num ms | derive den ms | sympy diff ms | sympy outcome | sympy detail |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]
    return "\n".join(lines)


def claims(by_case: dict[str, tuple[str, str]]) -> list[str]:
    """The statements of issue 2 about sympy 1.14, checked on this run's rows."""
    def say(cid: str) -> str:
        outcome, detail = by_case[cid]
        return f"{outcome} (`{md_escape(detail)}`)"

    mat_by_mat = [
        case for case in CASES
        if case.order == 1 and min(as_matrix(case.fn(case.values())).shape) > 1 and min(case.vals[case.var].shape) > 1
    ]
    four_d = [c for c in mat_by_mat if by_case[c.id][0] in ("correct, 4-D array", "right numbers, malformed shape")]
    return [
        "Issue 2's statements about sympy 1.14, checked by this run:",
        "",
        f"- d log det X / dX (`logdet`): {say('logdet')}; the true gradient X^{{-T}} is not 0.",
        f"- d det X / dX (`det_bars`): {say('det_bars')}.",
        f"- matrix by matrix: {len(four_d)} of {len(mat_by_mat)} rows with F and X both matrices came back as "
        "4-index arrays (the others raised or are wrong: see the table).",
        "",
    ]


README_HEAD = """# Benchmarks

`bench_derive.py` times `derive()` — reading F and X, the derivation and its built-in numeric
check, i.e. one directive — over the derivative table of `tests/derive_cases.py` (the same rows
`tests/test_derive_table.py` checks against central finite differences of a numpy definition of
each F), and runs sympy's own matrix differentiation (`MatrixExpr.diff`) on the same expressions
built from `MatrixSymbol`s of the same concrete sizes.

How the figures are made:

- everything runs in one process; `derive()` is called once per directive as a warm-up pass, then
  each directive is timed `--repeat` times with `time.process_time()` (CPU time: the machine is
  shared, and wall time under load says little) and its time is the median;
  median and p95 are over all directives (rows x both layouts);
- sympy: F is built with `Trace`, `Determinant`, `Inverse`, `HadamardProduct`,
  `KroneckerProduct`, `HadamardPower`, `log(Determinant(X))`, element-wise functions as
  `u.applyfunc(Lambda(t, ...))`; `F.diff(X)` (twice for a Hessian) is timed once, with sympy's
  cache cleared just before;
- sympy's answer is judged numerically at a random point: computed with `lambdify` (or
  `as_explicit()` + substitution), then compared with the finite differences in sympy's own
  layout — the variable's indices first: a 4-index result `R` of shape (m, n, p, q) is read as
  `R[i, j, k, l] = dF_kl / dX_ij` and compared as the mn x pq matrix
  `R.transpose(1, 0, 3, 2).reshape(m*n, p*q)` = `(d vec F / d (vec X)^T)^T`; a 2-index result is the
  m x n gradient of a scalar F, or the n x p matrix `dF^T/dx` of a vector F by a vector x;
- outcomes: *correct*; *correct, 4-D array* (right numbers, but a 4-index array, not a matrix);
  *right numbers, malformed shape* (a 1-D gradient, or (m, n, 1, p) for a p x 1 F); *wrong*;
  *unevaluated* (a `Derivative` is left in the result, or nothing can compute it); *exception*
  (building F or `diff` raised); *no form* (sympy's matrix expressions cannot write F).

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per directive (median taken)")
    parser.add_argument("--write", action="store_true", help="write the report into benchmarks/README.md")
    args = parser.parse_args()
    text = report(args.repeat)
    print(text)
    if args.write:  # the build benchmark's sections (bench_build.py) after this report are kept
        readme = ROOT / "benchmarks" / "README.md"
        old = readme.read_text(encoding="utf-8") if readme.exists() else ""
        tail = old[old.index("## Build benchmark"):] if "## Build benchmark" in old else ""
        readme.write_text(README_HEAD + text + ("\n" + tail if tail else ""), encoding="utf-8")


if __name__ == "__main__":
    main()
