"""``\\answer`` and ``solutions: hide`` in the site builds: a real ``mkdocs build`` and a real
``hexo generate`` (the helpers of test_mkdocs_plugin and test_hexo_bridge).

A student's copy of a site keeps each question and writes nothing of a solution; a right
answer is stamped; a wrong one fails the build at its line in the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import test_hexo_bridge as hexo  # noqa: E402
import test_mkdocs_plugin as mk  # noqa: E402

pytestmark = pytest.mark.slow

B = r"\boldsymbol"
KRON = rf"\deriv<{B}{{A}}{B}{{X}}{B}{{B}}><{B}{{X}}>"
KEY = rf"{B}{{b}}{B}{{a}}^{{\top}}"  # d(a^T X b)/dX in numerator layout
RIGHT = rf"\answer[layout=numerator]<{B}{{a}}^{{\top}}{B}{{X}}{B}{{b}}><{B}{{X}}><{KEY}>"
WRONG = rf"\answer[layout=numerator]<{B}{{a}}^{{\top}}{B}{{X}}{B}{{b}}><{B}{{X}}><{B}{{a}}{B}{{b}}^{{\top}}>"
PAGE = f"---\ntitle: Homework\nmatdiff: {{lang: en}}\n---\n\n# Homework\n\n{KRON}\n\nThe key:\n\n{RIGHT}\n"


def test_mkdocs_site_with_answers_and_its_student_copy(tmp_path: Path) -> None:
    solutions = mk.make_site(tmp_path / "a", {"index.md": PAGE})
    process, out = mk.build(solutions, tmp_path / "a")
    assert process.returncode == 0, process.stdout + process.stderr
    html = mk.page_html(out, "index")
    assert KEY + r" \quad \checkmark" in html and r"\otimes" in html and r"\answer" not in html

    student = mk.make_site(tmp_path / "b", {"index.md": PAGE}, extra="      solutions: hide\n")
    process, out = mk.build(student, tmp_path / "b")
    assert process.returncode == 0, process.stdout + process.stderr
    html = mk.page_html(out, "index")
    assert html.count(r"\underline{\hspace{10em} }") == 2
    assert KEY not in html and r"\otimes" not in html and r"\checkmark" not in html

    broken = mk.make_site(tmp_path / "c", {"index.md": PAGE.replace(RIGHT, WRONG)})
    process, _ = mk.build(broken, tmp_path / "c")
    assert process.returncode != 0
    assert "docs/index.md:12:" in process.stderr and "wrong answer: holds in denominator layout" in process.stderr


def test_hexo_site_with_answers_and_its_student_copy(tmp_path: Path) -> None:
    for name in "abc":
        (tmp_path / name).mkdir()
    posts = {"_posts/key.md": PAGE, "_posts/only-an-answer.md": f"---\ntitle: Only\n---\n{RIGHT}\n"}
    site = hexo.make_site(tmp_path / "a", posts)
    done, _ = hexo.hexo_generate(site)
    assert done.returncode == 0, done.stdout + done.stderr
    assert KEY + r" \quad \checkmark" in hexo.page(site, "only-an-answer")  # \answer alone starts the bridge
    assert r"\otimes" in hexo.page(site, "key")

    site = hexo.make_site(tmp_path / "b", posts, config="matdiff_tex:\n  solutions: hide\n")
    done, _ = hexo.hexo_generate(site)
    assert done.returncode == 0, done.stdout + done.stderr
    for slug in ("key", "only-an-answer"):
        page = hexo.page(site, slug)
        assert r"\underline{\hspace{10em} }" in page
        assert KEY not in page and r"\otimes" not in page and r"\checkmark" not in page

    site = hexo.make_site(tmp_path / "c", {"_posts/key.md": PAGE.replace(RIGHT, WRONG)})
    done, _ = hexo.hexo_generate(site)
    log = done.stdout + done.stderr
    assert done.returncode != 0 and "source/_posts/key.md:12:" in log and "wrong answer" in log, log
