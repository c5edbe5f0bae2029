"""The walker: moves through a document and lets a table of recognisers claim spans.

A table maps a trigger character to recognisers tried in order.  A recogniser
``(walker, offset, ctx) -> int | None`` either claims the text at ``offset``
(recording what it found on the walker and returning the offset after it) or
returns None so the next one is tried; when none claims it the walker moves one
character on.  Protected spans (code blocks, front matter, ...) found beforehand
are stepped over in running text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import MatdiffError
from .model import Directive, MarkerBlock, ScanResult
from .text import paragraph_breaks


@dataclass(slots=True)
class Ctx:
    """Where the walk is: the end of the current region and, inside math, its kind and environments."""

    limit: int
    math: str | None = None  # None in running text, else "inline" or "display"
    envs: list[str] = field(default_factory=list)
    region: tuple[int, int] | None = None  # the whole math region, delimiters included


Recogniser = Callable[["Walker", int, Ctx], "int | None"]
Table = Mapping[str, Sequence[Recogniser]]


class Walker:
    """Walks ``text`` of format ``fmt``; collects directives, marker blocks and problems."""

    def __init__(self, text: str, fmt: str, protected: Sequence[tuple[int, int]] = ()) -> None:
        self.text = text
        self.fmt = fmt
        self.protected = sorted(protected)
        self._starts = [start for start, _ in self.protected]
        self.result = ScanResult()
        self._sinks: list[list[Directive]] = [self.result.directives]
        self._triggers: dict[int, re.Pattern[str]] = {}
        self.memo: dict[object, object] = {}  # recognisers' caches (closers searched, markers seen)
        self._blanks: list[int] | None = None

    # -------------------------------------------------------------- collecting

    def add_directive(self, directive: Directive) -> None:
        """Record a directive (in the innermost collection, see :meth:`collect`)."""
        self._sinks[-1].append(directive)

    def add_marker(self, block: MarkerBlock) -> None:
        """Record a marker block."""
        self.result.markers.append(block)

    def problem(self, offset: int, error: MatdiffError) -> None:
        """Record a problem at ``offset``."""
        self.result.problems.append((offset, error))

    def collect(self, run: Callable[[], None]) -> list[Directive]:
        """Run ``run`` and return the directives it finds instead of recording them."""
        found: list[Directive] = []
        self._sinks.append(found)
        try:
            run()
        finally:
            self._sinks.pop()
        return found

    # -------------------------------------------------------------- protected spans

    def protected_end(self, offset: int) -> int | None:
        """End of the protected span holding ``offset``, if any."""
        k = bisect.bisect_right(self._starts, offset) - 1
        if k >= 0 and offset < self.protected[k][1]:
            return self.protected[k][1]
        return None

    def next_protected(self, offset: int) -> int:
        """Start of the first protected span after ``offset`` (the text's end if none)."""
        k = bisect.bisect_right(self._starts, offset)
        return self._starts[k] if k < len(self._starts) else len(self.text)

    def paragraph_end(self, offset: int) -> int:
        """Offset where the paragraph holding ``offset`` ends (as :func:`.text.paragraph_end`),
        from blank lines found once per document."""
        if self._blanks is None:
            self._blanks = paragraph_breaks(self.text, self.fmt)
        k = bisect.bisect_left(self._blanks, offset)
        return self._blanks[k] if k < len(self._blanks) else len(self.text)

    # -------------------------------------------------------------- walking

    def walk(self, start: int, ctx: Ctx, table: Table) -> None:
        """Walk from ``start`` to ``ctx.limit`` letting ``table`` claim spans."""
        trigger = self._trigger(table)
        text, pos = self.text, start
        in_prose = ctx.math is None
        while pos < ctx.limit:
            found = trigger.search(text, pos, ctx.limit)
            if found is None:
                return
            at = found.start()
            skip = self.protected_end(at) if in_prose else None
            if skip is not None:
                pos = skip
                continue
            for recognise in table[text[at]]:
                after = recognise(self, at, ctx)
                if after is not None:
                    pos = after
                    break
            else:
                pos = at + 1

    def _trigger(self, table: Table) -> re.Pattern[str]:
        """A pattern finding the next trigger character of ``table``."""
        key = id(table)
        if key not in self._triggers:
            self._triggers[key] = re.compile("[" + "".join(re.escape(c) for c in table) + "]")
        return self._triggers[key]
