"""Every expansion renders in real KaTeX (and MathJax 3) without an error.

The notes are the bundled examples, the document fixtures' inputs and a sample
below that puts directives in every placement.  Each is rendered with the
document layer; every math region of the output that is not already in the
input (that is, every region an expansion made or changed) goes to
``tests/js/check-math.js``, which runs ``katex.renderToString`` with
``throwOnError: true`` (display mode for blocks) and MathJax 3's ``tex2svg``
with errors rethrown.  KaTeX's strict-mode complaints (such as CJK text in
math mode) count as failures too.  ``npm ci`` installs the pinned packages
into tests/js on first use.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
JS_DIR = REPO_ROOT / "tests" / "js"
FIXTURE_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".tex": "latex"}

pytestmark = pytest.mark.slow

SAMPLE_MARKDOWN = r"""---
title: placements
matdiff:
  lang: en
---

Alone, numerator layout:

\deriv<\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})><\boldsymbol{X}>

Alone, denominator layout, Chinese notes:

\deriv[layout=denominator, lang=zh]<\boldsymbol{ABX}><\boldsymbol{X}>

Unnumbered, narrow:

\deriv[number=false, width=30]<\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{A}\boldsymbol{X})><\boldsymbol{X}>

Inside display math:

$$
\deriv<\boldsymbol{a}^{\top}\boldsymbol{X}\boldsymbol{b}><\boldsymbol{X}>
$$

Inside an aligned block:

$$
\begin{aligned}
\deriv[steps=brief]<\log\det(\boldsymbol{X})><\boldsymbol{X}>
\end{aligned}
$$

Inline: $\deriv[steps=none]<\boldsymbol{x}^{\top}\boldsymbol{x}><\boldsymbol{x}>$ is short.

- In a list item:

  \hessian<\boldsymbol{x}^{\top}\boldsymbol{A}\boldsymbol{x}><\boldsymbol{x}>

> In a quote:
>
> \deriv<\sigma(\boldsymbol{W}\boldsymbol{x})><\boldsymbol{x}>

An answer checked by the build, alone and inline:

\answer<\boldsymbol{A}\boldsymbol{X}\boldsymbol{B}><\boldsymbol{X}><\boldsymbol{B}^{\top} \otimes \boldsymbol{A}>

So $\answer[layout=denominator]<\boldsymbol{a}^{\top}\boldsymbol{x}><\boldsymbol{x}><\boldsymbol{a}>$.
"""

SAMPLE_LATEX = r"""\documentclass{article}
\begin{document}
Alone:

\deriv[lang=en]<\boldsymbol{X}^{-1}><\boldsymbol{X}>

Inside an equation:
\begin{equation}
  \deriv<\|\boldsymbol{A}\boldsymbol{x}-\boldsymbol{b}\|_2^2><\boldsymbol{x}>
\end{equation}

Inside align*:
\begin{align*}
  \deriv[layout=denominator]<\operatorname{tr}(\boldsymbol{X}\boldsymbol{X}^{\top})><\boldsymbol{X}>
\end{align*}

An answer:
\begin{equation}
  \answer<\boldsymbol{X}^{-1}><\boldsymbol{X}><-\boldsymbol{X}^{-\top} \otimes \boldsymbol{X}^{-1}>
\end{equation}

Inline \(\deriv[steps=none]<\det(\boldsymbol{X})><\boldsymbol{X}>\) and
$\hessian[steps=none]<\boldsymbol{x}^{\top}\boldsymbol{x}><\boldsymbol{x}>$.
\end{document}
"""


@dataclass(frozen=True)
class MathRegion:
    """One piece of math to render: where it came from and in which mode."""

    origin: str
    latex: str
    display: bool


# ---------------------------------------------------------------- finding math in a note

_MD_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,}).*?^[ \t>]*\1[`~]*[ \t]*$", re.M | re.S)
_MD_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DISPLAY_DOLLARS = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$", re.S)
_INLINE_DOLLAR = re.compile(r"(?<![\\$])\$(?!\$)((?:\\.|[^$\\\n])+?)(?<!\\)\$")
_TEX_COMMENT = re.compile(r"(?<!\\)%.*$", re.M)
_TEX_VERBATIM = re.compile(r"\\begin\{(verbatim|lstlisting|minted)\}.*?\\end\{\1\}", re.S)
_TEX_DISPLAY_ENV = re.compile(
    r"\\begin\{(equation\*?|align\*?|gather\*?|multline\*?)\}.*?\\end\{\1\}", re.S
)
_TEX_BRACKETS = re.compile(r"\\\[(.+?)\\\]", re.S)
_TEX_PARENS = re.compile(r"\\\((.+?)\\\)", re.S)
_LABEL = re.compile(r"\\label\{[^{}]*\}")


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """Replace every match by spaces (keeps offsets, hides the match from later patterns)."""
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _take(text: str, pattern: re.Pattern[str], whole: bool) -> tuple[list[str], str]:
    """The matches (whole or group 1) and the text with them blanked out."""
    found = [m.group(0) if whole else m.group(1) for m in pattern.finditer(text)]
    return found, _blank(text, pattern)


_QUOTE_MARKERS = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M)


def markdown_math(text: str) -> list[tuple[str, bool]]:
    """``$$...$$`` (display) and ``$...$`` (inline) outside code and comments.

    Blockquote markers are taken off first, as a Markdown renderer does before
    the math reaches KaTeX.
    """
    text = _QUOTE_MARKERS.sub("", text)
    for pattern in (_MD_FENCE, _MD_CODE_SPAN, _HTML_COMMENT):
        text = _blank(text, pattern)
    display, text = _take(text, _DISPLAY_DOLLARS, whole=False)
    inline, _ = _take(text, _INLINE_DOLLAR, whole=False)
    return [(body, True) for body in display] + [(body, False) for body in inline]


def latex_math(text: str) -> list[tuple[str, bool]]:
    """Display environments, ``\\[...\\]``, ``$$``, ``$`` and ``\\(...\\)`` outside comments."""
    for pattern in (_TEX_COMMENT, _TEX_VERBATIM):
        text = _blank(text, pattern)
    envs, text = _take(text, _TEX_DISPLAY_ENV, whole=True)
    brackets, text = _take(text, _TEX_BRACKETS, whole=False)
    dollars, text = _take(text, _DISPLAY_DOLLARS, whole=False)
    parens, text = _take(text, _TEX_PARENS, whole=False)
    inline, _ = _take(text, _INLINE_DOLLAR, whole=False)
    display = envs + brackets + dollars
    return [(body, True) for body in display] + [(body, False) for body in parens + inline]


def test_math_finders_on_known_text() -> None:
    md = "a $x$ b\n\n```\n$not$\n```\n\n`$no$` <!-- $no$ -->\n\n$$\n\\frac{1}{2}\n$$\n"
    assert markdown_math(md) == [("\n\\frac{1}{2}\n", True), ("x", False)]
    assert markdown_math("> $$\n> y\n> $$\n") == [("\ny\n", True)]
    tex = "% $no$\n\\begin{equation}\ny\n\\end{equation}\n\\(z\\) $w$ \\[v\\]\n"
    assert latex_math(tex) == [
        ("\\begin{equation}\ny\n\\end{equation}", True), ("v", True), ("z", False), ("w", False)
    ]


# ---------------------------------------------------------------- the notes


def directive_count(text: str) -> int:
    """How many directives a note holds outside inline code spans."""
    return len(re.findall(r"\\(?:deriv|hessian|answer)[\[<]", re.sub(r"`[^`\n]*`", "", text)))


def _note_files() -> list[Path]:
    """Examples and document fixtures' inputs (``*.in.md``, ``*.in.tex``) that hold a directive."""
    examples = sorted((REPO_ROOT / "examples").rglob("*"))
    fixtures = sorted((REPO_ROOT / "tests" / "fixtures").rglob("*.in.*"))
    found = []
    for path in examples + fixtures:
        if path.suffix in FIXTURE_SUFFIXES and path.is_file():
            if directive_count(path.read_text(encoding="utf-8", errors="replace")):
                found.append(path)
    return found


NOTES = _note_files()
HOMEWORK = REPO_ROOT / "examples" / "homework.tex"
STUDENT_COPY = "examples/homework.tex (student copy)"


def _expansion_regions(origin: str, source: str, fmt: str, strict: bool,
                       options: dict[str, str] | None = None) -> list[MathRegion]:
    """Render one note; the math regions of the output that the input does not have."""
    from matdiff_tex.document import process_document

    result = process_document(source, fmt, path=origin, options=options)
    if result.errors:
        if strict:
            raise AssertionError("\n".join(error.format() for error in result.errors))
        return []  # an error fixture: tested by the document layer's own tests
    finder = markdown_math if fmt == "markdown" else latex_math
    return [
        MathRegion(origin, _for_web(body, fmt), display)
        for body, display in finder(result.text)
        if body not in source
    ]


def _for_web(body: str, fmt: str) -> str:
    """Math of a LaTeX note without its ``\\label{...}``: LaTeX resolves those, KaTeX has none.

    (A Markdown note gets an HTML anchor instead of ``\\label``, so it is checked as it is.)
    """
    return _LABEL.sub("", body) if fmt == "latex" else body


def _all_regions() -> list[MathRegion]:
    """Every expansion region of the samples, the examples and the fixtures."""
    regions = _expansion_regions("sample.md", SAMPLE_MARKDOWN, "markdown", strict=True)
    regions += _expansion_regions("sample.tex", SAMPLE_LATEX, "latex", strict=True)
    for path in NOTES:
        origin = path.relative_to(REPO_ROOT).as_posix()
        strict = origin.startswith("examples/")
        source = path.read_text(encoding="utf-8").lstrip("\ufeff")
        regions += _expansion_regions(origin, source, FIXTURE_SUFFIXES[path.suffix], strict)
    for sample, source, fmt in ((STUDENT_COPY, HOMEWORK.read_text(encoding="utf-8"), "latex"),
                                ("sample.md (student copy)", SAMPLE_MARKDOWN, "markdown")):
        regions += _expansion_regions(sample, source, fmt, True, {"solutions": "hide"})
    return regions


# ---------------------------------------------------------------- running KaTeX and MathJax


def ensure_node_packages() -> None:
    """Install the pinned KaTeX and MathJax into tests/js (``npm ci``) unless already there."""
    if (JS_DIR / "node_modules" / "katex" / "package.json").is_file() and (
        JS_DIR / "node_modules" / "mathjax-full" / "package.json"
    ).is_file():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("Node.js and npm are needed for the KaTeX test (apt-get install nodejs npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                   stdin=subprocess.DEVNULL, timeout=600)


def render_in_node(regions: list[MathRegion]) -> list[dict]:
    """Run check-math.js over the regions; one report per region, in order."""
    ensure_node_packages()
    lines = "".join(
        json.dumps({"id": index, "latex": region.latex, "display": region.display}) + "\n"
        for index, region in enumerate(regions)
    )
    done = subprocess.run(["node", str(JS_DIR / "check-math.js"), "katex", "mathjax"],
                          input=lines, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    reports = [json.loads(line) for line in done.stdout.splitlines()]
    assert [report["id"] for report in reports] == list(range(len(regions)))
    return reports


@pytest.fixture(scope="module")
def checked() -> list[tuple[MathRegion, dict]]:
    """Every expansion region with its KaTeX and MathJax report."""
    regions = _all_regions()
    return list(zip(regions, render_in_node(regions)))


def _failures(checked: list[tuple[MathRegion, dict]], origin: str) -> list[str]:
    """Readable failures of the regions of one note."""
    failures = []
    for region, report in checked:
        if region.origin != origin:
            continue
        problems = [f"KaTeX: {report['katex']}"] if report["katex"] else []
        problems += [f"KaTeX strict: {warning}" for warning in report["katex_warnings"]]
        problems += [f"MathJax: {report['mathjax']}"] if report["mathjax"] else []
        if problems:
            mode = "display" if region.display else "inline"
            failures.append(f"{origin} ({mode}):\n{region.latex}\n  " + "\n  ".join(problems))
    return failures


def test_the_checker_catches_errors() -> None:
    """A broken formula fails in both engines, so a green run means something."""
    bad = [MathRegion("t", r"\frac{a}{", True), MathRegion("t", r"\begin{equation}x\end{equation}",
                                                                False)]
    reports = render_in_node(bad)
    assert reports[0]["katex"] and reports[0]["mathjax"]
    assert "display mode" in reports[1]["katex"]


def test_samples_cover_every_placement(checked) -> None:
    sample = [region for region, _ in checked if region.origin.startswith("sample.")]
    assert sum(region.display for region in sample) >= 9
    assert sum(not region.display for region in sample) >= 3


@pytest.mark.parametrize("origin", ["sample.md", "sample.tex"])
def test_sample_expansions_render(checked, origin: str) -> None:
    assert not _failures(checked, origin), "\n\n".join(_failures(checked, origin))


@pytest.mark.parametrize("origin", [STUDENT_COPY, "sample.md (student copy)"])
def test_hidden_solutions_render(checked, origin: str) -> None:
    """``--solutions hide``: the questions, the blank and the room under it typeset everywhere."""
    regions = [region for region, _ in checked if region.origin == origin]
    blanks = sum("\\underline{\\hspace{10em} }" in region.latex for region in regions)
    assert blanks >= max(9, len(regions) - 1)  # the homework's "The answer is ..." keeps its answer
    assert not _failures(checked, origin), "\n\n".join(_failures(checked, origin))


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_note_expansions_render(checked, path: Path) -> None:
    origin = path.relative_to(REPO_ROOT).as_posix()
    assert not _failures(checked, origin), "\n\n".join(_failures(checked, origin))


def test_examples_are_checked(checked) -> None:
    """Each directive of each example makes exactly one math region that was checked."""
    origins = [region.origin for region, _ in checked]
    examples = [path for path in NOTES if path.parts[len(REPO_ROOT.parts)] == "examples"]
    assert {"homework.tex", "index.md", "matrix-calculus-4.md"} <= {p.name for p in examples}
    for path in examples:
        directives = directive_count(path.read_text(encoding="utf-8"))
        origin = path.relative_to(REPO_ROOT).as_posix()
        assert origins.count(origin) == directives >= 6, origin
