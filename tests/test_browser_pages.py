"""A Hexo page (hexo-renderer-marked + KaTeX) and an MkDocs Material page (containers + MathJax 3)
built by the real generators and typeset in headless Chromium, with the README's configurations.

The pages are those of scripts/integration_pages.py (which also takes the screenshots in
docs/); here Chromium's DOM after the scripts ran is checked: every formula typeset, none with
an error (KaTeX's ``katex-error``, MathJax's ``mjx-merror``), and no raw ``$$`` or ``\\deriv``
left in the text.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import integration_pages as pages  # noqa: E402

pytestmark = pytest.mark.slow


def body_of(dom: str) -> str:
    """The page body, its <style> and <script> elements taken out."""
    body = dom.split("<body", 1)[1]
    return re.sub(r"<(style|script)\b.*?</\1>", "", body, flags=re.S)


def test_hexo_marked_page_typesets_every_derivation_in_katex(tmp_path: Path) -> None:
    from test_hexo_bridge import ensure_site_packages
    from test_katex import ensure_node_packages

    ensure_site_packages()
    ensure_node_packages()
    with pages.serve(pages.build_hexo(tmp_path)) as base:
        body = body_of(pages.dom(f"{base}/post/"))
    assert 'class="katex-error"' not in body
    assert body.count('class="katex-display"') == pages.HEXO_DISPLAYS
    assert len(re.findall(r'<span class="katex">', body)) == pages.HEXO_DISPLAYS + pages.HEXO_INLINES
    text = re.sub(r'<span class="katex-mathml">.*?</span></span>', "", body, flags=re.S)
    assert "$$" not in text and "\\deriv" not in text and "{% raw" not in text


def test_mkdocs_material_page_typesets_every_derivation_in_mathjax(tmp_path: Path) -> None:
    from test_katex import ensure_node_packages

    ensure_node_packages()
    with pages.serve(pages.build_mkdocs(tmp_path)) as base:
        body = body_of(pages.dom(f"{base}/"))
    assert "<mjx-merror" not in body and "data-mjx-error" not in body
    displays = re.findall(r'<mjx-container[^>]*display="true"', body)
    assert len(displays) == pages.MKDOCS_DISPLAYS
    # every formula of the page is typeset, the ones in the admonition, the tabs and details too
    assert len(re.findall(r'class="arithmatex"', body)) == len(re.findall(r"<mjx-container", body))
    assert "\\deriv" not in body and "\\begin{aligned}" not in re.sub(r"<mjx-assistive-mml.*?</mjx-assistive-mml>",
                                                                    "", body, flags=re.S)
