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
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

SITE_DIR = REPO_ROOT / "tests" / "hexo-site"
pytestmark = pytest.mark.slow

ABX = "\\deriv<\\boldsymbol{ABX}><\\boldsymbol{X}>"


def ensure_site_packages() -> None:
    """Install Hexo and the bridge into tests/hexo-site (``npm ci``) unless already there."""
    modules = SITE_DIR / "node_modules"
    if (modules / "hexo" / "package.json").is_file() and (modules / "hexo-matdiff-tex" / "index.js").is_file():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("Node.js 20.19+ and npm are needed for the Hexo test (apt-get install nodejs npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SITE_DIR, check=True,
                   stdin=subprocess.DEVNULL, timeout=600)


def make_site(root: Path, files: dict[str, str], config: str = "") -> Path:
    """A Hexo site in ``root``: the committed skeleton, ``config`` appended to _config.yml, ``files``."""
    ensure_site_packages()
    site = root / "site"
    site.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(SITE_DIR / name, site / name)
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
