"""Finding directives in Markdown and LaTeX notes, and what must never be touched.

:func:`scan` returns every directive with its placement, every marker block left by
an earlier ``--in-place`` run, the document-wide options (front matter) and the
problems, each at an offset of the original text.

Never touched: front matter; in Markdown fenced and indented code blocks, inline
code spans, HTML comments, ``<pre>``/``<script>``/``<style>`` blocks and Hexo
``{% raw %}`` blocks; in LaTeX ``%`` comments, ``\\verb``, ``\\lstinline`` and the
``verbatim``, ``Verbatim``, ``lstlisting``, ``minted`` and ``comment`` environments.
Inside math a ``%`` comment is skipped too.

A literal ``\\deriv`` in prose: in Markdown write ``\\\\deriv`` (Markdown's own
backslash escape, shown as ``\\deriv``) or put it in a code span; in LaTeX use
``\\verb|\\deriv<F><X>|`` or ``\\textbackslash deriv``.  A ``\\deriv`` not followed
at once by ``[`` or ``<`` is not a directive either.

Importing the package loads nothing: the scanner (:mod:`.scanner`) and its parts are imported
when first used, so the cheap code-span check (:mod:`.prefilter`) and a cached build do not pay
for the whole scanner.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Directive", "MarkerBlock", "MarkerStyle", "Placement", "ScanResult", "scan",
           "scan_markdown", "scan_latex"]

_HOME = {"scan": "scanner", "scan_markdown": "scanner", "scan_latex": "scanner", "Directive": "model",
         "MarkerBlock": "model", "MarkerStyle": "model", "Placement": "model", "ScanResult": "model"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value
