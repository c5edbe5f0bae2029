"""render -j N: the same bytes and the same messages, in file order, as -j 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

X = r"\boldsymbol{X}"
BODIES = [
    f"Trace: \\deriv<\\operatorname{{tr}}(\\boldsymbol{{A}}{X})><{X}>\n",
    f"Broken: \\deriv<{X} +><{X}>\n",
    f"Quadratic\n\n\\deriv<\\boldsymbol{{a}}^{{\\top}}{X}\\boldsymbol{{b}}><{X}>\n",
    "No directive here, only `\\deriv<F><X>` in code.\n",
    f"Also broken: \\deriv<\\operatorname{{tr}}({X}><{X}>\n",
    f"Hessian: \\hessian<\\boldsymbol{{x}}^{{\\top}}\\boldsymbol{{A}}\\boldsymbol{{x}}><\\boldsymbol{{x}}>\n",
]


def _run(tmp_path: Path, jobs: str, out: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "matdiff_tex", "render", "docs", "-o", out, "-j", jobs, *extra],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_jobs_output_is_byte_identical_and_errors_in_file_order(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    for i, body in enumerate(BODIES * 2):
        folder = docs / "sub" if i % 3 == 0 else docs
        (folder / f"n{i:02d}.md").write_text(f"# {i}\n\n{body}", encoding="utf-8")
    one = _run(tmp_path, "1", "out1", "--no-cache")
    two = _run(tmp_path, "2", "out2", "--no-cache")
    assert one.returncode == two.returncode == 2
    assert one.stderr == two.stderr
    reported = [line.split(":")[0] for line in two.stderr.splitlines() if ": error:" in line]
    assert reported == sorted(reported) and len(reported) == 4
    files1 = sorted(p.relative_to(tmp_path / "out1") for p in (tmp_path / "out1").rglob("*.md"))
    files2 = sorted(p.relative_to(tmp_path / "out2") for p in (tmp_path / "out2").rglob("*.md"))
    assert files1 == files2 and len(files1) == 8
    for rel in files1:
        assert (tmp_path / "out1" / rel).read_bytes() == (tmp_path / "out2" / rel).read_bytes()


def test_workers_hold_blas_to_one_thread() -> None:
    from matdiff_tex.parallel import BLAS_THREADS

    code = (
        "import os, sys\n"
        "from matdiff_tex.parallel import Task, render_all\n"
        "tasks = [Task('\\\\deriv<\\\\boldsymbol{X}><\\\\boldsymbol{X}>\\n', 'markdown', f'n{i}', {}, False, False) for i in range(3)]\n"
        "list(render_all(tasks, 2, None))\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREADS}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"  # set in the parent before the workers start, so they inherit it
