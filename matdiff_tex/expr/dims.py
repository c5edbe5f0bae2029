"""Sizes of matrices: integers, dimension names and their products.

A :class:`Dim` is ``coeff * name_1 * name_2 * ...`` — enough for everything the
rules produce: the size ``mn`` of ``vec(X)`` for an ``m x n`` matrix, ``pq`` of a
Kronecker product, ``3n`` when a given size meets a symbolic one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?")
_HALF_SQUARE = re.compile(r"(.+)\(\1\+1\)/2")  # the name "n(n+1)/2": the size of vech(X) for an n x n X


def half_square_base(name: str) -> str | None:
    """``n`` for the size name ``n(n+1)/2`` (see :func:`half_square`), else None."""
    match = _HALF_SQUARE.fullmatch(name)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True, order=True)
class Dim:
    """``coeff`` times the product of ``names`` (kept sorted)."""

    coeff: int = 1
    names: tuple[str, ...] = ()

    @staticmethod
    def of(value: "int | str | Dim") -> "Dim":
        """A Dim from an int (``3``), a name (``"n"``) or a Dim."""
        if isinstance(value, Dim):
            return value
        if isinstance(value, int):
            return Dim(value)
        text = str(value).strip()
        if text.isdigit():
            return Dim(int(text))
        if not _NAME.fullmatch(text):
            raise ValueError(f"not a dimension name: {value!r}")
        return Dim(1, (text,))

    def __mul__(self, other: "Dim | int") -> "Dim":
        other = Dim.of(other)
        return Dim(self.coeff * other.coeff, tuple(sorted(self.names + other.names)))

    @property
    def is_one(self) -> bool:
        return self.coeff == 1 and not self.names

    @property
    def is_int(self) -> bool:
        return not self.names

    @property
    def is_atom(self) -> bool:
        """A single name or a plain integer (something shape inference can bind)."""
        return not self.names or (self.coeff == 1 and len(self.names) == 1)

    def value(self, bindings: dict[str, int] | None = None) -> int:
        """The integer size, with ``bindings`` for the names."""
        total = self.coeff
        for name in self.names:
            base = half_square_base(name)
            if base is not None and bindings is not None and base in bindings:  # n(n+1)/2 follows n
                total *= bindings[base] * (bindings[base] + 1) // 2
                continue
            if bindings is None or name not in bindings:
                raise KeyError(base or name)
            total *= bindings[name]
        return total

    def substitute(self, bindings: dict[str, "Dim"]) -> "Dim":
        result = Dim(self.coeff)
        for name in self.names:
            base = half_square_base(name)
            if base is not None and base in bindings and bindings[base].is_atom:
                result = result * half_square(bindings[base])
                continue
            result = result * bindings.get(name, Dim(1, (name,)))
        return result

    def latex(self) -> str:
        """``mn``, ``3n``, ``n^{2}``, ``12``; names longer than one letter are separated by ``\\cdot``."""
        bases = [] if self.coeff == 1 and self.names else [str(self.coeff)]
        counts: dict[str, int] = {}
        for name in self.names:  # sorted: a repeated name is a power (pp -> p^{2})
            counts[name] = counts.get(name, 0) + 1
        bases += list(counts)
        parts = [b if counts.get(b, 1) == 1 else f"{b}^{{{counts[b]}}}" for b in bases]
        if all(len(b) == 1 for b in bases if not b.isdigit()) and sum(b.isdigit() for b in bases) <= 1:
            return "".join(parts)
        return " \\cdot ".join(parts)

    def __str__(self) -> str:
        return self.latex()


ONE = Dim(1)


def half_square(n: Dim) -> Dim:
    """``n(n+1)/2``, the number of entries on and below the diagonal of an n x n matrix (the size of
    vech(X)): a number, or the size name ``n(n+1)/2`` whose value follows n's."""
    if n.is_int:
        return Dim(n.coeff * (n.coeff + 1) // 2)
    if not n.is_atom:
        raise ValueError(f"vech needs a square matrix with a single size name, not {n.latex()} x {n.latex()}")
    return Dim(1, (f"{n.names[0]}({n.names[0]}+1)/2",))
Shape = tuple[Dim, Dim]
SCALAR: Shape = (ONE, ONE)


def shape_text(shape: Shape) -> str:
    """``m x n`` for plain-text error messages."""
    return f"{shape[0]}x{shape[1]}"
