"""The command line as a separate process: start-up cost, progress bar, pipes, python -m."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import matdiff_tex

HEAVY = ("sympy", "numpy", "mpmath")
PACKAGE_PARENT = str(Path(matdiff_tex.__file__).resolve().parents[1])


def env() -> dict[str, str]:
    """The environment for a child process that imports the package under test."""
    child = dict(os.environ)
    child["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, child.get("PYTHONPATH")]))
    child.pop("CI", None)
    return child


def heavy_modules_after(args: list[str], cwd: Path) -> list[str]:
    """Run the CLI with ``args`` in a fresh interpreter; the heavy modules it imported."""
    code = (
        "import sys\n"
        "from matdiff_tex.cli import main\n"
        "try:\n"
        f"    main({args!r}, prog_name='matdiff-tex')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = [line for line in done.stdout.splitlines() if line.startswith("HEAVY=")][-1]
    return [name for name in line[len("HEAVY="):].split(",") if name]


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    assert heavy_modules_after(["--help"], tmp_path) == []
    assert heavy_modules_after(["render", "--help"], tmp_path) == []


def test_rendering_a_note_without_directives_imports_nothing_heavy(tmp_path: Path) -> None:
    (tmp_path / "plain.md").write_text("# Title\n\nSome $x^2$ math, `\\deriv` in code.\n")
    (tmp_path / "plain.tex").write_text("\\section{A}\n$\\boldsymbol{X}$ % \\deriv<X><X>\n")
    assert heavy_modules_after(["render", "plain.md", "plain.tex", "-o", "out"], tmp_path) == []
    assert (tmp_path / "out" / "plain.md").exists()


def test_rendering_a_directive_does_load_the_engine(tmp_path: Path) -> None:
    """The check above can fail: the same probe sees the engine's numpy once a derivation is made."""
    (tmp_path / "d.md").write_text("\\deriv<\\boldsymbol{AX}><\\boldsymbol{X}>\n")
    assert "numpy" in heavy_modules_after(["render", "d.md", "-o", "out.md"], tmp_path)


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "matdiff_tex", "--version"], cwd=tmp_path,
                          env=env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"matdiff-tex, version {matdiff_tex.__version__}"


def many_notes(folder: Path, count: int) -> Path:
    """A folder of ``count`` notes without directives."""
    for index in range(count):
        (folder / "docs" / f"n{index:02d}").mkdir(parents=True)
        (folder / "docs" / f"n{index:02d}" / "index.md").write_text(f"# Note {index}\n")
    return folder / "docs"


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    docs = many_notes(tmp_path, 12)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "matdiff_tex", "render", str(docs), "-o", str(tmp_path / "out")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env(),
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    assert proc.stdout is not None and proc.stdout.read() == b""
    text = shown.decode("utf-8", errors="replace")
    assert "matdiff-tex" in text and "12/12" in text


def test_no_progress_bar_in_a_pipe(tmp_path: Path) -> None:
    docs = many_notes(tmp_path, 12)
    done = subprocess.run(
        [sys.executable, "-m", "matdiff_tex", "render", str(docs), "-o", str(tmp_path / "out")],
        stdin=subprocess.DEVNULL, capture_output=True, env=env(), timeout=60,
    )
    assert done.returncode == 0
    assert done.stderr == b"" and done.stdout == b""
    assert len(list((tmp_path / "out").rglob("index.md"))) == 12
