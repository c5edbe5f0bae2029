"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit (`try-repo`).

pre-commit installs this repository into an environment of its own (from PyPI for the
dependencies), so this test is slow; it shares that environment between its runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTE = "# 笔记\n\n\\deriv<\\boldsymbol{A}\\boldsymbol{X}><\\boldsymbol{X}>\n"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _repo(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "note.md").write_text(NOTE, encoding="utf-8")
    subprocess.run(["git", "-C", str(path), "add", "note.md"], check=True)
    return path


def _try(hook: str, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--files", "note.md"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900,
    )


def test_check_hook_fails_until_the_note_is_expanded(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _repo(tmp_path)
    before = _try("matdiff-tex-check", repo, env)
    assert before.returncode != 0, before.stdout + before.stderr
    assert "would update note.md" in before.stdout + before.stderr
    assert (repo / "note.md").read_text(encoding="utf-8") == NOTE  # the check writes nothing

    fix = _try("matdiff-tex", repo, env)
    assert fix.returncode != 0  # pre-commit fails a hook that modified files
    fixed = (repo / "note.md").read_text(encoding="utf-8")
    assert re.search(r"<!-- matdiff-tex [0-9a-f]{8}: \\deriv<\\boldsymbol\{A\}\\boldsymbol\{X\}><\\boldsymbol\{X\}> -->",
                     fixed)
    assert "\\otimes" in fixed

    subprocess.run(["git", "-C", str(repo), "add", "note.md"], check=True)
    after = _try("matdiff-tex-check", repo, env)
    assert after.returncode == 0, after.stdout + after.stderr
    again = _try("matdiff-tex", repo, env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (repo / "note.md").read_text(encoding="utf-8") == fixed


WRONG = ("Gradient: $\\frac{\\partial \\boldsymbol{x}^{\\top}\\boldsymbol{A}\\boldsymbol{x}}{\\partial \\boldsymbol{x}} = "
         "2\\boldsymbol{x}^{\\top}\\boldsymbol{A}$\n")
RIGHT = WRONG.replace("2\\boldsymbol{x}^{\\top}\\boldsymbol{A}",
                      "\\boldsymbol{x}^{\\top}(\\boldsymbol{A} + \\boldsymbol{A}^{\\top})")


def test_lint_hook_fails_on_a_wrong_hand_written_derivative(tmp_path: Path, env: dict[str, str]) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "note.md").write_text(WRONG, encoding="utf-8")
    subprocess.run(["git", "-C", str(tmp_path), "add", "note.md"], check=True)
    wrong = _try("matdiff-tex-lint", tmp_path, env)
    output = wrong.stdout + wrong.stderr
    assert wrong.returncode != 0, output
    col = WRONG.index("= 2") + 3
    assert f"note.md:1:{col}: error: wrong: for a general \\boldsymbol{{A}} the derivative is" in output
    assert "1 claim checked, 1 wrong, 0 skipped" in output
    assert (tmp_path / "note.md").read_text(encoding="utf-8") == WRONG  # lint writes nothing

    (tmp_path / "note.md").write_text(RIGHT, encoding="utf-8")
    subprocess.run(["git", "-C", str(tmp_path), "add", "note.md"], check=True)
    right = _try("matdiff-tex-lint", tmp_path, env)
    assert right.returncode == 0, right.stdout + right.stderr
