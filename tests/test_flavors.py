"""Output flavours (``flavor`` option): the hexo raw guard and the pandoc display block.

Real pipelines are in tests/test_hexo_bridge.py (hexo generate / hexo server) and
tests/test_pandoc.py (pandoc to HTML and PDF); these check the text itself.
"""

from __future__ import annotations

import re

import pytest

from matdiff_tex import render_text
from matdiff_tex.document import process_document

AX = r"\deriv<\boldsymbol{A}\boldsymbol{x}><\boldsymbol{x}>"
NOTE = f"""Alone:

{AX}

In text {AX} and in math $y = {AX}$.

> Quoted:
>
> {AX}

$$
{AX}
$$
"""
RAW = re.compile(r"\{% raw %\}(.*?)\{% endraw %\}", re.S)


def test_hexo_flavour_wraps_each_expansion_and_nothing_else() -> None:
    out = render_text(NOTE, lang="en", flavor="hexo")
    guarded = RAW.findall(out)
    assert len(guarded) == 5
    assert guarded[0].startswith("$$\n\\begin{equation}") and guarded[0].endswith("\\end{equation}\n$$")
    assert guarded[1].startswith("$\\frac{\\partial") and guarded[1].endswith("$")
    assert guarded[2].startswith("$y = \\frac{\\partial")  # the whole inline math region
    assert "\n" not in guarded[3] and "> " not in guarded[3]  # one line in a blockquote
    assert guarded[4].startswith("\\begin{aligned}")
    assert RAW.sub("", out).count("\\frac") == 0
    plain = render_text(NOTE, lang="en")
    assert RAW.sub(lambda m: m.group(1), out).replace(" ", "").replace("\n", "").replace(">", "") == \
        plain.replace(" ", "").replace("\n", "").replace(">", "")


def test_hexo_flavour_from_front_matter_and_not_with_markers() -> None:
    front = "---\nmatdiff:\n  flavor: hexo\n  lang: en\n---\n" + AX + "\n"
    assert "{% raw %}" in render_text(front)
    marked = process_document(front, "markdown", markers=True)
    assert marked.errors == [] and "{% raw %}" not in marked.text


def test_pandoc_flavour_writes_a_bare_equation_block() -> None:
    out = render_text(NOTE, lang="en", flavor="pandoc")
    alone = out.split("Alone:\n\n", 1)[1]
    assert alone.startswith("\\begin{equation}\n    \\begin{aligned}")
    assert "$$\n\\begin{equation}" not in out
    assert out.count("\\begin{equation}") == 2  # the quoted one too


def test_an_unknown_flavour_is_refused(cli) -> None:
    with pytest.raises(Exception, match="flavor"):
        render_text(NOTE, flavor="quarto")
    result = cli("render", "-", "--format", "markdown", "--flavor", "quarto", input=AX)
    assert result.exit_code == 2
