"""Property tests: for generated documents, everything outside directives is kept byte for byte.

Documents are built from chunks (prose with CJK, tabs and trailing spaces, code
fences, inline code, comments, math, lists, quotes, front matter, directives);
each chunk knows its text, its text with the live directives cut out, and the
placements those directives must get.  The injected expander writes a token
``⟪placement ...⟫`` (several lines for block placements), so cutting the tokens
out of the output must give back the document with its directives cut out.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from matdiff_tex.document import process_document
from matdiff_tex.options import ResolvedOptions
from matdiff_tex.scan.model import Placement

Chunk = tuple[str, str, list[str]]  # text, text without live directives, placements in order

BLOCKS = {Placement.DISPLAY, Placement.ALIGNED_BLOCK, Placement.ALIGNED_LINES}
TOKEN = re.compile(r"⟪.*?⟫", re.DOTALL)


def token_expander(kind: str, f: str, x: str, options: ResolvedOptions, placement: Placement, fmt: str) -> str:
    """A recognisable expansion; several lines where a block would be written."""
    if placement in BLOCKS:
        return f"⟪{placement.value}\nsecond line\n    third line⟫"
    return f"⟪{placement.value}⟫"


WORD_CHARS = "abcxyzAXY矩阵求导数向量化分子分母，。：；！？（）.,;:!?()=+-*/_'\"" + "0123456789"
words = st.text(alphabet=WORD_CHARS + " \t", min_size=0, max_size=12)
first = st.sampled_from("aAx矩阵求Xy")
prose = st.builds(lambda a, b, trail: a + b.replace("\n", "") + trail, first, words,
                  st.sampled_from(["", " ", "  ", "\t", "   "]))
F = st.sampled_from([r"\boldsymbol{ABX}", r"A^{\top}B", r"\|\boldsymbol{x}\|^2", r"\operatorname{tr}(X)",
                     r"\left|\boldsymbol{X}\right|", r"\log\det(X)", r"\boldsymbol{x}^T\boldsymbol{A}\boldsymbol{x}"])
X = st.sampled_from([r"\boldsymbol{X}", "X", r"\mathbf{x}", r"\bm{x}"])
NAME = st.sampled_from(["deriv", "hessian"])
OPTS = st.sampled_from(["", "[layout=denominator]", "[steps=brief, lang=en]", "[shapes={A: 3x4, X: n x n}]"])


@st.composite
def directive(draw: st.DrawFn) -> str:
    """One well-formed directive."""
    return f"\\{draw(NAME)}{draw(OPTS)}<{draw(F)}><{draw(X)}>"


@st.composite
def md_chunk(draw: st.DrawFn) -> Chunk:
    """One Markdown block, ending with a newline."""
    d = draw(directive())
    p, q = draw(prose), draw(prose)
    fence = draw(st.sampled_from(["```", "````", "~~~", "~~~~~"]))
    ticks = draw(st.sampled_from(["`", "``", "```"]))
    kind = draw(st.integers(0, 13))
    chunks: list[Chunk] = [
        (f"{p}\n", f"{p}\n", []),
        (f"{d}\n", "\n", ["display"]),
        (f"{p} {d} {q}\n", f"{p}  {q}\n", ["prose"]),
        (f"{p} $y = {d}$ {q}\n", f"{p} $y = $ {q}\n", ["inline"]),
        (f"$$\n{d}\n$$\n", "$$\n\n$$\n", ["aligned_block"]),
        (f"$$\n\\begin{{aligned}}\n    {d} \\\\\n    &= 1\n\\end{{aligned}}\n$$\n",
         "$$\n\\begin{aligned}\n     \\\\\n    &= 1\n\\end{aligned}\n$$\n", ["aligned_lines"]),
        (f"{fence}latex\n{d}\n{fence}\n", f"{fence}latex\n{d}\n{fence}\n", []),
        (f"{p} {ticks}{d}{ticks} {q}\n", f"{p} {ticks}{d}{ticks} {q}\n", []),
        (f"{p} <!-- {d} --> {q}\n", f"{p} <!-- {d} --> {q}\n", []),
        (f"{p} \\\\{d[1:]} {q}\n", f"{p} \\\\{d[1:]} {q}\n", []),
        (f"{p}\n\n    {d}\n", f"{p}\n\n    {d}\n", []),
        (f"- {p}\n  {d}\n", f"- {p}\n  \n", ["display"]),
        (f"> {p}\n> {d}\n", f"> {p}\n> \n", ["display"]),
        (f"{{% raw %}}\n$$ {d} $$\n{{% endraw %}}\n", f"{{% raw %}}\n$$ {d} $$\n{{% endraw %}}\n", []),
    ]
    return chunks[kind]


@st.composite
def tex_chunk(draw: st.DrawFn) -> Chunk:
    """One LaTeX paragraph or environment, ending with a newline."""
    d = draw(directive())
    p, q = draw(prose), draw(prose)
    env = draw(st.sampled_from(["verbatim", "lstlisting", "Verbatim"]))
    kind = draw(st.integers(0, 9))
    chunks: list[Chunk] = [
        (f"{p}\n", f"{p}\n", []),
        (f"{d}\n", "\n", ["display"]),
        (f"{p} {d} {q}\n", f"{p}  {q}\n", ["prose"]),
        (f"{p} $y = {d}$ {q}\n", f"{p} $y = $ {q}\n", ["inline"]),
        (f"\\begin{{equation}}\n    {d}\n\\end{{equation}}\n", "\\begin{equation}\n    \n\\end{equation}\n",
         ["aligned_block"]),
        (f"\\begin{{align*}}\n    {d} \\\\\n    &= 1\n\\end{{align*}}\n",
         "\\begin{align*}\n     \\\\\n    &= 1\n\\end{align*}\n", ["aligned_lines"]),
        (f"{p} % {d} {q}\n", f"{p} % {d} {q}\n", []),
        (f"\\begin{{{env}}}\n{d}\n\\end{{{env}}}\n", f"\\begin{{{env}}}\n{d}\n\\end{{{env}}}\n", []),
        (f"{p} \\verb|{d}| {q}\n", f"{p} \\verb|{d}| {q}\n", []),
        (f"{p} 50\\% {d}\n", f"{p} 50\\% \n", ["prose"]),
    ]
    return chunks[kind]


@st.composite
def document(draw: st.DrawFn, fmt: str) -> tuple[str, str, list[str], str]:
    """A whole document: optional BOM and front matter, chunks between blank lines, LF or CRLF."""
    chunks = draw(st.lists(md_chunk() if fmt == "markdown" else tex_chunk(), min_size=1, max_size=8))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    head = draw(st.sampled_from(["", "\ufeff"]))
    if fmt == "markdown" and draw(st.booleans()):
        head += "---\ntitle: \\deriv<A><X> 矩阵\n---\n"
    text = head + "\n".join(c[0] for c in chunks)
    stripped = head + "\n".join(c[1] for c in chunks)
    placements = [p for c in chunks for p in c[2]]
    if not draw(st.booleans()):  # sometimes no final newline
        text, stripped = text[:-1], stripped[:-1]
    return text.replace("\n", newline), stripped.replace("\n", newline), placements, newline


def check(doc: tuple[str, str, list[str], str], fmt: str) -> None:
    """The preservation property for one document."""
    text, stripped, placements, _ = doc
    result = process_document(text, fmt, expander=token_expander)
    assert result.errors == []
    assert TOKEN.sub("", result.text) == stripped
    assert re.findall(r"⟪(\w+)", result.text) == placements
    assert result.directives == len(placements)
    if "\r\n" in text:  # (a one-line document has no line end to follow)
        assert re.search(r"(?<!\r)\n", result.text) is None


@settings(max_examples=150, deadline=None)
@given(document("markdown"))
def test_markdown_outside_directives_is_unchanged(doc: tuple[str, str, list[str], str]) -> None:
    check(doc, "markdown")


@settings(max_examples=150, deadline=None)
@given(document("latex"))
def test_latex_outside_directives_is_unchanged(doc: tuple[str, str, list[str], str]) -> None:
    check(doc, "latex")


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["markdown", "latex"]).flatmap(lambda fmt: st.tuples(st.just(fmt), document(fmt))))
def test_in_place_twice_is_in_place_once(case: tuple[str, tuple[str, str, list[str], str]]) -> None:
    fmt, (text, _, placements, _) = case
    once = process_document(text, fmt, expander=token_expander, markers=True)
    assert once.errors == []
    twice = process_document(once.text, fmt, expander=token_expander, markers=True)
    assert twice.errors == [] and twice.text == once.text and not twice.changed
    assert twice.directives == len(placements)
    if "\r\n" in text:
        assert re.search(r"(?<!\r)\n", once.text) is None
