"""Reading one directive: ``\\deriv[options]<F><X>``, ``\\hessian[options]<f><X>`` and
``\\answer[options]<F><X><R>`` (R: a result someone claims, graded by the build).

A directive is the control word ``\\deriv``, ``\\hessian`` or ``\\answer`` followed *immediately*
by ``[`` or ``<``.  Anything else (``\\deriv{f}{x}`` of the LaTeX ``derivative``
package, ``\\derivative``, a bare ``\\deriv``) is not a directive and is left alone.
Inside ``<...>`` braces nest and ``\\x`` escapes are skipped, so ``\\left|X\\right|``,
``\\|x\\|`` and ``\\langle`` are fine; the first ``>`` outside braces ends the group.
"""

from __future__ import annotations

import re
from ..errors import DirectiveError
from ..options import OptionItem, parse_items
from .model import Directive, Placement

DIRECTIVE_START = re.compile(r"\\(deriv|hessian|answer)(?![A-Za-z])(?=[\[<])")
#: What each directive holds, in order, as the error messages name it.
GROUPS = {"deriv": ("F", "X"), "hessian": ("f", "X"), "answer": ("F", "X", "R")}


class Problem(Exception):
    """A malformed directive: the message and the offset it points at."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def _close(text: str, pos: int, limit: int, closer: str) -> int:
    """Offset of the ``closer`` ending the group opened before ``pos``.

    -1: not found; -2: a ``}`` without ``{``; -3: another ``<`` opened first.
    """
    depth = 0
    i = pos
    while i < limit:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return -2
            depth -= 1
        elif ch == closer and depth == 0:
            return i
        elif ch == "<" and closer == ">" and depth == 0:
            return -3
        i += 1
    return -1


def _skip_blanks(text: str, pos: int, limit: int) -> int:
    """Skip spaces and tabs."""
    while pos < limit and text[pos] in " \t":
        pos += 1
    return pos


def _group(text: str, pos: int, limit: int, what: str, name: str) -> tuple[str, int, int]:
    """Read ``<...>`` at ``pos``: its content, the content's offset and the offset after it."""
    if pos >= limit or text[pos] != "<":
        usage = "".join(f"<{group}>" for group in GROUPS[name])
        raise Problem(pos, f"expected <{what}> after \\{name}: write \\{name}{usage}")
    end = _close(text, pos + 1, limit, ">")
    if end == -2:
        raise Problem(pos, f"unbalanced braces in <{what}> of \\{name}: a '}}' has no '{{'")
    if end == -3:
        raise Problem(pos, f"unclosed '<' of {what} in \\{name}: found another '<' before its '>'")
    if end < 0:
        raise Problem(pos, f"unclosed '<' of {what} in \\{name}: expected '>' before the end of the "
                      "paragraph or math region (braces inside must balance)")
    content = text[pos + 1 : end]
    if not content.strip():
        raise Problem(pos, f"empty <{what}> in \\{name}")
    return content, pos + 1, end + 1


def read_directive(text: str, pos: int, limit: int, placement: Placement) -> Directive | None:
    """The directive starting at ``pos`` (None if there is none); raises :class:`Problem`."""
    head = DIRECTIVE_START.match(text, pos, limit)
    if head is None:
        return None
    name = head.group(1)
    i = head.end()
    items: tuple[OptionItem, ...] = ()
    options_start = i
    if text[i] == "[":
        close = _close(text, i + 1, limit, "]")
        if close < 0:
            raise Problem(i, f"unclosed '[' of the options of \\{name}: expected ']'")
        found, problems = parse_items(text[i + 1 : close])
        if problems:
            offset, message = problems[0]
            raise Problem(i + 1 + offset, message)
        items = tuple(
            OptionItem(it.key, it.value, i + 1 + it.key_offset, i + 1 + it.value_offset) for it in found
        )
        options_start = i + 1
        i = _skip_blanks(text, close + 1, limit)
    what = GROUPS[name]
    f, f_start, i = _group(text, i, limit, what[0], name)
    x, x_start, end = _group(text, _skip_blanks(text, i, limit), limit, what[1], name)
    answer, answer_start = None, None
    if name == "answer":
        answer, answer_start, end = _group(text, _skip_blanks(text, end, limit), limit, what[2], name)
    return Directive(name, pos, end, f, f_start, x, x_start, items, options_start, placement,
                     answer=answer, answer_start=answer_start)


def error_of(problem: Problem) -> DirectiveError:
    """The user-facing error for a malformed directive."""
    return DirectiveError(problem.message)
