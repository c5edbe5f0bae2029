"""Bounded directives: the numeric checks fit a memory budget, a directive has a time limit.

The resource cases run in a subprocess under resource.setrlimit (address space and CPU time),
so a check that allocated by the author's sizes would die with MemoryError or be killed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from matdiff_tex.check.verify import check_derivative
from matdiff_tex.engine import derive_nodes
from matdiff_tex.errors import InternalError
from matdiff_tex.expr.nodes import Mul, Num
from matdiff_tex.expr.reader import read_derivative_input

X = r"\boldsymbol{X}"


def kron_chain(count: int) -> str:
    return r" \otimes ".join([X] * count)


LIMITED = textwrap.dedent(
    """
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))
    from matdiff_tex import derive
    from matdiff_tex.errors import MatdiffError
    f, shapes = json.loads(sys.argv[1])
    start = time.process_time()
    try:
        d = derive(f, r"\\boldsymbol{X}", shapes=shapes)
        outcome = ["ok", d.checked, list(d.shape)]
    except MatdiffError as exc:
        outcome = [type(exc).__name__, str(exc)]
    print(json.dumps(outcome + [time.process_time() - start]))
    """
)


def _limited(f: str, shapes: dict | None = None) -> list:
    proc = subprocess.run([sys.executable, "-c", LIMITED, json.dumps([f, shapes])], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("count", [5, 6])
def test_long_kronecker_chains_are_refused_quickly_within_memory(count: int) -> None:
    outcome = _limited(kron_chain(count))
    assert outcome[0] == "LimitError", outcome
    assert "too large to check numerically" in outcome[1] and "MB" in outcome[1]
    assert outcome[-1] < 20


def test_author_sizes_are_replaced_by_small_ones_when_too_large() -> None:
    outcome = _limited(kron_chain(4), {"X": "6x6"})
    assert outcome[:3] == ["ok", True, [6**8, 36]], outcome
    assert outcome[-1] < 20


def test_short_kronecker_chains_are_checked_fast() -> None:
    outcome = _limited(rf"\boldsymbol{{A}} \otimes {X} \otimes \boldsymbol{{B}}")
    assert outcome[:2] == ["ok", True], outcome
    assert outcome[-1] < 5


@pytest.mark.parametrize("f, shapes", [(kron_chain(4), {"X": (6, 6)}), (kron_chain(4), None),
                                       (rf"\boldsymbol{{A}} \otimes {X} \otimes \boldsymbol{{B}}", None)])
def test_the_smaller_sizes_still_catch_a_wrong_result(f: str, shapes: dict | None) -> None:
    parsed = read_derivative_input(f, X, shapes)
    derivation = derive_nodes(parsed.f, parsed.x, dims=parsed.dims, check=False)
    check_derivative(parsed.f, parsed.x, derivation.result, layout="numerator", dims=parsed.dims)
    wrong = Mul((Num(2), derivation.result))
    with pytest.raises(InternalError, match="derivative check failed"):
        check_derivative(parsed.f, parsed.x, wrong, layout="numerator", dims=parsed.dims)
    with pytest.raises(InternalError, match="derivative check failed"):
        check_derivative(parsed.f, parsed.x, derivation.result, layout="denominator", dims=parsed.dims)


def test_render_reports_a_located_error_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(f"Big:\n\n\\deriv<{kron_chain(5)}><{X}>\n", encoding="utf-8")
    (tmp_path / "b.md").write_text(f"Small: \\deriv<{X}^{{\\top}}><{X}>\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", "a.md", "b.md", "-o", "out", "-j", "1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "a.md:3:1: error: this derivative is too large to check numerically" in proc.stderr
    assert (tmp_path / "out" / "b.md").exists() and not (tmp_path / "out" / "a.md").exists()


#: Slow on purpose: the second derivative of a product holding X 16 times (the Hessian's lines
#: grow with the cube of the copies; a ⊙ chain of copies of X no longer does, see d_hadamard).
_SLOW = r"\operatorname{tr}(" + "".join(rf"\boldsymbol{{A}}_{{{i}}}{X}" for i in range(16)) + ")"


def test_time_limit_stops_a_directive_with_a_located_error(tmp_path: Path) -> None:
    slow = _SLOW  # a Hessian of a product holding X 16 times: about 4 s of CPU
    (tmp_path / "a.md").write_text(f"Title\n\nSlow \\hessian<{slow}><{X}>\n", encoding="utf-8")
    (tmp_path / "b.md").write_text(f"Fine \\deriv<{X}^{{\\top}}><{X}>\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", "a.md", "b.md", "-o", "out", "-j", "1",
                           "--time-limit", "1", "--no-cache"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "a.md:3:6: error: this directive took longer than 1 s of CPU time" in proc.stderr
    assert proc.stderr.count("error:") == 1
    assert (tmp_path / "out" / "b.md").exists()


def test_a_limit_shorter_than_the_engine_s_imports_never_breaks_the_next_directive(tmp_path: Path) -> None:
    """The limit is armed after numpy and sympy are loaded: a timer firing inside their import left a
    half-initialised extension module behind, and every later directive failed with an ImportError."""
    slow = _SLOW
    (tmp_path / "a.md").write_text(f"Slow \\hessian<{slow}><{X}>\n", encoding="utf-8")
    (tmp_path / "b.md").write_text(f"Fine \\deriv<{X}^{{\\top}}><{X}>\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", "a.md", "b.md", "-o", "out", "-j", "1",
                           "--time-limit", "0.15", "--no-cache"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "ImportError" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == 2 and proc.stderr.count("error:") == 1, proc.stderr
    assert "a.md:1:6: error: this directive took longer than 0.15 s of CPU time" in proc.stderr
    assert (tmp_path / "out" / "b.md").exists()
