"""Build-speed benchmark: a generated blog, cold and warm builds, --check, big notes, worst families.

    .venv/bin/python benchmarks/bench_build.py [--posts 200] [--directives 1000] [--write]

What it does, all in a temporary folder (nothing touches the user's cache):

1. generates a corpus: ``--posts`` Markdown posts holding ``--directives`` directives drawn from the
   derivative table (``tests/derive_cases.py``) with varied options (layout, steps, lang), placements
   (display, running text, inline math) and sizes given or not, plus about 2 MB of directive-free
   prose (paragraphs, inline math, lists, code spans and fences); ``--failing`` notes (default 5)
   also hold a directive that fails (a shape error, a syntax error, a refused variable ...);
2. times, each as its own ``matdiff-tex`` process: a cold build (empty cache) with ``-j 1`` and
   ``-j 2``, a warm build (cache filled) into an empty folder and over its own earlier output,
   ``render --check`` on an ``--in-place`` site whose cache is warm, a 2 MB note with no directive
   and one whose only mention of ``\\deriv`` is in a code span, next to a bare ``python -c "import click, jinja2"`` of the same run, in wall time and CPU time
   (the process's user + system time, children included; on a shared machine CPU time is the
   steadier figure); every short run (warm build, ``--check``, the 2 MB notes) is the median of
   ``--repeat`` runs (default 5), each run timed right after a bare start-up of its own and the
   ratio taken to the median of those (the machine's speed drifts within minutes); the cold
   builds are the median of ``--cold-repeat`` runs (default 3, output and cache emptied before
   each), compared with a bare start-up timed at the beginning; every series starts after a
   ``sync`` (the writes of the runs before it flushed to the disk); Python
   reads compiled bytecode as it does from an installed package (``PYTHONPYCACHEPREFIX`` in the
   temporary folder, ``PYTHONDONTWRITEBYTECODE`` unset, one untimed run of each kind first), so
   neither side pays for compiling its sources;
3. checks that the warm build imports neither sympy nor numpy, reports the same errors at the same
   file:line:col as the cold builds, and that -j 2 writes the same bytes as -j 1;
4. times ``derive()`` on every directive of the corpus in one process (p50, p95, max);
5. times the worst families as they grow, each case in its own process (CPU time, peak memory):
   Kronecker chains, Hessians of long products, Hadamard chains, A ⊗ X ⊗ B.

``--write`` replaces the "Build results" section of ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from derive_cases import CASES  # noqa: E402

PY = sys.executable
WORDS = ("matrix gradient layout trace vector column derivative identity product chain rule value "
         "entry symmetric inverse determinant kernel loss weight bias sample norm step").split()
B = r"\boldsymbol"


# ---------------------------------------------------------------- the corpus


def _prose(rng: random.Random, size: int) -> str:
    """Directive-free Markdown of about ``size`` characters."""
    out, total = [], 0
    while total < size:
        kind = rng.random()
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90)))
        if kind < 0.6:
            piece = f"{words.capitalize()} with $x_{{{rng.randint(1, 9)}}} + y$ and `code_{rng.randint(1, 99)}` too.\n\n"
        elif kind < 0.75:
            piece = "".join(f"- {rng.choice(WORDS)} {rng.choice(WORDS)} $a_{i}$\n" for i in range(5)) + "\n"
        elif kind < 0.85:
            piece = "```python\n" + "".join(f"x{i} = np.dot(a, b)  # {rng.choice(WORDS)}\n" for i in range(8)) + "```\n\n"
        else:
            piece = f"$$\n\\sum_{{i=1}}^{{n}} {rng.choice('abc')}_i^2\n$$\n\n{words}.\n\n"
        out.append(piece)
        total += len(piece)
    return "".join(out)


def _directive(rng: random.Random, case) -> tuple[str, str]:
    """One directive of ``case`` with random options; its placement."""
    kind = "hessian" if case.order == 2 else "deriv"
    options = [f"layout={rng.choice(case.layouts)}", f"steps={rng.choice(['full', 'brief', 'none'])}",
               f"lang={rng.choice(['zh', 'en'])}"]
    shapes = case.derive_shapes()
    if shapes and rng.random() < 0.7:
        options.append("shapes={" + ", ".join(f"{k}: {r}x{c}" for k, (r, c) in shapes.items()) + "}")
    text = f"\\{kind}[{', '.join(options)}]<{case.f}><{case.x}>"
    placement = rng.choice(["display", "prose", "math"])
    if placement == "display":
        return f"\n{text}\n\n", placement
    if placement == "prose":
        return f"The result {text} follows.\n\n", placement
    return f"In math $y = {text}$ as well.\n\n", placement


#: Directives that fail on purpose (a shape error, a syntax error, a refused size): a site under
#: edit has some, and a warm build must report them again without the engine.
FAILING = (
    rf"\deriv[shapes={{A: 2x3, X: 4x4}}]<{B}{{A}}{B}{{X}}><{B}{{X}}>",
    rf"\deriv<{B}{{X}} + ><{B}{{X}}>",
    rf"\deriv<\operatorname{{tr}}({B}{{X}}><{B}{{X}}>",
    rf"\hessian<{B}{{X}}{B}{{A}}><{B}{{X}}>",
    rf"\deriv[shapes={{x: 3x1}}]<{B}{{A}}{B}{{x}}><{B}{{x}}^{{\top}}>",
)


def make_corpus(folder: Path, posts: int, directives: int, prose_bytes: int, seed: int = 0,
                failing: int = 0) -> list[tuple[str, str, dict]]:
    """Write the posts (``failing`` of them also hold a directive that fails, on a line of its own
    after the first paragraph); return the working directives' (F, X, derive keywords)."""
    rng = random.Random(seed)
    usable = [case for case in CASES if "skip_bench" not in case.tags]
    folder.mkdir(parents=True)
    made: list[tuple[str, str, dict]] = []
    seen: set[str] = set()
    per_post = [directives // posts + (1 if i < directives % posts else 0) for i in range(posts)]
    for index, count in enumerate(per_post):
        parts = [f"---\ntitle: Post {index}\n---\n\n# Post {index}\n\n"]
        for _ in range(count):
            while True:
                case = rng.choice(usable)
                text, _ = _directive(rng, case)
                if text not in seen:
                    break
            seen.add(text)
            parts += [_prose(rng, prose_bytes // posts // (count + 1)), text]
            layout = "denominator" if "layout=denominator" in text else "numerator"
            shapes = case.derive_shapes() if "shapes=" in text else None
            made.append((case.f, case.x, {"layout": layout, "shapes": shapes, "order": case.order}))
        parts.append(_prose(rng, prose_bytes // posts // (count + 1)))
        if failing and index % max(posts // failing, 1) == 0 and index // max(posts // failing, 1) < failing:
            parts.insert(2, "\n" + FAILING[index // max(posts // failing, 1) % len(FAILING)] + "\n\n")
        (folder / f"post-{index:03d}.md").write_text("".join(parts), encoding="utf-8")
    return made


# ---------------------------------------------------------------- timing processes


def run(args: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Run one process; its wall time and CPU time (user + system of it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1, 2, 3):  # 1-3: a directive failed (reported; its note is not written)
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    failed = [line for line in proc.stderr.splitlines() if ": error: " in line or ": internal error: " in line]
    return {"wall": wall, "cpu": cpu, "stderr": proc.stderr, "failed": failed}


BARE = [PY, "-c", "import click, jinja2"]


def median_run(args: list[str], env: dict[str, str], cwd: Path, repeat: int, clear: tuple[Path, ...] = (),
               paired: bool = False) -> dict:
    """``repeat`` runs of one process after an untimed one; the median wall and CPU time (each on
    its own), and the first timed run's output. ``clear``: outputs (folders or files) removed
    before every run so that each run writes them (an unchanged output is otherwise not
    rewritten), or caches emptied for a cold build. ``paired``: a bare start-up is timed just
    before each run (``bare_wall``, ``bare_cpu``: their medians), so that the ratio compares runs
    made under the same load (this machine's speed drifts by tens of percent within minutes)."""
    os.sync()  # the cache entries and outputs of earlier runs reach the disk before this series
    runs, bares = [], []
    for _ in range(repeat + 1):
        for path in clear:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        if paired:
            bares.append(run(BARE, env, cwd))
        runs.append(run(args, env, cwd))
    timed = runs[1:]
    result = dict(timed[0], wall=statistics.median(r["wall"] for r in timed),
                  cpu=statistics.median(r["cpu"] for r in timed), runs=len(timed))
    if paired:
        result.update(bare_wall=statistics.median(r["wall"] for r in bares[1:]),
                      bare_cpu=statistics.median(r["cpu"] for r in bares[1:]))
    return result


def bare(env: dict[str, str], cwd: Path, repeat: int = 5) -> dict[str, float]:
    return median_run(BARE, env, cwd, repeat)


PROBE = ("import sys, json\nfrom matdiff_tex.cli import main\n"
         "try:\n    main(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
         "sys.stderr.write('HEAVY=' + json.dumps(sorted(m for m in ('sympy', 'numpy') if m in sys.modules)))\n")


def cli(*args: str) -> list[str]:
    return [PY, "-m", "matdiff_tex", *args]


def same_tree(a: Path, b: Path) -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all((a / p).read_bytes() == (b / p).read_bytes() for p in files_a)


def builds(work: Path, args: argparse.Namespace) -> dict:
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith("MATDIFF_TEX_") and k != "PYTHONDONTWRITEBYTECODE"}
    base_env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")  # bytecode as from an installed package
    repeat = args.repeat
    corpus = work / "corpus"
    made = make_corpus(corpus, args.posts, args.directives, args.prose, failing=args.failing)
    size = sum(p.stat().st_size for p in corpus.glob("*.md"))

    def env(cache: str) -> dict[str, str]:
        return dict(base_env, MATDIFF_TEX_CACHE_DIR=str(work / cache))

    out: dict = {"posts": args.posts, "directives": len(made), "corpus_bytes": size, "failing": args.failing}
    out["bare"] = bare(base_env, work, repeat)
    out["cold_j1"] = median_run(cli("render", "corpus", "-o", "out1", "-j", "1", "-q"), env("cache1"), work,
                                args.cold_repeat, clear=(work / "out1", work / "cache1"))
    out["cold_j2"] = median_run(cli("render", "corpus", "-o", "out2", "-j", "2", "-q"), env("cache2"), work,
                                args.cold_repeat, clear=(work / "out2", work / "cache2"))
    out["identical_j1_j2"] = same_tree(work / "out1", work / "out2")
    warm = median_run([PY, "-c", PROBE, "render", "corpus", "-o", "out3", "-q"], env("cache2"), work, repeat,
                      clear=(work / "out3",), paired=True)
    out["warm"] = warm
    out["warm_heavy_imports"] = json.loads(warm["stderr"].split("HEAVY=")[-1])
    out["same_errors_warm"] = warm["failed"] == out["cold_j1"]["failed"] == out["cold_j2"]["failed"]
    out["identical_warm"] = same_tree(work / "out1", work / "out3")
    out["rebuild"] = median_run([PY, "-c", PROBE, "render", "corpus", "-o", "out3", "-q"], env("cache2"), work,
                                repeat, paired=True)  # over its own output: nothing is rewritten
    shutil.copytree(corpus, work / "site")
    run(cli("render", "--in-place", "site", "-q"), env("cache2"), work)
    check = median_run([PY, "-c", PROBE, "render", "--check", "site", "-q"], env("cache2"), work, repeat,
                       paired=True)
    out["check"] = check
    out["check_heavy_imports"] = json.loads(check["stderr"].split("HEAVY=")[-1])
    # the same two runs without the notes whose directives fail
    failing = {line.split(":")[0] for line in out["cold_j1"]["failed"]}
    shutil.copytree(corpus, work / "corpus-ok")
    shutil.copytree(corpus, work / "site-ok")
    for name in failing:
        (work / "corpus-ok" / Path(name).name).unlink(missing_ok=True)
        (work / "site-ok" / Path(name).name).unlink(missing_ok=True)
    out["failing_notes"] = len(failing)
    out["warm_ok"] = median_run([PY, "-c", PROBE, "render", "corpus-ok", "-o", "out4", "-q"], env("cache2"), work,
                                repeat, clear=(work / "out4",), paired=True)
    run(cli("render", "--in-place", "site-ok", "-q"), env("cache2"), work)
    out["check_ok"] = median_run([PY, "-c", PROBE, "render", "--check", "site-ok", "-q"], env("cache2"), work,
                                 repeat, paired=True)
    rng = random.Random(1)
    plain = _prose(rng, 2_000_000)
    (work / "plain.md").write_text(plain, encoding="utf-8")
    (work / "mention.md").write_text(plain + "Write `\\deriv<F><X>` for a derivative.\n", encoding="utf-8")
    out["no_directive_2mb"] = median_run(cli("render", "plain.md", "-o", "plain.out.md"), env("cache4"), work,
                                         repeat, clear=(work / "plain.out.md",), paired=True)
    out["code_span_2mb"] = median_run(cli("render", "mention.md", "-o", "mention.out.md"), env("cache5"), work,
                                      repeat, clear=(work / "mention.out.md",), paired=True)
    out["derive"] = derive_times(made)
    return out


def derive_times(made: list[tuple[str, str, dict]]) -> dict:
    """derive() on every directive of the corpus, in this process, after one warm-up call."""
    from matdiff_tex import derive
    from matdiff_tex.expr.reader import forget_readings

    derive(r"\boldsymbol{X}", r"\boldsymbol{X}")  # imports
    times = []
    for f, x, keywords in made:
        forget_readings()  # each directive read as if it were the first (the reader remembers readings)
        start = time.process_time()
        try:
            derive(f, x, **keywords)
        except Exception:  # noqa: BLE001 - a refused directive still costs its time
            pass
        times.append(time.process_time() - start)
    times.sort()
    return {"p50": times[len(times) // 2], "p95": times[int(len(times) * 0.95)], "max": times[-1],
            "count": len(times)}


# ---------------------------------------------------------------- worst families


FAMILY_PROBE = """
import json, resource, sys, time
from matdiff_tex import derive
from matdiff_tex.errors import MatdiffError
f, x, order, shapes = json.loads(sys.argv[1])
derive(r"\\boldsymbol{Y}^{\\top}", r"\\boldsymbol{Y}")  # imports, outside the timing
start = time.process_time()
try:
    derive(f, x, order=order, shapes=shapes)
    outcome = "checked"
except MatdiffError as exc:
    outcome = type(exc).__name__
print(json.dumps([time.process_time() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, outcome]))
"""


def families() -> list[dict]:
    X = f"{B}{{X}}"
    rows = []
    cases = []
    for k in (2, 3, 4, 5, 6):
        cases.append(("Kronecker chain", f"X⊗…⊗X, {k} factors", r" \otimes ".join([X] * k), X, 1, None))
    cases.append(("Kronecker chain", "X⊗X⊗X⊗X, X=6x6", r" \otimes ".join([X] * 4), X, 1, {"X": [6, 6]}))
    cases.append(("Kronecker chain", "A⊗X⊗B", rf"{B}{{A}} \otimes {X} \otimes {B}{{B}}", X, 1, None))
    for k in (2, 4, 6, 8):
        cases.append(("Hessian of a long product", f"tr(X^{k})", rf"\operatorname{{tr}}({X}^{{{k}}})", X, 2, None))
    for k in (3, 5, 7):
        body = "".join(rf"{B}{{A}}_{{{i}}}{X}" for i in range(k))
        cases.append(("Hessian of a long product", f"tr(A1 X ... A{k} X)", rf"\operatorname{{tr}}({body})", X, 2, None))
    for k in (5, 10, 20, 40, 80):
        cases.append(("Hadamard chain", f"tr(X⊙…⊙X), {k} factors", r"\operatorname{tr}(" + r" \odot ".join([X] * k) + ")",
                      X, 1, None))
    for family, label, f, x, order, shapes in cases:
        proc = subprocess.run([PY, "-c", FAMILY_PROBE, json.dumps([f, x, order, shapes])], capture_output=True,
                              text=True, env=dict(os.environ, MATDIFF_TEX_TIME_LIMIT="0"))
        if proc.returncode:
            rows.append({"family": family, "case": label, "cpu": None, "rss": None, "outcome": proc.stderr[-200:]})
            continue
        cpu, rss, outcome = json.loads(proc.stdout)
        rows.append({"family": family, "case": label, "cpu": cpu, "rss": rss, "outcome": outcome})
    return rows


# ---------------------------------------------------------------- report


def report(result: dict, rows: list[dict], command: str) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    b = result["bare"]
    lines = [
        "## Build results",
        "",
        f"- code: commit {commit}",
        f"- date: {time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime())}",
        f"- CPUs (nproc): {os.cpu_count()}; {platform.machine()}, {platform.platform()}",
        f"- Python {platform.python_version()}",
        f"- command: `{command}`",
        f"- load average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())} (the machine is shared "
        "with other work: CPU time is the steadier figure, wall time is shown too)",
        "",
        f"Corpus: {result['posts']} posts, {result['directives']} directives (and {result['failing']} that fail on "
        "purpose, one in each of as many posts), "
        f"{result['corpus_bytes'] / 1e6:.1f} MB. Bare start-up (`python -c \"import click, jinja2\"`, "
        f"median of {b['runs']}): {b['wall'] * 1000:.0f} ms wall, {b['cpu'] * 1000:.0f} ms CPU. "
        f"Each cold build is the median of {result['cold_j1']['runs']} runs (output and cache emptied "
        f"before each), compared with that bare start-up; every other row is the median of {b['runs']} runs, "
        "each run just after a bare start-up of its own, and compared with the median of those (the "
        "\"bare\" column); each series starts with an untimed run; bytecode is compiled once, as in an "
        "installed package.",
        "",
        "| run | wall s | CPU s | wall / bare | CPU / bare | bare (wall) | per directive (wall; CPU) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    n = result["directives"]
    for key, label in [("cold_j1", "cold build, -j 1"), ("cold_j2", "cold build, -j 2"),
                       ("warm", "warm (cached) build into an empty folder"),
                       ("rebuild", "warm rebuild over its own output (unchanged files not rewritten)"),
                       ("check", "--check on a cached --in-place site"),
                       ("warm_ok", "warm build, without the notes with a failing directive"),
                       ("check_ok", "--check, without the notes with a failing directive"),
                       ("no_directive_2mb", "2 MB note, no directive"),
                       ("code_span_2mb", "2 MB note, \\deriv only in a code span")]:
        r = result[key]
        per = f"{r['wall'] / n * 1000:.1f} ms; {r['cpu'] / n * 1000:.1f} ms" if key.startswith("cold") else ""
        bare_wall, bare_cpu = r.get("bare_wall", b["wall"]), r.get("bare_cpu", b["cpu"])
        lines.append(f"| {label} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['wall'] / bare_wall:.1f}x | "
                     f"{r['cpu'] / bare_cpu:.1f}x | {bare_wall * 1000:.0f} ms | {per} |")
    failed = result["cold_j1"]["failed"]
    if failed:
        lines += ["", f"{len(failed)} directive(s) of the corpus fail ({result['failing_notes']} notes; "
                  f"{result['failing']} placed on purpose, the rest would be engine failures); the warm build "
                  f"reports the same messages at the same file:line:col as the cold builds: "
                  f"{result['same_errors_warm']}:", ""]
        lines += [f"- `{line[:220]}`" for line in failed]
    d = result["derive"]
    lines += [
        "",
        f"-j 2 output byte-identical to -j 1: {result['identical_j1_j2']}; warm output identical to cold: "
        f"{result['identical_warm']}; heavy modules imported by the warm build: "
        f"{result['warm_heavy_imports'] or 'none'}, by --check: {result['check_heavy_imports'] or 'none'}.",
        "",
        f"derive() per directive of the corpus (CPU, one process, {d['count']} directives): "
        f"p50 {d['p50'] * 1000:.1f} ms, p95 {d['p95'] * 1000:.1f} ms, max {d['max'] * 1000:.0f} ms.",
        "",
        "Worst families (each case in its own process, CPU time of derive() after the imports, peak RSS of "
        "the process; no time limit):",
        "",
        "| family | case | CPU s | peak RSS MB | outcome |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        cpu = "—" if row["cpu"] is None else f"{row['cpu']:.2f}"
        rss = "—" if row["rss"] is None else f"{row['rss']:.0f}"
        lines.append(f"| {row['family']} | {row['case']} | {cpu} | {rss} | {row['outcome']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--directives", type=int, default=1000)
    parser.add_argument("--prose", type=int, default=2_000_000, help="bytes of directive-free prose")
    parser.add_argument("--failing", type=int, default=5, help="notes that also hold a directive that fails")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each short process (median)")
    parser.add_argument("--cold-repeat", type=int, default=3, help="runs of each cold build (median)")
    parser.add_argument("--no-families", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the figures into benchmarks/README.md")
    args = parser.parse_args()
    command = "python " + " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="matdiff-bench-") as tmp:
        result = builds(Path(tmp), args)
    rows = [] if args.no_families else families()
    text = report(result, rows, command)
    print(text)
    if args.write:
        readme = ROOT / "benchmarks" / "README.md"
        old = readme.read_text(encoding="utf-8")
        head = old.split("## Build results")[0].rstrip() + "\n\n"
        readme.write_text(head + text, encoding="utf-8")


if __name__ == "__main__":
    main()
