"""Marker comments of ``--in-place`` mode: how they are written and read back.

Three forms, chosen by where the directive stands (see the module docs of
:mod:`matdiff_tex.document`)::

    <!-- matdiff-tex: \\deriv<F><X> -->BODY<!-- /matdiff-tex 1a2b3c4d -->     Markdown prose
    % matdiff-tex: \\deriv<F><X>                                             math, LaTeX display
    BODY
    % /matdiff-tex 1a2b3c4d
    % matdiff-tex inline 1a2b3c4d: \\deriv<F><X>                             LaTeX running text
    {BODY}

The hash is the first 8 hex digits of the SHA-256 of the body with all white
space removed, so re-indenting a block or changing line endings is not an edit.
"""

from __future__ import annotations

import hashlib
import re

HTML_OPEN = re.compile(r"<!--[ \t]*matdiff-tex:[ \t]*")
HTML_OPEN_END = re.compile(r"[ \t]*-->")
HTML_CLOSE = re.compile(r"<!--[ \t]*/matdiff-tex[ \t]+([0-9a-f]{8})[ \t]*-->")
PERCENT_OPEN = re.compile(r"%[ \t]*matdiff-tex(?:[ \t]+inline[ \t]+([0-9a-f]{8}))?:[ \t]*(.*?)[ \t]*\r?$",
                          re.MULTILINE)
PERCENT_CLOSE = re.compile(r"%[ \t]*/matdiff-tex[ \t]+([0-9a-f]{8})")
_SPACE = re.compile(r"\s+")


def body_hash(body: str) -> str:
    """Short hash of an expansion, blind to white space."""
    return hashlib.sha256(_SPACE.sub("", body).encode("utf-8")).hexdigest()[:8]


def html_open(source: str) -> str:
    """The opening HTML marker keeping ``source``."""
    return f"<!-- matdiff-tex: {source} -->"


def html_close(body: str) -> str:
    """The closing HTML marker holding the hash of ``body``."""
    return f"<!-- /matdiff-tex {body_hash(body)} -->"


def percent_open(source: str) -> str:
    """The opening ``%`` marker line (without its line end)."""
    return f"% matdiff-tex: {source}"


def percent_close(body: str) -> str:
    """The closing ``%`` marker holding the hash of ``body``."""
    return f"% /matdiff-tex {body_hash(body)}"


def percent_inline(source: str, body: str) -> str:
    """The one-line ``%`` marker used in LaTeX running text, with the hash of ``body``."""
    return f"% matdiff-tex inline {body_hash(body)}: {source}"
