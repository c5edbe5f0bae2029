"""Shared test helpers: paths of the repository and a runner for the command line."""

from __future__ import annotations

from pathlib import Path

import click.testing
import pytest

import matdiff_tex

REPO_ROOT = Path(__file__).resolve().parents[1]


def pytest_report_header(config: pytest.Config) -> str:
    """Say which copy of the package is under test (the installed wheel in CI)."""
    return f"matdiff_tex {matdiff_tex.__version__} from {Path(matdiff_tex.__file__).parent}"


@pytest.fixture
def repo_root() -> Path:
    """The checkout's top folder (examples/, templates/, tests/)."""
    return REPO_ROOT


@pytest.fixture
def cli():
    """Run ``matdiff-tex ARGS`` in process; returns click's Result (stdout, stderr, exit_code)."""
    from matdiff_tex.cli import main

    def run(*args: str, input: bytes | str | None = None) -> click.testing.Result:
        runner = click.testing.CliRunner()
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own empty cache folder (never the user's real one, never another test's
    results); subprocesses inherit it through the environment."""
    monkeypatch.setenv("MATDIFF_TEX_CACHE_DIR", str(tmp_path_factory.mktemp("matdiff-cache")))
