"""The on-disk cache: same output warm and cold, no engine import when warm, keys, corruption,
two writers, eviction, --no-cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from matdiff_tex.cache import MAGIC, Cache, open_cache

NOTE = (
    "# Note\n\nThe gradient \\deriv<\\operatorname{tr}(\\boldsymbol{A}\\boldsymbol{X})><\\boldsymbol{X}>\n\n"
    "Inline: $y = \\deriv<\\boldsymbol{X}^{\\top}\\boldsymbol{a}><\\boldsymbol{X}>$ done.\n"
)

# Runs the CLI in this interpreter and reports which heavy modules it imported (a warm build needs
# neither the engine nor the scanner, renderer, document layer or worker processes).
PROBE = (
    "import sys, json\n"
    "from matdiff_tex.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:], standalone_mode=False)\n"
    "except SystemExit:\n"
    "    pass\n"
    "heavy = sorted(m for m in ('sympy', 'numpy', 'matdiff_tex.engine', 'markdown_it', 'matdiff_tex.scan',\n"
    "                           'matdiff_tex.render', 'matdiff_tex.document', 'multiprocessing', 'tomllib')\n"
    "               if m in sys.modules)\n"
    "sys.stderr.write('HEAVY=' + json.dumps(heavy) + '\\n')\n"
)


def _cli(*args: str, cache: Path | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if cache is not None:
        env["MATDIFF_TEX_CACHE_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


def _heavy(result: subprocess.CompletedProcess[str]) -> list[str]:
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("HEAVY=")][-1]
    return json.loads(line[len("HEAVY="):])


def _site(tmp_path: Path, count: int = 4) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(count):
        (docs / f"p{i}.md").write_text(NOTE.replace("# Note", f"# Note {i}"), encoding="utf-8")
    return docs


def _entries(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")]


def test_warm_build_is_identical_and_imports_no_engine(tmp_path: Path) -> None:
    docs, cache = _site(tmp_path), tmp_path / "cache"
    cold = _cli("render", "docs", "-o", "out1", "-j", "1", cache=cache, cwd=tmp_path)
    assert cold.returncode == 0, cold.stderr
    assert {"numpy", "matdiff_tex.engine"} <= set(_heavy(cold))  # the probe can see imports
    assert _entries(cache)
    warm = _cli("render", "docs", "-o", "out2", "-j", "1", cache=cache, cwd=tmp_path)
    assert warm.returncode == 0, warm.stderr
    assert _heavy(warm) == []
    for name in os.listdir(docs):
        assert (tmp_path / "out1" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes()
    assert "\\frac" in (tmp_path / "out2" / "p0.md").read_text(encoding="utf-8")
    # --check and --in-place on a cached site need no engine either
    inplace = _cli("render", "--in-place", "docs", cache=cache, cwd=tmp_path)
    assert inplace.returncode == 0, inplace.stderr
    check = _cli("render", "--check", "docs", cache=cache, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert _heavy(check) == []


def test_changed_options_and_templates_are_not_served_stale(tmp_path: Path) -> None:
    _site(tmp_path, 1)
    cache = tmp_path / "cache"
    numerator = _cli("render", "docs/p0.md", cache=cache, cwd=tmp_path).stdout
    denominator = _cli("render", "docs/p0.md", "--layout", "denominator", cache=cache, cwd=tmp_path).stdout
    uncached = _cli("render", "docs/p0.md", "--layout", "denominator", "--no-cache", cache=None, cwd=tmp_path)
    assert numerator != denominator
    assert denominator == uncached.stdout
    templates = tmp_path / "tpl" / "markdown"
    templates.mkdir(parents=True)
    (templates / "prose.j2").write_text("$ONE << result >>$", encoding="utf-8")
    first = _cli("render", "docs/p0.md", "--templates", "tpl", cache=cache, cwd=tmp_path).stdout
    (templates / "prose.j2").write_text("$TWO << result >>$", encoding="utf-8")
    second = _cli("render", "docs/p0.md", "--templates", "tpl", cache=cache, cwd=tmp_path).stdout
    assert "ONE" in first and "TWO" in second and "ONE" not in second


def test_corrupt_and_truncated_entries_are_ignored_and_rewritten(tmp_path: Path) -> None:
    _site(tmp_path, 2)
    cache = tmp_path / "cache"
    good = _cli("render", "docs/p0.md", cache=cache, cwd=tmp_path).stdout
    entries = _entries(cache)
    assert entries
    for index, path in enumerate(entries):
        data = path.read_bytes()
        if index % 2:
            path.write_bytes(data[: len(data) // 2])  # truncated
        else:
            path.write_bytes(data[:-3] + b"XYZ")  # corrupt payload, intact length
    again = _cli("render", "docs/p0.md", cache=cache, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == good
    store = Cache(cache)
    for path in _entries(cache):
        key = path.parent.name + path.name
        assert store.get(key) is not None  # every entry was written again, whole


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    _site(tmp_path, 6)
    cache = tmp_path / "cache"
    env = dict(os.environ, MATDIFF_TEX_CACHE_DIR=str(cache))
    procs = [subprocess.Popen([sys.executable, "-m", "matdiff_tex", "render", "docs", "-o", f"out{i}", "-j", "1"],
                              cwd=tmp_path, env=env, stderr=subprocess.PIPE) for i in range(2)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    for name in os.listdir(tmp_path / "docs"):
        assert (tmp_path / "out0" / name).read_bytes() == (tmp_path / "out1" / name).read_bytes()
    store = Cache(cache)
    for path in _entries(cache):
        assert store.get(path.parent.name + path.name) is not None
    assert not [p for p in cache.rglob(".tmp-*")]


def test_eviction_keeps_the_cache_bounded_and_the_recent_entries(tmp_path: Path) -> None:
    store = Cache(tmp_path, max_bytes=20_000)
    keys = [f"{i:064x}" for i in range(60)]
    for i, key in enumerate(keys):
        store.put(key, "x" * 1000)
        os.utime(store._path(key), (1_000_000 + i, 1_000_000 + i))  # older first
    removed = store.prune()
    total = sum(p.stat().st_size for p in _entries(tmp_path))
    assert removed > 0 and total <= 20_000
    assert store.get(keys[-1]) is not None and store.get(keys[0]) is None


def test_no_cache_writes_nothing_and_off_disables(tmp_path: Path, monkeypatch) -> None:
    _site(tmp_path, 1)
    cache = tmp_path / "cache"
    result = _cli("render", "docs/p0.md", "--no-cache", cache=cache, cwd=tmp_path)
    assert result.returncode == 0 and not cache.exists()
    result = _cli("render", "docs/p0.md", "--cache-dir", "elsewhere", cache=cache, cwd=tmp_path)
    assert result.returncode == 0 and not cache.exists() and _entries(tmp_path / "elsewhere")
    monkeypatch.setenv("MATDIFF_TEX_CACHE_DIR", "off")
    assert open_cache() is None
    monkeypatch.delenv("MATDIFF_TEX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert open_cache().root == tmp_path / "xdg" / "matdiff-tex"


def test_entry_format_is_checked(tmp_path: Path) -> None:
    store = Cache(tmp_path)
    store.put("ab" * 32, "text ü")
    path = store._path("ab" * 32)
    assert path.read_bytes().startswith(MAGIC)
    assert store.get("ab" * 32) == "text ü"
    path.write_bytes(b"garbage")
    assert store.get("ab" * 32) is None


FAILING = (
    "# Failing note\n\nFine: \\deriv<\\operatorname{tr}(\\boldsymbol{A}\\boldsymbol{X})><\\boldsymbol{X}>\n\n"
    "Not fine: \\deriv[shapes={A: 2x3, X: 4x4}]<\\boldsymbol{A}\\boldsymbol{X}><\\boldsymbol{X}>\n"
)


def test_failures_are_cached_with_their_located_errors(tmp_path: Path) -> None:
    """A note whose directive fails is read back whole (its errors at file:line:col, no scanner, no
    engine); the failing directive, moved into another note, is reported from its expansion entry."""
    docs, cache = tmp_path / "docs", tmp_path / "cache"
    docs.mkdir()
    (docs / "bad.md").write_text(FAILING, encoding="utf-8")
    cold = _cli("render", "docs", "-o", "out", cache=cache, cwd=tmp_path)
    assert "1 error in 1 file" in cold.stderr, cold.stderr
    errors = [ln for ln in cold.stderr.splitlines() if not ln.startswith("HEAVY=")]
    assert any(line.startswith(f"docs{os.sep}bad.md:5:") and ": error: " in line for line in errors), cold.stderr
    assert "numpy" in _heavy(cold)
    warm = _cli("render", "docs", "-o", "out", cache=cache, cwd=tmp_path)
    assert [ln for ln in warm.stderr.splitlines() if not ln.startswith("HEAVY=")] == errors
    assert _heavy(warm) == []
    # the same failing directive three lines lower in another note: its expansion entry answers
    (docs / "bad.md").write_text("Moved.\n\n\n" + FAILING, encoding="utf-8")
    moved = _cli("render", "docs", "-o", "out", cache=cache, cwd=tmp_path)
    first = next(line for line in errors if ": error: " in line)
    assert first.replace("bad.md:5:", "bad.md:8:") in moved.stderr.splitlines(), moved.stderr
    assert not {"numpy", "sympy", "matdiff_tex.engine"} & set(_heavy(moved))


def test_a_directive_stopped_by_the_time_limit_is_not_cached(tmp_path: Path) -> None:
    """A time limit depends on the machine and its load: the next run tries again."""
    docs, cache = tmp_path / "docs", tmp_path / "cache"
    docs.mkdir()
    body = "".join(f"\\boldsymbol{{A}}_{{{i}}}\\boldsymbol{{X}}" for i in range(1, 7))
    (docs / "p0.md").write_text(f"\\hessian<\\operatorname{{tr}}({body})><\\boldsymbol{{X}}>\n", encoding="utf-8")
    env = dict(os.environ, MATDIFF_TEX_CACHE_DIR=str(cache), MATDIFF_TEX_TIME_LIMIT="0.005")
    stopped = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", "docs/p0.md"], cwd=tmp_path, env=env,
                             text=True, capture_output=True, timeout=300)
    assert stopped.returncode != 0 and "took longer than" in stopped.stderr, stopped.stderr
    again = _cli("render", "docs/p0.md", cache=cache, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "\\frac" in again.stdout
