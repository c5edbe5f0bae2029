"""``matdiff-tex lint``: wrong claims found on the right line, right claims left alone.

Every claim in the notes below is first judged *here*, independently: numpy functions written
by hand for F and for the claimed result, central finite differences for the true derivative
(``tests/derive_cases.py``), the layouts of SPEC section 4 applied by hand.  Only then is lint
asked, and it must flag exactly the claims this test found wrong, with the reason expected.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from derive_cases import CASES, fd_hessian, fd_jacobian, vec  # noqa: E402

from matdiff_tex import render_text  # noqa: E402
from matdiff_tex.check.lint import lint_report, lint_text  # noqa: E402

B = r"\boldsymbol"
SEEDS = Path(__file__).parent / "fixtures" / "lint" / "seeds"
rng = np.random.default_rng(7)


def gauss(r: int, c: int = 1) -> np.ndarray:
    return rng.standard_normal((r, c))


def square(n: int) -> np.ndarray:
    return 3.0 * np.eye(n) + rng.uniform(-1, 1, (n, n))  # well conditioned, clearly unsymmetric


def commutation(m: int, n: int) -> np.ndarray:
    """K with K vec(A) = vec(A^T) for A m x n, built from its definition."""
    k = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            k[i * n + j, j * m + i] = 1.0
    return k


@dataclass
class Claim:
    """``\\frac{\\partial F}{\\partial X} = R`` written in LaTeX, with numpy for F and R."""

    f: str
    x: str
    r: str
    var: str
    values: dict[str, np.ndarray]
    fn: Callable[[dict[str, Any]], Any]
    claimed: Callable[[dict[str, Any]], Any]
    expect: str | None  # None: right; else a fragment of the message lint must give
    order: int = 1

    def latex(self) -> str:
        if self.order == 2:
            return rf"$$\frac{{\partial^2 {self.f}}}{{\partial {self.x} \partial {self.x}^{{\top}}}} = {self.r}$$"
        return rf"$$\frac{{\partial {self.f}}}{{\partial {self.x}}} = {self.r}$$"

    def truth(self, layout: str, values: dict[str, Any] | None = None) -> np.ndarray:
        """The derivative by finite differences, laid out as SPEC section 4 says."""
        values = values or self.values
        if self.order == 2:
            return fd_hessian(self.fn, values, self.var)
        jac, f_shape = fd_jacobian(self.fn, values, self.var)
        x = values[self.var]
        numerator = jac.reshape(x.shape[1], x.shape[0]) if f_shape == (1, 1) and x.shape[1] > 1 else jac
        if f_shape == (1, 1) and x.shape[1] == 1:
            numerator = jac  # 1 x n
        return numerator if layout == "numerator" else numerator.T

    def value(self, values: dict[str, Any] | None = None) -> np.ndarray:
        return np.atleast_2d(np.asarray(self.claimed(values or self.values), dtype=float))


def same(a: np.ndarray, b: np.ndarray, rtol: float = 1e-5) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=rtol * max(1.0, np.abs(b).max())))


def sym(values: dict[str, Any], name: str) -> dict[str, Any]:
    return {**values, name: (values[name] + values[name].T) / 2}


# Sizes all differ: a 3, b 4, X 3x4, A 3x3 (x^T A x), P 2x3, Q 4x5, S 4x4.
a, b, x3 = gauss(3), gauss(4), gauss(3)
X34, A33, P23, Q45, S44 = gauss(3, 4), square(3), gauss(2, 3), gauss(4, 5), square(4)
inv = np.linalg.inv


def claims(layout: str) -> list[Claim]:
    den = layout == "denominator"
    aXb = lambda v: v["a"].T @ v["X"] @ v["b"]  # noqa: E731
    xAx = lambda v: v["x"].T @ v["A"] @ v["x"]  # noqa: E731
    AXB = lambda v: v["P"] @ v["X"] @ v["Q"]  # noqa: E731
    vals_aXb = {"a": a, "X": X34, "b": b}
    vals_xAx = {"x": x3, "A": A33}
    vals_AXB = {"P": P23, "X": X34, "Q": Q45}
    out = [
        Claim(rf"{B}{{a}}^{{\top}}{B}{{X}}{B}{{b}}", rf"{B}{{X}}",
              rf"{B}{{a}}{B}{{b}}^{{\top}}" if den else rf"{B}{{b}}{B}{{a}}^{{\top}}", "X", vals_aXb, aXb,
              (lambda v: v["a"] @ v["b"].T) if den else (lambda v: v["b"] @ v["a"].T), None),
        Claim(rf"{B}{{a}}^{{\top}}{B}{{X}}{B}{{b}}", rf"{B}{{X}}",
              rf"{B}{{b}}{B}{{a}}^{{\top}}" if den else rf"{B}{{a}}{B}{{b}}^{{\top}}", "X", vals_aXb, aXb,
              (lambda v: v["b"] @ v["a"].T) if den else (lambda v: v["a"] @ v["b"].T),
              f"holds in {'numerator' if den else 'denominator'} layout, this page uses {layout} (the result is transposed)"),
        Claim(rf"{B}{{x}}^{{\top}}{B}{{A}}{B}{{x}}", rf"{B}{{x}}",
              rf"({B}{{A}} + {B}{{A}}^{{\top}}){B}{{x}}" if den else rf"{B}{{x}}^{{\top}}({B}{{A}} + {B}{{A}}^{{\top}})",
              "x", vals_xAx, xAx,
              (lambda v: (v["A"] + v["A"].T) @ v["x"]) if den else (lambda v: v["x"].T @ (v["A"] + v["A"].T)), None),
        Claim(rf"{B}{{x}}^{{\top}}{B}{{A}}{B}{{x}}", rf"{B}{{x}}",
              rf"2{B}{{A}}{B}{{x}}" if den else rf"2{B}{{x}}^{{\top}}{B}{{A}}", "x", vals_xAx, xAx,
              (lambda v: 2 * v["A"] @ v["x"]) if den else (lambda v: 2 * v["x"].T @ v["A"]),
              r"wrong: for a general \boldsymbol{A} the derivative is"),
        Claim(rf"{B}{{P}}{B}{{X}}{B}{{Q}}", rf"{B}{{X}}",
              rf"{B}{{Q}} \otimes {B}{{P}}^{{\top}}" if den else rf"{B}{{Q}}^{{\top}} \otimes {B}{{P}}", "X", vals_AXB, AXB,
              (lambda v: np.kron(v["Q"], v["P"].T)) if den else (lambda v: np.kron(v["Q"].T, v["P"])), None),
        Claim(rf"{B}{{P}}{B}{{X}}{B}{{Q}}", rf"{B}{{X}}",
              rf"{B}{{P}}^{{\top}} \otimes {B}{{Q}}" if den else rf"{B}{{P}} \otimes {B}{{Q}}^{{\top}}", "X", vals_AXB, AXB,
              (lambda v: np.kron(v["P"].T, v["Q"])) if den else (lambda v: np.kron(v["P"], v["Q"].T)),
              "the Kronecker factors are swapped"),
        Claim(rf"{B}{{X}}^{{\top}}", rf"{B}{{X}}", rf"{B}{{I}}", "X", {"X": X34}, lambda v: v["X"].T,
              lambda v: np.eye(12), "missing the commutation matrix K"),
        Claim(rf"\log|{B}{{S}}|", rf"{B}{{S}}", rf"{B}{{S}}^{{-\top}}" if den else rf"{B}{{S}}^{{-1}}", "S", {"S": S44},
              lambda v: np.log(abs(np.linalg.det(v["S"]))),
              (lambda v: inv(v["S"]).T) if den else (lambda v: inv(v["S"])), None),
        Claim(rf"\log|{B}{{S}}|", rf"{B}{{S}}", rf"{B}{{S}}^{{-1}}" if den else rf"{B}{{S}}^{{-\top}}", "S", {"S": S44},
              lambda v: np.log(abs(np.linalg.det(v["S"]))),
              (lambda v: inv(v["S"])) if den else (lambda v: inv(v["S"]).T),
              f"holds in {'numerator' if den else 'denominator'} layout"),
        Claim(rf"{B}{{x}}^{{\top}}{B}{{A}}{B}{{x}}", rf"{B}{{x}}", rf"{B}{{A}} + {B}{{A}}^{{\top}}", "x", vals_xAx, xAx,
              lambda v: v["A"] + v["A"].T, None, order=2),
        Claim(rf"\log|{B}{{S}}|", rf"{B}{{S}}", rf"-({B}{{S}}^{{-1}} \otimes {B}{{S}}^{{-\top}})", "S", {"S": S44},
              lambda v: np.log(abs(np.linalg.det(v["S"]))), lambda v: -np.kron(inv(v["S"]), inv(v["S"]).T),
              "missing the commutation matrix K", order=2),
    ]
    return out


def _verify_independently(claim: Claim, layout: str) -> None:
    """What the test itself knows about each claim, before lint is asked."""
    truth, value = claim.truth(layout), claim.value()
    rtol = 1e-3 if claim.order == 2 else 1e-5
    if claim.expect is None:
        assert same(value, truth, rtol), claim.r
        return
    assert not same(value, truth, 1e-2), claim.r
    other = "denominator" if layout == "numerator" else "numerator"
    if "holds in" in claim.expect:
        assert same(value, claim.truth(other), rtol)
    elif "symmetric" in claim.expect:
        symmetric = sym(claim.values, "A")
        assert same(claim.value(symmetric), claim.truth(layout, symmetric), rtol)
    elif "Kronecker" in claim.expect:
        assert same(np.kron(claim.values["Q"], claim.values["P"].T) if layout == "denominator"
                    else np.kron(claim.values["Q"].T, claim.values["P"]), truth, rtol)
    elif "commutation" in claim.expect:
        n = value.shape[0]
        m = int(round(np.sqrt(n))) if claim.order == 2 else 3
        k = commutation(m, n // m)
        assert same(value @ k, truth, rtol) or same(k @ value, truth, rtol) or same(value @ k.T, truth, rtol)


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_each_kind_of_mistake_is_found_on_its_line(layout: str) -> None:
    written = claims(layout)
    for claim in written:
        _verify_independently(claim, layout)
    lines = ["---", f"matdiff: {{layout: {layout}}}", "---", "# Claims", ""]
    where: dict[int, Claim] = {}
    for claim in written:
        lines += ["Some words.", "", claim.latex(), ""]
        where[len(lines) - 1] = claim
    report = lint_report("\n".join(lines), "markdown", path="claims.md")
    found = {f.line: f for f in report.errors}
    wrong = {line for line, claim in where.items() if claim.expect is not None}
    assert set(found) == wrong, [f.format() for f in report.errors]
    for line in wrong:
        assert where[line].expect in found[line].message, found[line].message
        assert found[line].path == "claims.md"
    assert report.checked == len(written)
    assert not report.skipped, [f.format() for f in report.skipped]


def test_the_correct_result_is_matdiff_tex_s_own() -> None:
    [finding] = lint_text(rf"$\frac{{\partial {B}{{x}}^{{\top}}{B}{{A}}{B}{{x}}}}{{\partial {B}{{x}}}} = 2{B}{{A}}{B}{{x}}$",
                          layout="denominator")
    assert finding.correct == r"(\boldsymbol{A} + \boldsymbol{A}^{\top}) \boldsymbol{x}"
    assert finding.message.startswith(r"wrong: for a general \boldsymbol{A} the derivative is (\boldsymbol{A} + "
                                      r"\boldsymbol{A}^{\top}) \boldsymbol{x}; 2\boldsymbol{A}\boldsymbol{x} needs "
                                      r"\boldsymbol{A} symmetric")


CHAIN = rf"""Gradient of $\operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}{B}{{X}})$:

$$
\begin{{aligned}}
\frac{{\partial \operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}{B}{{X}})}}{{\partial {B}{{X}}}} &= ({B}{{A}} + {B}{{A}}^{{\top}}){B}{{X}} \\
&= {B}{{A}}{B}{{X}} + {B}{{A}}^{{\top}}{B}{{X}} \\
&= 2{B}{{A}}{B}{{X}} \\
&= {B}{{A}}{B}{{X}} + {B}{{A}}{B}{{X}} \\
&= {B}{{A}}^{{\top}}{B}{{X}} + {B}{{A}}{B}{{X}}
\end{{aligned}}
$$
"""


def test_a_chain_reports_the_row_that_goes_wrong_and_nothing_after_it() -> None:
    A, X = square(3), gauss(3, 4)
    fn = lambda v: np.trace(v["X"].T @ v["A"] @ v["X"])  # noqa: E731
    jac, _ = fd_jacobian(fn, {"A": A, "X": X}, "X")
    gradient = jac.reshape(4, 3).T  # denominator: shaped like X
    rows = [(A + A.T) @ X, A @ X + A.T @ X, 2 * A @ X, A @ X + A @ X, A.T @ X + A @ X]
    assert [same(r, gradient) for r in rows] == [True, True, False, False, True]
    report = lint_report(CHAIN, "markdown", layout="denominator")
    assert [(f.line, f.col) for f in report.errors] == [(7, 4)], [f.format() for f in report.errors]
    assert report.errors[0].message.startswith("row 3 does not follow from row 2: ")
    assert report.checked == 5


DIFFERENTIAL = rf"""Let $f = \operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}{B}{{X}})$.

$$
\begin{{aligned}}
\mathrm{{d}}f &= \operatorname{{tr}}(\mathrm{{d}}{B}{{X}}^{{\top}}{B}{{A}}{B}{{X}} + {B}{{X}}^{{\top}}{B}{{A}}\,\mathrm{{d}}{B}{{X}}) \\
&= \operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}^{{\top}}\mathrm{{d}}{B}{{X}}) + \operatorname{{tr}}({B}{{X}}^{{\top}}{B}{{A}}\,\mathrm{{d}}{B}{{X}}) \\
&= \operatorname{{tr}}(2{B}{{X}}^{{\top}}{B}{{A}}\,\mathrm{{d}}{B}{{X}}) \\
&= {B}{{X}}^{{\top}}({B}{{A}}^{{\top}} + {B}{{A}})\mathrm{{d}}{B}{{X}}
\end{{aligned}}
$$
"""


def test_a_differential_chain_is_checked_row_by_row_and_equal_traces_count_as_equal() -> None:
    A, X, E = square(3), gauss(3, 4), gauss(3, 4)
    h = 1e-6
    f = lambda X: np.trace(X.T @ A @ X)  # noqa: E731
    df = (f(X + h * E) - f(X - h * E)) / (2 * h)
    rows = [np.trace(E.T @ A @ X + X.T @ A @ E), np.trace(X.T @ A.T @ E) + np.trace(X.T @ A @ E),
            np.trace(2 * X.T @ A @ E), np.trace(X.T @ (A.T + A) @ E)]
    assert [abs(r - df) < 1e-6 * max(1, abs(df)) for r in rows] == [True, True, False, True]
    report = lint_report(DIFFERENTIAL, "markdown")
    assert [f.line for f in report.errors] == [7], [f.format() for f in report.findings]
    assert report.errors[0].message.startswith("row 3 does not follow from row 2")
    assert report.checked == 4


def test_a_layout_named_next_to_the_claim_wins_and_nabla_is_the_gradient() -> None:
    text = (rf"In denominator layout: $\frac{{\partial {B}{{a}}^{{\top}}{B}{{x}}}}{{\partial {B}{{x}}}} = {B}{{a}}$" "\n\n"
            rf"$\nabla_{{{B}{{x}}}} {B}{{a}}^{{\top}}{B}{{x}} = {B}{{a}}$" "\n\n"
            rf"$\nabla_{{{B}{{x}}}} {B}{{a}}^{{\top}}{B}{{x}} = {B}{{a}}^{{\top}}$" "\n")
    report = lint_report(text, "markdown", layout="numerator")
    assert [f.line for f in report.errors] == [5]
    assert report.checked == 3


def test_symmetry_stated_by_the_author_is_honoured() -> None:
    claim = rf"$\frac{{\partial {B}{{x}}^{{\top}}{B}{{A}}{B}{{x}}}}{{\partial {B}{{x}}}} = 2{B}{{A}}{B}{{x}}$"
    assert [f.message for f in lint_text(claim + "\n", layout="denominator")][0].endswith(
        r"2\boldsymbol{A}\boldsymbol{x} needs \boldsymbol{A} symmetric")
    for stated in (rf"Here ${B}{{A}}$ is symmetric.", rf"设${B}{{A}}$为对称矩阵。", rf"Let ${B}{{A}}$ be positive definite"):
        assert lint_text(stated.replace("be positive", "is positive") + "\n\n" + claim + "\n", layout="denominator") == []


def test_unreadable_claims_are_skipped_and_counted_never_flagged() -> None:
    text = "\n\n".join([
        r"$\frac{\partial f}{\partial \boldsymbol{x}} = \boldsymbol{g}$",  # f undefined: does not contain x
        r"$\frac{\partial \boldsymbol{y}}{\partial \boldsymbol{x}} = \begin{bmatrix} a & b \end{bmatrix}$",
        r"$\frac{\partial \boldsymbol{A}\boldsymbol{x}}{\partial \boldsymbol{x}} = \frac{\partial (\boldsymbol{x}, \boldsymbol{u})}{\partial \boldsymbol{x}}$",
        r"```" "\n" r"$\frac{\partial \boldsymbol{A}\boldsymbol{x}}{\partial \boldsymbol{x}} = 7$" "\n" r"```",
        r"<!-- $\frac{\partial \boldsymbol{A}\boldsymbol{x}}{\partial \boldsymbol{x}} = 7$ -->",
    ])
    report = lint_report(text, "markdown")
    assert report.errors == []
    assert report.checked == 0
    assert len(report.skipped) == 3
    assert all(f.message.startswith("not checked: ") for f in report.skipped)


def test_latex_environments_are_read(tmp_path: Path) -> None:
    text = "\n".join([
        r"\documentclass{article}", r"\begin{document}",
        r"\begin{align*}",
        rf"  \frac{{\partial {B}{{A}}{B}{{x}}}}{{\partial {B}{{x}}}} &= {B}{{A}} \\",
        rf"  \frac{{\partial {B}{{A}}{B}{{x}}}}{{\partial {B}{{x}}}} &= {B}{{A}}^{{\top}}",
        r"\end{align*}",
        r"% $\frac{\partial \boldsymbol{A}\boldsymbol{x}}{\partial \boldsymbol{x}} = 7$",
        rf"\[ \frac{{\partial {B}{{x}}^{{\top}}{B}{{x}}}}{{\partial {B}{{x}}}} = 2{B}{{x}}^{{\top}} \]",
        rf"\begin{{equation}} \frac{{\partial {B}{{x}}^{{\top}}{B}{{x}}}}{{\partial {B}{{x}}}} = {B}{{x}}^{{\top}} \end{{equation}}",
        r"\end{document}",
    ])
    report = lint_report(text, "latex")
    assert [f.line for f in report.errors] == [5, 9]
    assert report.checked == 4


# ---------------------------------------------------------------- no false alarms


def test_lint_of_render_s_own_output_is_clean(tmp_path: Path, repo_root: Path) -> None:
    """Every derivation of the derivative table and of the bundled examples, in both layouts."""
    from matdiff_tex.cli import main
    from click.testing import CliRunner

    out = tmp_path / "examples"
    assert CliRunner().invoke(main, ["render", str(repo_root / "examples"), "-o", str(out), "-q"]).exit_code == 0
    notes = [p for p in out.rglob("*") if p.suffix in (".md", ".tex")]
    assert len(notes) >= 3
    linted = CliRunner().invoke(main, ["lint", "--format", "json", str(out)])  # with the examples' config
    summary = json.loads(linted.stdout)
    assert linted.exit_code == 0 and summary["wrong"] == 0, summary["findings"]
    assert summary["checked"] > 50
    # the notation fixture: symmetric=, where=, derivatives by a scalar (their rows cite the assumption)
    fixture = repo_root / "tests" / "fixtures" / "notation" / "coverage.in.md"
    assert CliRunner().invoke(main, ["render", str(fixture), "-o", str(tmp_path / "coverage.md"), "-q"]).exit_code == 0
    linted = CliRunner().invoke(main, ["lint", "--format", "json", str(tmp_path / "coverage.md")])
    summary = json.loads(linted.stdout)
    assert linted.exit_code == 0 and summary["wrong"] == 0, summary["findings"]
    assert summary["checked"] > 50
    for layout in ("numerator", "denominator"):
        rendered = [f"---\nmatdiff: {{layout: {layout}}}\n---\n"]
        for case in CASES:  # every case of the table renders; a refusal fails the test
            directive = rf"\{'hessian' if case.order == 2 else 'deriv'}[layout={layout}]<{case.f}><{case.x}>" "\n\n"
            rendered.append(render_text(directive, "markdown"))
        report = lint_report("".join(rendered), "markdown")
        assert report.errors == [], [f.format() for f in report.errors]
        assert report.checked > 400


def test_correct_hand_written_identities_pass_and_a_wrong_one_is_found() -> None:
    text = "\n\n".join([
        rf"$$\operatorname{{vec}}({B}{{A}}{B}{{X}}{B}{{C}}) = ({B}{{C}}^{{\top}} \otimes {B}{{A}})\operatorname{{vec}}({B}{{X}})$$",
        rf"$$({B}{{A}} \otimes {B}{{B}})^{{\top}} = {B}{{A}}^{{\top}} \otimes {B}{{B}}^{{\top}}$$",
        rf"$$({B}{{A}} \otimes {B}{{B}})({B}{{C}} \otimes {B}{{D}}) = {B}{{A}}{B}{{C}} \otimes {B}{{B}}{B}{{D}}$$",
        rf"$$\operatorname{{vec}}({B}{{A}}{B}{{X}}{B}{{C}}) = ({B}{{A}} \otimes {B}{{C}}^{{\top}})\operatorname{{vec}}({B}{{X}})$$",
    ])
    report = lint_report(text, "markdown")
    assert [f.line for f in report.errors] == [7]
    assert "Kronecker factors are swapped" in report.errors[0].message
    assert report.checked == 4


# ---------------------------------------------------------------- the seeds, as they are


def _seed(prefix: str) -> Path:
    [path] = SEEDS.glob(prefix + "_*.txt")
    return path


def _seed_errors(prefix: str, layout: str | None) -> list[tuple[int, str]]:
    path = _seed(prefix)
    report = lint_report(path.read_text(encoding="utf-8"), "text", layout=layout, path=path.name)
    return [(f.line, f.message) for f in report.errors]


def test_seed_000_the_exponential_series_with_n_plus_1_factorial() -> None:
    # independently: sum A^n / (n+1)! is not e^A (nor the element-wise exp)
    A = 0.5 * square(3)
    series = sum(np.linalg.matrix_power(A, n) / float(math.factorial(n + 1)) for n in range(30))
    w, v = np.linalg.eig(A)
    expm = (v @ np.diag(np.exp(w)) @ np.linalg.inv(v)).real
    assert not np.allclose(series, expm, rtol=1e-3) and not np.allclose(series, np.exp(A), rtol=1e-3)
    errors = _seed_errors("000", None)  # the seed says it uses numerator layout
    assert [line for line, _ in errors] == [21], errors
    assert "is not equal to \\exp(\\boldsymbol{A})" in errors[0][1]


def block_derivative(fn: Callable[[np.ndarray], np.ndarray], X: np.ndarray) -> np.ndarray:
    """Seed 003's ∂Y/∂X = [∂Y_kl/∂X] (line 111), entry by entry of X with central differences:
    block (k, l), shaped like X, holds ∂Y_kl/∂X_ij at (i, j)."""
    m, n = X.shape
    p, q = np.atleast_2d(fn(X)).shape
    out = np.zeros((p * m, q * n))
    h = 1e-6
    for i in range(m):
        for j in range(n):
            step = np.zeros_like(X)
            step[i, j] = h
            dY = (np.atleast_2d(fn(X + step)) - np.atleast_2d(fn(X - step))) / (2 * h)
            for k in range(p):
                for l in range(q):
                    out[k * m + i, l * n + j] = dY[k, l]
    return out


def seed_003_e(m: int, n: int) -> np.ndarray:
    """Seed 003's E (lines 113-114): the block matrix [E_ij] of the m x n unit matrices E_ij."""
    E = np.zeros((m * m, n * n))
    for i in range(m):
        for j in range(n):
            E[i * m:(i + 1) * m, j * n:(j + 1) * n][i, j] = 1.0
    return E


def test_seed_003_claims_checked_in_the_seed_s_own_block_layout() -> None:
    """∂X^T/∂X = E^T and ∂(A⊗B)/∂A = E⊗B are wrong in the layout the seed defines; ∂(A⊗B)/∂B = A⊗E is right."""
    X, A, B = gauss(3, 4), gauss(2, 3), gauss(4, 5)
    assert same(block_derivative(lambda V: V, X), seed_003_e(3, 4))  # E is ∂X/∂X, as the seed says
    assert block_derivative(lambda V: V.T, X).shape != seed_003_e(3, 4).T.shape  # E^T: not even the size
    by_b = block_derivative(lambda V: np.kron(A, V), B)
    assert same(by_b, np.kron(A, seed_003_e(4, 5)))
    by_a = block_derivative(lambda V: np.kron(V, B), A)
    assert by_a.shape == np.kron(seed_003_e(2, 3), B).shape and not same(by_a, np.kron(seed_003_e(2, 3), B), 1e-2)
    note = "\n".join([
        r"Define $\frac{\partial Y}{\partial X} = \left[\begin{matrix} \frac{\partial Y_{11}}{\partial X} & "
        r"\frac{\partial Y_{12}}{\partial X} \\ \frac{\partial Y_{21}}{\partial X} & \frac{\partial Y_{22}}{\partial X}"
        r"\end{matrix}\right]$.",
        "",
        "$$\\frac{\\partial X}{\\partial X} = \\left[\\begin{matrix} E_{11} & E_{12} \\\\ E_{21} & E_{22} \\end{matrix}\\right]$$",
        r"定义这个矩阵为$E \in \mathbb{R}^{m^2 \times n^2}$。",
        "",
        r"$$\frac{\partial X^T}{\partial X} = E^T$$",
        "",
        r"$$\frac{\partial A \otimes B}{\partial B} = A \otimes E$$",
        "",
        r"$$\frac{\partial A \otimes B}{\partial A} = E \otimes B$$",
        "",
        r"$$\frac{\partial A \otimes B}{\partial A} = K$$",  # K: not a name the page gave; skipped
    ])
    report = lint_report(note, "markdown", layout="numerator")
    assert [f.line for f in report.errors] == [6, 10], [f.format() for f in report.findings]
    assert "does not have the size of the derivative" in report.errors[0].message
    assert "E = ∂X/∂X as on line 4" in report.errors[0].message and "∂Y/∂X = [∂Y_kl/∂X]" in report.errors[1].message
    assert "E = ∂A/∂A" in report.errors[1].message
    assert report.checked == 3 and [f.line for f in report.skipped] == [1, 3, 12], [f.format() for f in report.skipped]
    # without the page's definition of its layout, E means nothing: nothing is checked, nothing flagged
    bare = lint_report("\n".join(note.splitlines()[2:]), "markdown", layout="numerator")
    assert not bare.errors and bare.checked == 0


def test_seed_003_as_it_is() -> None:
    # mixed layout, as the seed writes: gradients as columns (dy/dx = [...]^T), Jacobians as dAx/dx = A;
    # matrices by matrices in the block layout the seed defines on line 111
    errors = _seed_errors("003", "mixed")
    assert [line for line, _ in errors] == [100, 115, 180], errors
    assert "for a general A the derivative is (A + A^{\\top}) x; 2Ax needs A symmetric" in errors[0][1]
    assert "E^T does not have the size of the derivative" in errors[1][1]
    assert "E = ∂A/∂A as on line 114" in errors[2][1]


def test_seed_004_the_hessian_of_log_det_misses_the_commutation_matrix() -> None:
    S = square(3)
    S = S @ S.T  # the seed's X is positive definite
    H = fd_hessian(lambda v: np.log(np.linalg.det(v["X"])), {"X": S}, "X")
    claimed = -np.kron(inv(S), inv(S))
    assert not same(claimed, H, 1e-2) and same(claimed @ commutation(3, 3), H, 1e-3)
    errors = _seed_errors("004", "denominator")  # "∇f = X^{-T}": the gradient shaped like X
    assert [line for line, _ in errors] == [104], errors
    assert errors[0][1].startswith("missing the commutation matrix K")


@pytest.mark.parametrize("prefix", ["001", "002"])
def test_the_other_seeds_have_no_false_alarm(prefix: str) -> None:
    assert _seed_errors(prefix, None) == []


# ---------------------------------------------------------------- the command


def test_cli_exit_status_summary_json_and_verbose(tmp_path: Path, cli) -> None:
    note = tmp_path / "post.md"
    note.write_text("Wrong: $\\frac{\\partial \\boldsymbol{A}\\boldsymbol{x}}{\\partial \\boldsymbol{x}} = "
                    "\\boldsymbol{A}^{\\top}$\n\n$\\frac{\\partial f}{\\partial \\boldsymbol{x}} = 1$\n", encoding="utf-8")
    good = tmp_path / "good.md"
    good.write_text("$\\frac{\\partial \\boldsymbol{A}\\boldsymbol{x}}{\\partial \\boldsymbol{x}} = \\boldsymbol{A}$\n",
                    encoding="utf-8")
    result = cli("lint", str(note))
    assert result.exit_code == 1
    col = note.read_text(encoding="utf-8").index("= \\boldsymbol{A}^") + 3
    assert result.stdout.startswith(f"{note}:1:{col}: error: holds in denominator layout, this page uses numerator")
    assert "1 claim checked, 1 wrong, 1 skipped" in result.stderr
    assert "not checked" not in result.stdout
    verbose = cli("lint", "--verbose", str(note))
    assert f"{note}:3:2: note: not checked: " in verbose.stdout
    assert cli("lint", str(good)).exit_code == 0
    assert cli("lint", "--layout", "denominator", str(good)).exit_code == 1
    as_json = json.loads(cli("lint", "--format", "json", str(note), str(good)).stdout)
    assert (as_json["checked"], as_json["wrong"], as_json["skipped"]) == (2, 1, 1)
    assert as_json["findings"][0]["line"] == 1 and as_json["findings"][0]["correct"] == r"\boldsymbol{A}"
    missing = cli("lint", str(tmp_path / "nope.md"))
    assert missing.exit_code == 2


def test_public_api_and_the_batch_server_for_site_generators() -> None:
    import matdiff_tex
    from matdiff_tex.integrations.batch import handle

    text = rf"$\frac{{\partial {B}{{A}}{B}{{x}}}}{{\partial {B}{{x}}}} = {B}{{A}}^{{\top}}$" "\n"
    [finding] = matdiff_tex.lint_text(text)
    assert (finding.line, finding.col, finding.correct) == (1, text.index("= ") + 3, r"\boldsymbol{A}")
    assert matdiff_tex.lint_text(text, layout="denominator") == []
    warned = handle({"text": text, "path": "p.md", "lint": "warn", "line_offset": 2})
    assert warned["errors"] == [] and warned["text"] == text
    assert [m.split(": error:")[0] for m in warned["lint"]] == [f"p.md:3:{finding.col}"]
    failed = handle({"text": text, "path": "p.md", "lint": "error"})
    assert failed["text"] is None and "holds in denominator layout" in failed["errors"][0]
    assert "lint" not in handle({"text": text})  # off unless asked
    assert "'lint' must be" in handle({"text": text, "lint": "loud"})["errors"][0]
