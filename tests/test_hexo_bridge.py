"""The Hexo bridge (integrations/hexo) inside a real ``hexo generate``.

Each test builds a small Hexo 8 site in a temporary folder: a copy of
``tests/hexo-site`` (package.json, _config.yml, a bare Nunjucks theme) whose
``node_modules`` is a link to ``tests/hexo-site/node_modules``, installed there with
``npm ci`` from the committed package-lock.json on first use.  The bridge is in that
lock as ``file:../../integrations/hexo``, so the build runs this checkout's index.js,
and it runs this interpreter (``MATDIFF_TEX_PYTHON=sys.executable``) as the batch
server.  ``MATDIFF_TEX_BATCH_PIDFILE`` makes every batch server write its pid, which
is how the tests count Python processes.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO_ROOT

SITE_DIR = REPO_ROOT / "tests" / "hexo-site"
pytestmark = pytest.mark.slow

ABX = "\\deriv<\\boldsymbol{ABX}><\\boldsymbol{X}>"


def ensure_site_packages() -> None:
    """Install Hexo and the bridge into tests/hexo-site (``npm ci``) unless already there."""
    modules = SITE_DIR / "node_modules"
    lock = json.loads((SITE_DIR / "package-lock.json").read_text(encoding="utf-8"))
    wanted = [name for name in lock["packages"][""]["dependencies"]]
    if all((modules / name / "package.json").is_file() for name in wanted):
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("Node.js 20.19+ and npm are needed for the Hexo test (apt-get install nodejs npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SITE_DIR, check=True,
                   stdin=subprocess.DEVNULL, timeout=600)


#: The plugins a test site loads by default: Hexo's own default renderer and the bridge.
#: tests/hexo-site/package.json installs more (hexo-server, hexo-renderer-pandoc,
#: hexo-filter-mathjax); Hexo loads only those the site's package.json names.
DEFAULT_PLUGINS = ("hexo-matdiff-tex", "hexo-renderer-marked")


def make_site(root: Path, files: dict[str, str], config: str = "",
              plugins: tuple[str, ...] = DEFAULT_PLUGINS) -> Path:
    """A Hexo site in ``root``: the committed skeleton loading ``plugins``, ``config`` appended
    to _config.yml, ``files``."""
    ensure_site_packages()
    site = root / "site"
    site.mkdir()
    package = json.loads((SITE_DIR / "package.json").read_text(encoding="utf-8"))
    missing = set(plugins) - set(package["dependencies"])
    assert not missing, f"not in tests/hexo-site/package.json: {missing}"
    package["dependencies"] = {name: version for name, version in package["dependencies"].items()
                               if name == "hexo" or name in plugins}
    (site / "package.json").write_text(json.dumps(package, indent=2), encoding="utf-8")
    shutil.copytree(SITE_DIR / "themes", site / "themes")
    (site / "_config.yml").write_text((SITE_DIR / "_config.yml").read_text(encoding="utf-8") + config,
                                      encoding="utf-8")
    (site / "node_modules").symlink_to(SITE_DIR / "node_modules", target_is_directory=True)
    for name, text in files.items():
        target = site / "source" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    return site


def hexo_generate(site: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``npx hexo generate`` in ``site``; the completed process and the batch servers' pids."""
    pidfile = site.parent / "batch-pids.txt"
    environment = {**os.environ, "MATDIFF_TEX_PYTHON": sys.executable,
                   "MATDIFF_TEX_BATCH_PIDFILE": str(pidfile), "NO_COLOR": "1", **env}
    npx = shutil.which("npx")
    assert npx is not None, "npx (npm) is needed for the Hexo test"
    done = subprocess.run([npx, "--no-install", "hexo", "generate"], cwd=site, env=environment,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    pids = pidfile.read_text(encoding="utf-8").split() if pidfile.exists() else []
    return done, pids


def page(site: Path, slug: str) -> str:
    """The generated HTML of ``slug`` with entities decoded."""
    return html.unescape((site / "public" / slug / "index.html").read_text(encoding="utf-8"))


def test_hexo_generate_expands_every_post_with_one_python_process(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        # front matter matdiff: beats the site's lang=en
        "_posts/zh-post.md": f"---\ntitle: 中文\nmatdiff:\n  lang: zh\n---\n求导：\n\n{ABX}\n",
        # the site's lang=en from _config.yml
        "_posts/en-post.md": "---\ntitle: English\n---\nGradient:\n\n"
                             "\\deriv<\\operatorname{tr}(\\boldsymbol{A}\\boldsymbol{X})><\\boldsymbol{X}>\n",
        # inline, in a post with CRLF line ends
        "_posts/inline.md": "---\r\ntitle: Inline\r\n---\r\nSo $\\deriv<\\boldsymbol{A}\\boldsymbol{x}><\\boldsymbol{x}>$.\r\n",
        "_posts/plain.md": "---\ntitle: Plain\n---\nNo directive here; `\\deriv<F><X>` in code stays.\n",
        "about/index.md": f"---\ntitle: About\n---\n{ABX}\n",
    }, config="matdiff_tex:\n  lang: en\n")
    done, pids = hexo_generate(site)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log

    zh = page(site, "zh-post")
    assert "\\otimes" in zh and "向量化分子分母" in zh and "\\deriv" not in zh
    en = page(site, "en-post")
    assert "\\deriv" not in en and "\\operatorname{tr}" in en and "numerator layout" in en
    assert "向量" not in en
    inline = page(site, "inline")
    assert "\\frac{\\partial" in inline and "\\deriv" not in inline
    assert "<code>\\deriv&lt;F&gt;&lt;X&gt;</code>" in (site / "public" / "plain" / "index.html").read_text(
        encoding="utf-8")
    about = page(site, "about")
    assert "\\otimes" in about and "\\deriv" not in about

    # five files sent (plain.md mentions \deriv in code), four directives, one batch server
    assert len(pids) == 1, (pids, log)
    assert f"4 directive(s) in 5 post(s), one Python process (pid {pids[0]})" in log, log


def test_hexo_generate_fails_on_a_broken_directive_at_its_line_in_the_file(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "_posts/good.md": f"---\ntitle: Good\n---\n{ABX}\n",
        # the front matter is 5 lines, so the broken directive is on line 8 of the file
        "_posts/broken.md": "---\ntitle: Broken\ntags: [a]\nmatdiff: {lang: en}\n---\n"
                            "Text.\n\n\\deriv<\\boldsymbol{AX><\\boldsymbol{X}>\n",
        # every post's errors are reported, not only the first post's
        "_posts/also-broken.md": "---\ntitle: Also\n---\n$\\deriv<\\boldsymbol{X}^{\\prime}><\\boldsymbol{X}>$\n",
    })
    done, pids = hexo_generate(site)
    log = done.stdout + done.stderr
    assert done.returncode != 0, log
    assert "source/_posts/broken.md:8:7: error: unclosed '<' of F" in log, log
    assert "    \\deriv<\\boldsymbol{AX><\\boldsymbol{X}>\n          ^" in log, log
    assert "matdiff-tex: 1 error in source/_posts/" in log  # the first post to fail stops the build
    assert "source/_posts/also-broken.md:4:" in log, log
    assert not (site / "public" / "broken" / "index.html").exists()
    assert len(pids) == 1, (pids, log)


def test_hexo_generate_fails_when_the_python_cannot_be_run(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"_posts/a.md": f"---\ntitle: A\n---\n{ABX}\n"})
    done, _ = hexo_generate(site, MATDIFF_TEX_PYTHON=str(tmp_path / "no-such-python"))
    log = done.stdout + done.stderr
    assert done.returncode != 0, log
    assert "matdiff-tex: cannot run" in log and "MATDIFF_TEX_PYTHON" in log, log


def test_a_site_without_directives_starts_no_python(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"_posts/a.md": "---\ntitle: A\n---\nJust $x^2$.\n"})
    done, pids = hexo_generate(site)
    assert done.returncode == 0, done.stdout + done.stderr
    assert pids == []
    assert "x^2" in page(site, "a")


# ---------------------------------------------------------------- Hexo's default renderer

MARKED_POST = """---
title: Marked
matdiff:
  lang: en
---
Alone on its line, with subscripts and row breaks:

\\deriv<\\boldsymbol{A}_{1}\\boldsymbol{X}\\boldsymbol{B}_{2}><\\boldsymbol{X}>

In a sentence, $y = \\deriv<\\boldsymbol{a}_{1}^{\\top}\\boldsymbol{x}><\\boldsymbol{x}>$ and
\\deriv<\\boldsymbol{A}_{1}\\boldsymbol{x}><\\boldsymbol{x}> too.

- in a list item:

  \\deriv<\\operatorname{tr}(\\boldsymbol{X}^{\\top}\\boldsymbol{A}_{1}\\boldsymbol{X})><\\boldsymbol{X}>

> in a quote:
>
> \\deriv<\\boldsymbol{x}^{\\top}\\boldsymbol{A}_{1}\\boldsymbol{x}><\\boldsymbol{x}>

中文：

\\deriv[lang=zh]<\\boldsymbol{A}_{1}\\boldsymbol{X}><\\boldsymbol{X}>
"""
MARKED_DISPLAYS, MARKED_INLINES = 4, 2
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![$\\])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)", re.S)


def article_math(page_html: str) -> tuple[list[str], list[str]]:
    """The display and inline math of a page's <article>, as the HTML has it (not unescaped)."""
    body = page_html.split("<article>", 1)[1].split("</article>", 1)[0]
    displays = _DISPLAY.findall(body)
    return displays, _INLINE.findall(_DISPLAY.sub("", body))


def test_default_marked_renderer_keeps_every_derivation_intact(tmp_path: Path) -> None:
    from test_katex import MathRegion, render_in_node

    site = make_site(tmp_path, {"_posts/marked.md": MARKED_POST})
    done, _ = hexo_generate(site)
    assert done.returncode == 0, done.stdout + done.stderr
    raw_html = (site / "public" / "marked" / "index.html").read_text(encoding="utf-8")
    displays, inlines = article_math(raw_html)
    assert (len(displays), len(inlines)) == (MARKED_DISPLAYS, MARKED_INLINES), raw_html
    for math in displays + inlines:
        assert "<br" not in math and "<em" not in math and "</" not in math, math
        assert "{% raw" not in math and "endraw" not in math
    assert all("\\\\" in math and "\\end{aligned}" in math for math in displays)
    assert all("_{1}" in math for math in displays + inlines)
    regions = [MathRegion("hexo-marked", html.unescape(m), True) for m in displays]
    regions += [MathRegion("hexo-marked", html.unescape(m), False) for m in inlines]
    reports = render_in_node(regions)
    failures = [(r.latex[:80], rep) for r, rep in zip(regions, reports) if rep["katex"] or rep["mathjax"]]
    assert failures == []


def test_without_the_raw_guard_marked_mangles_the_math(tmp_path: Path) -> None:
    """The control: the same post with ``raw: false`` is broken by marked (so the test above can fail)."""
    site = make_site(tmp_path, {"_posts/marked.md": MARKED_POST}, config="matdiff_tex:\n  raw: false\n")
    done, _ = hexo_generate(site)
    assert done.returncode == 0, done.stdout + done.stderr
    displays, inlines = article_math((site / "public" / "marked" / "index.html").read_text(encoding="utf-8"))
    mangled = [m for m in displays + inlines if "<br" in m or "<em" in m or "</" in m]
    assert mangled, "marked left the math alone: the raw guard would not be needed"


def test_a_math_aware_renderer_gets_plain_math(tmp_path: Path) -> None:
    """With hexo-renderer-pandoc instead of marked, no raw guard: pandoc typesets the math itself."""
    from test_katex import MathRegion, render_in_node

    site = make_site(tmp_path, {"_posts/marked.md": MARKED_POST},
                     plugins=("hexo-matdiff-tex", "hexo-renderer-pandoc"))
    done, _ = hexo_generate(site)
    assert done.returncode == 0, done.stdout + done.stderr
    page_html = (site / "public" / "marked" / "index.html").read_text(encoding="utf-8")
    # pandoc writes $$...$$ / $...$ (no math option) or \[...\] / \(...\) (--mathjax) in the spans
    displays = re.findall(r'<span\s+class="math display">(?:\$\$|\\\[)(.*?)(?:\$\$|\\\])</span>', page_html, re.S)
    inlines = re.findall(r'<span\s+class="math inline">(?:\$|\\\()(.*?)(?:\$|\\\))</span>', page_html, re.S)
    assert (len(displays), len(inlines)) == (MARKED_DISPLAYS, MARKED_INLINES), page_html
    assert "raw %" not in page_html
    regions = [MathRegion("hexo-pandoc", html.unescape(m), True) for m in displays]
    regions += [MathRegion("hexo-pandoc", html.unescape(m), False) for m in inlines]
    assert all(not rep["katex"] and not rep["mathjax"] for rep in render_in_node(regions))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(predicate, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_hexo_server_reports_a_broken_directive_once_and_rerenders_the_fix(tmp_path: Path) -> None:
    broken = "---\ntitle: Broken\n---\nText.\n\n\\deriv<\\boldsymbol{AX><\\boldsymbol{X}>\n"
    site = make_site(tmp_path, {"_posts/broken.md": broken, "_posts/good.md": f"---\ntitle: Good\n---\n{ABX}\n"},
                     plugins=(*DEFAULT_PLUGINS, "hexo-server"))
    port = _free_port()
    log_path = tmp_path / "server.log"
    environment = {**os.environ, "MATDIFF_TEX_PYTHON": sys.executable, "NO_COLOR": "1"}
    with open(log_path, "w", encoding="utf-8") as log_file:
        server = subprocess.Popen([shutil.which("npx"), "--no-install", "hexo", "server", "-i", "127.0.0.1",
                                   "-p", str(port)], cwd=site, env=environment, stdout=log_file,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        def fetch(slug: str) -> str:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/{slug}/", timeout=10) as reply:
                    return html.unescape(reply.read().decode("utf-8"))
            except OSError:
                return ""

        assert _wait_for(lambda: "Hexo is running" in log_path.read_text(encoding="utf-8")), \
            log_path.read_text(encoding="utf-8")
        shown = fetch("broken")
        assert 'class="matdiff-tex-error"' in shown and "broken.md:6:7: error: unclosed '<' of F" in shown
        assert "\\otimes" in fetch("good")
        fixed = broken.replace("{AX>", "{AX}>")
        (site / "source" / "_posts" / "broken.md").write_text(fixed, encoding="utf-8")
        assert _wait_for(lambda: "\\otimes" in fetch("broken")), log_path.read_text(encoding="utf-8")
        assert "matdiff-tex-error" not in fetch("broken")
        assert server.poll() is None, "the server stopped"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    log = log_path.read_text(encoding="utf-8")
    assert log.count("source/_posts/broken.md:6:7: error:") == 1, log
    assert "Unhandled rejection" not in log and "FATAL" not in log, log


# ---------------------------------------------------------------- hexo-filter-mathjax

#: The hexo-filter-mathjax settings the README gives (tested here).
FILTER_MATHJAX_CONFIG = """\
mathjax:
  tags: ams                  # loads the ams package: aligned, equation numbers
  packages: [ams, boldsymbol]
"""


@pytest.mark.parametrize("config, works", [("", False), (FILTER_MATHJAX_CONFIG, True)],
                         ids=["default-config", "readme-config"])
def test_hexo_filter_mathjax_typesets_every_derivation(tmp_path: Path, config: str, works: bool) -> None:
    post = MARKED_POST.replace("title: Marked\n", "title: Marked\nmathjax: true\n")
    site = make_site(tmp_path, {"_posts/marked.md": post}, config=config,
                     plugins=(*DEFAULT_PLUGINS, "hexo-filter-mathjax"))
    done, _ = hexo_generate(site)
    assert done.returncode == 0, done.stdout + done.stderr
    page_html = (site / "public" / "marked" / "index.html").read_text(encoding="utf-8")
    page_html = page_html.split("<article>", 1)[1]  # the CSS in <head> names merror too
    errors = re.findall(r'data-mjx-error="([^"]*)"', page_html)
    if not works:  # the filter's default setup cannot read `aligned`: the README's config is needed
        assert any("aligned" in error for error in errors), errors
        return
    assert errors == [] and 'data-mml-node="merror"' not in page_html
    assert page_html.count('display="true"') == MARKED_DISPLAYS
    assert len(re.findall(r"<mjx-container[^>]*>", page_html)) == MARKED_DISPLAYS + MARKED_INLINES
    assert "$$" not in page_html


WRONG_CLAIM = ("---\ntitle: Claim\n---\nThe gradient: "
               "$\\frac{\\partial \\boldsymbol{a}^{\\top}\\boldsymbol{X}\\boldsymbol{b}}{\\partial \\boldsymbol{X}} = "
               "\\boldsymbol{a}\\boldsymbol{b}^{\\top}$\n")


def test_lint_warns_by_default_and_fails_the_build_with_lint_error(tmp_path: Path) -> None:
    # numerator layout (the default): d a^T X b / dX is b a^T; a b^T is the denominator result
    for name in ("warn", "error", "off"):
        (tmp_path / name).mkdir()
    warn_site = make_site(tmp_path / "warn", {"_posts/claim.md": WRONG_CLAIM})
    done, pids = hexo_generate(warn_site)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    col = WRONG_CLAIM.splitlines()[3].index("= \\boldsymbol{a}") + 3
    assert f"source/_posts/claim.md:4:{col}: error: holds in denominator layout, this page uses numerator" in output
    assert len(pids) == 1
    error_site = make_site(tmp_path / "error", {"_posts/claim.md": WRONG_CLAIM}, "\nmatdiff_tex:\n  lint: error\n")
    done, _ = hexo_generate(error_site)
    assert done.returncode != 0
    assert f"claim.md:4:{col}: error: holds in denominator layout" in done.stdout + done.stderr
    off_site = make_site(tmp_path / "off", {"_posts/claim.md": WRONG_CLAIM}, "\nmatdiff_tex:\n  lint: 'off'\n")
    done, pids = hexo_generate(off_site)
    assert done.returncode == 0 and pids == [] and "claim.md:4" not in done.stdout + done.stderr
