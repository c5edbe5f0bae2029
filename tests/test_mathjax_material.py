"""Derivations in MkDocs Material tabs (pymdownx.tabbed) typeset by real MathJax 3 fit the column.

The site is scripts/integration_pages.py's Material site (the README's arithmatex + MathJax
set-up), built by a real ``mkdocs build`` with the matdiff-tex plugin and no ``width`` of its own,
so the plugin's Material default (MATERIAL_WIDTH) applies.  Its page holds every worked example of
the five seed posts, in Chinese and in English, each in a tab of its own, and the example page's
derivations.  Headless Chromium opens it at 1280 x 1000 CSS px, a desktop screen where Material
shows both sidebars and its content column is narrowest (688 px); after MathJax has typeset the
page, every display's formula must be no wider than the tab (or page) it stands in.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import integration_pages as pages  # noqa: E402

pytestmark = pytest.mark.slow

SEEDS = REPO_ROOT / "tests" / "fixtures" / "seeds" / "worked_examples.md"
WINDOW = (1280, 1000)
DESKTOP_COLUMN = 688  # Material's content column at that size (both sidebars shown)

MEASURE = """
MathJax.startup.promise.then(() => {
  const out = [];
  for (const c of document.querySelectorAll('mjx-container[display="true"]')) {
    const box = c.closest('.tabbed-block, .admonition, details, .md-typeset');
    out.push({formula: c.querySelector('mjx-math').getBoundingClientRect().width, column: box.clientWidth});
  }
  document.body.dataset.measure = JSON.stringify(out);
});
"""


def seed_tabs() -> tuple[str, int]:
    """A Markdown page with every seed worked example in a tab set of its own, in zh and in en."""
    directives = re.findall(r"^\\(?:deriv|hessian)\b.*$", SEEDS.read_text(encoding="utf-8"), re.M)
    parts = ["# Seed examples in tabs\n"]
    for lang in ("zh", "en"):
        for directive in directives:
            options = f"lang={lang}, steps=full"
            written = re.sub(r"^(\\(?:deriv|hessian))(?:\[([^\]]*)\])?",
                             lambda m: f"{m.group(1)}[{m.group(2) + ', ' if m.group(2) else ''}{options}]", directive)
            parts.append(f'Case {lang}.\n\n=== "{lang}"\n\n    {written}\n')
    return "\n".join(parts) + "\n" + pages.MKDOCS_PAGE.split("\n", 1)[1], 2 * len(directives)


def test_every_seed_derivation_fits_a_material_tab_in_mathjax(tmp_path: Path) -> None:
    from test_katex import ensure_node_packages

    ensure_node_packages()
    page, count = seed_tabs()
    with pages.serve(pages.build_mkdocs(tmp_path, page=page, script=MEASURE)) as base:
        dom = pages.chromium(f"{base}/", "--dump-dom", f"--window-size={WINDOW[0]},{WINDOW[1]}")
    assert "<mjx-merror" not in dom and "data-mjx-error" not in dom
    found = re.search(r'data-measure="([^"]*)"', dom)
    assert found, "MathJax did not finish typesetting the page"
    measured = json.loads(html.unescape(found.group(1)))
    visible = [m for m in measured if m["column"] > 0]  # the second tab of the example page is hidden
    assert len(visible) == count + pages.MKDOCS_DISPLAYS - 1
    tabs = visible[:count]
    assert {m["column"] for m in tabs} == {DESKTOP_COLUMN}, "not Material's desktop column"
    assert max(m["formula"] for m in tabs) > 0.8 * DESKTOP_COLUMN  # the measure follows the formulas
    too_wide = [(round(m["formula"]), m["column"], at) for at, m in enumerate(visible) if m["formula"] > m["column"]]
    assert too_wide == [], f"formulas wider than their column (px, column px, display index): {too_wide}"
