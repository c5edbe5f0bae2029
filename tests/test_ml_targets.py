"""Machine-learning derivatives print the way people write them (issue 7, item 1).

Each row is first verified numerically — ``evaluate()`` of the printed result against central
finite differences of a numpy definition written here — and only then compared as a LaTeX string
with the form a person writes: ``X^T(σ(Xw) - y)``, ``X^T diag(σ'(Xw)) X``, ``(softmax(Wx) - y) x^T``,
``(x x^T) ⊗ (diag(s) - s s^T)`` ...  Sizes are distinct (X 5x3, W 4x3).
"""

from __future__ import annotations

import numpy as np
import pytest

from matdiff_tex import derive

from derive_cases import G, ONEHOT, C, Val, scal, sig, softmax
from test_derive_table import assert_close, dim_bindings, evaluated, reference

B = r"\boldsymbol"
X, w, y, W, x = (f"{B}{{{n}}}" for n in "XwyWx")
ONE = rf"{B}{{1}}"
S_XW = rf"\sigma({B}{{X}} {B}{{w}})"
SM = rf"\operatorname{{softmax}}({B}{{W}} {B}{{x}})"


def LABELS(n: int) -> Val:
    return Val("pos", n, 1)  # labels in (0.5, 1.5): any real y, the identities do not need 0/1


def _logistic_loss(v):
    u = v["X"] @ v["w"]
    return float(np.sum(np.log1p(np.exp(u))) - scal(v["y"].T @ u))


def _bce(v):
    s = sig(v["X"] @ v["w"])
    return scal(v["y"].T @ np.log(s) + (1 - v["y"]).T @ np.log(1 - s))


def _xent_lse(v):
    u = v["W"] @ v["x"]
    return -scal(v["y"].T @ u) + float(np.log(np.sum(np.exp(u))))


LOSS = rf"{ONE}^{{\top}}\log({ONE}+\exp({X}{w})) - {y}^{{\top}}{X}{w}"
LIKELIHOOD = rf"{y}^{{\top}}{X}{w} - {ONE}^{{\top}}\log({ONE}+\exp({X}{w}))"
BCE = rf"{y}^{{\top}}\log\sigma({X}{w}) + ({ONE}-{y})^{{\top}}\log({ONE}-\sigma({X}{w}))"
XENT_LSE = rf"-{y}^{{\top}}{W}{x} + \log({ONE}^{{\top}}\exp({W}{x}))"
XENT = rf"-{y}^{{\top}}\log\operatorname{{softmax}}({W}{x})"
SOFTMAX = rf"\frac{{\exp({B}{{u}})}}{{{ONE}^{{\top}}\exp({B}{{u}})}}"
HESS_SOFTMAX = rf"({B}{{x}} {B}{{x}}^{{\top}}) \otimes (\operatorname{{diag}}({SM}) - {SM} {SM}^{{\top}})"
SM_U = rf"\operatorname{{softmax}}({B}{{u}})"

XW = {"X": G(5, 3), "w": G(3), "y": LABELS(5)}
WX = {"W": G(4, 3), "x": G(3), "y": ONEHOT(4)}

#: (case, numerator-layout result, denominator-layout result)
ROWS = [
    (C("logistic_loss", LOSS, "w", XW, _logistic_loss),
     rf"({S_XW} - {B}{{y}})^{{\top}} {B}{{X}}", rf"{B}{{X}}^{{\top}} ({S_XW} - {B}{{y}})"),
    (C("logistic_loss_hessian", LOSS, "w", XW, _logistic_loss, order=2),
     rf"{B}{{X}}^{{\top}} \operatorname{{diag}}(\sigma'({B}{{X}} {B}{{w}})) {B}{{X}}",
     rf"{B}{{X}}^{{\top}} \operatorname{{diag}}(\sigma'({B}{{X}} {B}{{w}})) {B}{{X}}"),
    (C("log_likelihood", LIKELIHOOD, "w", XW, lambda v: -_logistic_loss(v)),
     rf"({B}{{y}} - {S_XW})^{{\top}} {B}{{X}}", rf"{B}{{X}}^{{\top}} ({B}{{y}} - {S_XW})"),
    (C("log_likelihood_hessian", LIKELIHOOD, "w", XW, lambda v: -_logistic_loss(v), order=2),
     rf"-{B}{{X}}^{{\top}} \operatorname{{diag}}(\sigma'({B}{{X}} {B}{{w}})) {B}{{X}}",
     rf"-{B}{{X}}^{{\top}} \operatorname{{diag}}(\sigma'({B}{{X}} {B}{{w}})) {B}{{X}}"),
    (C("binary_cross_entropy", BCE, "w", XW, _bce),
     rf"({B}{{y}} - {S_XW})^{{\top}} {B}{{X}}", rf"{B}{{X}}^{{\top}} ({B}{{y}} - {S_XW})"),
    (C("binary_cross_entropy_hessian", BCE, "w", XW, _bce, order=2),
     rf"-{B}{{X}}^{{\top}} \operatorname{{diag}}(\sigma'({B}{{X}} {B}{{w}})) {B}{{X}}",
     rf"-{B}{{X}}^{{\top}} \operatorname{{diag}}(\sigma'({B}{{X}} {B}{{w}})) {B}{{X}}"),
    (C("softmax_xent_lse", XENT_LSE, "W", WX, _xent_lse),
     rf"{B}{{x}} ({SM} - {B}{{y}})^{{\top}}", rf"({SM} - {B}{{y}}) {B}{{x}}^{{\top}}"),
    (C("softmax_xent_lse_hessian", XENT_LSE, "W", WX, _xent_lse, order=2), HESS_SOFTMAX, HESS_SOFTMAX),
    (C("softmax_xent", XENT, "W", WX, lambda v: -scal(v["y"].T @ np.log(softmax(v["W"] @ v["x"])))),
     rf"{B}{{x}} ({ONE}_{{4}}^{{\top}} {B}{{y}} {SM} - {B}{{y}})^{{\top}}",
     rf"({ONE}_{{4}}^{{\top}} {B}{{y}} {SM} - {B}{{y}}) {B}{{x}}^{{\top}}"),
    (C("softmax_quotient", SOFTMAX, "u", {"u": G(4)}, lambda v: np.exp(v["u"]) / np.sum(np.exp(v["u"]))),
     rf"\operatorname{{diag}}({SM_U}) - {SM_U} {SM_U}^{{\top}}",
     rf"\operatorname{{diag}}({SM_U}) - {SM_U} {SM_U}^{{\top}}"),
    (C("sigma_matrix", rf"\operatorname{{tr}}({B}{{A}}^{{\top}}\log({ONE}{ONE}^{{\top}} + \exp({X}{W})))", "W",
       {"A": G(5, 4), "X": G(5, 3), "W": G(3, 4)},
       lambda v: np.trace(v["A"].T @ np.log1p(np.exp(v["X"] @ v["W"])))),
     rf"({B}{{A}} \odot \sigma({B}{{XW}}))^{{\top}} {B}{{X}}", rf"{B}{{X}}^{{\top}} ({B}{{A}} \odot \sigma({B}{{XW}}))"),
    (C("seed001_ex4", rf"-y{x}^{{\top}}{w} + \log(1+\exp({x}^{{\top}}{w}))", "w",
       {"y": Val("scalar", 1, None), "x": G(3), "w": G(3)},
       lambda v: -v["y"] * scal(v["x"].T @ v["w"]) + np.log1p(np.exp(scal(v["x"].T @ v["w"])))),
     rf"(\sigma({B}{{x}}^{{\top}} {B}{{w}}) - y) {B}{{x}}^{{\top}}", rf"(\sigma({B}{{x}}^{{\top}} {B}{{w}}) - y) {B}{{x}}"),
]


def _params():
    for case, num, den in ROWS:
        for layout, want in (("numerator", num), ("denominator", den)):
            yield pytest.param(case, layout, want, id=f"{case.id}-{layout[:3]}")


@pytest.mark.parametrize(("case", "layout", "want"), list(_params()))
def test_ml_target(case, layout, want):
    values = case.values()
    d = derive(case.f, case.x, layout=layout, shapes=case.derive_shapes(), order=case.order)
    got = evaluated(d.result_latex, values, dim_bindings(d, values))
    reference_value, rtol = reference(case.fn, values, case.var, layout, case.order)
    assert_close(got, reference_value, rtol, f"{case.f} ({layout}) = {d.result_latex}")
    # only now, with the numbers right, the form a person writes:
    assert d.result_latex == want


@pytest.mark.parametrize("f", [XENT_LSE, XENT])
@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_softmax_hessians_have_no_vec_outer_products(f, layout):
    d = derive(f, W, layout=layout, order=2)
    assert r"\text{vec}" not in d.result_latex, d.result_latex
    assert r"\operatorname{diag}(\operatorname{softmax}" in d.result_latex


def test_kronecker_identities_merge_and_nested_products_are_flat():
    d = derive(rf"{B}{{A}} \otimes {B}{{X}}", rf"{B}{{X}}")
    assert r"\boldsymbol{I}_{q} \otimes \boldsymbol{K}_{np} \otimes \boldsymbol{I}_{m}" in d.result_latex
    assert "((" not in d.result_latex
    d = derive(rf"{B}{{I}}_{{n}} \otimes {B}{{I}}_{{m}} \otimes {B}{{X}}", rf"{B}{{X}}")
    assert d.result_latex.startswith(r"(\boldsymbol{I}_{mn} \otimes \boldsymbol{K}_{q,mn} \otimes \boldsymbol{I}_{p})")
    assert r"\text{vec}(\boldsymbol{I}_{mn})" in d.result_latex  # I_n ⊗ I_m = I_{mn}
