#!/usr/bin/env python3
"""Real pages from the two site generators, typeset in headless Chromium.

    .venv/bin/python scripts/integration_pages.py      # writes docs/hexo-marked.png, docs/mkdocs-material.png

- Hexo: a site with only Hexo's default renderer (hexo-renderer-marked) and the bridge, built by
  ``hexo generate``; the theme's page loads KaTeX's auto-render (from tests/js/node_modules).
- MkDocs: a Material site with admonition, details and tabs, built by ``mkdocs build``; MathJax 3
  (tests/js/node_modules/mathjax-full/es5) with the configuration the README gives.

Both pages carry the README's narrow-screen CSS.  tests/test_browser_pages.py builds the same
pages and checks Chromium's DOM (every formula typeset, no error); this script also takes the
screenshots.  Needs ./scripts/test's setup (npm packages, Debian chromium and fonts-noto-cjk).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JS = REPO / "tests" / "js" / "node_modules"
HEXO_SITE = REPO / "tests" / "hexo-site"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]

#: The README's narrow-screen CSS: a wide derivation scrolls inside its own box.
NARROW_CSS = """.katex-display { overflow-x: auto; overflow-y: hidden; }
mjx-container[display="true"] { overflow-x: auto; overflow-y: hidden; }"""

#: The README's MathJax 3 configuration for MkDocs Material (pymdownx.arithmatex, generic: true).
MATHJAX_CONFIG = """window.MathJax = {
  loader: { load: ["[tex]/boldsymbol"] },
  tex: {
    packages: { "[+]": ["boldsymbol"] },
    inlineMath: [["\\\\(", "\\\\)"]],
    displayMath: [["\\\\[", "\\\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" }
};
"""

#: KaTeX auto-render as a Hexo theme loads it (in <head>, after the page is read).
KATEX_HEAD = """<link rel="stylesheet" href="/katex/katex.min.css">
<script defer src="/katex/katex.min.js"></script>
<script defer src="/katex/contrib/auto-render.min.js"
  onload="renderMathInElement(document.body, {delimiters: [{left: '$$', right: '$$', display: true},
  {left: '$', right: '$', display: false}], throwOnError: false})"></script>
<style>body { max-width: 860px; margin: 1em auto; padding: 0 1em; font: 16px/1.6 "Noto Sans CJK SC",
sans-serif; }\n""" + NARROW_CSS + "</style>"

HEXO_POST = r"""---
title: 矩阵求导（hexo-renderer-marked）
matdiff:
  lang: zh
---
求 $\boldsymbol{A}_{1}\boldsymbol{X}\boldsymbol{B}$ 对 $\boldsymbol{X}$ 的导数（Hexo 默认渲染器 hexo-renderer-marked）：

\deriv<\boldsymbol{A}_{1}\boldsymbol{X}\boldsymbol{B}><\boldsymbol{X}>

行内：$y = \deriv<\boldsymbol{a}^{\top}\boldsymbol{x}><\boldsymbol{x}>$。

> 引用中的推导：
>
> \deriv[lang=en]<\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}><\boldsymbol{x}>
"""
HEXO_DISPLAYS, HEXO_INLINES = 2, 3  # the inline result and two formulas of the first line

#: A Material site with the containers and arithmatex (tests/test_markdown_containers.py uses it too).
MKDOCS_SITE_YML = """site_name: matdiff-tex in MkDocs Material
theme:
  name: material
  font: false
plugins:
  - matdiff-tex:
      lang: en
markdown_extensions:
  - admonition
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.tabbed:
      alternate_style: true
  - pymdownx.arithmatex:
      generic: true
"""
MKDOCS_YML = MKDOCS_SITE_YML + """extra_javascript:
  - js/mathjax-config.js
  - js/mathjax/tex-mml-chtml.js
extra_css:
  - css/narrow.css
"""
MKDOCS_PAGE = r"""# Derivations in containers

!!! note "The sandwich (admonition)"

    求 $\boldsymbol{ABX}$ 对 $\boldsymbol{X}$ 的导数：

    \deriv[lang=zh]<\boldsymbol{ABX}><\boldsymbol{X}>

=== "Trace trick (tab)"

    \deriv[layout=denominator]<\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})><\boldsymbol{X}>

=== "Quadratic form"

    \deriv<\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}><\boldsymbol{x}>

???+ tip "Details, opened"

    \deriv<\boldsymbol{A}\boldsymbol{x}><\boldsymbol{x}>
"""
MKDOCS_DISPLAYS = 4


def build_hexo(root: Path, python: str = sys.executable) -> Path:
    """``hexo generate`` of a marked-only site with HEXO_POST; the folder to serve."""
    site = root / "hexo"
    shutil.copytree(HEXO_SITE, site, ignore=shutil.ignore_patterns("node_modules", "package.json"))
    (site / "package.json").write_text(
        '{"name": "shot", "private": true, "hexo": {"version": "8.1.2"}, "dependencies": {"hexo": "8.1.2", '
        '"hexo-matdiff-tex": "*", "hexo-renderer-marked": "7.0.1"}}', encoding="utf-8")
    (site / "node_modules").symlink_to(HEXO_SITE / "node_modules", target_is_directory=True)
    post = site / "source" / "_posts" / "post.md"
    post.parent.mkdir(parents=True)
    post.write_text(HEXO_POST, encoding="utf-8")
    layout = site / "themes" / "bare" / "layout" / "post.njk"
    layout.write_text(layout.read_text(encoding="utf-8").replace("</head>", KATEX_HEAD + "</head>"), encoding="utf-8")
    environment = {**os.environ, "MATDIFF_TEX_PYTHON": python, "NO_COLOR": "1"}
    done = subprocess.run([shutil.which("npx") or "npx", "--no-install", "hexo", "generate"], cwd=site,
                          env=environment, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"hexo generate failed:\n{done.stdout}{done.stderr}")
    public = site / "public"
    shutil.copytree(JS / "katex" / "dist", public / "katex")
    return public


def build_mkdocs(root: Path, python: str = sys.executable, page: str = MKDOCS_PAGE, script: str | None = None) -> Path:
    """``mkdocs build`` of the Material site with ``page`` (MKDOCS_PAGE) and, when given, one more
    ``script`` run after MathJax's; the folder to serve."""
    site = root / "mkdocs"
    (site / "docs" / "js").mkdir(parents=True)
    (site / "docs" / "css").mkdir()
    yml = MKDOCS_YML if script is None else MKDOCS_YML.replace("extra_css:", "  - js/extra.js\nextra_css:")
    (site / "mkdocs.yml").write_text(yml, encoding="utf-8")
    (site / "docs" / "index.md").write_text(page, encoding="utf-8")
    if script is not None:
        (site / "docs" / "js" / "extra.js").write_text(script, encoding="utf-8")
    (site / "docs" / "js" / "mathjax-config.js").write_text(MATHJAX_CONFIG, encoding="utf-8")
    (site / "docs" / "css" / "narrow.css").write_text(NARROW_CSS + "\n", encoding="utf-8")
    shutil.copytree(JS / "mathjax-full" / "es5", site / "docs" / "js" / "mathjax",
                    ignore=shutil.ignore_patterns("sre"))
    done = subprocess.run([python, "-m", "mkdocs", "build", "-q", "-d", str(site / "out")], cwd=site,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"mkdocs build failed:\n{done.stdout}{done.stderr}")
    return site / "out"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """A file server that does not log every request."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free localhost port; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium(url: str, *args: str, budget_ms: int = 20000) -> str:
    """Run headless Chromium on ``url`` (after ``budget_ms`` of virtual time); its stdout."""
    program = shutil.which("chromium") or shutil.which("chromium-browser")
    if program is None:
        raise RuntimeError("chromium is not on the PATH (apt-get install chromium fonts-noto-cjk)")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([program, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               f"--virtual-time-budget={budget_ms}", *args, url],
                              capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed:\n{done.stderr[-2000:]}")
    return done.stdout


def dom(url: str) -> str:
    """The page's DOM after its scripts ran."""
    return chromium(url, "--dump-dom")


def screenshot(url: str, out: Path, width: int, height: int) -> None:
    """A PNG of the page at ``width`` x ``height`` CSS pixels."""
    chromium(url, f"--screenshot={out}", f"--window-size={width},{height}")
    if not out.is_file():
        raise RuntimeError(f"chromium wrote no screenshot {out}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hexo = build_hexo(Path(tmp))
        with serve(hexo) as base:
            screenshot(f"{base}/post/", REPO / "docs" / "hexo-marked.png", 900, 520)
        mkdocs = build_mkdocs(Path(tmp))
        with serve(mkdocs) as base:
            screenshot(f"{base}/", REPO / "docs" / "mkdocs-material.png", 1280, 1160)  # desktop: both sidebars
    print("wrote docs/hexo-marked.png and docs/mkdocs-material.png")


if __name__ == "__main__":
    main()
