"""What matrix-calculus posts write (issue 11): norms, symmetric matrices, derivatives by a scalar.

Each derivative is read back with ``evaluate()`` and compared with central finite differences of an
independent numpy definition (``tests/derive_cases.py``), in both layouts.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from matdiff_tex import derive
from matdiff_tex.check.evaluation import evaluate
from matdiff_tex.errors import MatdiffError

from derive_cases import fd_hessian, fd_jacobian
from test_derive_table import arrange, assert_close, dim_bindings, evaluated

B = r"\boldsymbol"
RNG = np.random.default_rng(11)


def _values(sizes: dict) -> dict:
    return {name: RNG.normal(size=shape) if shape else float(RNG.uniform(0.5, 1.5)) for name, shape in sizes.items()}


def _check(f: str, x: str, var: str, sizes: dict, fn, *, values: dict | None = None, **kw) -> None:
    values = values or _values(sizes)
    shapes = {k: v for k, v in sizes.items() if v}
    for layout in ("numerator", "denominator"):
        d = derive(f, x, layout=layout, shapes=shapes, **kw)
        got = evaluated(d.result_latex, values, dim_bindings(d, values))
        jac, f_shape = fd_jacobian(fn, values, var)
        assert_close(got, arrange(jac, f_shape, values[var].shape, layout), 1e-5, f"{f} ({layout}) = {d.result_latex}")


# ----------------------------------------------------------------------------- item 4: norms

NORMS = [
    (rf"\|{B}{{A}}{B}{{x}} - {B}{{b}}\|_2", {"A": (3, 4), "x": (4, 1), "b": (3, 1)},
     lambda v: np.sqrt(np.sum((v["A"] @ v["x"] - v["b"]) ** 2))),
    (rf"\|{B}{{x}}\|", {"x": (5, 1)}, lambda v: np.sqrt(np.sum(v["x"] ** 2))),
    (rf"\|{B}{{A}}{B}{{x}} - {B}{{b}}\|_1", {"A": (3, 4), "x": (4, 1), "b": (3, 1)},
     lambda v: np.sum(np.abs(v["A"] @ v["x"] - v["b"]))),
    (rf"\|{B}{{x}}\|_2^{{3}}", {"x": (5, 1)}, lambda v: np.sqrt(np.sum(v["x"] ** 2)) ** 3),
    (rf"\log \|{B}{{x}}\|_2", {"x": (5, 1)}, lambda v: np.log(np.sqrt(np.sum(v["x"] ** 2)))),
]
MATRIX_NORMS = [
    (rf"\|{B}{{X}}\|_F", {"X": (3, 4)}, lambda v: np.linalg.norm(v["X"], "fro")),
    (rf"\|{B}{{A}}{B}{{X}}{B}{{C}}\|_{{\mathrm{{F}}}}", {"A": (2, 3), "X": (3, 4), "C": (4, 5)},
     lambda v: np.linalg.norm(v["A"] @ v["X"] @ v["C"], "fro")),
    (rf"\|{B}{{X}} - {B}{{A}}\|_F^{{3}}", {"X": (3, 4), "A": (3, 4)}, lambda v: np.linalg.norm(v["X"] - v["A"]) ** 3),
]


@pytest.mark.parametrize("f,sizes,fn", NORMS, ids=[r[0] for r in NORMS])
def test_vector_norms(f, sizes, fn) -> None:
    _check(f, rf"{B}{{x}}", "x", sizes, fn)


@pytest.mark.parametrize("f,sizes,fn", MATRIX_NORMS, ids=[r[0] for r in MATRIX_NORMS])
def test_matrix_norms(f, sizes, fn) -> None:
    _check(f, rf"{B}{{X}}", "X", sizes, fn)


def test_hessian_of_the_euclidean_norm() -> None:
    v = {"x": RNG.normal(size=(4, 1))}
    d = derive(rf"\|{B}{{x}}\|_2", rf"{B}{{x}}", order=2)
    want = fd_hessian(lambda w: np.sqrt(np.sum(w["x"] ** 2)), v, "x")
    assert_close(evaluated(d.result_latex, v), want, 1e-3, d.result_latex)


def test_l1_norm_states_where_it_is_valid(cli) -> None:
    for lang, words in (("en", "valid where no entry is zero"), ("zh", "在各分量都不为零处成立")):
        out = cli("derive", rf"\|{B}{{x}}\|_1 + {B}{{x}}^{{\top}}{B}{{x}}", rf"{B}{{x}}", "--lang", lang)
        assert out.exit_code == 0, out.stderr
        assert words in out.stdout and r"\operatorname{sign}" in out.stdout


@pytest.mark.parametrize("f", [rf"\|{B}{{X}}\|_2", rf"\|{B}{{X}}\|_*", rf"\|{B}{{X}}\|_2^2", rf"\|{B}{{X}}\|_{{\ast}}^{{2}}"])
def test_spectral_and_nuclear_norms_are_refused_clearly(f) -> None:
    with pytest.raises(MatdiffError, match="spectral|nuclear") as info:
        derive(f, rf"{B}{{X}}")
    assert info.value.span is not None and info.value.field == "F"


def test_matrix_one_norm_is_refused() -> None:
    with pytest.raises(MatdiffError, match="column sum"):
        derive(rf"\|{B}{{X}}\|_1", rf"{B}{{X}}")


def test_evaluate_matrix_norms_as_numpy_defines_them() -> None:
    x = RNG.normal(size=(3, 5))
    for latex, want in ((r"\|X\|_2", np.linalg.norm(x, 2)), (r"\|X\|_*", np.linalg.norm(x, "nuc")),
                        (r"\|X\|_F", np.linalg.norm(x)), (r"\|X\|", np.linalg.norm(x)),
                        (r"\|X\|_2^{2}", np.linalg.norm(x, 2) ** 2)):
        assert np.isclose(evaluate(latex, {"X": x}), want), latex


# ----------------------------------------------------------------------------- item 1: symmetric matrices


def _sym(n: int, spd: bool = False) -> np.ndarray:
    a = RNG.normal(size=(n, n))
    return a @ a.T + n * np.eye(n) if spd else (a + a.T) / 2


def _sym_directions(n: int) -> list[np.ndarray]:
    out = []
    for i in range(n):
        for j in range(i, n):
            e = np.zeros((n, n))
            e[i, j] = e[j, i] = 1.0
            out.append(e)
    return out


def _check_symmetric_gradient(f: str, sym: set, values: dict, fn, h: float = 1e-6) -> str:
    """The result is symmetric and gives every directional derivative along a symmetric direction."""
    for layout in ("numerator", "denominator"):
        d = derive(f, rf"{B}{{X}}", layout=layout, symmetric=sym, shapes={k: v.shape for k, v in values.items()})
        g = evaluated(d.result_latex, values)
        assert np.allclose(g, g.T, atol=1e-10), f"{f}: {d.result_latex} is not symmetric"
        x0 = values["X"]
        for e in _sym_directions(x0.shape[0]):
            fd = (fn({**values, "X": x0 + h * e}) - fn({**values, "X": x0 - h * e})) / (2 * h)
            assert np.isclose(np.sum(g * e), fd, rtol=1e-6, atol=1e-8), (f, layout, d.result_latex)
    return d.result_latex


SYMMETRIC = [
    (rf"\log\det {B}{{X}}", {"X"}, lambda v: np.linalg.slogdet(v["X"])[1], {"X": "spd"}),
    (rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", {"X"}, lambda v: np.trace(v["A"] @ v["X"]), {"X": "sym", "A": "any"}),
    (rf"{B}{{a}}^{{\top}}{B}{{X}}^{{-1}}{B}{{a}}", {"X"},
     lambda v: (v["a"].T @ np.linalg.inv(v["X"]) @ v["a"]).item(), {"X": "spd", "a": "vec"}),
    (rf"\operatorname{{tr}}({B}{{X}}{B}{{A}}{B}{{X}}{B}{{B}})", {"X"},
     lambda v: np.trace(v["X"] @ v["A"] @ v["X"] @ v["B"]), {"X": "sym", "A": "any", "B": "any"}),
    (rf"\|{B}{{X}} - {B}{{S}}\|_F^2", {"X", "S"}, lambda v: np.sum((v["X"] - v["S"]) ** 2), {"X": "sym", "S": "sym"}),
    (rf"\log\det {B}{{X}} - \operatorname{{tr}}({B}{{S}}{B}{{X}})", {"X", "S"},
     lambda v: np.linalg.slogdet(v["X"])[1] - np.trace(v["S"] @ v["X"]), {"X": "spd", "S": "sym"}),
]


def _draw(kinds: dict, n: int = 4) -> dict:
    out = {}
    for name, kind in kinds.items():
        out[name] = (_sym(n, True) if kind == "spd" else _sym(n) if kind == "sym" else
                     RNG.normal(size=(n, 1)) if kind == "vec" else RNG.normal(size=(n, n)))
    return out


@pytest.mark.parametrize("f,sym,fn,kinds", SYMMETRIC, ids=[r[0] for r in SYMMETRIC])
def test_symmetric_gradient_along_symmetric_directions(f, sym, fn, kinds) -> None:
    _check_symmetric_gradient(f, sym, _draw(kinds), fn)


def test_symmetric_gradient_is_not_g_plus_gt_minus_diag() -> None:
    """tr(AX) by a symmetric X: (A + A^T)/2, which differs from the G + G^T - diag(G) often quoted."""
    values = _draw({"X": "sym", "A": "any"})
    latex = _check_symmetric_gradient(rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", {"X"}, values,
                                      lambda v: np.trace(v["A"] @ v["X"]))
    got = evaluated(latex, values)
    a = values["A"]
    assert np.allclose(got, (a + a.T) / 2)
    quoted = a.T + a - np.diag(np.diag(a))
    assert not np.allclose(got, quoted)


def test_symmetric_constants_simplify() -> None:
    d = derive(rf"{B}{{x}}^{{\top}}{B}{{A}}{B}{{x}}", rf"{B}{{x}}", layout="denominator", symmetric={"A"})
    assert d.result_latex == rf"2 {B}{{A}} {B}{{x}}"
    assert not any(r"\top" in row.rhs for row in d.rows()[-1:])
    d = derive(rf"\log\det {B}{{X}}", rf"{B}{{X}}", symmetric={"X"})
    assert d.result_latex == rf"{B}{{X}}^{{-1}}"


def test_symmetric_matrix_function_restricted_to_symmetric_directions() -> None:
    values = {"X": _sym(3), "A": RNG.normal(size=(2, 3))}
    for layout in ("numerator", "denominator"):
        d = derive(rf"{B}{{A}}{B}{{X}}{B}{{X}}", rf"{B}{{X}}", layout=layout, symmetric={"X"}, shapes={"A": (2, 3)})
        r = evaluated(d.result_latex, values, dim_bindings(d, values))
        r = r if layout == "numerator" else r.T
        for e in _sym_directions(3):
            h = 1e-6
            fd = (values["A"] @ (values["X"] + h * e) @ (values["X"] + h * e)
                  - values["A"] @ (values["X"] - h * e) @ (values["X"] - h * e)) / (2 * h)
            assert np.allclose(r @ e.reshape(-1, order="F"), fd.reshape(-1, order="F"), atol=1e-7)
        k = np.zeros((9, 9))
        for i in range(3):
            for j in range(3):
                k[i * 3 + j, j * 3 + i] = 1
        assert np.allclose(r @ k, r), "the Jacobian has a component along antisymmetric directions"


def test_symmetric_needs_a_square_matrix() -> None:
    with pytest.raises(MatdiffError, match="symmetric"):
        derive(rf"{B}{{x}}^{{\top}}{B}{{x}}", rf"{B}{{x}}", symmetric={"x"})
    with pytest.raises(MatdiffError, match="square"):
        derive(rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", rf"{B}{{X}}", symmetric={"A"}, shapes={"A": (2, 3)})
    d = derive(rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", rf"{B}{{X}}", symmetric={"X"})
    assert d.result.shape[0] == d.result.shape[1]


def test_symmetric_from_directive_front_matter_and_config(tmp_path, cli) -> None:
    from matdiff_tex import render_text

    directive = rf"\deriv[symmetric=X, lang=en]<\operatorname{{tr}}({B}{{A}}{B}{{X}})><{B}{{X}}>"
    out = render_text(directive + "\n")
    out = re.sub(r"\} \\\\\n *&\\quad \\phantom\{\\Longrightarrow\} \\text\{", " ", out)  # a note continued on a line
    assert "symmetric gradient" in out and r"\frac{1}{2}" in out
    both = render_text(rf"\deriv[symmetric={{X, A}}, lang=en]<\operatorname{{tr}}({B}{{A}}{B}{{X}})><{B}{{X}}>" + "\n")
    assert "a symmetric matrix is its own transpose" in both
    front = "---\nmatdiff:\n  lang: en\n  symmetric: [X, A]\n---\n\n" + \
        rf"\deriv<\operatorname{{tr}}({B}{{A}}{B}{{X}})><{B}{{X}}>" + "\n"
    assert render_text(front) .count("a symmetric matrix is its own transpose") == 1
    note = tmp_path / "n.md"
    note.write_text(rf"\deriv[lang=en]<\operatorname{{tr}}({B}{{A}}{B}{{X}})><{B}{{X}}>" + "\n")
    (tmp_path / "matdiff-tex.toml").write_text('symmetric = ["X", "A"]\n')
    res = cli("render", str(note), "--config", str(tmp_path / "matdiff-tex.toml"))
    assert res.exit_code == 0, res.stderr
    assert "a symmetric matrix is its own transpose" in res.stdout
    res = cli("derive", rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", rf"{B}{{X}}", "--symmetric", "X", "--lang", "en")
    joined = re.sub(r"\} \\\\\n *&\\quad \\phantom\{\\Longrightarrow\} \\text\{", " ", res.stdout)  # a continued note
    assert res.exit_code == 0 and "symmetric gradient" in joined


def test_checker_perturbs_along_symmetric_directions() -> None:
    """The numeric check accepts (G + G^T)/2 for a symmetric X and refuses G and G + G^T - diag(G)."""
    from matdiff_tex.check.verify import check_derivative
    from matdiff_tex.errors import InternalError
    from matdiff_tex.expr.reader import read_derivative_input, read_expression

    parsed = read_derivative_input(rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", rf"{B}{{X}}", {"X": (3, 3)}, {"X"})
    shapes = {"A": (3, 3), "X": (3, 3)}
    right = read_expression(rf"\frac{{1}}{{2}}({B}{{A}} + {B}{{A}}^{{\top}})", shapes)
    check_derivative(parsed.f, parsed.x, right, layout="denominator", symmetric={"X"})
    for wrong in (rf"{B}{{A}}^{{\top}}", rf"{B}{{A}} + {B}{{A}}^{{\top}} - {B}{{I}} \odot {B}{{A}}"):
        with pytest.raises(InternalError):
            check_derivative(parsed.f, parsed.x, read_expression(wrong, shapes), layout="denominator",
                             symmetric={"X"})
    with pytest.raises(InternalError):  # without the symmetric directions the symmetric part is wrong
        check_derivative(parsed.f, parsed.x, right, layout="denominator")


def _commutation(n: int) -> np.ndarray:
    k = np.zeros((n * n, n * n))
    for i in range(n):
        for j in range(n):
            k[i * n + j, j * n + i] = 1
    return k


def _fd_second(fn, values: dict, e1: np.ndarray, e2: np.ndarray, h: float = 1e-4) -> float:
    """d²f[E1, E2] by central differences of an independent numpy f."""
    x0 = values["X"]

    def at(a: float, b: float) -> float:
        return fn({**values, "X": x0 + a * e1 + b * e2})

    return (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)


def _check_symmetric_hessian(f: str, values: dict, fn, sym: set | None = None) -> np.ndarray:
    """H maps symmetric directions to symmetric ones (K H = H = H K) and vec(E1)^T H vec(E2) is d²f[E1, E2]
    for every pair of symmetric basis directions; the same matrix in both layouts. Returns H."""
    n = values["X"].shape[0]
    k = _commutation(n)
    found = []
    for layout in ("numerator", "denominator"):
        d = derive(f, rf"{B}{{X}}", order=2, layout=layout, symmetric=sym or {"X"},
                   shapes={k_: v.shape for k_, v in values.items()})
        h = evaluated(d.result_latex, values, dim_bindings(d, values) or {"n": n})
        assert h.shape == (n * n, n * n), d.result_latex
        assert np.allclose(k @ h, h, atol=1e-9) and np.allclose(h @ k, h, atol=1e-9), d.result_latex
        for e1 in _sym_directions(n):
            for e2 in _sym_directions(n):
                want = _fd_second(fn, values, e1, e2)
                got = e1.reshape(-1, order="F") @ h @ e2.reshape(-1, order="F")
                assert np.isclose(got, want, rtol=1e-5, atol=1e-6), (f, layout, d.result_latex)
        found.append(h)
    assert np.allclose(found[0], found[1])
    return found[0]


SYMMETRIC_HESSIANS = [
    (rf"\log|{B}{{X}}|", lambda v: np.linalg.slogdet(v["X"])[1], {"X": "spd"}),
    (rf"{B}{{a}}^{{\top}}{B}{{X}}^{{-1}}{B}{{a}}", lambda v: (v["a"].T @ np.linalg.inv(v["X"]) @ v["a"]).item(),
     {"X": "spd", "a": "vec"}),
    (rf"\operatorname{{tr}}({B}{{X}}{B}{{A}}{B}{{X}}{B}{{B}})", lambda v: np.trace(v["X"] @ v["A"] @ v["X"] @ v["B"]),
     {"X": "sym", "A": "any", "B": "any"}),
    (rf"\operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}{B}{{X}})", lambda v: np.trace(v["X"].T @ v["A"] @ v["X"]),
     {"X": "sym", "A": "any"}),
    (rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})^{{2}}", lambda v: np.trace(v["A"] @ v["X"]) ** 2, {"X": "sym", "A": "any"}),
]


@pytest.mark.parametrize("f,fn,kinds", SYMMETRIC_HESSIANS, ids=[r[0] for r in SYMMETRIC_HESSIANS])
def test_symmetric_hessian_along_symmetric_directions(f, fn, kinds) -> None:
    _check_symmetric_hessian(f, _draw(kinds, n=3), fn)


def test_seed001_ex2_and_seed004_logdet_hessian_under_symmetry() -> None:
    """Seed 001 例2 and seed 004 三.2: ∇ log|X| = X^{-1} and ∇² = -(X^{-1} ⊗ X^{-1}) "for symmetric X".

    The seeds' matrix is right as the second differential on symmetric directions (vec(E)^T M vec(E)
    for symmetric E) but it is not the Hessian in the space of symmetric matrices, which maps
    antisymmetric directions to 0: ours is P M P with P = (I + K)/2. Seed 001's unconstrained
    -K (X^{-T} ⊗ X^{-1}) agrees with both on symmetric directions."""
    values = {"X": _sym(3, spd=True)}
    x_inv = np.linalg.inv(values["X"])
    h = _check_symmetric_hessian(rf"\log|{B}{{X}}|", values, lambda v: np.linalg.slogdet(v["X"])[1])
    k, p = _commutation(3), (np.eye(9) + _commutation(3)) / 2
    seed = -np.kron(x_inv, x_inv)
    seed001_general = -k @ np.kron(x_inv.T, x_inv)
    assert np.allclose(p @ seed @ p, h) and np.allclose(p @ seed001_general @ p, h)
    assert not np.allclose(seed, h)  # the seeds' matrix differs on antisymmetric directions
    for layout in ("numerator", "denominator"):  # the gradient is the seed's X^{-1} exactly
        d = derive(rf"\log|{B}{{X}}|", rf"{B}{{X}}", layout=layout, symmetric={"X"})
        assert d.result_latex == rf"{B}{{X}}^{{-1}}"
    d = derive(rf"\log|{B}{{X}}|", rf"{B}{{X}}", order=2, symmetric={"X"})
    assert d.result_latex == rf"-\frac{{1}}{{2}} ({B}{{X}}^{{-1}} \otimes {B}{{X}}^{{-1}}) ({B}{{I}}_{{n^{{2}}}} + {B}{{K}}_{{nn}})"
    assert [row.note for row in d.rows()].count("symmetric_gradient") == 1


def test_seed004_trace_hessian_with_a_symmetric_a() -> None:
    """Seed 004 三.3: ∇ tr(X^T A X) = (A + A^T) X and ∇² = I ⊗ (A + A^T): 2AX and 2 (I ⊗ A) for a symmetric A."""
    a, x = _sym(3), RNG.normal(size=(3, 2))
    values = {"A": a, "X": x}
    f = rf"\mathrm{{tr}}(\mathbf{{X}}^T\mathbf{{A}}\mathbf{{X}})"
    fn = lambda v: np.trace(v["X"].T @ v["A"] @ v["X"])  # noqa: E731
    d = derive(f, r"\mathbf{X}", layout="denominator", symmetric={"A"})
    got = evaluated(d.result_latex, values)
    jac, shape = fd_jacobian(fn, values, "X")
    assert_close(got, arrange(jac, shape, (3, 2), "denominator"), 1e-6, d.result_latex)
    assert np.allclose(got, (a + a.T) @ x)  # the seed's gradient, right for every A
    hd = derive(f, r"\mathbf{X}", order=2, symmetric={"A"})
    h = evaluated(hd.result_latex, values, {"n": 2})
    assert_close(h, fd_hessian(fn, values, "X"), 1e-4, hd.result_latex)
    assert np.allclose(h, np.kron(np.eye(2), a + a.T))  # the seed's Hessian
    assert hd.result_latex == r"2 (\mathbf{I}_{n} \otimes \mathbf{A})"


def _unvech(v: np.ndarray, n: int) -> np.ndarray:
    """The symmetric n x n matrix whose entries on and below the diagonal (column by column) are v."""
    x = np.zeros((n, n))
    k = 0
    for j in range(n):
        for i in range(j, n):
            x[i, j] = x[j, i] = v[k]
            k += 1
    return x


def _vech(x: np.ndarray) -> np.ndarray:
    return np.array([x[i, j] for j in range(x.shape[0]) for i in range(j, x.shape[0])])


VECH = [
    (rf"\log|{B}{{X}}|", {"X": "spd"}, lambda v: np.linalg.slogdet(v["X"])[1]),
    (rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", {"X": "sym", "A": "any"}, lambda v: np.trace(v["A"] @ v["X"])),
    (rf"{B}{{X}}^{{-1}}", {"X": "spd"}, lambda v: np.linalg.inv(v["X"])),
    (rf"{B}{{A}}{B}{{X}}{B}{{X}}", {"X": "sym", "A": "any"}, lambda v: v["A"] @ v["X"] @ v["X"]),
    (rf"{B}{{a}}^{{\top}}{B}{{X}}^{{-1}}{B}{{a}}", {"X": "spd", "a": "vec"},
     lambda v: (v["a"].T @ np.linalg.inv(v["X"]) @ v["a"]).item()),
]


@pytest.mark.parametrize("f,kinds,fn", VECH, ids=[r[0] for r in VECH])
def test_derivative_by_vech(f, kinds, fn) -> None:
    """vech=True: d vec F / d vech(X)^T (numerator), its transpose (denominator), against central differences
    in the free entries x_ij (i >= j) of a symmetric X; the Hessian of a scalar f as well."""
    values = _draw(kinds, n=3)
    v0, h = _vech(values["X"]), 1e-6

    def f_of(v: np.ndarray) -> np.ndarray:
        return np.atleast_2d(fn({**values, "X": _unvech(v, 3)})).reshape(-1, order="F")

    jac = np.array([(f_of(v0 + h * e) - f_of(v0 - h * e)) / (2 * h) for e in np.eye(6)]).T  # pq x 6
    for layout in ("numerator", "denominator"):
        d = derive(f, rf"{B}{{X}}", layout=layout, vech=True)
        got = evaluated(d.result_latex, values, {"n": 3})
        assert_close(got, jac if layout == "numerator" else jac.T, 1e-6, f"{f} ({layout}) = {d.result_latex}")
        assert r"\text{vech}" in d.lhs_latex
    if jac.shape[0] == 1:
        def grad(v: np.ndarray) -> np.ndarray:
            return np.array([(f_of(v + h * e) - f_of(v - h * e))[0] / (2 * h) for e in np.eye(6)])
        g = 1e-4
        hess = np.array([(grad(v0 + g * e) - grad(v0 - g * e)) / (2 * g) for e in np.eye(6)])
        d = derive(f, rf"{B}{{X}}", order=2, vech=True)
        assert_close(evaluated(d.result_latex, values, {"n": 3}), (hess + hess.T) / 2, 1e-4, d.result_latex)


def test_vech_results_are_magnus_neudecker() -> None:
    """d vec(X^{-1}) / d vech(X)^T = -(X^{-1} ⊗ X^{-1}) D_n and ∇² log|X| by vech(X) = -D_n^T (X^{-1} ⊗ X^{-1}) D_n;
    ∂ tr(AX) / ∂ vech(X) = D_n^T vec(A^T): the G + G^T - diag(G) entries (partials by x_ij, i >= j)."""
    d = derive(rf"{B}{{X}}^{{-1}}", rf"{B}{{X}}", vech=True)
    assert d.result_latex == rf"-({B}{{X}}^{{-1}} \otimes {B}{{X}}^{{-1}}) {B}{{D}}_{{n}}"
    d = derive(rf"\log|{B}{{X}}|", rf"{B}{{X}}", order=2, vech=True)
    assert d.result_latex == rf"-{B}{{D}}_{{n}}^{{\top}} ({B}{{X}}^{{-1}} \otimes {B}{{X}}^{{-1}}) {B}{{D}}_{{n}}"
    assert d.shape == ("n(n+1)/2", "n(n+1)/2")
    a = RNG.normal(size=(3, 3))
    d = derive(rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", rf"{B}{{X}}", layout="denominator", vech=True)
    got = evaluated(d.result_latex, {"A": a, "X": _sym(3)}).ravel()
    assert np.allclose(got, _vech(a + a.T - np.diag(np.diag(a))))


def test_vech_from_a_directive_and_its_errors() -> None:
    from matdiff_tex import render_text

    out = render_text(rf"\deriv[vech=true, lang=en]<{B}{{X}}^{{-1}}><{B}{{X}}>" + "\n")
    assert r"\frac{\partial \boldsymbol{X}^{-1} }{\partial \text{vech}(\boldsymbol{X})}" in out
    assert "duplication matrix" in out and rf"{B}{{D}}_{{n}}" in out
    with pytest.raises(MatdiffError, match="square matrix"):
        derive(rf"{B}{{A}}{B}{{x}}", rf"{B}{{x}}", vech=True)
    with pytest.raises(MatdiffError, match="vech"):
        render_text(rf"\deriv[vech=maybe]<{B}{{X}}><{B}{{X}}>" + "\n")
    # in F a D_n is the author's symbol; in what derive() writes (read by evaluate) it is the duplication matrix
    d = derive(rf"\operatorname{{tr}}({B}{{D}}_{{n}}{B}{{X}})", rf"{B}{{X}}")
    assert d.result_latex == rf"{B}{{D}}_{{n}}"


# ----------------------------------------------------------------------------- item 6: by a scalar

from derive_cases import expm as np_expm  # noqa: E402 - an independent series implementation

BY_SCALAR = [
    (rf"e^{{t{B}{{A}}}}", {"A": (3, 3)}, lambda v, t: np_expm(t * v["A"])),
    (rf"(\boldsymbol{{A}} + t\boldsymbol{{B}})^{{-1}}", {"A": (3, 3), "B": (3, 3)},
     lambda v, t: np.linalg.inv(v["A"] + 3 * np.eye(3) + t * v["B"])),
    (rf"\log\det({B}{{X}} + t{B}{{I}})", {"X": (3, 3)}, lambda v, t: np.linalg.slogdet(v["X"] + 3 * np.eye(3) + t * np.eye(3))[1]),
    (rf"{B}{{A}}{B}{{x}} t^{{2}} + \sin(t) {B}{{b}}", {"A": (2, 3), "x": (3, 1), "b": (2, 1)},
     lambda v, t: v["A"] @ v["x"] * t ** 2 + np.sin(t) * v["b"]),
    (rf"t^{{3}} \log t", {}, lambda v, t: t ** 3 * np.log(t)),
    (rf"\operatorname{{tr}}(e^{{t{B}{{A}}}}{B}{{C}})", {"A": (3, 3), "C": (3, 3)}, lambda v, t: np.trace(np_expm(t * v["A"]) @ v["C"])),
    (rf"{B}{{x}}^{{\top}}{B}{{x}}", {"x": (3, 1)}, lambda v, t: (v["x"].T @ v["x"]).item()),
]


@pytest.mark.parametrize("f,sizes,fn", BY_SCALAR, ids=[r[0] for r in BY_SCALAR])
def test_derivative_by_a_scalar(f, sizes, fn) -> None:
    values = {name: RNG.normal(size=shape) * 0.5 for name, shape in sizes.items()}
    t0, h = 0.7, 1e-6
    latex_values = dict(values)
    if "(\\boldsymbol{A} + t" in f:
        latex_values["A"] = values["A"] + 3 * np.eye(3)
    if r"\log\det" in f:
        latex_values["X"] = values["X"] + 3 * np.eye(3)
    want = np.atleast_2d((np.asarray(fn(values, t0 + h)) - np.asarray(fn(values, t0 - h))) / (2 * h))
    for layout in ("numerator", "denominator"):
        d = derive(f, "t", layout=layout)
        got = evaluated(d.result_latex, {**latex_values, "t": t0}, dim_bindings(d, latex_values) or None)
        expect = want.T if layout == "denominator" and want.shape[1] == 1 and want.size > 1 else want
        assert_close(got, expect, 1e-6, f"d/dt {f} ({layout}) = {d.result_latex}")
    if want.size == 1:
        d2 = derive(f, "t", order=2)
        want2 = (fn(values, t0 + 1e-4) - 2 * fn(values, t0) + fn(values, t0 - 1e-4)) / 1e-8
        got2 = evaluated(d2.result_latex, {**latex_values, "t": t0}, dim_bindings(d2, latex_values) or None)
        assert_close(got2, np.atleast_2d(want2), 1e-4, f"d2/dt2 {f} = {d2.result_latex}")


def test_expm_by_a_scalar_is_a_times_expm() -> None:
    d = derive(rf"e^{{t{B}{{A}}}}", "t")
    assert d.result_latex in (rf"e^{{t {B}{{A}}}} {B}{{A}}", rf"{B}{{A}} e^{{t {B}{{A}}}}")
    assert r"\int" not in "".join(row.rhs for row in d.rows())


def test_scalar_variable_written_as_a_vector_in_f_is_an_error() -> None:
    with pytest.raises(MatdiffError, match="scalar in X"):
        derive(rf"{B}{{x}}^{{\top}}{B}{{x}}", "x")


# ----------------------------------------------------------------------------- item 5: abstract functions


def _lse(u):
    return float(np.log(np.sum(np.exp(u))))


def _softmax(u):
    e = np.exp(u - np.max(u))
    return e / np.sum(e)


ELL = (_lse, _softmax)  # log-sum-exp and its gradient, independent of the engine
TANH = (np.tanh, lambda u: 1 - np.tanh(u) ** 2, lambda u: -2 * np.tanh(u) * (1 - np.tanh(u) ** 2))

ABSTRACT = [
    (rf"\ell({B}{{W}}{B}{{x}} + {B}{{b}})", rf"{B}{{W}}", "W", {r"\ell": "scalar"},
     {"W": (3, 4), "x": (4, 1), "b": (3, 1)}, lambda v: _lse(v["W"] @ v["x"] + v["b"])),
    (rf"f({B}{{W}}{B}{{x}})", rf"{B}{{W}}", "W", {"f": "elementwise"},
     {"W": (3, 4), "x": (4, 1)}, lambda v: np.tanh(v["W"] @ v["x"])),
    (rf"\ell(f({B}{{W}}_2 f({B}{{W}}_1 {B}{{x}})))", rf"{B}{{W}}_1", "W_1", {r"\ell": "scalar", "f": "elementwise"},
     {"W_1": (3, 4), "W_2": (2, 3), "x": (4, 1)}, lambda v: _lse(np.tanh(v["W_2"] @ np.tanh(v["W_1"] @ v["x"])))),
    (rf"\ell({B}{{X}}^{{\top}}{B}{{A}})", rf"{B}{{X}}", "X", {r"\ell": "scalar"},
     {"X": (3, 2), "A": (3, 4)}, lambda v: _lse(v["X"].T @ v["A"])),
    (rf"f'({B}{{a}}^{{\top}}{B}{{x}})", rf"{B}{{x}}", "x", {"f": "elementwise"},
     {"a": (4, 1), "x": (4, 1)}, lambda v: TANH[1](v["a"].T @ v["x"])),
]


@pytest.mark.parametrize("f,x,var,functions,sizes,fn", ABSTRACT, ids=[r[0] for r in ABSTRACT])
def test_abstract_functions(f, x, var, functions, sizes, fn) -> None:
    values = {name: RNG.normal(size=shape) * 0.5 for name, shape in sizes.items()}
    callables = {r"\ell": ELL, "f": TANH}
    for layout in ("numerator", "denominator"):
        d = derive(f, x, layout=layout, functions=functions, shapes={k: v for k, v in sizes.items()})
        got = evaluate(d.result_latex, {**values, **{k: v for k, v in callables.items() if k in functions}},
                       functions=functions)
        jac, f_shape = fd_jacobian(fn, values, var)
        assert_close(np.atleast_2d(got), arrange(jac, f_shape, values[var].shape, layout), 1e-5,
                     f"{f} ({layout}) = {d.result_latex}")


def test_abstract_function_gradient_layouts() -> None:
    d = derive(rf"\ell({B}{{W}}{B}{{x}} + {B}{{b}})", rf"{B}{{W}}", layout="denominator", functions={r"\ell": "scalar"})
    assert d.result_latex == rf"\nabla \ell({B}{{W}} {B}{{x}} + {B}{{b}}) {B}{{x}}^{{\top}}"


def test_abstract_function_from_a_directive_and_its_errors() -> None:
    from matdiff_tex import render_text

    out = render_text(rf"\deriv[functions={{\ell: scalar}}, lang=en]<\ell({B}{{W}}{B}{{x}})><{B}{{W}}>" + "\n")
    assert r"\nabla \ell" in out and "chain rule" in out
    with pytest.raises(MatdiffError, match="Hessian"):
        derive(rf"\ell({B}{{x}})", rf"{B}{{x}}", order=2, functions={r"\ell": "scalar"})
    with pytest.raises(MatdiffError, match="gradient"):
        derive(rf"\ell'({B}{{x}})", rf"{B}{{x}}", functions={r"\ell": "scalar"})
    with pytest.raises(MatdiffError, match="scalar or elementwise"):
        derive(rf"\ell({B}{{x}})", rf"{B}{{x}}", functions={r"\ell": "vector"})


# ----------------------------------------------------------------------------- item 2: stated assumptions


def test_softmax_cross_entropy_with_simplex_labels() -> None:
    """Seed 001 例5: with 1^T y = 1 the gradient is (softmax(Wx) - y) x^T, at points where it holds."""
    f = rf"-{B}{{y}}^{{\top}}\log\operatorname{{softmax}}({B}{{W}}{B}{{x}})"
    where = [rf"{B}{{1}}^{{\top}}{B}{{y}} = 1"]
    y = np.abs(RNG.normal(size=(3, 1)))
    values = {"W": RNG.normal(size=(3, 4)), "x": RNG.normal(size=(4, 1)), "y": y / y.sum()}

    def fn(v):
        u = v["W"] @ v["x"]
        return -(v["y"].T @ (u - np.log(np.sum(np.exp(u))))).item()

    for layout in ("numerator", "denominator"):
        d = derive(f, rf"{B}{{W}}", layout=layout, where=where)
        assert r"\boldsymbol{1}" not in d.result_latex
        got = evaluated(d.result_latex, values, dim_bindings(d, values))
        jac, shape = fd_jacobian(fn, values, "W")
        assert_close(got, arrange(jac, shape, (3, 4), layout), 1e-5, d.result_latex)
    assert d.result_latex == rf"(\operatorname{{softmax}}({B}{{W}} {B}{{x}}) - {B}{{y}}) {B}{{x}}^{{\top}}"
    assert any(row.note == "where" for row in d.rows())
    unconstrained = derive(f, rf"{B}{{W}}", layout="denominator")
    assert r"\boldsymbol{1}" in unconstrained.result_latex  # without the assumption it is not simplified


def test_orthonormal_columns_and_symmetric_assumptions() -> None:
    q, _ = np.linalg.qr(RNG.normal(size=(5, 3)))
    values = {"Q": q, "X": RNG.normal(size=(3, 3))}
    d = derive(rf"\operatorname{{tr}}({B}{{Q}}^{{\top}}{B}{{Q}}{B}{{X}})", rf"{B}{{X}}",
               where=[rf"{B}{{Q}}^{{\top}}{B}{{Q}} = {B}{{I}}"])
    assert d.result_latex.startswith(rf"{B}{{I}}")
    jac, shape = fd_jacobian(lambda v: np.trace(v["Q"].T @ v["Q"] @ v["X"]), values, "X")
    assert_close(evaluated(d.result_latex, values, {"n": 3}), arrange(jac, shape, (3, 3), "numerator"), 1e-6, "QtQ")
    d = derive(rf"\operatorname{{tr}}({B}{{A}}{B}{{X}})", rf"{B}{{X}}", where=[rf"{B}{{A}}^{{\top}} = {B}{{A}}"])
    assert d.result_latex == rf"{B}{{A}}"


def test_assumptions_are_checked_at_points_that_satisfy_them() -> None:
    """The check draws y with 1^T y = 1: the simplified result would fail at an unconstrained point."""
    from matdiff_tex.check.numeric import satisfy_assumptions, using_assumptions

    with using_assumptions([("sum", "y", 1.0), ("columns", "Q", 0.0)]):
        v = satisfy_assumptions({"y": RNG.uniform(0.5, 1.5, (4, 1)), "Q": RNG.normal(size=(5, 3))})
    assert np.isclose(v["y"].sum(), 1.0) and np.allclose(v["Q"].T @ v["Q"], np.eye(3))


@pytest.mark.parametrize("where,match", [
    (rf"{B}{{X}}^{{\top}} = {B}{{X}}", "constrains the variable"),
    (rf"{B}{{y}}^{{\top}}{B}{{y}} = 1", "cannot use"),
    ("a + b", "equation"),
])
def test_assumptions_that_are_not_understood_are_errors(where, match) -> None:
    with pytest.raises(MatdiffError, match=match):
        derive(rf"{B}{{y}}^{{\top}}{B}{{X}}{B}{{y}}", rf"{B}{{X}}", where=[where])


def test_where_in_a_directive() -> None:
    from matdiff_tex import render_text

    text = (rf"\deriv[where={{{B}{{1}}^{{\top}}{B}{{y}} = 1}}, lang=en, layout=denominator]"
            rf"<-{B}{{y}}^{{\top}}\log\operatorname{{softmax}}({B}{{W}}{B}{{x}})><{B}{{W}}>" + "\n")
    out = render_text(text)
    assert "use the stated value of $" in out and rf"(\operatorname{{softmax}}({B}{{W}} {B}{{x}}) - {B}{{y}}) {B}{{x}}^{{\top}}" in out


def test_an_assumption_not_understood_points_at_the_where_option() -> None:
    """path:line:col of the where= value, also when the failure comes back from the cache."""
    from matdiff_tex.document import process_document

    text = ("Text\n\n" + rf"\deriv[lang=en, where={{{B}{{y}}^{{\top}}{B}{{y}} = 1}}]"
            rf"<{B}{{y}}^{{\top}}{B}{{X}}{B}{{y}}><{B}{{X}}>" + "\n")
    column = text.splitlines()[2].index("where=") + len("where=") + 1
    for _ in range(2):
        result = process_document(text, "markdown", path="note.md")
        assert [e.format().splitlines()[0] for e in result.errors] == [
            f"note.md:3:{column}: error: where: cannot use {B}{{y}}^{{\\top}}{B}{{y}} = 1; understood are "
            "1^T y = c, A^T = A, Q^T Q = I and Q Q^T = I"]


# ----------------------------------------------------------------------------- item 7: structures declined before

DECLINED = [
    (rf"\operatorname{{diag}}({B}{{A}}{B}{{x}})", {"A": (3, 4), "x": (4, 1)}, lambda v: np.diag((v["A"] @ v["x"]).ravel())),
    (rf"\operatorname{{diag}}({B}{{x}}){B}{{A}}\operatorname{{diag}}({B}{{x}})", {"A": (3, 3), "x": (3, 1)},
     lambda v: np.diag(v["x"].ravel()) @ v["A"] @ np.diag(v["x"].ravel())),
    (rf"{B}{{B}}\operatorname{{diag}}({B}{{x}}){B}{{C}}", {"B": (2, 3), "x": (3, 1), "C": (3, 4)},
     lambda v: v["B"] @ np.diag(v["x"].ravel()) @ v["C"]),
]


@pytest.mark.parametrize("f,sizes,fn", DECLINED, ids=[r[0] for r in DECLINED])
def test_diag_structures(f, sizes, fn) -> None:
    _check(f, rf"{B}{{x}}", "x", sizes, fn)


def _vec(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, 1, order="F")


KRONECKER = [
    (rf"\operatorname{{vec}}({B}{{X}})^{{\top}}({B}{{A}}\otimes{B}{{B}})\operatorname{{vec}}({B}{{X}})", "X",
     {"X": (3, 4), "A": (4, 4), "B": (3, 3)},
     lambda v: (_vec(v["X"]).T @ np.kron(v["A"], v["B"]) @ _vec(v["X"])).item()),
    (rf"\operatorname{{vec}}({B}{{X}})^{{\top}}({B}{{A}}\otimes{B}{{B}})\operatorname{{vec}}({B}{{Y}})", "X",
     {"X": (2, 3), "Y": (4, 5), "A": (3, 5), "B": (2, 4)},
     lambda v: (_vec(v["X"]).T @ np.kron(v["A"], v["B"]) @ _vec(v["Y"])).item()),
    (rf"\det({B}{{A}}\otimes{B}{{X}})", "X", {"A": (2, 2), "X": (3, 3)},
     lambda v: np.linalg.det(np.kron(v["A"] + 2 * np.eye(2), v["X"] + 3 * np.eye(3)))),
    (rf"\log\det({B}{{X}}\otimes{B}{{A}})", "X", {"A": (2, 2), "X": (3, 3)},
     lambda v: np.linalg.slogdet(np.kron(v["X"] + 3 * np.eye(3), v["A"] + 2 * np.eye(2)))[1]),
    (rf"({B}{{x}}\otimes{B}{{x}})^{{\top}}\operatorname{{vec}}({B}{{A}})", "x", {"x": (3, 1), "A": (3, 3)},
     lambda v: (np.kron(v["x"], v["x"]).T @ _vec(v["A"])).item()),
    (rf"({B}{{a}}\otimes{B}{{x}})^{{\top}}\operatorname{{vec}}({B}{{C}})", "x", {"x": (3, 1), "a": (2, 1), "C": (3, 2)},
     lambda v: (np.kron(v["a"], v["x"]).T @ _vec(v["C"])).item()),
    (rf"\operatorname{{tr}}(({B}{{A}}\otimes{B}{{B}})({B}{{C}}\otimes{B}{{X}}))", "X",
     {"A": (2, 3), "B": (4, 5), "C": (3, 2), "X": (5, 4)},
     lambda v: np.trace(np.kron(v["A"], v["B"]) @ np.kron(v["C"], v["X"]))),
]


@pytest.mark.parametrize("f,var,sizes,fn", KRONECKER, ids=[r[0] for r in KRONECKER])
def test_kronecker_inside_traces_and_inner_products(f, var, sizes, fn) -> None:
    """Item 7: Kronecker products next to other factors in a scalar, against finite differences."""
    values = _values(sizes)
    latex_values = dict(values)
    if r"\det" in f:  # the numpy f shifts A and X to keep the determinant away from 0: so do the values
        latex_values = {"A": values["A"] + 2 * np.eye(2), "X": values["X"] + 3 * np.eye(3)}
    shapes = {k: v for k, v in sizes.items()}
    for layout in ("numerator", "denominator"):
        d = derive(f, rf"{B}{{{var}}}", layout=layout, shapes=shapes)
        got = evaluated(d.result_latex, latex_values, dim_bindings(d, latex_values))
        jac, f_shape = fd_jacobian(fn, values, var)
        assert_close(got, arrange(jac, f_shape, values[var].shape, layout), 1e-5, f"{f} ({layout}) = {d.result_latex}")
        assert r"\operatorname{tr}(\boldsymbol{I}" not in d.result_latex  # tr(I_2) of a given size is 2


def test_kronecker_quadratic_form_reads_as_a_trace() -> None:
    """vec(X)^T (A ⊗ B) vec(X) = tr(X^T B X A^T) with the sizes inferred: A beside X's columns."""
    d = derive(rf"\operatorname{{vec}}({B}{{X}})^{{\top}}({B}{{A}}\otimes{B}{{B}})\operatorname{{vec}}({B}{{X}})", rf"{B}{{X}}",
               layout="denominator")
    v = _values({"X": (3, 4), "A": (4, 4), "B": (3, 3)})
    got = evaluated(d.result_latex, v)
    assert np.allclose(got, v["B"] @ v["X"] @ v["A"].T + v["B"].T @ v["X"] @ v["A"]), d.result_latex
    assert "vec_trace" in [row.note for row in d.rows()]
    d = derive(rf"\det({B}{{A}}\otimes{B}{{X}})", rf"{B}{{X}}", layout="denominator")
    assert "kron_mixed" in [row.note for row in d.rows()]


def test_structures_still_declined_say_so_with_a_message() -> None:
    import re

    for f, x in ((rf"\operatorname{{tr}}({B}{{C}}({B}{{A}}\otimes{B}{{X}}))", rf"{B}{{X}}"),
                 (rf"\operatorname{{vec}}({B}{{X}})^{{\top}}{B}{{C}}\operatorname{{vec}}({B}{{X}})", rf"{B}{{X}}")):
        with pytest.raises(MatdiffError) as info:
            derive(f, x)
        assert info.value.field == "F" and info.value.span is not None, info.value
        assert "not supported yet" in info.value.message and "\\" in info.value.message, info.value
        assert not re.search(r"\b(Vec|Kron|Diag|Mul|Trace|Sym|Hadamard|Applied|Transpose|Inverse)\b",
                             info.value.message), info.value
