"""The LaTeX the tool writes compiles (SPEC section 7): pdflatex for English, xelatex + ctex for zh.

Each note goes through the real command line (``python -m matdiff_tex render IN -o OUT``) and
the result is compiled in a temporary folder with ``-interaction=nonstopmode -halt-on-error``:

- ``examples/homework.tex``, the English homework sheet, with pdflatex;
- ``tests/fixtures/latex/zh-note.tex``, a Chinese ``ctexart`` note, with xelatex.  Its
  directives cover a product-rule step that colours factors (``\\textcolor``), a Hessian, the
  trace trick, a directive inside ``equation`` and one inside ``align``, and an inline result.

The TeX tools are required, not optional: when they are missing the test fails and says what
to install (``.ci/run`` installs them; on Debian/Ubuntu
``apt-get install --no-install-recommends texlive-xetex texlive-lang-chinese``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
HOMEWORK = REPO_ROOT / "examples" / "homework.tex"
ZH_NOTE = REPO_ROOT / "tests" / "fixtures" / "latex" / "zh-note.tex"
INSTALL_HINT = ("install TeX Live: apt-get install --no-install-recommends "
                "texlive-xetex texlive-lang-chinese (scripts/test installs them)")

pytestmark = pytest.mark.slow


def render(source: Path, out_dir: Path, *options: str, name: str | None = None) -> Path:
    """``matdiff-tex render SOURCE -o OUT_DIR/NAME`` in a separate process; the output path."""
    out = out_dir / (name or source.name)
    done = subprocess.run(
        [sys.executable, "-m", "matdiff_tex", "render", str(source), "-o", str(out), *options],
        cwd=out_dir, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"matdiff-tex render {source.name} failed:\n{done.stderr}"
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"\\(deriv|hessian|answer)\b", text), "a directive was left unexpanded"
    return out


def compile_tex(engine: str, tex: Path) -> str:
    """Run ENGINE on TEX in its folder; assert it succeeded and made a PDF; return the log."""
    program = shutil.which(engine)
    assert program is not None, f"{engine} is not on the PATH; {INSTALL_HINT}"
    done = subprocess.run(
        [program, "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", tex.name],
        cwd=tex.parent, capture_output=True, text=True, errors="replace", timeout=600,
        stdin=subprocess.DEVNULL)
    log_path = tex.with_suffix(".log")
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    lines = log.splitlines()
    # With -file-line-error an error reads "./name.tex:LINE: message"; keep the lines after it
    # (TeX shows the offending source there).
    errors = "\n".join("\n".join(lines[i:i + 4]) for i, line in enumerate(lines)
                       if line.startswith("!") or re.match(r"\S*\.tex:\d+: ", line))
    assert done.returncode == 0, (
        f"{engine} {tex.name} exited {done.returncode}\n{errors}\n--- end of output ---\n"
        f"{done.stdout[-3000:]}")
    pdf = tex.with_suffix(".pdf")
    assert pdf.exists() and pdf.stat().st_size > 1000, f"{engine} made no PDF for {tex.name}"
    assert pdf.read_bytes().startswith(b"%PDF"), f"{pdf.name} is not a PDF"
    return log


def test_homework_sheet_compiles_with_pdflatex(tmp_path: Path) -> None:
    out = render(HOMEWORK, tmp_path)
    assert "\\checkmark" in out.read_text(encoding="utf-8")  # its hand-written key, checked
    compile_tex("pdflatex", out)


def test_homework_student_copy_compiles_with_pdflatex(tmp_path: Path) -> None:
    out = render(HOMEWORK, tmp_path, "--solutions", "hide", name="homework-student.tex")
    assert "\\rule[-" in out.read_text(encoding="utf-8")  # blank space where the solutions stood
    compile_tex("pdflatex", out)


def test_chinese_note_compiles_with_xelatex_and_ctex(tmp_path: Path) -> None:
    out = render(ZH_NOTE, tmp_path)
    text = out.read_text(encoding="utf-8")
    # The fixture must keep exercising what it claims to.
    assert "\\textcolor{" in text
    assert "\\partial^{2}" in text  # the Hessian
    assert "\\begin{align}" in text and "\\begin{equation}" in text
    log = compile_tex("xelatex", out)
    # xelatex only warns when a glyph is missing from the font: the Chinese step notes would
    # silently vanish from the PDF.
    missing = [line for line in log.splitlines() if "Missing character" in line]
    assert not missing, "characters missing from the fonts:\n" + "\n".join(missing[:10])
