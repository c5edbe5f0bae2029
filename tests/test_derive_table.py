"""derive() against central finite differences of independent numpy definitions (issue 2).

For every row of ``tests/derive_cases.py`` and every layout that applies:

1. ``derive(F, X, layout=..., shapes=..., order=...)`` (which runs the engine's own check);
2. ``evaluate(d.result_latex, values)`` — so the writer's output must read back;
3. the same derivative by central finite differences of the row's numpy ``fn`` (float64), arranged
   per SPEC section 4 by :func:`arrange`; Hessians by finite differences of finite differences;
4. the numbers must agree, and ``d.shape`` must be the numeric shape (symbolic sizes bound from
   the arrays).

Further tests: the seed examples' steps have the structure a reader of the posts recognises,
every example of the rule registry derives and evaluates in both layouts, and hypothesis draws
random distinct sizes for a few templates.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matdiff_tex
from matdiff_tex import derive
from matdiff_tex.expr.nodes import Sym

from derive_cases import CASES, RTOL_1, RTOL_2, Case, as_matrix, fd_hessian, fd_jacobian, sig

# ----------------------------------------------------------------------------- reference numerics


def evaluate(latex: str, values: dict[str, Any]) -> Any:
    """The public ``matdiff_tex.evaluate``, looked up at call time.

    Importing the submodule ``matdiff_tex/evaluation.py`` rebinds the package attribute
    ``matdiff_tex.evaluate`` to the module (see :func:`test_public_evaluate_is_not_shadowed`); the
    table then still reaches the function, so that one bug does not hide every other result.
    """
    fn = matdiff_tex.evaluate
    if not callable(fn):
        fn = fn.evaluate
    return fn(latex, values)


def test_public_evaluate_is_not_shadowed() -> None:
    """``matdiff_tex.evaluate`` is the function of SPEC section 9, also after it has been used."""
    np.testing.assert_array_equal(matdiff_tex.evaluate(r"\boldsymbol{A}", {"A": np.eye(2)}), np.eye(2))
    assert callable(matdiff_tex.evaluate), "matdiff_tex.evaluate became the submodule matdiff_tex/evaluation.py"
    from matdiff_tex import evaluate as again

    assert callable(again)


def arrange(jac: np.ndarray, f_shape: tuple[int, int], x_shape: tuple[int, int], layout: str) -> np.ndarray:
    """Arrange the Jacobian J = d vec F / d (vec X)^T (pq x mn) as SPEC section 4 defines the derivative.

    ===========================================  ===========================  ========================
    F by X                                       numerator                    denominator
    ===========================================  ===========================  ========================
    scalar by vector (n x 1)                     1 x n   (= J)                n x 1   (= J^T)
    scalar by matrix (m x n)                     n x m   (gradient^T)         m x n   (the gradient)
    vector (p x 1) by vector                     p x n   (= J, Jacobian)      n x p   (= J^T)
    vector/matrix by matrix, matrix by vector    pq x mn (= J)                mn x pq (= J^T)
    ===========================================  ===========================  ========================

    The gradient of a scalar f is ``G = reshape(J, (m, n), order="F")`` (the entry for x_ij at
    [i, j]); for a vector X it is the n x 1 column J^T, so the scalar rows are the same rule.
    Hessians are not arranged: mn x mn in both layouts.
    """
    if layout not in ("numerator", "denominator"):
        raise ValueError(layout)
    if f_shape == (1, 1):
        gradient = jac.reshape(x_shape, order="F")
        return gradient.T if layout == "numerator" else gradient
    return jac if layout == "numerator" else jac.T


def reference(case_fn: Callable, values: dict[str, Any], var: str, layout: str, order: int) -> tuple[np.ndarray, float]:
    """The finite-difference derivative in ``layout`` and the relative tolerance that goes with it."""
    if order == 2:
        return fd_hessian(case_fn, values, var), RTOL_2
    jac, f_shape = fd_jacobian(case_fn, values, var)
    return arrange(jac, f_shape, values[var].shape, layout), RTOL_1


def assert_close(got: np.ndarray, want: np.ndarray, rtol: float, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape}, finite differences give {want.shape}"
    scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    err = float(np.max(np.abs(got - want))) if want.size else 0.0
    assert err <= rtol * scale, (
        f"{what}: max abs error {err:.3g} > {rtol:g} * {scale:.3g}\n"
        f"derive() gives\n{np.array2string(got, precision=5)}\nfinite differences give\n"
        f"{np.array2string(want, precision=5)}"
    )


def evaluated(latex: str, values: dict[str, Any], dims: dict[str, int] | None = None) -> np.ndarray:
    """``evaluate()`` of a derivative as a real 2-D array.

    ``dims`` binds dimension names that no value in the result fixes (``\\boldsymbol{I}_{n}
    \\otimes (\\boldsymbol{AB})`` does not say how many columns X has): what a user who knows
    X's size passes, as integers among the values (``{"n": 4}``).
    """
    extra = {name: size for name, size in (dims or {}).items() if name not in values}
    out = np.asarray(evaluate(latex, {**values, **extra}))
    if np.iscomplexobj(out):
        assert np.allclose(out.imag, 0.0), f"evaluate({latex!r}) is complex at a point inside the domain"
        out = out.real
    return as_matrix(out)


def dim_bindings(d: Any, values: dict[str, Any]) -> dict[str, int]:
    """Integer sizes for the dimension names of a derivation with inferred sizes.

    Each name (``m``, ``n``, ...) is bound by a symbol of F or X whose rows or cols is that name,
    from the array given for it.
    """
    bindings: dict[str, int] = {}
    for tree in (d.lhs, d.result):
        for node in tree.walk():
            if isinstance(node, Sym) and node.name in values and np.ndim(values[node.name]) == 2:
                for dim, size in zip((node.nrows, node.ncols), np.shape(values[node.name])):
                    if dim.coeff == 1 and len(dim.names) == 1:
                        assert bindings.setdefault(dim.names[0], size) == size, f"{dim.names[0]} bound twice"
    return bindings


def bound_shape(d: Any, values: dict[str, Any]) -> tuple[int, int]:
    """``d.shape`` with its dimension names bound from the arrays' sizes.

    Symbolic sizes (``('np', 'mn')`` for the seed examples, whose sizes are inferred) are
    products of names, bound by :func:`dim_bindings`.
    """
    bindings = dim_bindings(d, values)
    out = []
    for entry, dim in zip(d.shape, d.result.shape):
        if isinstance(entry, int):
            out.append(entry)
        else:
            assert entry == dim.latex(), f"d.shape {d.shape} does not name the result's size {dim.latex()}"
            out.append(dim.value(bindings))
    return (out[0], out[1])


# ----------------------------------------------------------------------------- the table


def _params() -> list:
    return [pytest.param(case, layout, id=f"{case.id}-{layout[:3]}") for case in CASES for layout in case.layouts]


def test_table_is_large_and_covers_both_layouts_and_hessians() -> None:
    assert len(CASES) >= 60
    assert sum(case.order == 2 for case in CASES) >= 6
    assert all(set(case.layouts) == {"numerator", "denominator"} for case in CASES)
    # the references are not all alike: some zero, some not
    assert any(case.id.startswith("absent") for case in CASES)


@pytest.mark.parametrize(("case", "layout"), _params())
def test_derivative_matches_finite_differences(case: Case, layout: str) -> None:
    values = case.values()
    d = derive(case.f, case.x, layout=layout, shapes=case.derive_shapes(), order=case.order)
    got = evaluated(d.result_latex, values, dim_bindings(d, values))
    want, rtol = reference(case.fn, values, case.var, layout, case.order)
    what = f"d/d{case.x} of {case.f} ({layout}, order {case.order}) = {d.result_latex}"
    assert_close(got, want, rtol, what)
    assert bound_shape(d, values) == want.shape, f"{what}: d.shape {d.shape}"


@pytest.mark.parametrize(("case", "layout"), [p for p in _params() if p.values[0].shapes is not None][:12])
def test_second_point(case: Case, layout: str) -> None:
    """A second random point for a sample of rows: a result right at one point only is caught."""
    values = case.values(seed=1)
    d = derive(case.f, case.x, layout=layout, shapes=case.derive_shapes(), order=case.order)
    want, rtol = reference(case.fn, values, case.var, layout, case.order)
    assert_close(evaluated(d.result_latex, values), want, rtol, f"{case.f} ({layout}) at a second point")


_NON_SCALAR = [
    pytest.param(case, id=case.id)
    for case in CASES
    if case.order == 1 and as_matrix(case.fn(case.values())).shape != (1, 1)
]


@pytest.mark.parametrize("case", _NON_SCALAR)
def test_layouts_are_transposes(case: Case) -> None:
    """Where F is not scalar, the denominator result is the numerator result transposed."""
    values = case.values()
    num_d = derive(case.f, case.x, shapes=case.derive_shapes())
    den_d = derive(case.f, case.x, layout="denominator", shapes=case.derive_shapes())
    num = evaluated(num_d.result_latex, values, dim_bindings(num_d, values))
    den = evaluated(den_d.result_latex, values, dim_bindings(den_d, values))
    np.testing.assert_allclose(den, num.T, rtol=1e-9, atol=1e-12, err_msg=case.f)


# ----------------------------------------------------------------------------- steps of the seed examples


def _notes(d: Any) -> list[str | None]:
    return [row.note for row in d.rows()]


def test_seed002_ABX_steps_vectorize_sandwich_kronecker() -> None:
    d = derive(r"\boldsymbol{ABX}", r"\boldsymbol{X}")
    rows = d.rows()
    notes = _notes(d)
    assert "vectorize" in notes and "sandwich" in notes
    assert notes.index("vectorize") < notes.index("sandwich")
    assert any(r"\otimes" in row.rhs for row in rows)
    assert any(r"\text{vec}" in row.rhs for row in rows[:2]), "the first lines vectorize numerator and denominator"
    assert rows[0].lhs is not None and r"\partial" in rows[0].lhs and r"\boldsymbol{ABX}" in rows[0].lhs
    assert all(row.lhs is None for row in rows[1:])
    assert rows[-1].rhs == d.result_latex
    assert r"\otimes" in d.result_latex and r"\boldsymbol{I}" in d.result_latex
    assert "separate_var" in notes, "seed 002: 将变量X分离出来"
    sep = rows[notes.index("separate_var")]
    assert sep.note_args.get("var") == r"\boldsymbol{X}"


@pytest.mark.parametrize("power", [2, 3])
def test_seed000_powers_product_rule_coloured(power: int) -> None:
    d = derive(rf"\boldsymbol{{A}}^{power}", r"\boldsymbol{A}")
    rows = d.rows()
    notes = _notes(d)
    assert "product_rule" in notes
    pr = rows[notes.index("product_rule")]
    assert pr.rhs.count(r"\textcolor") >= 2 * power, "each differentiated factor is coloured (seed 000)"
    assert pr.rhs.count(r"\partial") == 2 * power, "one term per factor A"
    assert not any(r"\textcolor" in row.rhs for row in rows if row.rule in ("identify", "simplify"))
    assert r"\textcolor" not in d.result_latex


def test_seed001_logistic_steps_differential_chain_rule() -> None:
    """Seed 001 example 4: take the differential, chain rule through log and exp, read off."""
    d = derive(r"-y\boldsymbol{x}^{\top}\boldsymbol{w} + \log(1+\exp(\boldsymbol{x}^{\top}\boldsymbol{w}))", r"\boldsymbol{w}")
    rows = d.rows()
    notes = _notes(d)
    assert (rows[0].lhs, rows[0].rule) == ("f", "define"), "names the long loss first, as the post writes l = ..."
    assert rows[1].lhs == r"\mathrm{d}f", "then starts from the differential df"
    assert "chain_rule" in notes
    assert any(r"\mathrm{d}\boldsymbol{w}" in row.rhs for row in rows)
    assert rows[-1].rule == "identify" and rows[-1].rhs == d.result_latex
    assert r"\mathrm{d}" not in d.result_latex


def test_seed004_trace_steps_trace_trick_cyclic() -> None:
    """tr(X^T A X): the trace of the sum split (linearity of the trace), cyclic rule, collected, read
    off as (A + A^T) X (denominator)."""
    d = derive(r"\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})", r"\boldsymbol{X}", layout="denominator")
    notes = _notes(d)
    assert {"trace_linearity", "cyclic"} <= set(notes) and "trace_trick" not in notes
    assert notes.index("trace_linearity") < notes.index("cyclic") < len(notes) - 1
    rows = d.rows()
    assert rows[-1].rhs == d.result_latex and r"\mathrm{d}" not in d.result_latex
    assert any(r"\operatorname{tr}" in row.rhs and r"\mathrm{d}\boldsymbol{X}" in row.rhs for row in rows)


@pytest.mark.parametrize("style", [r"\boldsymbol", r"\mathbf"])
def test_logdet_hessian_has_commutation_matrix(style: str) -> None:
    """Seeds 001/004: d^2 log|X| = -(X^{-1} ⊗ X^{-T}) K for a general X (seed 004 drops K)."""
    d = derive(rf"\log|{style}{{X}}|", rf"{style}{{X}}", order=2)
    assert r"\otimes" in d.result_latex and "{K}" in d.result_latex
    assert "hessian" in _notes(d)
    assert style in d.result_latex, "symbols keep the author's style"


# ----------------------------------------------------------------------------- the rule registry


def _rules_with_examples() -> list:
    from matdiff_tex.rules.registry import rules

    return [pytest.param(rule, id=rule.name) for rule in rules() if rule.example is not None]


def _symbol_values(d: Any, rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, int]]:
    """Values for every symbol of F and the result: distinct sizes 2, 3, 4, ... per dimension name."""
    syms: dict[str, Sym] = {}
    for tree in (d.lhs, d.result):
        for node in tree.walk():
            if isinstance(node, Sym):
                syms.setdefault(node.name, node)
    bindings: dict[str, int] = {}
    for sym in syms.values():
        for dim in (sym.nrows, sym.ncols):
            for name in dim.names:
                bindings.setdefault(name, 2 + len(bindings))
    from matdiff_tex.check.numeric import integer_symbols

    integers = integer_symbols(d.lhs) | integer_symbols(d.result)  # n in X^{n}: an integer (n = 3)
    values: dict[str, Any] = {}
    for name, sym in syms.items():
        if name in integers:
            values[name] = 3
            continue
        if sym.kind == "scalar":
            values[name] = float(rng.uniform(0.5, 1.0))
            continue
        rows, cols = sym.nrows.value(bindings), sym.ncols.value(bindings)
        if rows == cols:
            values[name] = 2.0 * np.eye(rows) + 0.3 * rng.uniform(0.0, 1.0, (rows, cols))
        else:
            values[name] = rng.uniform(0.5, 1.5, (rows, cols))
    return values, bindings


def test_registry_has_examples() -> None:
    assert len(_rules_with_examples()) >= 10


@pytest.mark.parametrize("rule", _rules_with_examples())
@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_registry_example(rule: Any, layout: str) -> None:
    """Every rule's example derives in both layouts and its result evaluates to ``d.shape``.

    The example has no numpy definition, so the numbers are compared with finite differences of
    F computed by ``evaluate(F)`` — the project's reader and evaluator, but none of the rules.
    """
    f, x = rule.example
    d = derive(f, x, layout=layout)
    rng = np.random.default_rng(zlib.crc32(rule.name.encode()))
    values, bindings = _symbol_values(d, rng)
    got = evaluated(d.result_latex, values, bindings)
    assert got.shape == bound_shape(d, values), f"{rule.name}: {f} by {x}: evaluate gives {got.shape}, d.shape {d.shape}"
    assert np.all(np.isfinite(got))
    var = d.lhs.den
    assert isinstance(var, Sym)
    sizes = {name: size for name, size in bindings.items() if name not in values}
    want, rtol = reference(lambda v: evaluate(f, {**v, **sizes}), values, var.name, layout, 1)
    assert_close(got, want, rtol, f"rule {rule.name}: d/d{x} of {f} ({layout}) = {d.result_latex}")


# ----------------------------------------------------------------------------- hypothesis: random sizes

distinct_sizes = st.permutations([2, 3, 4, 5])
layouts = st.sampled_from(["numerator", "denominator"])
seeds = st.integers(0, 2**32 - 1)


def _check_template(f: str, x: str, var: str, shapes: dict[str, tuple[int, int]], fn: Callable,
                    layout: str, seed: int, square: tuple[str, ...] = ()) -> None:
    rng = np.random.default_rng(seed)
    values = {}
    for name, shape in shapes.items():
        if name in square:
            values[name] = 2.0 * np.eye(shape[0]) + 0.3 * rng.standard_normal(shape)
        else:
            values[name] = rng.standard_normal(shape)
    d = derive(f, x, layout=layout, shapes=shapes)
    want, rtol = reference(fn, values, var, layout, 1)
    assert_close(evaluated(d.result_latex, values), want, rtol, f"{f} by {x}, {shapes}, {layout}")
    assert bound_shape(d, values) == want.shape


@settings(max_examples=12, deadline=None)
@given(sizes=distinct_sizes, layout=layouts, seed=seeds)
def test_random_sizes_AXB(sizes: list[int], layout: str, seed: int) -> None:
    p, m, n, q = sizes
    _check_template(r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}", r"\boldsymbol{X}", "X",
                    {"A": (p, m), "X": (m, n), "B": (n, q)}, lambda v: v["A"] @ v["X"] @ v["B"], layout, seed)


@settings(max_examples=12, deadline=None)
@given(sizes=distinct_sizes, layout=layouts, seed=seeds)
def test_random_sizes_XtAX(sizes: list[int], layout: str, seed: int) -> None:
    m, n = sizes[:2]
    _check_template(r"\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X}", r"\boldsymbol{X}", "X",
                    {"X": (m, n), "A": (m, m)}, lambda v: v["X"].T @ v["A"] @ v["X"], layout, seed)


@settings(max_examples=12, deadline=None)
@given(n=st.integers(2, 5), layout=layouts, seed=seeds)
def test_random_sizes_tr_AXinv(n: int, layout: str, seed: int) -> None:
    _check_template(r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X}^{-1})", r"\boldsymbol{X}", "X",
                    {"A": (n, n), "X": (n, n)}, lambda v: np.trace(v["A"] @ np.linalg.inv(v["X"])), layout, seed,
                    square=("X",))


@settings(max_examples=12, deadline=None)
@given(sizes=distinct_sizes, layout=layouts, seed=seeds, by=st.sampled_from(["W", "x"]))
def test_random_sizes_sigma_Wx(sizes: list[int], layout: str, seed: int, by: str) -> None:
    m, n = sizes[:2]
    _check_template(r"\sigma(\boldsymbol{W}\boldsymbol{x})", rf"\boldsymbol{{{by}}}", by,
                    {"W": (m, n), "x": (n, 1)}, lambda v: sig(v["W"] @ v["x"]), layout, seed)
