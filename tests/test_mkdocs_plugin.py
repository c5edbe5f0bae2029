"""The MkDocs plugin, exercised by real ``mkdocs build`` runs on a copy of examples/mkdocs.

Each build runs ``python -m mkdocs build`` in a subprocess, so the plugin is found
through its ``mkdocs.plugins`` entry point exactly as in a user's site.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mkdocs  # noqa: F401  (part of the test extra; a missing mkdocs fails the run, it is not skipped)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "mkdocs"
HAS_ARITHMATEX = True
try:  # pymdown-extensions is in the test extra; the site also builds without it
    import pymdownx.arithmatex  # noqa: F401
except ImportError:  # pragma: no cover
    HAS_ARITHMATEX = False

KRON = r"\deriv<\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}><\boldsymbol{X}>"
CONFIG = """\
site_name: matdiff-tex plugin test
docs_dir: docs
theme:
  name: mkdocs
plugins:
  - search
  - matdiff-tex:
      layout: denominator
{extra}{markdown_extensions}"""
ARITHMATEX = """\
markdown_extensions:
  - admonition
  - pymdownx.arithmatex:
      generic: true
"""


def make_site(tmp_path: Path, pages: dict[str, str], *, extra: str = "", example: bool = False) -> Path:
    """A site folder: the example's docs (when ``example``) plus ``pages``, and a mkdocs.yml.

    ``extra`` is added to the plugin's options (lines indented by six spaces).
    """
    site = tmp_path / "site-src"
    if example:
        shutil.copytree(EXAMPLE, site)
    else:
        (site / "docs").mkdir(parents=True)
    if not example or not HAS_ARITHMATEX:
        markdown_extensions = ARITHMATEX if HAS_ARITHMATEX else ""
        (site / "mkdocs.yml").write_text(
            CONFIG.format(extra=extra, markdown_extensions=markdown_extensions), encoding="utf-8")
    for name, text in pages.items():
        (site / "docs" / name).write_text(text, encoding="utf-8")
    return site


def build(site: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run ``mkdocs build`` on ``site`` into a fresh folder; the process and that folder."""
    out = tmp_path / "built"
    process = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(site / "mkdocs.yml"), "-d", str(out)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    return process, out


def page_html(out: Path, name: str) -> str:
    """The built HTML of the page ``name`` (``index`` or a page folder)."""
    path = out / "index.html" if name == "index" else out / name / "index.html"
    return path.read_text(encoding="utf-8")


def without_code(html: str) -> str:
    """The HTML without ``<code>`` spans (where a literal ``\\deriv`` may be shown)."""
    return re.sub(r"<code>.*?</code>", "", html, flags=re.S)


def test_example_site_builds_with_expansions(tmp_path: Path) -> None:
    """examples/mkdocs builds straight from its sources; every directive is expanded."""
    kron = f"# Kronecker\n\nA product with the variable in the middle:\n\n{KRON}\n"
    site = make_site(tmp_path, {"kron.md": kron}, example=True)
    process, out = build(site, tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "error" not in process.stderr.lower(), process.stderr

    index = page_html(out, "index")
    assert "\\deriv" not in without_code(index) and "\\hessian" not in without_code(index)
    assert "\\deriv&lt;F&gt;&lt;X&gt;" in index  # the literal one in a code span is kept
    # The example's front matter says lang: en; notes are English, layout denominator.
    # (the last note, too long for a line of its own here, may be continued on more lines)
    joined = re.sub(r"\} \\\\\s*&amp;\\quad \\phantom\{\\Longrightarrow\} \\text\{", " ", index)
    assert "read off the derivative (denominator layout)" in joined
    if HAS_ARITHMATEX:
        assert 'class="arithmatex"' in index

    kron_html = page_html(out, "kron")
    assert "\\deriv" not in kron_html
    assert "\\otimes" in kron_html
    # No front matter: the site's layout (denominator), the built-in language (zh).
    assert "\\boldsymbol{B} \\otimes \\boldsymbol{A}^{\\top}" in kron_html
    assert "分母布局是分子布局的转置" in kron_html


def test_front_matter_language_applies(tmp_path: Path) -> None:
    """``matdiff: {lang: en}`` in a page's front matter gives that page English notes."""
    english = f"---\ntitle: English\nmatdiff: {{lang: en}}\n---\n\n# English\n\n{KRON}\n"
    chinese = f"# Chinese\n\n{KRON}\n"
    site = make_site(tmp_path, {"index.md": "# Home\n", "english.md": english, "chinese.md": chinese})
    process, out = build(site, tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    english_html, chinese_html = page_html(out, "english"), page_html(out, "chinese")
    assert "vectorize numerator and denominator" in english_html
    assert "向量化分子分母" not in english_html
    assert "向量化分子分母" in chinese_html
    assert "vectorize numerator and denominator" not in chinese_html
    assert "\\boldsymbol{B} \\otimes \\boldsymbol{A}^{\\top}" in english_html  # site layout kept


BROKEN = """\
---
title: Broken
matdiff:
  lang: en
---

# Broken

\\deriv<\\boldsymbol{A}\\boldsymbol{x}+><\\boldsymbol{x}>

Fine: \\deriv<\\boldsymbol{a}^{\\top}\\boldsymbol{x}><\\boldsymbol{x}>
"""
ALSO_BROKEN = "# Also broken\n\n\\deriv[layout=sideways]<x><\\boldsymbol{x}>\n"


def test_broken_directive_fails_the_build_at_file_line_col(tmp_path: Path) -> None:
    """Every error of every page is shown at its line in the file on disk; the build fails."""
    site = make_site(tmp_path, {"index.md": "# Home\n", "broken.md": BROKEN, "also.md": ALSO_BROKEN})
    process, out = build(site, tmp_path)
    output = process.stdout + process.stderr
    assert process.returncode != 0, output
    # Line 9 of the file (5 of them front matter), column of the dangling '+'.
    assert "docs/broken.md:9:36: error: expected an expression after '+'" in output
    assert "    \\deriv<\\boldsymbol{A}\\boldsymbol{x}+><\\boldsymbol{x}>\n" in output
    assert "docs/also.md:3:15: error: layout=sideways is not allowed" in output
    assert "matdiff-tex: 2 errors in 2 pages (docs/also.md, docs/broken.md)" in output
    assert "Traceback" not in output
    assert not (out / "broken" / "index.html").exists()


def test_other_meta_forms_count_their_lines(tmp_path: Path) -> None:
    """CRLF front matter closed by ``...`` and MultiMarkdown meta-data: lines and options still right."""
    crlf = "---\r\ntitle: CRLF\r\nmatdiff: {lang: en}\r\n...\r\n\r\n\r\n# CRLF\r\n\r\n" + KRON + "\r\n"
    mmd = "Title: MultiMarkdown\nMatdiff: lang=en, layout=numerator\n\n# MMD\n\n" + KRON + "\n"
    site = make_site(tmp_path, {"index.md": "# Home\n", "crlf.md": crlf, "mmd.md": mmd})
    process, out = build(site, tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "vectorize numerator and denominator" in page_html(out, "crlf")
    mmd_html = page_html(out, "mmd")
    assert "vectorize numerator and denominator" in mmd_html
    # numerator layout: the Kronecker product is the last line, no transpose step follows
    assert "\\boldsymbol{B}^{\\top} \\otimes \\boldsymbol{A} \\Longrightarrow" not in mmd_html
    assert "(numerator layout)" in mmd_html

    broken = crlf.replace("\\deriv<", "\\deriv[layout=sideways]<")
    (site / "docs" / "crlf.md").write_text(broken, encoding="utf-8", newline="")
    (site / "docs" / "mmd.md").write_text(mmd.replace("\\boldsymbol{B}>", "+>"), encoding="utf-8")
    process, _ = build(site, tmp_path)
    output = process.stdout + process.stderr
    assert process.returncode != 0, output
    assert "docs/crlf.md:9:15: error: layout=sideways is not allowed" in output
    assert "docs/mmd.md:6:36: error: expected an expression after '+'" in output


def test_fail_on_error_false_warns_and_builds(tmp_path: Path) -> None:
    """With ``fail_on_error: false`` a broken page is left as written and the rest builds."""
    pages = {"index.md": f"# Home\n\n{KRON}\n", "broken.md": BROKEN}
    site = make_site(tmp_path, pages, extra="      fail_on_error: false\n")
    process, out = build(site, tmp_path)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert "WARNING" in output and "docs/broken.md:9:36: error: expected an expression after '+'" in output
    assert "\\otimes" in page_html(out, "index")
    assert (out / "broken" / "index.html").exists()


def test_bad_site_option_is_a_config_error(tmp_path: Path) -> None:
    """A wrong option in mkdocs.yml stops the build with MkDocs' own config message."""
    site = make_site(tmp_path, {"index.md": "# Home\n"})
    config = (site / "mkdocs.yml").read_text(encoding="utf-8")
    for wrong, words in (("layout: sideways", ("layout", "sideways")),
                         ("templates: no-such-folder", ("templates", "no-such-folder")),
                         ("shapes: {A: 3 by 4}", ("matdiff-tex: in mkdocs.yml", "3 by 4"))):
        (site / "mkdocs.yml").write_text(config.replace("layout: denominator", wrong), encoding="utf-8")
        process, _ = build(site, tmp_path)
        output = process.stdout + process.stderr
        assert process.returncode != 0, output
        assert all(word in output for word in words), output
        assert "Traceback" not in output


def test_plugin_import_is_light() -> None:
    """Importing the plugin (as MkDocs does for every build) does not import sympy."""
    code = "import sys, matdiff_tex.integrations.mkdocs; print('sympy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


WRONG_CLAIM = """---
matdiff:
  layout: denominator
---
# Hand-written

The gradient of a quadratic form:

$$\\frac{\\partial \\boldsymbol{x}^{\\top}\\boldsymbol{A}\\boldsymbol{x}}{\\partial \\boldsymbol{x}} = 2\\boldsymbol{A}\\boldsymbol{x}$$
"""


@pytest.mark.parametrize("mode", ["warn", "error", "off"])
def test_lint_option_reports_a_wrong_hand_written_claim(tmp_path: Path, mode: str) -> None:
    """``lint: warn`` (the default) logs the wrong line and builds; ``error`` stops the build; ``off`` is silent."""
    extra = "" if mode == "warn" else f"      lint: {mode}\n"
    site = make_site(tmp_path, {"index.md": f"# Home\n\n{KRON}\n", "calc.md": WRONG_CLAIM}, extra=extra)
    process, out = build(site, tmp_path)
    output = process.stdout + process.stderr
    col = WRONG_CLAIM.splitlines()[8].index("= 2") + 3
    message = (f"docs/calc.md:9:{col}: error: " "wrong: for a general \\boldsymbol{A} the derivative is "
               "(\\boldsymbol{A} + \\boldsymbol{A}^{\\top}) \\boldsymbol{x}; 2\\boldsymbol{A}\\boldsymbol{x} "
               "needs \\boldsymbol{A} symmetric")
    if mode == "warn":
        assert process.returncode == 0, output
        assert f"WARNING -  matdiff-tex: {message}" in output, output
        assert (out / "calc" / "index.html").exists()
    elif mode == "error":
        assert process.returncode != 0, output
        assert message in output and "ERROR" in output
    else:
        assert process.returncode == 0, output
        assert "calc.md:9" not in output
