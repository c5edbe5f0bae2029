"""Grading ``\\answer<F><X><R>``: is R the derivative of F by X, in the page's layout?

The same check ``matdiff-tex lint`` makes of a hand-written claim
``\\frac{\\partial F}{\\partial X} = R``: R and the complex-step derivative of F are computed at
two random points where every dimension has its own size, so a transposed result, the other
layout or swapped Kronecker factors cannot pass.  A wrong R raises :class:`WrongAnswer` saying
what is wrong when lint can tell, with matdiff-tex's own (derived and checked) result; an R that
cannot be checked (unreadable, a size that has to be guessed, inconclusive numbers) is an error
too: a ✓ is only ever given to a result that was checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import WrongAnswer
from .lint import Skip, _Checker, _Numbers
from .lint_claims import Derivative


def grade_answer(f: str, x: str, r: str, *, correct: str, layout: str = "numerator",
                 shapes: Mapping[str, Any] | None = None, symmetric: Iterable[str] = (),
                 assumptions: bool = False) -> None:
    """Return when ``r`` is ∂f/∂x in ``layout``; raise :class:`WrongAnswer` naming ``correct``
    (matdiff-tex's own result) when R is wrong or cannot be checked.  ``assumptions``: the
    directive states ``functions=``/``where=``, which the numeric check cannot honour."""
    def refused(why: str) -> WrongAnswer:
        return WrongAnswer(f"this answer cannot be checked ({why}), so it is not marked right; matdiff-tex's "
                           f"result is {correct}", field="R", span=(0, len(r)))

    if assumptions:
        raise refused("functions= and where= are not honoured by the numeric check of an answer")
    try:
        numbers = _Numbers(f, x, shapes or {}, set(symmetric))
        if numbers.x.name in numbers.symmetric:
            raise Skip("the derivative by a symmetric matrix follows a convention an answer is not graded by")
        checker = _Checker(numbers, layout, Derivative(f, x), f, x, layout)
        checker._correct_cache = correct  # the message names the result derived with every option
        verdict, why = checker.member(r)
    except Skip as skip:
        raise refused(str(skip)) from None
    if verdict is True:
        return
    if verdict is not False or why is None:  # a repeat of an earlier row cannot happen for one row
        raise refused("the numbers are inconclusive")
    message = re.sub(r"^wrong[:;]?\s*", "", why.split("\x00")[0])  # lint's "wrong; ..." reads "wrong answer: ..."
    if correct not in message:
        message += f"; the right result is {correct}"
    raise WrongAnswer(f"wrong answer: {message}", field="R", span=(0, len(r)))
