"""Reader errors: the exception type, a message naming the offending piece, the right span."""

from __future__ import annotations

import pytest

from matdiff_tex.errors import LatexSyntaxError, MatdiffError, ShapeError, UnsupportedError
from matdiff_tex.expr.reader import read_derivative_input, read_expression

BX = r"\boldsymbol{X}"
BXV = r"\boldsymbol{x}"

# (F, X, shapes, exception, fragments of the message, field, the text the span covers)
ERRORS: list[tuple[str, str, dict | None, type[MatdiffError], tuple[str, ...], str, str]] = [
    # ------------------------------------------------ empty input
    ("", BX, None, LatexSyntaxError, ("F is empty",), "F", ""),
    ("   ", BX, None, LatexSyntaxError, ("F is empty",), "F", "   "),
    (BX, "", None, LatexSyntaxError, ("X is empty",), "X", ""),
    ("{}", BX, None, LatexSyntaxError, ("empty group",), "F", "{}"),
    (r"\boldsymbol{X} + ()", BX, None, LatexSyntaxError, ("empty ()",), "F", "()"),
    # ------------------------------------------------ LaTeX syntax
    (r"{\boldsymbol{X}", BX, None, LatexSyntaxError, ("'{' is never closed",), "F", "{"),
    (r"\boldsymbol{X}}", BX, None, LatexSyntaxError, ("'}' closes nothing",), "F", "}"),
    (r"\boldsymbol{X", BX, None, LatexSyntaxError, ("never closed",), "F", "{"),
    (r"(\boldsymbol{A} + \boldsymbol{X}", BX, None, LatexSyntaxError, ("'(' is never closed",), "F", "("),
    (r"\boldsymbol{A} + \boldsymbol{X})", BX, None, LatexSyntaxError, ("')' closes nothing",), "F", ")"),
    (r"\left(\boldsymbol{X}\right]", BX, None, LatexSyntaxError, ("closed by",), "F", r"\left(\boldsymbol{X}\right]"),
    (r"\left(\boldsymbol{X})", BX, None, LatexSyntaxError, ("'\\left(' is closed by ')'",), "F",
     r"\left(\boldsymbol{X})"),
    (r"[\boldsymbol{X})", BX, None, LatexSyntaxError, ("closed by ')'",), "F", r"[\boldsymbol{X})"),
    (r"|\boldsymbol{X}", BX, None, LatexSyntaxError, ("never closed",), "F", "|"),
    (r"\left \boldsymbol{X}", BX, None, LatexSyntaxError, ("delimiter",), "F", r"\left \boldsymbol"),
    (r"\boldsymbol{X} +", BX, None, LatexSyntaxError, ("expected an expression after '+'",), "F", ""),
    (r"\boldsymbol{A} \otimes", BX, None, LatexSyntaxError, ("expected an expression",), "F", ""),
    (r"\boldsymbol{X} = \boldsymbol{A}", BX, None, LatexSyntaxError, ("unexpected '='",), "F", "="),
    (r"^{2}", BX, None, LatexSyntaxError, ("without a base",), "F", "^"),
    (r"\boldsymbol{X}^", BX, None, LatexSyntaxError, ("needs an argument",), "F", "^"),
    (r"$\boldsymbol{X}$", BX, None, LatexSyntaxError, ("math delimiters",), "F", r"$\boldsymbol{X}$"),
    (r"\boldsymbol{A} \otimes -\boldsymbol{X}", BX, None, LatexSyntaxError, ("parentheses",), "F", "-"),
    (r"\boldsymbol{X} \odot", BX, None, LatexSyntaxError, ("expected an expression after '\\odot'",), "F", ""),
    # ------------------------------------------------ unknown macros and functions
    (r"\foo{\boldsymbol{X}}", BX, None, UnsupportedError, ("unknown macro \\foo", "supported:", "\\boldsymbol"),
     "F", r"\foo"),
    (r"\operatorname{rank}(\boldsymbol{X})", BX, None, UnsupportedError,
     ("unknown function \\operatorname{rank}", "tr|vec|diag|softmax|expm"), "F", r"\operatorname{rank}"),
    (r"\sum_i \boldsymbol{X}", BX, None, UnsupportedError, ("\\sum_{k=0}^{n-1}",), "F", r"\sum"),
    (r"\sum_{k=0}^{N} \boldsymbol{X}^{k}", BX, None, UnsupportedError, ("\\sum_{k=0}^{n-1}",), "F",
     r"\sum_{k=0}^{N}"),
    (r"\begin{pmatrix} a \end{pmatrix}", BX, None, UnsupportedError, ("pmatrix",), "F",
     r"\begin{pmatrix} a \end{pmatrix}"),
    (r"\sqrt[3]{\boldsymbol{X}}", BX, None, UnsupportedError, ("\\sqrt[n]",), "F", "["),
    (r"\top \boldsymbol{X}", BX, None, LatexSyntaxError, ("superscript",), "F", r"\top"),
    # ------------------------------------------------ transposes and exponents
    (r"\boldsymbol{X}'", BX, None, UnsupportedError, ("prime", "^{\\top}"), "F", "'"),
    (r"\boldsymbol{A}\boldsymbol{X}' \boldsymbol{B}", BX, None, UnsupportedError, ("prime",), "F", "'"),
    (r"\boldsymbol{X}^{\prime}", BX, None, UnsupportedError, ("prime",), "F", r"\prime"),
    (r"\boldsymbol{X}^{*}", BX, None, UnsupportedError, ("conjugate",), "F", "{*}"),
    (r"\boldsymbol{X}^{H}", BX, None, UnsupportedError, ("conjugate",), "F", "{H}"),
    (r"\boldsymbol{X}^{n^2}", BX, None, UnsupportedError, ("cannot read the exponent {n^2}", "^{n-1}"), "F",
     "{n^2}"),
    (r"\boldsymbol{X}^{\alpha}", BX, None, UnsupportedError, ("cannot read the exponent {\\alpha}",), "F",
     r"{\alpha}"),
    (r"\boldsymbol{X}^{100000}", BX, None, UnsupportedError, ("too large", "64"), "F", r"\boldsymbol{X}^{100000}"),
    (r"\boldsymbol{X}^{65}", BX, None, UnsupportedError, ("too large",), "F", r"\boldsymbol{X}^{65}"),
    (r"\boldsymbol{X}^{\circ 1000}", BX, None, UnsupportedError, ("too large",), "F", r"{\circ 1000}"),
    (r"\boldsymbol{X}^{1/2}", BX, None, UnsupportedError, ("integer exponent", "\\circ"), "F",
     r"\boldsymbol{X}^{1/2}"),
    (r"\boldsymbol{X}_{\alpha}", BX, None, UnsupportedError, ("subscript",), "F", r"{\alpha}"),
    (r"(\boldsymbol{A}\boldsymbol{X})_{1}", BX, None, UnsupportedError, ("subscript",), "F", "{1}"),
    # ------------------------------------------------ norms, determinant bars, functions
    (r"\|\boldsymbol{x}\|_\infty", BXV, None, UnsupportedError, ("unsupported norm", "\\|X\\|_*"), "F", r"\infty"),
    (r"\|\boldsymbol{x}\|_3^2", BXV, None, UnsupportedError, ("unsupported norm",), "F", "3"),
    (r"\|\boldsymbol{X}\|_1", BX, None, UnsupportedError, ("largest column sum",), "F", r"\|\boldsymbol{X}\|_1"),
    (r"|a|\boldsymbol{X}", BX, None, UnsupportedError, ("absolute value", "|a|"), "F", "|a|"),
    (r"\operatorname{sech}(\boldsymbol{X})", BX, None, UnsupportedError, ("sech",), "F", r"\operatorname{sech}"),
    (r"\sigma''''(u)\boldsymbol{X}", BX, None, UnsupportedError, ("three primes",), "F", r"\sigma''''"),
    (r"\int_0^2 e^{s\boldsymbol{X}} \,\mathrm{d}s", BX, None, UnsupportedError, ("\\int_{0}^{1}",), "F", r"\int"),
    (r"\int_0^1 e^{s\boldsymbol{X}}", BX, None, LatexSyntaxError, ("differential",), "F", r"\int"),
    # ------------------------------------------------ the variable
    (BX, r"\boldsymbol{X}^{\top}", None, UnsupportedError,
     ("single symbol such as \\boldsymbol{X}", "got \\boldsymbol{X}^{\\top}"), "X", r"\boldsymbol{X}^{\top}"),
    (BX, r"\boldsymbol{AX}", None, UnsupportedError, ("single symbol", "got \\boldsymbol{AX}"), "X",
     r"\boldsymbol{AX}"),
    (BX, r"\boldsymbol{I}", None, UnsupportedError, ("single symbol",), "X", r"\boldsymbol{I}"),
    (BX, r"2\boldsymbol{X}", None, UnsupportedError, ("single symbol",), "X", r"2\boldsymbol{X}"),
    (BX, r"(\boldsymbol{X})", None, UnsupportedError, ("single symbol",), "X", r"(\boldsymbol{X})"),
    (r"\boldsymbol{x}^{\top}\boldsymbol{x}", "x", None, ShapeError, ("x is a scalar in X", "vector in F"), "F",
     r"\boldsymbol{x}"),
    (BX, r"\boldsymbol{X}'", None, UnsupportedError, ("prime",), "X", "'"),
    (BX, r"{\boldsymbol{X}", None, LatexSyntaxError, ("never closed",), "X", "{"),
    # ------------------------------------------------ shapes
    (r"\boldsymbol{A}\boldsymbol{B}", BX, {"A": (3, 4), "B": (5, 2)}, ShapeError,
     ("cannot multiply \\boldsymbol{A} (3x4) by \\boldsymbol{B} (5x2)",), "F", r"\boldsymbol{A}\boldsymbol{B}"),
    (r"\boldsymbol{ABC}", BX, {"A": (3, 4), "B": (4, 2), "C": (3, 3)}, ShapeError,
     ("cannot multiply \\boldsymbol{A}\\boldsymbol{B} (3x2) by \\boldsymbol{C} (3x3)",), "F", "ABC"),
    (r"\boldsymbol{x}\boldsymbol{y}", BXV, None, ShapeError,
     ("cannot multiply \\boldsymbol{x} (nx1) by \\boldsymbol{y} (mx1)",), "F", r"\boldsymbol{x}\boldsymbol{y}"),
    (r"\boldsymbol{A}(\boldsymbol{B} + \boldsymbol{C})", BX, {"A": (2, 3), "B": (4, 4)}, ShapeError,
     ("cannot multiply \\boldsymbol{A} (2x3) by \\boldsymbol{B} + \\boldsymbol{C} (4x4)",), "F",
     r"\boldsymbol{A}(\boldsymbol{B} + \boldsymbol{C})"),
    (r"\boldsymbol{A} + \boldsymbol{X}", BX, {"A": "3x4", "X": (4, 3)}, ShapeError,
     ("cannot add \\boldsymbol{A} (3x4) and \\boldsymbol{X} (4x3)",), "F", r"\boldsymbol{A} + \boldsymbol{X}"),
    (r"\boldsymbol{A} - \boldsymbol{X}", BX, {"A": "3x4", "X": (4, 3)}, ShapeError,
     ("cannot add \\boldsymbol{A} (3x4) and \\boldsymbol{X} (4x3)",), "F", r"\boldsymbol{A} - \boldsymbol{X}"),
    (r"\boldsymbol{X} + a", BX, None, ShapeError, ("cannot add \\boldsymbol{X} (mxn) and a (1x1)",), "F",
     r"\boldsymbol{X} + a"),
    (r"\boldsymbol{x} + \boldsymbol{x}^{\top}", BXV, None, ShapeError, ("cannot add",), "F",
     r"\boldsymbol{x} + \boldsymbol{x}^{\top}"),
    (r"\boldsymbol{A} \odot \boldsymbol{X}", BX, {"A": (2, 2), "X": (2, 3)}, ShapeError,
     ("Hadamard", "\\boldsymbol{A} (2x2)", "\\boldsymbol{X} (2x3)"), "F", r"\boldsymbol{A} \odot \boldsymbol{X}"),
    (r"\boldsymbol{A} \times \boldsymbol{X}", BX, None, ShapeError, ("\\times", "scalars"), "F",
     r"\boldsymbol{A} \times \boldsymbol{X}"),
    (r"\operatorname{tr}(\boldsymbol{X})", BX, {"X": "3x4"}, ShapeError,
     ("trace needs a square matrix", "\\boldsymbol{X} (3x4)"), "F", r"\operatorname{tr}(\boldsymbol{X})"),
    (r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X})", BX, {"A": (2, 3), "X": (3, 4)}, ShapeError,
     ("trace", "\\boldsymbol{A}\\boldsymbol{X} (2x4)"), "F", r"\operatorname{tr}(\boldsymbol{A}\boldsymbol{X})"),
    (r"|\boldsymbol{X}|", BX, {"X": "3x4"}, ShapeError, ("determinant needs a square matrix",), "F",
     r"|\boldsymbol{X}|"),
    (r"\det \boldsymbol{X}", BX, {"X": "3x4"}, ShapeError, ("determinant",), "F", r"\det \boldsymbol{X}"),
    (r"\boldsymbol{X}^{-1}", BX, {"X": "3x4"}, ShapeError, ("inverse needs a square matrix", "(3x4)"), "F",
     r"\boldsymbol{X}^{-1}"),
    (r"\boldsymbol{X}^{-\top}", BX, {"X": "3x4"}, ShapeError, ("inverse",), "F", r"\boldsymbol{X}^{-\top}"),
    (r"\boldsymbol{X}^{2}", BX, {"X": "3x4"}, ShapeError, ("power needs a square matrix",), "F",
     r"\boldsymbol{X}^{2}"),
    (r"e^{\boldsymbol{X}}", BX, {"X": "3x4"}, ShapeError, ("matrix exponential", "\\exp"), "F",
     r"e^{\boldsymbol{X}}"),
    (r"e^{\boldsymbol{x}}", BXV, None, ShapeError, ("matrix exponential",), "F", r"e^{\boldsymbol{x}}"),
    (r"\operatorname{expm}(\boldsymbol{X})", BX, {"X": "3x4"}, ShapeError, ("matrix exponential",), "F",
     r"\operatorname{expm}(\boldsymbol{X})"),
    (r"\operatorname{diag}(\boldsymbol{X})", BX, None, ShapeError, ("diag needs a column vector",), "F",
     r"\operatorname{diag}(\boldsymbol{X})"),
    (r"\operatorname{softmax}(\boldsymbol{X})", BX, None, ShapeError, ("softmax needs a column vector",), "F",
     r"\operatorname{softmax}(\boldsymbol{X})"),
    (r"\frac{\boldsymbol{X}}{\boldsymbol{A}}", BX, None, ShapeError, ("denominator", "\\boldsymbol{A}"), "F",
     r"\frac{\boldsymbol{X}}{\boldsymbol{A}}"),
    (r"\frac{\boldsymbol{X}}{0}", BX, None, LatexSyntaxError, ("division by zero",), "F",
     r"\frac{\boldsymbol{X}}{0}"),
    (r"\boldsymbol{x}^{\top}\boldsymbol{x} + x", r"\boldsymbol{y}", None, ShapeError,
     ("x is written both as a vector", "and as a scalar"), "F", "x"),
    (r"\boldsymbol{A}\boldsymbol{x}", BXV, {"x": (3, 4)}, ShapeError, ("column vector", "3x4"), "F",
     r"\boldsymbol{x}"),
    (r"\boldsymbol{I}_{n} + \boldsymbol{X}", BX, {"X": ("m", "m")}, ShapeError, ("cannot add",), "F",
     r"\boldsymbol{I}_{n} + \boldsymbol{X}"),
    (r"\boldsymbol{I}_{100000}", BX, None, UnsupportedError, ("too large",), "F", "{100000}"),
    (r"\boldsymbol{I}_{0}", BX, None, LatexSyntaxError, ("at least 1",), "F", "{0}"),
    (r"\boldsymbol{I}_{\alpha}", BX, None, LatexSyntaxError, ("cannot read the size",), "F", r"{\alpha}"),
    (r"\boldsymbol{K}_{m,n,p}", BX, None, LatexSyntaxError, ("K_{m,n}",), "F", "{m,n,p}"),
    # absurd nesting is refused, not a RecursionError
    ("(" * 60 + r"\boldsymbol{X}" + ")" * 60, BX, None, UnsupportedError, ("nested too deeply",), "F", "("),
    ("{" * 60 + r"\boldsymbol{X}" + "}" * 60, BX, None, UnsupportedError, ("nested too deeply",), "F",
     "{" * 19 + r"\boldsymbol{X}" + "}" * 19),
    ("{" * 3000 + "X" + "}" * 3000, BX, None, UnsupportedError, ("nested too deeply",), "F",
     "{" * 3000 + "X" + "}" * 3000),
]


@pytest.mark.parametrize(("f", "x", "shapes", "exc", "fragments", "field", "covered"), ERRORS,
                         ids=[f"{e[0]}|{e[1]}" for e in ERRORS])
def test_error(f: str, x: str, shapes: dict | None, exc: type[MatdiffError], fragments: tuple[str, ...],
               field: str, covered: str) -> None:
    with pytest.raises(exc) as info:
        read_derivative_input(f, x, shapes)
    error = info.value
    for fragment in fragments:
        assert fragment in error.message
    assert error.field == field
    source = f if field == "F" else x
    assert error.span is not None
    start, end = error.span
    assert 0 <= start <= end <= len(source)
    assert source[start:end] == covered


def test_errors_print_their_position() -> None:
    with pytest.raises(ShapeError) as info:
        read_derivative_input(r"\boldsymbol{A} + \boldsymbol{X}", BX, {"A": "3x4", "X": (4, 3)})
    assert str(info.value).endswith("(in F at character 1)")


# ---------------------------------------------------------------- the shapes argument


@pytest.mark.parametrize(
    ("shapes", "fragment"),
    [
        ({"X": (100000, 3)}, "too large"),
        ({"X": (0, 3)}, "below 1"),
        ({"X": (-2, 3)}, "below 1"),
        ({"X": "3x4x5"}, "cannot read the shape"),
        ({"X": ("n n", 3)}, "cannot read the size"),
        ({"X": (3.5, 3)}, "cannot read the size"),
        ({"X": (True, 3)}, "cannot read the size"),
        ({"X": (1, 2, 3)}, "give (rows, cols)"),
        ({"X": "batch x 3"}, "cannot read the size"),
    ],
)
def test_bad_shapes_are_refused(shapes: dict, fragment: str) -> None:
    with pytest.raises(ShapeError) as info:
        read_derivative_input(BX, BX, shapes)
    assert fragment in info.value.message
    assert "X" in info.value.message


# ---------------------------------------------------------------- read_expression


@pytest.mark.parametrize(
    ("latex", "shapes", "dims", "fragments", "covered"),
    [
        (r"\boldsymbol{K}_{mn}", {}, None, ("dimension m", "\\boldsymbol{K}_{mn}"), r"\boldsymbol{K}_{mn}"),
        (r"\boldsymbol{I}_{n} + \boldsymbol{I}_{n}", {}, None, ("dimension n",), r"\boldsymbol{I}_{n}"),
        (r"\boldsymbol{I}", {}, None, ("size of \\boldsymbol{I}",), r"\boldsymbol{I}"),
        (r"\boldsymbol{K}_{mn}\text{vec}(\boldsymbol{A})", {"A": (4, 3)}, None, ("mn must equal 12", "dims="),
         r"\boldsymbol{K}_{mn}\text{vec}(\boldsymbol{A})"),
        (r"\boldsymbol{I}_{n} + \boldsymbol{A}", {"A": (3, 3)}, {"n": 4}, ("cannot add", "(4x4)", "(3x3)"),
         r"\boldsymbol{I}_{n} + \boldsymbol{A}"),
        (r"\boldsymbol{A}\boldsymbol{B}", {"A": (3, 3), "B": (2, 2)}, None,
         ("cannot multiply \\boldsymbol{A} (3x3) by \\boldsymbol{B} (2x2)",), r"\boldsymbol{A}\boldsymbol{B}"),
        (r"\boldsymbol{x}^{\top}\boldsymbol{y}", {}, None, ("length of \\boldsymbol{x}",), r"\boldsymbol{x}"),
    ],
)
def test_read_expression_errors(latex: str, shapes: dict, dims: dict | None, fragments: tuple[str, ...],
                                covered: str) -> None:
    with pytest.raises(ShapeError) as info:
        read_expression(latex, shapes, dims)
    for fragment in fragments:
        assert fragment in info.value.message
    assert info.value.span is not None
    assert latex[info.value.span[0]:info.value.span[1]] == covered
