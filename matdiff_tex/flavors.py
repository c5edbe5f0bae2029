"""Output flavours: what a pipeline needs besides the format (``flavor`` option).

A flavour is a small policy read by the document layer and the renderer:

``default``
    ``$$\\begin{equation}...$$`` display blocks, for KaTeX/MathJax pages and Markdown
    renderers that leave math alone.
``pandoc``
    templates from ``templates/pandoc/`` searched first: a display block is a bare
    ``\\begin{equation}...\\end{equation}`` (pandoc passes it to LaTeX as raw TeX and to
    HTML as display math with ``--mathjax``/``--katex``; ``$$\\begin{equation}`` is
    refused by LaTeX as ``\\[\\begin{equation}``); ``number=false`` gives
    ``$$\\begin{aligned}...\\end{aligned}$$``.  The spaces of the ``\\text{}`` notes are
    no-break spaces (U+00A0): pandoc wraps long math lines at spaces, and a line break
    inside ``\\text{}`` runs the words together in MathJax.
``hexo``
    every expansion in running text (and every inline math region holding one) is
    wrapped in ``{% raw %}...{% endraw %}``: Hexo lifts those blocks out before its
    Markdown renderer runs and puts them back after, so hexo-renderer-marked cannot
    turn ``\\\\`` into ``\\`` or ``_..._`` into emphasis.  Lines are joined with spaces
    when the expansion stands in a blockquote (the ``>`` of each line would be kept
    verbatim inside the raw block).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RAW_OPEN, RAW_CLOSE = "{% raw %}", "{% endraw %}"
NO_BREAK_SPACE = "\u00a0"
_TEXT_SPACE = re.compile(r"(\$[^$]*\$)| ")  # a space outside the note's own $...$ math


@dataclass(frozen=True, slots=True)
class Flavor:
    """What an output flavour changes."""

    name: str
    templates: str | None = None  # template folder searched before the format's own
    raw_guard: bool = False  # wrap Markdown expansions in Hexo {% raw %} ... {% endraw %}
    unbreakable_notes: bool = False  # no-break spaces in the \text{} notes

    def note(self, text: str | None) -> str | None:
        """A note's text (or the layout tag) as this flavour writes it inside ``\\text{}``."""
        if text is None or not self.unbreakable_notes:
            return text
        return _TEXT_SPACE.sub(lambda m: m.group(1) or NO_BREAK_SPACE, text)

    def guard(self, expansion: str) -> str:
        """``expansion`` as this flavour hands it to the next tool in the pipeline."""
        return f"{RAW_OPEN}{expansion}{RAW_CLOSE}" if self.raw_guard else expansion


FLAVORS = {
    "default": Flavor("default"),
    "pandoc": Flavor("pandoc", templates="pandoc", unbreakable_notes=True),
    "hexo": Flavor("hexo", raw_guard=True),
}


def flavor(name: str | None) -> Flavor:
    """The flavour called ``name`` (``default`` for None)."""
    return FLAVORS[name or "default"]
