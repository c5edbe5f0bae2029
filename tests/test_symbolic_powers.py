"""Symbolic integer powers (seed 000): ∂X^n/∂X and ∂tr(X^n)/∂X for a symbol n.

The derivative is printed once, for every n; it is compared here with central finite differences
of numpy's own ``matrix_power`` at n = 1, 2, 3, 5 (and a larger n), at random points, with the
sizes given or inferred, in both layouts.  ``evaluate()`` reads the printed sum with n from
``values`` or from ``dims``.
"""

from __future__ import annotations

import numpy as np
import pytest

import matdiff_tex
from matdiff_tex import derive
from matdiff_tex.errors import UnsupportedError

from derive_cases import fd_jacobian
from test_derive_table import arrange, assert_close, dim_bindings

LAYOUTS = ("numerator", "denominator")
NS = (1, 2, 3, 5)


def _evaluate(latex: str, values: dict, dims: dict | None = None) -> np.ndarray:
    fn = matdiff_tex.evaluate if callable(matdiff_tex.evaluate) else matdiff_tex.evaluate.evaluate
    return np.atleast_2d(np.asarray(fn(latex, values, dims)))


def _square(rng: np.random.Generator, size: int) -> np.ndarray:
    """Entries of both signs, unsymmetric, moderate spectral radius (X^5 stays well scaled)."""
    return 0.3 * rng.standard_normal((size, size)) + 0.5 * np.eye(size)


def _fd(fn, x: np.ndarray, layout: str) -> np.ndarray:
    jac, f_shape = fd_jacobian(lambda v: fn(v["X"]), {"X": x}, "X")
    return arrange(jac, f_shape, x.shape, layout)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", [2, 3, 4])
def test_matrix_power_matches_finite_differences(layout: str, size: int) -> None:
    d = derive(r"\boldsymbol{A}^{n}", r"\boldsymbol{A}", layout=layout)
    rng = np.random.default_rng(size * 7 + len(layout))
    for n in (*NS, 7):
        a = _square(rng, size)
        want = _fd(lambda x: np.linalg.matrix_power(x, n), a, layout)
        got = _evaluate(d.result_latex, {"A": a, "n": n})
        assert_close(got, want, 1e-6, f"A^n, n = {n}, {size}x{size}, {layout}")
        assert_close(_evaluate(d.result_latex, {"A": a}, {"n": n}), want, 1e-6, f"n from dims, n = {n}")


def test_numerator_form_is_the_kronecker_sum_of_the_issue() -> None:
    """Σ_{k=0}^{n-1} (A^T)^k ⊗ A^{n-1-k} in numerator layout, its transpose in denominator layout,
    and each entry built here by numpy from that formula (not from the printed text)."""
    num = derive(r"\boldsymbol{A}^{n}", r"\boldsymbol{A}")
    den = derive(r"\boldsymbol{A}^{n}", r"\boldsymbol{A}", layout="denominator")
    assert num.result_latex == r"\sum_{k=0}^{n - 1} (\boldsymbol{A}^{\top})^{k} \otimes \boldsymbol{A}^{n - 1 - k}"
    a = _square(np.random.default_rng(3), 3)
    mp = np.linalg.matrix_power
    for n in NS:
        formula = sum(np.kron(mp(a.T, k), mp(a, n - 1 - k)) for k in range(n))
        assert_close(_evaluate(num.result_latex, {"A": a, "n": n}), formula, 1e-12, f"numerator n = {n}")
        assert_close(_evaluate(den.result_latex, {"A": a, "n": n}), formula.T, 1e-12, f"denominator n = {n}")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_steps_follow_seed000_pattern_then_the_sum(layout: str) -> None:
    d = derive(r"\boldsymbol{A}^{n}", r"\boldsymbol{A}", layout=layout)
    rows = d.rows()
    lhs = [row.lhs for row in rows if row.lhs]
    assert lhs[:3] == [r"\frac{\partial \boldsymbol{A}^{2}}{\partial \boldsymbol{A}}",
                       r"\frac{\partial \boldsymbol{A}^{3}}{\partial \boldsymbol{A}}",
                       r"\frac{\partial \boldsymbol{A}^{n}}{\partial \boldsymbol{A}}"]
    text = "\n".join(row.rhs for row in rows)
    assert r"\textcolor{red}{\boldsymbol{A}}" in text and r"\sum_{k=0}^{n - 1}" in text
    assert len(rows) <= 14
    # the n = 2 row is seed 000's (A^T ⊗ I) + (I ⊗ A) in numerator layout, checked numerically
    a = _square(np.random.default_rng(5), 3)
    first = rows[0].rhs
    want = _fd(lambda x: x @ x, a, layout)
    assert_close(_evaluate(first, {"A": a}), want, 1e-6, "the n = 2 row")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_given_shapes_and_other_spellings(layout: str) -> None:
    d = derive(r"\mathbf{X}^{n}", r"\mathbf{X}", layout=layout, shapes={"X": "4x4"})
    assert r"\mathbf{X}" in d.result_latex
    x = _square(np.random.default_rng(11), 4)
    for n in NS:
        want = _fd(lambda v: np.linalg.matrix_power(v, n), x, layout)
        assert_close(_evaluate(d.result_latex, {"X": x, "n": n}), want, 1e-6, f"X^n 4x4, n = {n}")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_exponent_expressions(layout: str) -> None:
    """X^{n+1} and X^{2m} (another letter): the sum runs to the exponent minus one."""
    rng = np.random.default_rng(13)
    for f, letter, power in ((r"\boldsymbol{X}^{n+1}", "n", lambda n: n + 1),
                             (r"\boldsymbol{X}^{2m}", "m", lambda n: 2 * n)):
        d = derive(f, r"\boldsymbol{X}", layout=layout)
        for n in NS:
            x = _square(rng, 3)
            want = _fd(lambda v: np.linalg.matrix_power(v, power(n)), x, layout)
            assert_close(_evaluate(d.result_latex, {"X": x, letter: n}), want, 1e-6, f"{f}, {letter} = {n}")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", [2, 3, 5])
def test_trace_of_power(layout: str, size: int) -> None:
    """d tr(X^n) = n tr(X^{n-1} dX): n X^{n-1} in numerator layout, n (X^{n-1})^T in denominator."""
    d = derive(r"\mathrm{tr}(\boldsymbol{X}^{n})", r"\boldsymbol{X}", layout=layout)
    expected = r"n \boldsymbol{X}^{n - 1}" if layout == "numerator" else r"n (\boldsymbol{X}^{n - 1})^{\top}"
    assert d.result_latex == expected
    rng = np.random.default_rng(size)
    for n in (*NS, 6):
        x = _square(rng, size)
        want = _fd(lambda v: np.array([[np.trace(np.linalg.matrix_power(v, n))]]), x, layout)
        assert_close(_evaluate(d.result_latex, {"X": x}, {"n": n}), want, 1e-6, f"tr(X^n), n = {n}")
    rows = d.rows()
    assert any(r"\sum_{k=0}^{n - 1}" in row.rhs for row in rows)
    assert r"\mathrm{tr}" in "".join(row.rhs for row in rows), "the author's \\mathrm{tr} is kept"


def test_every_row_is_checked_at_every_n() -> None:
    """A wrong row (here the sandwich with its factors swapped) fails the line check."""
    from dataclasses import replace

    from matdiff_tex.check.numeric import integer_points, using_integers
    from matdiff_tex.check.verify_steps import check_steps
    from matdiff_tex.errors import InternalError
    from matdiff_tex.expr.nodes import Kron, Sum

    d = derive(r"\boldsymbol{A}^{n}", r"\boldsymbol{A}")
    x = d.lhs.den
    points = integer_points(d.lhs.num)
    assert [p["n"] for p in points] == [1, 2, 3, 5]
    for point in points:
        with using_integers(point):
            assert check_steps(list(d.steps), x) == 3
    steps = list(d.steps)
    index = next(i for i, s in enumerate(steps) if isinstance(s.expr, Sum) and isinstance(s.expr.body, Kron))
    body = steps[index].expr.body
    steps[index] = replace(steps[index], expr=replace(steps[index].expr, body=Kron(body.right, body.left)))
    with using_integers({"n": 3}), pytest.raises(InternalError, match="line check failed"):
        check_steps(steps, x)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_power_between_constants(layout: str) -> None:
    """∂(A X^n B)/∂X = Σ_k B^T (X^T)^k ⊗ A X^{n-1-k} (numerator), distinct sizes A 2x3, X 3x3, B 3x4."""
    d = derive(r"\boldsymbol{A}\boldsymbol{X}^{n}\boldsymbol{B}", r"\boldsymbol{X}", layout=layout)
    rng = np.random.default_rng(31)
    for n in NS:
        a, x, b = rng.standard_normal((2, 3)), _square(rng, 3), rng.standard_normal((3, 4))
        want = _fd(lambda v: a @ np.linalg.matrix_power(v, n) @ b, x, layout)
        assert_close(_evaluate(d.result_latex, {"A": a, "X": x, "B": b, "n": n}), want, 1e-6, f"A X^n B, n = {n}")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_trace_of_power_between_constants(layout: str) -> None:
    """d tr(A X^n B) = Σ_k tr(X^k B A X^{n-1-k} dX): the sum stays (A 4x3, X 3x3, B 3x4)."""
    d = derive(r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X}^{n}\boldsymbol{B})", r"\boldsymbol{X}", layout=layout)
    rng = np.random.default_rng(37)
    for n in NS:
        a, x, b = rng.standard_normal((4, 3)), _square(rng, 3), rng.standard_normal((3, 4))
        want = _fd(lambda v: np.array([[np.trace(a @ np.linalg.matrix_power(v, n) @ b)]]), x, layout)
        assert_close(_evaluate(d.result_latex, {"A": a, "X": x, "B": b}, {"n": n}), want, 1e-6,
                     f"tr(A X^n B), n = {n}")


@pytest.mark.parametrize("f, x, kwargs", [
    (r"\boldsymbol{X}^{n}\boldsymbol{X}", r"\boldsymbol{X}", {}),
    (r"(\boldsymbol{A}\boldsymbol{X})^{n}", r"\boldsymbol{X}", {}),
    (r"\boldsymbol{X}^{n} + \boldsymbol{X}", r"\boldsymbol{X}", {}),
    (r"\operatorname{tr}(\boldsymbol{X}^{n})", r"\boldsymbol{X}", {"order": 2}),
    (r"\boldsymbol{X}^{n}", r"\boldsymbol{X}", {"symmetric": {"X"}}),
])
def test_other_symbolic_powers_are_declined_clearly(f: str, x: str, kwargs: dict) -> None:
    with pytest.raises(UnsupportedError, match="symbolic power"):
        derive(f, x, **kwargs)


def test_evaluate_reads_sums_and_symbolic_exponents() -> None:
    a = _square(np.random.default_rng(17), 3)
    mp = np.linalg.matrix_power
    got = _evaluate(r"\sum_{j=1}^{m} \boldsymbol{A}^{2j-1} + \boldsymbol{A}", {"A": a, "m": 3})
    assert_close(got, a + mp(a, 3) + mp(a, 5) + a, 1e-12, "a sum runs to the end of its term")
    empty = _evaluate(r"\sum_{k=0}^{n-1} \boldsymbol{A}^{k}", {"A": a, "n": 0})
    assert_close(empty, np.zeros((3, 3)), 0, "an empty sum is zero")
    with pytest.raises(matdiff_tex.MatdiffError, match="integer"):
        _evaluate(r"\boldsymbol{A}^{n}", {"A": a, "n": 1.5})


# ----------------------------------------------------------------------------- method=series: e^{X}


def _expm_by_eig(a: np.ndarray) -> np.ndarray:
    """e^A from the eigendecomposition (numpy only; the random A here is diagonalizable)."""
    values, vectors = np.linalg.eig(a)
    return np.real(vectors @ np.diag(np.exp(values)) @ np.linalg.inv(vectors))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_series_method_result_matches_finite_differences(layout: str) -> None:
    series = derive(r"e^{\boldsymbol{A}}", r"\boldsymbol{A}", layout=layout, method="series")
    integral = derive(r"e^{\boldsymbol{A}}", r"\boldsymbol{A}", layout=layout)
    assert series.result_latex == integral.result_latex
    seed = r"\int_0^1 e^{s \boldsymbol{A}^{\top}} \otimes e^{(1-s) \boldsymbol{A}} \, \mathrm{d}s"  # seed 000's (12)
    rng = np.random.default_rng(23)
    for size in (2, 3, 4):
        a = 0.6 * rng.standard_normal((size, size))
        want = _fd(_expm_by_eig, a, layout)
        assert_close(_evaluate(series.result_latex, {"A": a}), want, 1e-6, f"e^A by A, {size}x{size}, {layout}")
        seed_value = _evaluate(seed, {"A": a})
        assert_close(seed_value if layout == "numerator" else seed_value.T, want, 1e-6, "seed 000's result")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_series_rows_follow_seed000_and_are_all_checked(layout: str) -> None:
    """d(Σ X^n/n!), d(X^n) summed, re-indexed, the Beta integral, the integral form; each row of
    every chain is compared with its left-hand side (series truncated at convergence)."""
    from dataclasses import replace

    from matdiff_tex.check.verify_steps import check_steps
    from matdiff_tex.derivation import chains
    from matdiff_tex.errors import InternalError
    from matdiff_tex.expr.nodes import Add, Factorial, Num

    d = derive(r"e^{\boldsymbol{A}}", r"\boldsymbol{A}", layout=layout, method="series")
    text = "\n".join(row.rhs for row in d.rows())
    for piece in (r"\sum_{n=0}^{\infty} \frac{1}{n!} \boldsymbol{A}^{n}", r"\frac{1}{(p + q + 1)!}",
                  r"\int_{0}^{1} s^{p} (1 - s)^{q} \, \mathrm{d}s",
                  r"\int_{0}^{1} e^{s \boldsymbol{A}} \mathrm{d}\boldsymbol{A} \boldsymbol{E} \, \mathrm{d}s"):
        assert piece in text
    notes = [step.note for step in d.steps]
    assert notes[:6] == ["expm_series", "series_term", "reindex", "beta_integral", "swap_sum_integral",
                         "expm_series_sum"]
    steps = list(d.steps)
    x = d.lhs.den
    assert check_steps(steps, x, layout=layout) == len(chains(steps)) == 3
    # seed 000's definition with (n+1)! instead of n! is caught on the first row
    first = steps[0].expr.arg
    wrong = replace(first, body=first.body.with_children([
        replace(first.body.factors[0], den=Factorial(Add((first.var, Num(1))))), *first.body.factors[1:]]))
    steps[0] = replace(steps[0], expr=replace(steps[0].expr, arg=wrong))
    with pytest.raises(InternalError, match="line check failed"):
        check_steps(steps, x, layout=layout)


def test_the_reindexed_series_is_the_integral() -> None:
    """evaluate() sums seed 000's double series to convergence: Σ_p Σ_q (A^T)^p ⊗ A^q / (p+q+1)!
    and its Beta form equal ∫_0^1 e^{sA^T} ⊗ e^{(1-s)A} ds (which numpy computes here by eig)."""
    a = 0.5 * np.random.default_rng(29).standard_normal((3, 3))
    nodes, weights = np.polynomial.legendre.leggauss(30)
    s_values, w = (nodes + 1) / 2, weights / 2
    want = sum(wk * np.kron(_expm_by_eig(sk * a.T), _expm_by_eig((1 - sk) * a)) for sk, wk in zip(s_values, w))
    double = (r"\sum_{p=0}^{\infty} \sum_{q=0}^{\infty} \frac{1}{(p+q+1)!} (\boldsymbol{A}^{\top})^{p} "
              r"\otimes \boldsymbol{A}^{q}")
    beta = (r"\sum_{p=0}^{\infty} \sum_{q=0}^{\infty} \frac{1}{p! q!} \int_0^1 s^{p} (1-s)^{q} \, \mathrm{d}s \, "
            r"(\boldsymbol{A}^{\top})^{p} \otimes \boldsymbol{A}^{q}")
    assert_close(_evaluate(double, {"A": a}), want, 1e-12, "the re-indexed double series")
    assert_close(_evaluate(beta, {"A": a}), want, 1e-12, "the Beta form")


@pytest.mark.parametrize("f, x, kwargs", [
    (r"e^{\boldsymbol{A}\boldsymbol{X}}", r"\boldsymbol{X}", {}),
    (r"\operatorname{tr}(e^{\boldsymbol{X}})", r"\boldsymbol{X}", {}),
    (r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}", r"\boldsymbol{X}", {"layout": "denominator"}),
])
def test_series_method_elsewhere_changes_nothing(f: str, x: str, kwargs: dict) -> None:
    """A document-wide method=series (front matter, --method) leaves every other derivation as it is."""
    assert derive(f, x, method="series", **kwargs).steps == derive(f, x, **kwargs).steps


def test_series_method_as_a_directive_option() -> None:
    from matdiff_tex import render_text

    out = render_text("\\deriv[method=series, lang=en]<e^{\\boldsymbol{X}}><\\boldsymbol{X}>\n")
    assert "Beta integral" in out and "checked numerically, to convergence" in out
    assert r"\int_{0}^{1} e^{(1 - s) \boldsymbol{X}^{\top}} \otimes e^{s \boldsymbol{X}}" in out.replace("} }", "}}")
    with pytest.raises(matdiff_tex.MatdiffError, match="method"):
        render_text("\\deriv[method=taylor]<e^{\\boldsymbol{X}}><\\boldsymbol{X}>\n")
    with pytest.raises(matdiff_tex.MatdiffError, match="method"):
        derive(r"e^{\boldsymbol{X}}", r"\boldsymbol{X}", method="taylor")


def test_series_method_on_the_command_line() -> None:
    from click.testing import CliRunner

    from matdiff_tex.cli import main

    result = CliRunner().invoke(main, ["derive", r"e^{\boldsymbol{X}}", r"\boldsymbol{X}", "--method", "series",
                                       "--lang", "en", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert r"\frac{1}{(p + q + 1)!}" in result.output and "Beta integral" in result.output


def test_series_method_from_front_matter_leaves_other_directives_alone() -> None:
    from matdiff_tex import render_text

    out = render_text("---\nmatdiff:\n  method: series\n  lang: en\n---\n\n"
                      "\\deriv<e^{\\boldsymbol{X}}><\\boldsymbol{X}>\n\n\\deriv<\\boldsymbol{A}\\boldsymbol{X}><\\boldsymbol{X}>\n")
    assert out.count("Beta integral") == 1 and out.count(r"\begin{aligned}") == 2



@pytest.mark.parametrize("layout", LAYOUTS)
def test_symbolic_power_of_a_constant(layout: str) -> None:
    """A^n is a constant when the variable is another matrix: the usual rules, checked at every n."""
    rng = np.random.default_rng(41)
    d = derive(r"\boldsymbol{Y}^{\top}\boldsymbol{A}^{n}\boldsymbol{Y}", r"\boldsymbol{Y}", layout=layout)
    for n in NS:
        a, y = _square(rng, 3), rng.standard_normal((3, 2))
        jac, f_shape = fd_jacobian(lambda v: v["Y"].T @ np.linalg.matrix_power(a, n) @ v["Y"], {"Y": y}, "Y")
        want = arrange(jac, f_shape, y.shape, layout)
        sizes = dim_bindings(d, {"A": a, "Y": y})  # the sizes I_p and K_{pm} stand for
        assert_close(_evaluate(d.result_latex, {"A": a, "Y": y, "n": n}, sizes), want, 1e-6, f"Y^T A^n Y, n = {n}")
