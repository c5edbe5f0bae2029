"""A note's result, and the results found without the scanner or the engine.

:func:`quick_result` answers for a note that mentions no directive, mentions one only inside
code, or whose whole result is cached; it and the cache entries' reading live here, apart from
:mod:`matdiff_tex.document`, so that a warm (cached) build imports neither the scanner nor the
renderer, let alone sympy or numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, MatdiffError, Notice
from .options import site_options

if TYPE_CHECKING:  # pragma: no cover
    from .cache import Cache
    from .scan.text import LineIndex

FORMATS = {"markdown": "markdown", "md": "markdown", "latex": "latex", "tex": "latex"}
#: A note holding none of these has nothing to expand.
TRIGGERS = ("\\deriv", "\\hessian", "\\answer", "matdiff-tex")


@dataclass(frozen=True)
class DocumentResult:
    """The processed text (the input itself when there are errors) and what happened."""

    text: str
    errors: list[MatdiffError] = field(default_factory=list)
    directives: int = 0
    changed: bool = False
    warnings: list[MatdiffError] = field(default_factory=list)  # guessed readings (errors with strict)
    notices: list[MatdiffError] = field(default_factory=list)  # directives left alone in code


def code_notices(text: str, path: str | None, index: "LineIndex", offsets: list[int],
                 in_container: set[int] | frozenset[int] = frozenset()) -> list[MatdiffError]:
    """A located notice for every directive left alone because it stands in code."""
    from .scan.directive import DIRECTIVE_START

    notices = []
    for offset in offsets:
        line, col, source = index.locate(offset)
        head = DIRECTIVE_START.match(text, offset)
        name = "\\" + (head.group(1) if head else "deriv")
        message = f"{name} not expanded (inside code)"
        if offset in in_container:
            message += ("; it stands in the indented body of an admonition, details or tab, which "
                        "CommonMark reads as code: for MkDocs set markdown: mkdocs (front matter, "
                        "matdiff-tex.toml or --markdown mkdocs)")
        notices.append(Notice(message).located(
            path=path, line=line, col=col, source_line=source))
    return notices


def quick_result(text: str, fmt: str, *, path: str | None = None, options: Mapping[str, Any] | None = None,
                 markers: bool = False, force: bool = False, strict: bool = False,
                 cache: "Cache | None" = None) -> DocumentResult | None:
    """The result of :func:`process_document` when it needs neither the scanner nor the engine:
    a note that mentions no directive, or only inside code, or whose result is in ``cache``;
    None otherwise (and for options that are not valid)."""
    fmt = FORMATS.get(fmt, fmt)
    if not any(trigger in text for trigger in TRIGGERS):
        return DocumentResult(text)
    if cache is not None:  # first: a note with a live directive gains nothing from the prefilter
        try:
            site: dict[str, Any] | None = site_options(options)
        except ConfigError:
            site = None  # reported by process_document
        stored = None if site is None else cache.get(cache.document_key(text, fmt, site, markers, (force, strict)))
        restored = None if stored is None else restored_result(stored, text, path)
        if restored is not None:
            return restored
    if fmt == "markdown":
        from .scan.prefilter import code_mentions
        from .scan.text import LineIndex

        mentions = code_mentions(text)
        if mentions is not None:
            return DocumentResult(text, notices=code_notices(text, path, LineIndex.of(text), mentions))
    return None


def stored_result(count: int, text: str, warnings_: list[MatdiffError], notices: list[MatdiffError],
                  errors_: list[MatdiffError] = ()) -> str:  # type: ignore[assignment]
    """A result as a cache entry (its messages without the path, which may differ); a note with
    errors keeps its own text and its located errors."""
    import json

    def plain(items: list[MatdiffError]) -> list[list[Any]]:
        return [[type(e).__name__, e.message, e.line, e.col, e.source_line] for e in items]

    return json.dumps({"directives": count, "text": text, "warnings": plain(warnings_),
                       "notices": plain(notices), "errors": plain(list(errors_))}, ensure_ascii=False)


def restored_result(stored: str, text: str, path: str | None) -> DocumentResult | None:
    """A cache entry made by :func:`stored_result` as the result for the note at ``path``; None when
    it does not read."""
    import json

    from . import errors

    try:
        data = json.loads(stored)

        def placed(items: list[list[Any]]) -> list[MatdiffError]:
            return [getattr(errors, kind)(message).located(path=path, line=line, col=col, source_line=source)
                    for kind, message, line, col, source in items]

        new_text = data["text"]
        failed = placed(data.get("errors", []))
        if failed:
            return DocumentResult(text, failed, int(data["directives"]), warnings=placed(data["warnings"]),
                                  notices=placed(data["notices"]))
        return DocumentResult(new_text, [], int(data["directives"]), new_text != text,
                              placed(data["warnings"]), placed(data["notices"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
