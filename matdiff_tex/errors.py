"""User-facing errors.

Every failure a user can cause is a :class:`MatdiffError`.  An error raised while
reading F or X knows which of the two (``field``) and the character span inside
it (``span``); the document layer later attaches the file, line and column with
:meth:`MatdiffError.located`, and :meth:`MatdiffError.format` prints it as

    path:line:col: error: message
        <source line>
        ^
"""

from __future__ import annotations

import copy
from typing import Literal

Field = Literal["F", "X", "R"]  # R: the claimed result of an \answer directive


#: The longest source line quoted whole under an error; a longer one is cut around the column.
MAX_QUOTED = 160


def _excerpt(source: str, col: int) -> tuple[str, int]:
    """``source`` (cut to :data:`MAX_QUOTED` characters around ``col`` when longer) and the column in it."""
    if len(source) <= MAX_QUOTED:
        return source, col
    start = max(0, min(col - 1 - MAX_QUOTED // 2, len(source) - MAX_QUOTED))
    end = start + MAX_QUOTED
    head, tail = ("..." if start > 0 else ""), ("..." if end < len(source) else "")
    return head + source[start:end] + tail, col - start + len(head)


class MatdiffError(Exception):
    """An error the user can fix: bad input, unsupported notation, wrong shapes."""

    kind = "error"
    #: How many errors this one stands for (the "... and N more" line of a capped file stands for N).
    counts = 1

    def __init__(
        self,
        message: str,
        *,
        field: Field | None = None,
        span: tuple[int, int] | None = None,
        path: str | None = None,
        line: int | None = None,
        col: int | None = None,
        source_line: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.span = span
        self.path = path
        self.line = line
        self.col = col
        self.source_line = source_line
        self.option: str | None = None  # the directive option the error is about (where=): located there

    def located(
        self,
        *,
        path: str | None,
        line: int,
        col: int,
        source_line: str | None = None,
    ) -> "MatdiffError":
        """A copy of this error placed at ``path:line:col`` (1-based line and column)."""
        located = copy.copy(self)
        located.path = path
        located.line = line
        located.col = col
        located.source_line = source_line
        return located

    def format(self) -> str:
        """``path:line:col: error: message`` followed by the source line and a caret."""
        where = ":".join(
            str(part) for part in (self.path or "<input>", self.line, self.col) if part is not None
        )
        text = f"{where}: {self.kind}: {self.message}"
        if self.source_line is not None and self.col is not None:
            source, col = _excerpt(self.source_line.rstrip("\r\n"), self.col)
            caret_pad = "".join("\t" if ch == "\t" else " " for ch in source[: col - 1])
            text += f"\n    {source}\n    {caret_pad}^"
        return text

    def __str__(self) -> str:
        if self.line is not None:
            return self.format()
        if self.field is not None and self.span is not None:
            return f"{self.message} (in {self.field} at character {self.span[0] + 1})"
        return self.message


class LatexSyntaxError(MatdiffError):
    """F or X is not well-formed LaTeX, or uses notation matdiff-tex does not read."""


class UnsupportedError(MatdiffError):
    """A well-formed construct that matdiff-tex cannot differentiate or evaluate."""


class ShapeError(MatdiffError):
    """Operands whose sizes do not fit together (or a size that is refused)."""


class DirectiveError(MatdiffError):
    """A malformed ``\\deriv``/``\\hessian``/``\\answer`` directive or one of its options."""


class WrongAnswer(MatdiffError):
    """The result R of an ``\\answer<F><X><R>`` directive is not the derivative (or cannot be checked)."""


class ConfigError(MatdiffError):
    """A bad value in pyproject.toml, matdiff-tex.toml, front matter or on the command line."""


class ReadingWarning(MatdiffError):
    """A legal reading that is probably not what the author meant (``tr(XY)`` without a backslash).

    Printed as ``path:line:col: warning: ...``; ``--strict`` reports it as an error instead."""

    kind = "warning"

    def as_error(self) -> MatdiffError:
        """The same message at the same place, as an error (``--strict``)."""
        error = DirectiveError(self.message, field=self.field, span=self.span)
        return error.located(path=self.path, line=self.line, col=self.col,
                             source_line=self.source_line) if self.line is not None else error


class InternalError(MatdiffError):
    """A bug in matdiff-tex: most importantly, a derivative that failed its check."""

    kind = "internal error"


class Notice(MatdiffError):
    """Not an error: something left alone on purpose that the user should know about,
    such as a directive inside a code block (printed by ``--verbose`` and ``--check``)."""

    kind = "note"


class LimitError(MatdiffError):
    """A directive that would need more memory or time than a build allows it."""
