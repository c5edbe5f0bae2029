"""Jupyter notebooks: directives in Markdown cells are expanded, nothing else is touched.

Notebooks are built with nbformat, rendered by the real command line (in process), and read
back and validated with nbformat.  ``Derivation`` shows itself in a notebook through
``_repr_markdown_`` / ``_repr_latex_``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest

from matdiff_tex import derive, render_text

MD_DISPLAY = "# Gradients\n\nOf a linear form:\n\n\\deriv[lang=en]<\\boldsymbol{a}^{\\top}\\boldsymbol{x}><\\boldsymbol{x}>\n"
MD_INLINE = ["So $y = \\deriv<\\boldsymbol{A}\\boldsymbol{x}><\\boldsymbol{x}>$.\n", "中文也可以。\n"]
CODE = "s = r'\\deriv<\\boldsymbol{A}><\\boldsymbol{X}>'\nprint(s)"


def make_notebook(path: Path, *, broken: bool = False) -> dict:
    """A notebook with two Markdown cells holding directives, a code cell and a raw cell that
    mention one, outputs and metadata; returned as the JSON written."""
    nb = nbformat.v4.new_notebook()
    second = ["Broken: \\deriv<\\boldsymbol{AX><\\boldsymbol{X}>\n"] if broken else MD_INLINE
    nb.cells = [
        nbformat.v4.new_markdown_cell(MD_DISPLAY, metadata={"tags": ["keep-me"]}),
        nbformat.v4.new_code_cell(CODE, execution_count=3, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="\\deriv<A><X>\n"),
            nbformat.v4.new_output("execute_result", data={"text/plain": "'x'"}, execution_count=3)]),
        nbformat.v4.new_markdown_cell(second),
        nbformat.v4.new_raw_cell("\\deriv<\\boldsymbol{B}><\\boldsymbol{X}>"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return json.loads(path.read_text(encoding="utf-8"))


def without_markdown_sources(notebook: dict) -> dict:
    """The notebook with the sources of its Markdown cells taken out: what must not change."""
    rest = copy.deepcopy(notebook)
    for cell in rest["cells"]:
        if cell["cell_type"] == "markdown":
            cell.pop("source")
    return rest


def test_render_to_a_new_notebook_expands_markdown_cells_only(cli, tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    before = make_notebook(source)
    result = cli("render", str(source), "-o", str(tmp_path / "out.ipynb"), "--no-config")
    assert result.exit_code == 0, result.stderr
    written = (tmp_path / "out.ipynb").read_text(encoding="utf-8")
    nbformat.validate(nbformat.reads(written, as_version=4))
    after = json.loads(written)
    assert without_markdown_sources(after) == without_markdown_sources(before)
    first, third = ("".join(after["cells"][i]["source"]) for i in (0, 2))
    assert first.startswith("# Gradients\n\nOf a linear form:\n\n$$\n\\begin{equation}")
    assert "linearity of $\\mathrm{d}$" in first and "\\deriv" not in first
    assert re.fullmatch(r"So \$y = \\frac\{\\partial [^$]*\$\.\n中文也可以。\n", third)
    assert isinstance(after["cells"][2]["source"], list)  # a list of lines stays a list of lines
    assert source.read_text(encoding="utf-8") == json.dumps(before, sort_keys=True, indent=1,
                                                            ensure_ascii=False) + "\n"


def test_in_place_then_check_and_a_second_run_changes_nothing(cli, tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    before = make_notebook(source)
    assert cli("render", "--check", str(source), "--no-config").exit_code == 1
    assert cli("render", "--in-place", str(source), "--no-config").exit_code == 0
    once = source.read_bytes()
    after = json.loads(once)
    assert without_markdown_sources(after) == without_markdown_sources(before)
    assert "<!-- matdiff-tex" in "".join(after["cells"][0]["source"])
    assert cli("render", "--check", str(source), "--no-config").exit_code == 0
    assert cli("render", "--in-place", str(source), "--no-config").exit_code == 0
    assert source.read_bytes() == once
    nbformat.validate(nbformat.reads(once.decode("utf-8"), as_version=4))


def test_an_error_names_the_cell_and_nothing_is_written(cli, tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    make_notebook(source, broken=True)
    original = source.read_bytes()
    result = cli("render", "--in-place", str(source), "--no-config")
    assert result.exit_code == 2
    assert f"{source}:cell 3:1:15: error: unclosed '<' of F" in result.stderr
    assert source.read_bytes() == original


def test_a_notebook_without_directives_is_returned_byte_for_byte(cli, tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    source.write_text('{"cells": [{"cell_type": "markdown", "metadata": {}, "source": "no math"}],\n'
                      '  "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', encoding="utf-8")
    result = cli("render", str(source), "--no-config")
    assert result.exit_code == 0 and result.stdout_bytes == source.read_bytes()


def test_not_a_notebook_is_a_clear_error(cli, tmp_path: Path) -> None:
    source = tmp_path / "nb.ipynb"
    source.write_text("{not json \\\\deriv<A><X>", encoding="utf-8")
    result = cli("render", str(source), "--no-config")
    assert result.exit_code == 2 and "not a Jupyter notebook (invalid JSON" in result.stderr


@pytest.mark.parametrize("method", ["_repr_markdown_", "_repr_latex_"])
def test_derivation_shows_itself_in_a_notebook(method: str) -> None:
    derivation = derive(r"\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}", r"\boldsymbol{X}")
    shown = getattr(derivation, method)()
    assert shown == render_text(r"\deriv<\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}><\boldsymbol{X}>")
    assert shown.startswith("$$\n\\begin{equation}") and shown.endswith("\\end{equation}\n$$")
