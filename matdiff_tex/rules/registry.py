"""The rule registry: every identity the engine applies, listed in one ordered table.

A rule is a small function whose docstring's first line is the identity it applies.
Registering it records its family, the note key the templates print beside the line
it produces, and an example (F, X) that the test-suite derives and checks
numerically — so adding a rule touches one place and is tested automatically.
``matdiff-tex rules`` prints this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)


@dataclass(frozen=True, slots=True)
class Rule:
    """One registered identity."""

    name: str
    family: str
    identity: str
    note: str | None
    example: tuple[str, str] | None
    func: Callable


REGISTRY: dict[str, Rule] = {}


def register(
    family: str,
    *,
    name: str | None = None,
    note: str | None = None,
    example: tuple[str, str] | None = None,
) -> Callable[[F], F]:
    """Decorator adding a rule function to :data:`REGISTRY`."""

    def decorate(func: F) -> F:
        key = name or func.__name__
        doc = (func.__doc__ or "").strip().splitlines()
        REGISTRY[key] = Rule(key, family, doc[0] if doc else key, note, example, func)
        return func

    return decorate


def rules(family: str | None = None) -> list[Rule]:
    """Registered rules in registration order, optionally of one family."""
    _load_all()
    chosen = [r for r in REGISTRY.values() if family is None or r.family == family]
    first = {}
    for r in chosen:  # families stay together whatever order the modules were imported in
        first.setdefault(r.family, len(first))
    return sorted(chosen, key=lambda r: first[r.family])


def _load_all() -> None:
    from . import differential, elementwise, linear, powers, scalars, simplify, symmetric  # noqa: F401  (registration side effects)
