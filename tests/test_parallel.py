"""render -j N: the same bytes and the same messages, in file order, as -j 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


_BLAS_PROBE = """
import json, os, sys
{preload}
from matdiff_tex import parallel
from matdiff_tex.parallel import Task, render_all

def probe(task, cache):  # runs in the worker: numpy loaded as the engine loads it, then its pools
    import numpy  # noqa: F401
    from matdiff_tex.document import default_expander
    default_expander()
    info = {{"threads": parallel.blas_threads(), "pid": os.getpid(),
             "env": os.environ.get("OPENBLAS_NUM_THREADS")}}
    return json.dumps(info), [], [], []

parallel._render = probe
tasks = [Task('\\\\deriv<\\\\boldsymbol{{X}}><\\\\boldsymbol{{X}}>\\n', 'markdown', f'n{{i}}', {{}}, False, False)
         for i in range(4)]
print(json.dumps({{"parent": os.getpid(), "workers": [json.loads(out[0]) for out in render_all(tasks, 2, None)]}}))
"""


@pytest.mark.parametrize("preload", ["", "import numpy"], ids=["parent-without-numpy", "parent-with-numpy"])
def test_workers_really_run_one_blas_thread(preload: str) -> None:
    """Inside each worker process, with numpy loaded, every BLAS pool that threadpoolctl finds has
    one thread: also when the parent had loaded numpy (and its BLAS pool) before forking (MkDocs,
    a notebook), where the environment variables come too late."""
    from matdiff_tex.parallel import BLAS_THREADS, blas_threads

    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREADS}
    own = subprocess.run([sys.executable, "-c", "import numpy; from matdiff_tex.parallel import blas_threads; "
                          "print(max(blas_threads()))"], env=env, capture_output=True, text=True, timeout=120)
    assert own.returncode == 0, own.stderr
    out = subprocess.run([sys.executable, "-c", _BLAS_PROBE.format(preload=preload)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    workers = found["workers"]
    assert len(workers) == 4 and all(w["pid"] != found["parent"] for w in workers)  # really in workers
    assert all(w["threads"] and set(w["threads"]) == {1} for w in workers), (workers, "unlimited:", own.stdout)
