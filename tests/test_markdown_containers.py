"""Directives in MkDocs containers (admonitions, details, tabs), nested and in list items.

With ``markdown: mkdocs`` the indented body of ``!!! note``, ``??? note``, ``???+ note`` and
``=== "Tab"`` is Markdown, not an indented code block, so its directives are expanded; real
fenced and indented code stays untouched, and every directive left alone in code is reported
as ``path:line:col: note: \\deriv not expanded (inside code)``.  The last test builds a real
MkDocs site (Material theme, admonition + pymdownx.details + pymdownx.tabbed + arithmatex)
and renders every display formula of the built HTML with real KaTeX and MathJax.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from matdiff_tex.document import process_document
from matdiff_tex.scan import scan

# Each directive is told apart by its F; the ones named CODE must stay in code.
PAGE = r"""# Containers

!!! note "Gradient"

    \deriv<\boldsymbol{a}^{\top}\boldsymbol{x}><\boldsymbol{x}>

??? tip "Folded"

    Some text first.

    \deriv<\boldsymbol{A}\boldsymbol{x}><\boldsymbol{x}>

???+ warning

    \deriv<\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}><\boldsymbol{x}>

=== "Tab one"

    !!! example "Nested in a tab"

        \deriv<\boldsymbol{B}\boldsymbol{x}><\boldsymbol{x}>

=== "Tab two"

    \deriv<\operatorname{tr}(\boldsymbol{X})><\boldsymbol{X}>

- a list item

    ???+ note "In a list item"

        \deriv<\boldsymbol{C}\boldsymbol{x}><\boldsymbol{x}>

```
\deriv<\boldsymbol{CODEA}><\boldsymbol{X}>
```

    \deriv<\boldsymbol{CODEB}\boldsymbol{X}><\boldsymbol{X}>

!!! note "Code in an admonition"

    ```
    \deriv<\boldsymbol{CODEC}><\boldsymbol{X}>
    ```

        \deriv<\boldsymbol{CODED}><\boldsymbol{X}>
"""
IN_CONTAINERS = 6
IN_CODE = 4


def fs(text: str, mode: str) -> list[str]:
    """The F of every directive the scanner expands."""
    return [d.f for d in scan(text, "markdown", markdown=mode).directives]


def test_mkdocs_mode_finds_every_container_directive_and_no_code() -> None:
    found = fs(PAGE, "mkdocs")
    assert len(found) == IN_CONTAINERS
    assert not any("CODE" in f for f in found)
    assert r"\boldsymbol{B}\boldsymbol{x}" in found and r"\boldsymbol{C}\boldsymbol{x}" in found


def test_commonmark_mode_takes_container_bodies_for_code() -> None:
    assert fs(PAGE, "commonmark") == []


def test_a_header_inside_code_opens_nothing() -> None:
    text = "```\n!!! note\n\n    \\deriv<\\boldsymbol{A}><\\boldsymbol{X}>\n```\n\n" \
           "    !!! note\n\n        \\deriv<\\boldsymbol{A}><\\boldsymbol{X}>\n"
    assert fs(text, "mkdocs") == []
    assert len(scan(text, "markdown", markdown="mkdocs").skipped) == 2


@pytest.mark.parametrize("header", ["!!! note", '!!! danger "Title"', "??? note", "???+ tip",
                                    '=== "Tab"', '===! "Tab"', '???+ note "Nested title"'])
def test_each_header_kind_opens_its_body(header: str) -> None:
    text = f"{header}\n\n    First paragraph.\n\n    \\deriv<\\boldsymbol{{A}}><\\boldsymbol{{X}}>\n"
    assert fs(text, "mkdocs") == [r"\boldsymbol{A}"]


def test_skipped_directives_are_noticed_with_their_location() -> None:
    result = process_document(PAGE, "markdown", path="page.md", options={"markdown": "mkdocs"},
                              expander=lambda *args: "$$E$$")
    assert result.errors == []
    assert result.directives == IN_CONTAINERS
    assert result.text.count("$$E$$") == IN_CONTAINERS
    notes = [notice.format() for notice in result.notices]
    assert len(notes) == IN_CODE
    lines = PAGE.split("\n")
    for note in notes:
        where, message = note.split(": note: ", 1)
        _, line, col = where.split(":")
        assert lines[int(line) - 1][int(col) - 1:].startswith("\\deriv<\\boldsymbol{CODE")
        assert message.startswith("\\deriv not expanded (inside code)")


def test_commonmark_notice_says_how_to_open_containers() -> None:
    result = process_document(PAGE, "markdown", path="page.md", expander=lambda *args: "$$E$$")
    hints = [n for n in result.notices if "markdown: mkdocs" in n.message]
    assert len(result.notices) == IN_CONTAINERS + IN_CODE
    assert len(hints) == IN_CONTAINERS


def test_cli_setting_front_matter_and_check(cli, tmp_path: Path) -> None:
    note = tmp_path / "page.md"
    note.write_text(PAGE, encoding="utf-8")
    checked = cli("render", str(note), "--check", "--no-config")
    assert checked.exit_code == 0, checked.stderr
    assert checked.stderr.count("not expanded (inside code)") == IN_CONTAINERS + IN_CODE
    quiet = cli("render", str(note), "--no-config")
    assert "not expanded" not in quiet.stderr
    verbose = cli("render", str(note), "--no-config", "-v", "--markdown", "mkdocs", "--lang", "en")
    assert verbose.exit_code == 0, verbose.stderr
    assert verbose.stdout.count("\\begin{aligned}") == IN_CONTAINERS
    assert verbose.stderr.count("not expanded (inside code)") == IN_CODE
    note.write_text("---\nmatdiff:\n  markdown: mkdocs\n  lang: en\n---\n" + PAGE, encoding="utf-8")
    front = cli("render", str(note), "--no-config")
    assert front.exit_code == 0, front.stderr
    assert front.stdout.count("\\begin{aligned}") == IN_CONTAINERS
    (tmp_path / "matdiff-tex.toml").write_text('markdown = "mkdocs"\nlang = "en"\n', encoding="utf-8")
    note.write_text(PAGE, encoding="utf-8")
    configured = cli("render", str(note))
    assert configured.stdout.count("\\begin{aligned}") == IN_CONTAINERS
    (tmp_path / "matdiff-tex.toml").write_text('markdown = "github"\n', encoding="utf-8")
    assert cli("render", str(note)).exit_code == 2




@pytest.mark.slow
def test_real_mkdocs_material_build_expands_containers(tmp_path: Path) -> None:
    from test_katex import MathRegion, render_in_node

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from integration_pages import MKDOCS_SITE_YML

    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text(MKDOCS_SITE_YML, encoding="utf-8")
    (tmp_path / "docs" / "index.md").write_text(PAGE, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-d", str(tmp_path / "out")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("not expanded (inside code)") == IN_CODE
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    formulas = [html.unescape(m) for m in re.findall(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', page, re.S)]
    assert len(formulas) == IN_CONTAINERS
    assert all("\\begin{aligned}" in formula for formula in formulas)
    # Each formula sits in its container: admonitions, details, tab panels (nested ones too).
    assert len(re.findall(r'<div class="admonition note">\s*<p class="admonition-title">Gradient</p>\s*'
                          r'<div class="arithmatex">', page)) == 1
    assert len(re.findall(r'<details class="tip">', page)) == 1
    assert len(re.findall(r'<div class="tabbed-block">\s*<div class="admonition example">', page)) == 1
    # The code stays code, directive and all.
    codes = [html.unescape(m) for m in re.findall(r"<code>(.*?)</code>", page, re.S)]
    assert sum("\\deriv<\\boldsymbol{CODE" in code for code in codes) == IN_CODE
    reports = render_in_node([MathRegion("mkdocs", formula, True) for formula in formulas])
    assert [(r["katex"], r["mathjax"]) for r in reports] == [(None, None)] * IN_CONTAINERS
