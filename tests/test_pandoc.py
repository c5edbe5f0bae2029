"""``--flavor pandoc`` through the real pandoc: HTML (--mathjax, --katex) and PDF (xelatex, ctex).

Each note is rendered by the real command line (``python -m matdiff_tex render``), then:

- pandoc writes standalone HTML with ``--mathjax`` and with ``--katex``; every display and
  inline formula of that HTML is typeset by real KaTeX and MathJax 3 (tests/js), and no
  ``\\text{}`` note holds a line break (pandoc wraps long math lines at spaces);
- pandoc writes a PDF with xelatex, an English note and a Chinese one (``documentclass=ctexart``);
  the same note in the default flavour is refused ("Bad math environment delimiter"), which
  is why the flavour exists;
- a Quarto-style pre-render step (``render --in-place --flavor pandoc`` on a ``.qmd``) keeps
  its markers, changes nothing the second time, and the result goes through pandoc.

pandoc and TeX Live are required: scripts/test installs them (scripts/system-packages).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NOTE_EN = r"""---
title: Pandoc note
matdiff:
  lang: en
---
The gradient of a quadratic form:

\deriv<\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})><\boldsymbol{X}>

Unnumbered:

\deriv[number=false]<\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}><\boldsymbol{X}>

Inline, $y = \deriv<\boldsymbol{a}^{\top}\boldsymbol{x}><\boldsymbol{x}>$, and in the author's display:

$$
\deriv<\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}><\boldsymbol{x}>
$$
"""
NOTE_ZH = r"""---
title: 矩阵求导
---
求 $\boldsymbol{ABX}$ 对 $\boldsymbol{X}$ 的导数：

\deriv<\boldsymbol{ABX}><\boldsymbol{X}>

二次型：

\deriv<\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}><\boldsymbol{x}>
"""
DISPLAYS_EN, INLINES_EN = 3, 1


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} is not on the PATH; ./scripts/test installs it (scripts/system-packages)"
    return path


def render(tmp_path: Path, text: str, *args: str, name: str = "note.md") -> Path:
    source, out = tmp_path / name, tmp_path / f"out-{name}"
    source.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", str(source), "-o", str(out), *args],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return out


def pandoc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("pandoc"), *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def html_math(page: str) -> tuple[list[str], list[str]]:
    """Display and inline formulas of pandoc's HTML, delimiters taken off, entities decoded."""
    def grab(kind: str) -> list[str]:
        found = re.findall(rf'<span\s+class="math {kind}">(.*?)</span>', page, re.S)
        return [re.sub(r"^\\[\[(]|\\[\])]$", "", html.unescape(f).strip()).strip() for f in found]
    return grab("display"), grab("inline")


@pytest.mark.parametrize("method", ["--mathjax", "--katex"])
def test_pandoc_html_reads_every_expansion_as_math(tmp_path: Path, method: str) -> None:
    from test_katex import MathRegion, render_in_node

    out = render(tmp_path, NOTE_EN, "--flavor", "pandoc")
    done = pandoc(str(out), "-s", method, "-o", "note.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    displays, inlines = html_math((tmp_path / "note.html").read_text(encoding="utf-8"))
    assert (len(displays), len(inlines)) == (DISPLAYS_EN, INLINES_EN)
    assert sum("\\begin{equation}" in d for d in displays) == 1  # number=false and the author's $$ are not
    assert all("\\begin{aligned}" in d for d in displays)
    notes = [n for d in displays for n in re.findall(r"\\text\{([^{}]*)\}", d)]
    assert notes and all("\n" not in note for note in notes)
    assert any("linearity\u00a0of\u00a0the\u00a0trace" in note for note in notes)
    regions = [MathRegion("pandoc", d, True) for d in displays] + [MathRegion("pandoc", i, False) for i in inlines]
    reports = render_in_node(regions)
    assert [(r["katex"], r["mathjax"]) for r in reports] == [(None, None)] * len(regions)


def test_default_flavour_html_notes_are_broken_by_pandoc_wrapping(tmp_path: Path) -> None:
    """The control for the no-break spaces: with plain spaces pandoc puts line breaks into notes."""
    out = render(tmp_path, NOTE_EN)
    assert pandoc(str(out), "-s", "--mathjax", "-o", "note.html", cwd=tmp_path).returncode == 0
    displays, _ = html_math((tmp_path / "note.html").read_text(encoding="utf-8"))
    assert any("\n" in note for d in displays for note in re.findall(r"\\text\{([^{}]*)\}", d))


def pdf(tmp_path: Path, markdown: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    tool("xelatex")
    return pandoc(str(markdown), "--pdf-engine=xelatex", *extra, "-o", markdown.with_suffix(".pdf").name,
                  cwd=tmp_path)


def test_pandoc_pdf_with_xelatex_english_and_chinese(tmp_path: Path) -> None:
    english = render(tmp_path, NOTE_EN, "--flavor", "pandoc", name="en.md")
    done = pdf(tmp_path, english)
    assert done.returncode == 0, done.stderr
    chinese = render(tmp_path, NOTE_ZH, "--flavor", "pandoc", name="zh.md")
    done = pdf(tmp_path, chinese, "-V", "documentclass=ctexart")
    assert done.returncode == 0, done.stderr
    for name in ("out-en.pdf", "out-zh.pdf"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 5000
    latex = pandoc(str(chinese), "-s", "-V", "documentclass=ctexart", "-t", "latex", cwd=tmp_path).stdout
    assert latex.count("\\begin{equation}") == 2 and "向量化分子分母" in latex


def test_default_flavour_is_refused_by_pandoc_latex(tmp_path: Path) -> None:
    """The control: ``$$\\begin{equation}`` becomes ``\\[\\begin{equation}`` and LaTeX stops."""
    done = pdf(tmp_path, render(tmp_path, NOTE_EN, name="en.md"))
    assert done.returncode != 0 and "Bad math environment delimiter" in done.stderr + done.stdout


def test_quarto_style_pre_render_in_place(tmp_path: Path) -> None:
    note = tmp_path / "note.qmd"
    in_display = "$$\n\\deriv<\\boldsymbol{x}^{\\top}\\boldsymbol{A}\\boldsymbol{x}><\\boldsymbol{x}>\n$$\n"
    assert in_display in NOTE_EN
    note.write_text(NOTE_EN.replace(in_display, ""), encoding="utf-8")
    command = [sys.executable, "-m", "matdiff_tex", "render", "--in-place", "--flavor", "pandoc", str(note)]
    assert subprocess.run(command, capture_output=True, timeout=600).returncode == 0
    first = note.read_text(encoding="utf-8")
    assert "\\deriv<" in first and "<!-- matdiff-tex" in first and "\n\\begin{equation}\n" in first
    assert subprocess.run(command, capture_output=True, timeout=600).returncode == 0
    assert note.read_text(encoding="utf-8") == first
    done = pandoc("-f", "markdown", str(note), "-s", "--mathjax", "-o", "note.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    displays, inlines = html_math((tmp_path / "note.html").read_text(encoding="utf-8"))
    assert (len(displays), len(inlines)) == (DISPLAYS_EN - 1, INLINES_EN)
    assert not any("\\deriv" in math for math in displays + inlines)
    done = pandoc("-f", "markdown", str(note), "--pdf-engine=xelatex", "-o", "note.pdf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # A directive inside $$ cannot keep its source in a % line that pandoc would wrap: an error.
    note.write_text(NOTE_EN, encoding="utf-8")
    refused = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2 and "note.qmd:17:1: error: with --in-place and the pandoc flavour" in refused.stderr
