"""Readings that are probably not what the author meant: a warning at path:line:col, an error with --strict."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from matdiff_tex import derive, render_text
from matdiff_tex.cli import main
from matdiff_tex.errors import MatdiffError

TR = (r"\deriv<2 tr(\boldsymbol{XA})><\boldsymbol{X}>",
      "note.md:3:10: warning: 'tr' without a backslash is read as the product t r of 2 scalars; "
      r"write \operatorname{tr}(\boldsymbol{XA}) for the function")
CALL = (r"\deriv<\boldsymbol{a}^{\top} \boldsymbol{F}(\boldsymbol{X}) \boldsymbol{b}><\boldsymbol{X}>",
        r"note.md:3:30: warning: \boldsymbol{F}(\boldsymbol{X}) is read as the product \boldsymbol{F} "
        r"\boldsymbol{X}, not as a function \boldsymbol{F} applied to \boldsymbol{X}; write \boldsymbol{F} "
        r"\boldsymbol{X} for the product, or the function's formula")
EXP = (r"\deriv<\operatorname{tr}(\exp(\boldsymbol{X}))><\boldsymbol{X}>",
       r"note.md:3:26: warning: \exp of the square matrix \boldsymbol{X} is read element-wise (entry by entry); "
       r"for the matrix exponential write e^{\boldsymbol{X}}")
LOG = (r"\deriv<\operatorname{tr}(\boldsymbol{X}^{-1} \log \boldsymbol{X})><\boldsymbol{X}>",
       r"note.md:3:46: warning: \log of the square matrix \boldsymbol{X} is read element-wise (entry by entry); "
       "the matrix logarithm is not supported")


def _note(tmp_path: Path, directive: str) -> Path:
    note = tmp_path / "note.md"
    note.write_text(f"# t\n\n{directive}\n", encoding="utf-8")
    return note


@pytest.mark.parametrize("directive, message", [TR, CALL, EXP, LOG], ids=["tr", "call", "exp", "log"])
def test_guess_is_a_warning_and_with_strict_an_error(tmp_path: Path, directive: str, message: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _note(tmp_path, directive)
    runner = CliRunner()
    result = runner.invoke(main, ["render", "note.md", "--no-config"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == message
    assert r"\begin{aligned}" in result.stdout  # still expanded
    strict = runner.invoke(main, ["render", "note.md", "--no-config", "--strict"])
    assert strict.exit_code == 2
    assert strict.stderr.splitlines()[0] == message.replace(": warning: ", ": error: ")
    assert strict.stdout == ""


def test_caret_points_at_the_guess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _note(tmp_path, TR[0])
    lines = CliRunner().invoke(main, ["render", "note.md", "--no-config"]).stderr.splitlines()
    assert lines[1] == "    " + TR[0]
    assert lines[2] == "    " + " " * 9 + "^"


def test_no_warning_for_what_is_meant() -> None:
    for f in (r"\operatorname{tr}(\boldsymbol{XA})", r"\boldsymbol{A}(\boldsymbol{X} + \boldsymbol{B})",
              r"\boldsymbol{1}^{\top} \exp(\boldsymbol{X}) \boldsymbol{1}", r"\operatorname{tr}(e^{\boldsymbol{X}})",
              r"t r \operatorname{tr}(\boldsymbol{X})", r"\log\det \boldsymbol{X}"):
        assert derive(f, r"\boldsymbol{X}").warnings == (), f


def test_library_warning_and_strict() -> None:
    with pytest.warns(UserWarning, match=r"<input>:1:8: warning: 'tr' without a backslash"):
        render_text(r"\deriv<tr(\boldsymbol{X})><\boldsymbol{X}>" + "\n")
    with pytest.raises(MatdiffError, match=r"<input>:1:8: error: 'tr' without a backslash"):
        render_text(r"\deriv<tr(\boldsymbol{X})><\boldsymbol{X}>" + "\n", strict=True)


def test_derive_command_warns_against_the_argument() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["derive", r"\boldsymbol{F}(\boldsymbol{X})", r"\boldsymbol{X}", "--no-config"])
    assert result.exit_code == 0
    assert result.stderr.splitlines()[:3] == [
        r"<F>:1:1: warning: \boldsymbol{F}(\boldsymbol{X}) is read as the product \boldsymbol{F} \boldsymbol{X}, "
        r"not as a function \boldsymbol{F} applied to \boldsymbol{X}; write \boldsymbol{F} \boldsymbol{X} for the "
        "product, or the function's formula",
        r"    \boldsymbol{F}(\boldsymbol{X})",
        "    ^",
    ]
    strict = runner.invoke(main, ["derive", "--strict", r"\boldsymbol{F}(\boldsymbol{X})", r"\boldsymbol{X}",
                                  "--no-config"])
    assert strict.exit_code == 2 and strict.stdout == ""
    assert strict.stderr.startswith(r"<F>:1:1: error: \boldsymbol{F}(\boldsymbol{X}) is read as the product")


# ---------------------------------------------------------------- misleading errors fixed


def test_a_pair_is_not_unbalanced_parentheses() -> None:
    result = CliRunner().invoke(main, ["derive", r"(\boldsymbol y, \boldsymbol z)", r"\boldsymbol{y}", "--no-config"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "<F>:1:15: error: a comma: F is one expression, and a pair or list such as (y, z) is not read; "
        "differentiate each part in its own directive",
        r"    (\boldsymbol y, \boldsymbol z)",
        "    " + " " * 14 + "^",
    ]


@pytest.mark.parametrize("args", [[], ["--"]], ids=["bare", "double-dash"])
def test_formula_starting_with_minus_on_the_command_line(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["derive", "--no-config", "--steps", "none", "--format", "json", *args,
                                       r"-\boldsymbol{a}^{\top}\boldsymbol{x}", r"\boldsymbol{x}"])
    assert result.exit_code == 0, result.stderr
    assert '"result": "-\\\\boldsymbol{a}^{\\\\top}"' in result.stdout


def test_derive_help_says_how_to_pass_a_leading_minus() -> None:
    result = CliRunner().invoke(main, ["derive", "--help"])
    assert "'--' before F" in result.stdout
