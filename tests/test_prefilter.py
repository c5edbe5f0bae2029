"""The cheap look before the Markdown parser never hides a directive, and it saves the parse."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from matdiff_tex.document import process_document
from matdiff_tex.scan import scan
from matdiff_tex.scan.prefilter import no_live_directive

PIECES = [
    "\\deriv<\\boldsymbol{X}><\\boldsymbol{X}>", "\\hessian<x><x>", "`", "``", "```", "~~~", "\n", "\n\n",
    "    ", "  ", "- ", "1. ", "> ", "# ", "$", "$$", "\\(", "\\[", "<!--", "-->", "<div>", "word ", "\\",
    "```python\n", "\n```\n", "matdiff-tex", "---\n", "===", "|", "{% raw %}", "*", "_",
]


def _expected_unchanged(text: str) -> None:
    found = scan(text, "markdown")
    assert not found.directives and not found.markers, text
    result = process_document(text, "markdown", expander=lambda *a: "EXPANDED")
    assert result.text == text and result.directives == 0, text


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25))
# Display math opened in an earlier paragraph runs over the blank line: the backticks are math.
@example(["$$", "\n\n", "`", "\\deriv<\\boldsymbol{X}><\\boldsymbol{X}>", "`", "$$"])
def test_a_proven_code_mention_is_never_a_directive(pieces: list[str]) -> None:
    text = "".join(pieces)
    if no_live_directive(text):
        _expected_unchanged(text)


def test_common_code_mentions_are_proven() -> None:
    for text in ["Use `\\deriv<F><X>` like this.\n",
                 "```latex\n\\deriv<F><X>\n\n\\hessian<f><X>\n```\n\nand `` \\deriv `` too\n",
                 "---\ntitle: x\n---\n\nSee `\\deriv`.\n"]:
        assert no_live_directive(text), text
        _expected_unchanged(text)
    for text in ["\\deriv<X><X>\n", "`a\n\n\\deriv<X><X> `\n", "$`$ \\deriv<X><X> `\n", "- `a\n- \\deriv<X><X>`\n"]:
        assert not no_live_directive(text), text


def test_a_code_span_mention_in_a_large_note_costs_no_markdown_parse(monkeypatch) -> None:
    """Counted, not timed (a timed ratio failed once in a full test run, the process's heap large
    from earlier tests): neither the scanner nor the Markdown parser is called; the timings are in
    benchmarks/bench_build.py (a 2 MB note with a code-span mention: 1.4-1.8x a bare start-up)."""
    from matdiff_tex.scan import scanner

    prose = "Words and more words with $a_i$ math and `code` spans, in a paragraph.\n\n" * 14_000  # ~1 MB
    fenced = "```\n" + "code line\n" * 50 + "\\deriv<F><X>\n```\n\n"
    calls: list[str] = []
    for module, name in ((scanner, "code_blocks"), (scanner, "scan_markdown")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _name=name, _original=original, **k: calls.append(_name)
                            or _original(*a, **k))
    for text in (prose + "Write `\\deriv<F><X>` for a derivative.\n", prose + fenced + prose):
        result = process_document(text, "markdown", expander=lambda *a: "EXPANDED")
        assert result.text == text and result.directives == 0 and len(result.notices) == 1
        assert calls == []
    # the counter sees the parse when there is one: a live directive in the same large note
    live = prose + "\\deriv<\\boldsymbol{X}><\\boldsymbol{X}>\n"
    assert process_document(live, "markdown", expander=lambda *a: "EXPANDED").directives == 1
    assert "code_blocks" in calls
