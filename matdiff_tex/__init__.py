"""matdiff-tex: checked, step-by-step matrix derivatives for Markdown and LaTeX notes.

The public API is small and imports nothing heavy until it is used:

    derive(f, x, *, layout="numerator", shapes=None, order=1, symmetric=()) -> Derivation
    evaluate(latex, values) -> numpy array or float
    render_text(text, fmt="markdown", **options) -> str
    lint_text(text, fmt="markdown", *, layout=None, shapes=None) -> list of findings
    MatdiffError
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import MatdiffError

if TYPE_CHECKING:  # pragma: no cover
    from .derivation import Derivation

__all__ = ["MatdiffError", "derive", "evaluate", "lint_text", "render_text", "__version__"]
__version__ = "0.1.0"


def derive(
    f: str,
    x: str,
    *,
    layout: str = "numerator",
    shapes: dict[str, Any] | None = None,
    order: int = 1,
    symmetric: Any = (),
    functions: dict[str, str] | None = None,
    where: Any = (),
    vech: bool = False,
    method: str = "integral",
) -> "Derivation":
    """Differentiate the LaTeX expression ``f`` by the variable ``x``; the result is checked.

    ``symmetric`` names symmetric matrices (``{"X", "S"}``): values are symmetric, and a symmetric
    X is differentiated along symmetric directions (the gradient ``(G + G^T)/2``).
    ``functions`` declares abstract functions: ``{r"\\ell": "scalar", "f": "elementwise"}``.
    ``where`` states assumptions: ``[r"\\boldsymbol{1}^{\\top}\\boldsymbol{y} = 1"]``.
    ``vech=True``: the derivative by vech(X) of a symmetric X (the Jacobian times the duplication matrix D_n).
    ``method="series"`` derives ``e^{X}`` by X through its power series (seed 000).
    """
    from .engine import derive as _derive

    return _derive(f, x, layout=layout, shapes=shapes, order=order, symmetric=symmetric, functions=functions,
                   where=where, vech=vech, method=method)


def evaluate(latex: str, values: dict[str, Any], dims: dict[str, int] | None = None,
             functions: dict[str, str] | None = None) -> Any:
    r"""Compute a LaTeX expression (anything ``derive`` writes) with numpy arrays for its symbols.

    Dimension names the arrays cannot fix (``n`` in ``\boldsymbol{I}_{n} \otimes \boldsymbol{A}``)
    come from ``dims`` (or from ``values``).
    """
    from .check.evaluation import evaluate as _evaluate

    return _evaluate(latex, values, dims, functions)


def render_text(text: str, fmt: str = "markdown", **options: Any) -> str:
    """Expand every directive of a Markdown or LaTeX document held in memory."""
    from .document import render_text as _render_text

    return _render_text(text, fmt=fmt, **options)


def lint_text(text: str, fmt: str = "markdown", *, layout: str | None = None,
              shapes: dict[str, Any] | None = None, path: str = "<text>") -> list[Any]:
    r"""The wrong derivative claims, chain rows and identities written in a note (``matdiff-tex lint``).

    Each finding has ``path``, ``line``, ``col``, ``message`` (``"holds in denominator layout, this
    page uses numerator ..."``), ``claim`` (the result as written) and ``correct`` (matdiff-tex's
    own result, when it can derive one); ``fmt`` is ``markdown``, ``latex`` or ``text``.
    """
    from .check.lint import lint_text as _lint_text

    return _lint_text(text, fmt, layout=layout, shapes=shapes, path=path)
