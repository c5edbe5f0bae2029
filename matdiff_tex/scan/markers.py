"""Marker comments of ``--in-place`` mode: how they are written and read back.

Three forms, chosen by where the directive stands (see the module docs of
:mod:`matdiff_tex.document`)::

    <!-- matdiff-tex 1a2b3c4d: \\deriv<F><X> -->BODY<!-- /matdiff-tex 1a2b3c4d -->  Markdown prose
    % matdiff-tex 1a2b3c4d: \\deriv<F><X>                                    math, LaTeX display
    BODY
    % /matdiff-tex 1a2b3c4d
    % matdiff-tex inline 1a2b3c4d: \\deriv<F><X>                             LaTeX running text
    {BODY}

The hash (first 8 hex digits of a SHA-256) is that of the body as written, blind
only to line ends and to the indentation and ``>`` prefixes at the start of each
line, so re-indenting a block (moving it into a list or a quote) or changing CRLF
to LF is not an edit, while any other change, white space inside a line included,
is.  The opening marker holds the same hash as the closing one: it is the pair's
id, so an opening marker is only ever paired with its own closing marker.  Markers
written by matdiff-tex before ids (``<!-- matdiff-tex: SRC -->``, hashed with all
white space removed) are still read.
"""

from __future__ import annotations

import hashlib
import re

HTML_OPEN = re.compile(r"<!--[ \t]*matdiff-tex(?:[ \t]+([0-9a-f]{8}))?:[ \t]*")
HTML_OPEN_END = re.compile(r"[ \t]*-->")
HTML_CLOSE = re.compile(r"<!--[ \t]*/matdiff-tex[ \t]+([0-9a-f]{8})[ \t]*-->")
# groups: "inline" (the one-line form), the id, the source
PERCENT_OPEN = re.compile(
    r"%[ \t]*matdiff-tex(?:[ \t]+(inline))?(?:[ \t]+([0-9a-f]{8}))?:[ \t]*(.*?)[ \t]*\r?$", re.MULTILINE)
PERCENT_CLOSE = re.compile(r"%[ \t]*/matdiff-tex[ \t]+([0-9a-f]{8})")
# Any marker, for telling whether a span of the author's text reaches into one.
TOKEN = re.compile(r"<!--[ \t]*/?matdiff-tex|%[ \t]*/?matdiff-tex")
_SPACE = re.compile(r"\s+")
_LINE_HEAD = re.compile(r"(?m)^[ \t>]+|[ \t\r]+$")
_VERSION = b"matdiff-tex marker 2\n"


def body_hash(body: str) -> str:
    """Short hash of an expansion: blind to line ends and to each line's indentation/quote prefix."""
    text = _LINE_HEAD.sub("", body.replace("\r\n", "\n"))
    return hashlib.sha256(_VERSION + text.encode("utf-8")).hexdigest()[:8]


def legacy_hash(body: str) -> str:
    """The hash markers held before ids: blind to all white space."""
    return hashlib.sha256(_SPACE.sub("", body).encode("utf-8")).hexdigest()[:8]


def hash_matches(body: str, stored: str) -> bool:
    """Does ``stored`` (a closing marker's hash) belong to exactly this ``body``?"""
    return stored == body_hash(body) or stored == legacy_hash(body)


def html_open(source: str, body: str) -> str:
    """The opening HTML marker keeping ``source``, with the id (hash) of ``body``."""
    return f"<!-- matdiff-tex {body_hash(body)}: {source} -->"


def html_close(body: str) -> str:
    """The closing HTML marker holding the hash of ``body``."""
    return f"<!-- /matdiff-tex {body_hash(body)} -->"


def percent_open(source: str, body: str) -> str:
    """The opening ``%`` marker line (without its line end), with the id (hash) of ``body``."""
    return f"% matdiff-tex {body_hash(body)}: {source}"


def percent_close(body: str) -> str:
    """The closing ``%`` marker holding the hash of ``body``."""
    return f"% /matdiff-tex {body_hash(body)}"


def percent_inline(source: str, body: str) -> str:
    """The one-line ``%`` marker used in LaTeX running text, with the hash of ``body``."""
    return f"% matdiff-tex inline {body_hash(body)}: {source}"
