"""Hostile and odd documents: ``--in-place`` stays idempotent and loses no text; markers are
paired only with their own partner; scanning time grows linearly with the input.

The expander is the fake one of ``test_document`` (a recognisable derivation through the
real templates), so expansions hold ``$``, ``$$`` and ``\\text{...$X$...}`` as real ones do.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from matdiff_tex.document import MAX_ERRORS_PER_FILE, process_document
from matdiff_tex.scan import scan
from test_document import fake_expander

HTML_BLOCK = re.compile(r"<!-- matdiff-tex ([0-9a-f]{8}): (.*?) -->.*?<!-- /matdiff-tex \1 -->", re.S)
DIRECTIVES = [r"\deriv<\boldsymbol{x}^{\top}\boldsymbol{x}><\boldsymbol{x}>", r"\deriv<\boldsymbol{AX}><\boldsymbol{X}>",
              r"\hessian<\operatorname{tr}(X)><X>"]
# Pieces an author may leave lying around in prose: unpaired math and code openers, comments.
LITTER = ["$", "US$5", "$$", "\\(", "\\)", "\\[", "\\]", "`", "``", "<!--", "-->", "%", "{", "}", ">",
          "a", "价格", " ", " ", "\t", "x$", "$y", "\\$", "\\", "50%", "<", "-", "= ", "\\begin{equation}",
          "\\end{equation}", "\\text{", "#"]


@st.composite
def hostile(draw: st.DrawFn, fmt: str) -> str:
    """Lines of litter and directives (a directive alone on a line, in a sentence, in $...$)."""
    lines = []
    for _ in range(draw(st.integers(1, 7))):
        pieces = draw(st.lists(st.sampled_from(LITTER + [None, None]), max_size=8))
        text = "".join(draw(st.sampled_from(DIRECTIVES)) if p is None else p for p in pieces)
        if draw(st.booleans()):
            text += " $y = " + draw(st.sampled_from(DIRECTIVES)) + "$ ok"
        lines.append(text)
        if draw(st.integers(0, 3)) == 0:
            lines.append("")
    return "\n".join(lines) + "\n"


def in_place(text: str, fmt: str, **kwargs):  # type: ignore[no-untyped-def]
    return process_document(text, fmt, expander=fake_expander, markers=True, **kwargs)


def test_stray_dollar_before_an_in_place_prose_directive() -> None:
    """Issue 6.1: the marker's own ``$`` must not pair with the author's ``US$5``."""
    text = "Price: US$5 per \\deriv<\\boldsymbol{x}^{\\top}\\boldsymbol{x}><\\boldsymbol{x}> unit.\n"
    once = in_place(text, "markdown")
    assert once.errors == [] and once.changed
    twice = in_place(once.text, "markdown")
    assert twice.errors == [] and twice.text == once.text
    assert HTML_BLOCK.sub(lambda m: m.group(2), once.text) == text


def test_stray_dollar_before_a_latex_display_directive() -> None:
    """The same in LaTeX: a stray ``$`` must not pair with a ``$`` in a note of the expansion."""
    text = "costs \\$5 and $5 more\n\\deriv<\\boldsymbol{ABX}><\\boldsymbol{X}>\ntail\n"
    once = in_place(text, "latex")
    assert once.errors == []
    assert in_place(once.text, "latex").text == once.text


@settings(max_examples=150, deadline=None)
@given(hostile("markdown"))
# The marker of a math region that starts its line is an HTML block: a tab-indented line after it
# must not become an indented code block that hides the closing marker on the next run.
@example("\n\n\n\n$US$5\n\t $y = " + DIRECTIVES[0] + "$ ok\n\n")
# A tab-indented `<!--` continues the paragraph (four columns: never an HTML block); once the line
# above is an expansion (an HTML block) it is an indented code block: both runs must read the
# directive after it alike.
@example(" $y = " + DIRECTIVES[0] + "$ ok\n\t<!--\n\n $y = " + DIRECTIVES[0] + "$ ok\n\n")
# A display directive whose paragraph goes on in a tab-indented line: after the closing marker
# that line would be an indented code block (and its own marker unseen by the next run).
@example("\n\n" + DIRECTIVES[0] + "\n\tUS$5\n $y = " + DIRECTIVES[0] + "$ ok\n\n")
def test_markdown_in_place_twice_changes_nothing_and_loses_no_text(text: str) -> None:
    once = in_place(text, "markdown")
    if once.errors:  # a malformed directive: nothing is written
        assert once.text == text
        return
    twice = in_place(once.text, "markdown")
    assert twice.errors == [] and twice.text == once.text and not twice.changed
    if "% matdiff-tex" not in once.text:  # HTML markers only: taking them out gives the input back
        assert HTML_BLOCK.sub(lambda m: m.group(2), once.text) == text


@settings(max_examples=100, deadline=None)
@given(hostile("latex"))
def test_latex_in_place_twice_changes_nothing(text: str) -> None:
    once = in_place(text, "latex")
    if once.errors:
        assert once.text == text
        return
    twice = in_place(once.text, "latex")
    assert twice.errors == [] and twice.text == once.text and not twice.changed


TWO_BLOCKS = ("# T\n\n\\deriv<\\boldsymbol{a}^{\\top}\\boldsymbol{x}><\\boldsymbol{x}>\n\n## Heading\n\n"
              "Para with \\deriv<\\boldsymbol{b}^{\\top}\\boldsymbol{x}><\\boldsymbol{x}> inline.\n\nmore prose\n")


def _lose_first_closer(text: str) -> str:
    return re.sub(r"<!-- /matdiff-tex [0-9a-f]{8} -->", "<!-- lost -->", text, count=1)


def test_force_never_pairs_a_marker_with_a_closer_inside_a_later_code_fence() -> None:
    """Issue 6.2: with its closing marker lost, an opening marker is an error, even with force;
    a closing marker inside a code fence (or of another expansion) is never its partner."""
    once = in_place(TWO_BLOCKS, "markdown").text
    broken = _lose_first_closer(once).replace(
        "## Heading", "```\n<!-- /matdiff-tex 0123abcd -->\n```\n\n## Heading")
    for force in (False, True):
        result = in_place(broken, "markdown", force=force)
        assert result.text == broken and len(result.errors) == 1
        assert "no closing" in result.errors[0].message


def test_force_never_pairs_markers_of_two_expansions() -> None:
    """Closer of the first block and opener of the second lost: the ids differ, nothing is removed."""
    once = in_place(TWO_BLOCKS, "markdown").text
    broken = re.sub(r"<!-- matdiff-tex [0-9a-f]{8}: \\deriv<\\boldsymbol\{b\}.*?-->", "", _lose_first_closer(once))
    result = in_place(broken, "markdown", force=True)
    assert result.text == broken and "## Heading" in broken
    assert len(result.errors) == 1 and "another expansion" in result.errors[0].message


def test_force_rewrites_an_edited_expansion_between_its_own_markers() -> None:
    once = in_place(TWO_BLOCKS, "markdown").text
    edited = once.replace(r"\mathcal{D}", r"\mathcal{E}", 1)
    assert "edited by hand" in in_place(edited, "markdown").errors[0].message
    assert in_place(edited, "markdown", force=True).text == once


def test_force_does_not_rewrite_an_edited_expansion_of_a_marker_without_id() -> None:
    """Markers written before ids are still read, but force cannot be sure of their pairing."""
    once = in_place(TWO_BLOCKS, "markdown").text
    legacy = re.sub(r"<!-- matdiff-tex [0-9a-f]{8}: ", "<!-- matdiff-tex: ", once)
    assert in_place(legacy, "markdown").errors == []  # still read
    edited = legacy.replace(r"\mathcal{D}", r"\mathcal{E}", 1)
    result = in_place(edited, "markdown", force=True)
    assert result.text == edited and "older matdiff-tex" in result.errors[0].message


def test_latex_force_skips_closers_in_verbatim() -> None:
    text = "\\deriv<\\boldsymbol{AX}><\\boldsymbol{X}>\n\nSome prose.\n"
    once = in_place(text, "latex").text
    broken = re.sub(r"% /matdiff-tex [0-9a-f]{8}", "% lost", once, count=1).replace(
        "Some prose.", "Some prose.\n\\begin{verbatim}\n% /matdiff-tex 0123abcd\n\\end{verbatim}")
    result = in_place(broken, "latex", force=True)
    assert result.text == broken and len(result.errors) == 1
    assert "another expansion" in result.errors[0].message


# ---------------------------------------------------------------- item 15: scanning is linear

OPENERS = [("$a ", "markdown"), ("$$a ", "markdown"), ("\\(a ", "markdown"), ("\\[a ", "markdown"),
           ("`a ", "markdown"), ("<!--a ", "markdown"), ("\\begin{equation}a ", "markdown"),
           ("$a ", "latex"), ("\\(a ", "latex"), ("\\begin{equation}a ", "latex")]


def _scan_seconds(text: str, fmt: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        scan(text, fmt)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.slow
@pytest.mark.parametrize("unit,fmt", OPENERS, ids=[f"{fmt}:{unit.strip()}" for unit, fmt in OPENERS])
def test_a_paragraph_of_unclosed_openers_is_scanned_in_linear_time(unit: str, fmt: str) -> None:
    """Issue 6.15: four times the text takes about four times as long (quadratic would be 16)."""
    size = 30_000
    small = unit * (size // len(unit)) + "\\deriv<A><X>"
    large = unit * (4 * size // len(unit)) + "\\deriv<A><X>"
    scan(small, fmt)  # warm up (imports, compiled patterns)
    ratio = _scan_seconds(large, fmt) / _scan_seconds(small, fmt)
    assert ratio < 10, f"4x the text took {ratio:.1f}x the time"


# ---------------------------------------------------------------- item 16: bounded error output


def test_errors_per_file_are_capped_and_long_lines_are_cut(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 6.16: 500 unclosed directives on one line print 50 errors, a count of the rest, and
    never the whole 3.5 kB line."""
    (tmp_path / "many.md").write_text("\\deriv<" * 500 + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", "many.md"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.count(": error: unclosed '<'") == MAX_ERRORS_PER_FILE
    assert f"... and {500 - MAX_ERRORS_PER_FILE} more errors in this file" in done.stderr
    assert "matdiff-tex: 500 errors in 1 file" in done.stderr  # the summary counts them all
    assert max(len(line) for line in done.stderr.splitlines()) < 300
    assert len(done.stderr) < 30_000


@pytest.mark.parametrize("text, line", [
    ("Intro\n\n" + DIRECTIVES[0] + "\n\tcontinued words\n", 4),
    ("Intro\r\n\r\n $y = " + DIRECTIVES[0] + "$ ok\r\n     more $z$ words\r\n", 4),
])
def test_a_line_that_markers_would_turn_into_code_is_refused_at_its_place(text: str, line: int) -> None:
    once = in_place(text, "markdown")
    assert once.text == text
    [error] = once.errors
    assert (error.line, error.col) == (line, 1)
    assert "would read as an indented code block" in error.message


def test_a_line_after_a_blank_or_less_indented_is_kept_as_before() -> None:
    for text in ("Intro\n\n" + DIRECTIVES[0] + "\n\n\tcode after a blank line\n",
                 "Intro\n\n" + DIRECTIVES[0] + "\n   three spaces go on\n"):
        once = in_place(text, "markdown")
        assert once.errors == [] and once.changed
