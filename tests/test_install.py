"""Packaging: the wheel installed into a fresh venv gives a working ``matdiff-tex``.

Slow (it builds a wheel, makes a venv and installs the dependencies, from pip's
cache after the first run) but part of the standard test run: an editable
checkout hides a template or module missing from the wheel.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run(args: list[str | Path], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a command; fail the test with its output when it fails."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    done = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the checkout (without build isolation when hatchling is at hand)."""
    out = tmp_path_factory.mktemp("wheelhouse")
    source = tmp_path_factory.mktemp("source") / "matdiff-tex"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "build", "dist", "__pycache__", ".pytest_cache",
        ".hypothesis"))
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", out, source],
        cwd=out)
    wheels = list(out.glob("matdiff_tex-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with nothing but the wheel and its dependencies."""
    folder = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", folder], cwd=folder.parent)
    run([folder / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check",
         wheel], cwd=folder.parent)
    return folder


def test_wheel_contains_package_and_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(name).relative_to("matdiff_tex/templates").as_posix()
               for name in names if name.startswith("matdiff_tex/templates/")}
    in_repo = {path.relative_to(REPO_ROOT / "templates").as_posix()
               for path in (REPO_ROOT / "templates").rglob("*") if path.is_file()}
    assert in_repo and shipped == in_repo
    assert "matdiff_tex/cli.py" in names and "matdiff_tex/__main__.py" in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "matdiff-tex = matdiff_tex.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_command_renders_an_example(venv: Path, tmp_path: Path) -> None:
    command = venv / "bin" / "matdiff-tex"
    version = run([command, "--version"], cwd=tmp_path)
    assert version.stdout.startswith("matdiff-tex, version ")
    where = run([venv / "bin" / "python", "-c",
                 "import matdiff_tex; print(matdiff_tex.__file__)"], cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv), "imported from the fresh venv"

    example = REPO_ROOT / "examples" / "homework.tex"
    out = tmp_path / "homework.tex"
    run([command, "render", example, "-o", out, "--no-config"], cwd=tmp_path)
    text = out.read_text(encoding="utf-8")
    assert "\\begin{aligned}" in text and "\\frac{\\partial" in text
    assert "\\deriv<" not in text.replace("% \\deriv<", "")


def test_installed_command_derives(venv: Path, tmp_path: Path) -> None:
    done = run([venv / "bin" / "matdiff-tex", "derive", r"\boldsymbol{ABX}", r"\boldsymbol{X}",
                "--format", "markdown", "--lang", "en"], cwd=tmp_path)
    assert done.stdout.startswith("$$") and "\\otimes" in done.stdout
