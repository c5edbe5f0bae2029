"""Every worked example of the seed posts is publishable: it fits an 800 px blog column.

``tests/fixtures/seeds/worked_examples.md`` holds one directive per worked example of the five
seed posts (``steps: full`` in its front matter).  The note is expanded twice by the document
layer, once per layout, exactly as an author's note is.  Every ``$$`` block it becomes is
typeset by real KaTeX (tests/js, pinned) in headless Chromium, in a column 800 CSS px wide with
a 16 px body font (the usual blog default; KaTeX draws math at 1.21 em), after the fonts have
loaded.  A case fails when

* KaTeX reports an error (``throwOnError``, ``strict: "error"``);
* the column width the display needs is more than 800 px.  KaTeX centres the formula and puts
  the equation number at the right edge, so a numbered display needs
  ``formula width + 2 × (number width + 8 px)``; an unnumbered one its formula width;
* it has more than 14 rows.

Chromium is a real dependency (Debian ``chromium``, ``fonts-noto-cjk`` for the Chinese notes);
``scripts/test`` (the test command, which CI runs) installs them from
``scripts/system-packages``, and the test fails, not skips, without it.  Set
``MATDIFF_SCREENSHOT_DIR`` to also get a PNG of each layout's page and the figures there.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from matdiff_tex import render_text

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "seeds" / "worked_examples.md"
KATEX = REPO / "tests" / "js" / "node_modules" / "katex" / "dist"
COLUMN = 800  # CSS px
MAX_ROWS = 14
GAP = 8  # px kept free between a formula and its equation number
LAYOUTS = ("numerator", "denominator")

pytestmark = pytest.mark.slow

#: Cases known not to fit yet, (id, layout) -> the reason; each becomes a strict xfail, so a case
#: that starts to fit fails until it is taken off.
KNOWN_TOO_BIG: dict[tuple[str, str], str] = {}

_HEADING = re.compile(r"^## (\S+?): .*$", re.M)
_DIRECTIVE = re.compile(r"^\\(?:deriv|hessian)\b.*$", re.M)
_BLOCK = re.compile(r"^\$\$\n(.*?)\n\$\$$", re.S | re.M)


def case_ids() -> list[str]:
    """The case ids of the fixture, in order; every heading is followed by one directive."""
    text = FIXTURE.read_text(encoding="utf-8")
    ids = _HEADING.findall(text)
    assert len(ids) == len(_DIRECTIVE.findall(text)), "one directive per heading in the fixture"
    assert len(set(ids)) == len(ids), "case ids must be unique"
    return ids


def count_rows(block: str) -> int:
    """Rows of a display: its ``\\\\`` line breaks plus one (notes are \\text, never hold ``\\\\``)."""
    return block.count("\\\\") + 1


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="{css}">
<script src="{js}"></script>
<style>
  html, body {{ margin: 0; background: #fff; }}
  body {{ font: 16px/1.5 "Noto Sans CJK SC", "DejaVu Sans", sans-serif; color: #222; }}
  .case {{ width: {column}px; margin: 0 0 4px; border: 1px dashed #ccc; }}
  .case > p {{ font: 12px monospace; margin: 2px 4px; color: #777; }}
</style></head>
<body>{body}
<script>
  const results = {{}};
  for (const el of document.querySelectorAll(".math")) {{
    try {{
      katex.render(JSON.parse(el.dataset.tex), el,
                   {{displayMode: true, throwOnError: true, strict: "error"}});
    }} catch (e) {{ results[el.id] = {{error: String(e)}}; }}
  }}
  document.fonts.ready.then(() => {{
    for (const el of document.querySelectorAll(".math")) {{
      if (results[el.id]) continue;
      const bases = [...el.querySelectorAll(".katex-html > .base")].map((b) => b.getBoundingClientRect());
      const left = Math.min(...bases.map((r) => r.left)), right = Math.max(...bases.map((r) => r.right));
      const tag = el.querySelector(".tag");
      const tagWidth = tag ? tag.getBoundingClientRect().width : 0;
      results[el.id] = {{formula: right - left, tag: tagWidth,
                         needed: (right - left) + (tag ? 2 * (tagWidth + {gap}) : 0)}};
    }}
    document.body.dataset.height = Math.ceil(document.body.getBoundingClientRect().bottom);
    document.body.dataset.results = JSON.stringify(results);
  }});
</script></body></html>
"""


def chromium(browser: str, profile: Path, *args: str) -> str:
    """Run headless Chromium once (flags for a closed network, as root) and return its stdout."""
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--hide-scrollbars", "--allow-file-access-from-files",
               f"--user-data-dir={profile}", "--virtual-time-budget=20000", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"chromium failed ({done.returncode}):\n{done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict]:
    """Every case in both layouts rendered and measured: {(id, layout): {latex, rows, formula, ...}}."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is not installed (Debian: apt-get install chromium fonts-noto-cjk)"
    if not (KATEX / "katex.min.js").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=REPO / "tests" / "js", check=True)
    ids = case_ids()
    note = FIXTURE.read_text(encoding="utf-8")
    work = tmp_path_factory.mktemp("seed-widths")
    shots = os.environ.get("MATDIFF_SCREENSHOT_DIR")
    out: dict[tuple[str, str], dict] = {}
    for layout in LAYOUTS:
        blocks = _BLOCK.findall(render_text(note, fmt="markdown", layout=layout))
        assert len(blocks) == len(ids), f"{len(ids)} directives but {len(blocks)} display blocks"
        body = "".join(
            f'<div class="case"><p>{case} ({layout})</p>'
            f'<div class="math" id="{case}" data-tex="{html.escape(json.dumps(block))}"></div></div>\n'
            for case, block in zip(ids, blocks))
        page = work / f"{layout}.html"
        page.write_text(PAGE.format(css=(KATEX / "katex.min.css").as_uri(), js=(KATEX / "katex.min.js").as_uri(),
                                    column=COLUMN, gap=GAP, body=body), encoding="utf-8")
        dom = chromium(browser, work / "profile", f"--window-size={COLUMN + 40},2000", "--dump-dom", page.as_uri())
        found = re.search(r'data-results="([^"]*)"', dom)
        height = re.search(r'data-height="(\d+)"', dom)
        assert found and height, "the page did not finish rendering"
        results = json.loads(html.unescape(found.group(1)))
        for case, block in zip(ids, blocks):
            out[(case, layout)] = {"latex": block, "rows": count_rows(block), **results[case]}
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            chromium(browser, work / "profile", f"--window-size={COLUMN + 40},{height.group(1)}",
                     f"--screenshot={Path(shots) / f'seeds-{layout}.png'}", page.as_uri())
    if shots:
        (Path(shots) / "measured.json").write_text(json.dumps(
            {f"{case}/{layout}": got for (case, layout), got in out.items()}, indent=1, ensure_ascii=False))
    return out


CASES = [pytest.param(case, layout, id=f"{case}-{layout}",
                      marks=[pytest.mark.xfail(strict=True, reason=KNOWN_TOO_BIG[(case, layout)])]
                      if (case, layout) in KNOWN_TOO_BIG else [])
         for case in case_ids() for layout in LAYOUTS]


@pytest.mark.parametrize(("case", "layout"), CASES)
def test_fits_an_800px_column(measured: dict, case: str, layout: str) -> None:
    got = measured[(case, layout)]
    assert "error" not in got, f"KaTeX: {got.get('error')}\n{got['latex']}"
    assert got["needed"] <= COLUMN, (
        f"needs a {got['needed']:.0f} px column (formula {got['formula']:.0f} px, number {got['tag']:.0f} px), "
        f"more than {COLUMN} px:\n{got['latex']}")
    assert got["rows"] <= MAX_ROWS, f"{got['rows']} rows, more than {MAX_ROWS}:\n{got['latex']}"


def test_the_measure_is_real(measured: dict, capsys: pytest.CaptureFixture[str]) -> None:
    """The measurement follows the formulas (no constant, nothing unmeasured); prints, per seed,
    the widest display and the most rows."""
    assert all("needed" in got or "error" in got for got in measured.values())
    widths = sorted(got["needed"] for got in measured.values() if "needed" in got)
    assert widths[0] > 100 and widths[-1] - widths[0] > 100
    per_seed: dict[str, list[tuple[float, int, str]]] = {}
    for (case, layout), got in measured.items():
        per_seed.setdefault(case.split("-")[0], []).append((got.get("needed", 0.0), got["rows"], f"{case}/{layout}"))
    with capsys.disabled():
        for seed, items in sorted(per_seed.items()):
            widest = max(items)
            longest = max(items, key=lambda item: item[1])
            print(f"\nseed {seed}: widest {widest[0]:.0f} px ({widest[2]}), most rows {longest[1]} ({longest[2]})")
