"""What the scanners find: directives, marker blocks, and where each one stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..errors import MatdiffError
from ..options import OptionItem


class Placement(str, Enum):
    """Where a directive stands, which decides what it becomes (SPEC section 2)."""

    DISPLAY = "display"  # alone on its line in running text: a whole display block
    PROSE = "prose"  # in running text with other words on the line: the inline result in $...$
    ALIGNED_BLOCK = "aligned_block"  # inside display math: an aligned block, no outer wrapper
    ALIGNED_LINES = "aligned_lines"  # inside aligned/align/split: only the lines
    INLINE = "inline"  # inside inline math: \frac{\partial F}{\partial X} = R


class MarkerStyle(str, Enum):
    """How ``--in-place`` keeps a directive's source next to its expansion."""

    HTML = "html"  # <!-- matdiff-tex: SRC --> body <!-- /matdiff-tex HASH -->
    PERCENT = "percent"  # % matdiff-tex: SRC \n body \n % /matdiff-tex HASH
    PERCENT_INLINE = "percent_inline"  # % matdiff-tex inline HASH: SRC \n {body}


@dataclass(frozen=True, slots=True)
class Directive:
    """One ``\\deriv[options]<F><X>``, ``\\hessian[...]<f><X>`` or ``\\answer[...]<F><X><R>``;
    offsets into the file."""

    kind: str
    start: int
    end: int
    f: str
    f_start: int
    x: str
    x_start: int
    options: tuple[OptionItem, ...]
    options_start: int
    placement: Placement
    math_region: tuple[int, int] | None = None  # the inline math ($...$) holding it, if any
    math_start: int | None = None  # where the math region holding it (of any kind) begins
    answer: str | None = None  # \answer: the claimed result R
    answer_start: int | None = None


@dataclass(frozen=True, slots=True)
class MarkerBlock:
    """An expansion written by an earlier ``--in-place`` run, with the source it keeps.

    ``source_start``/``source_end`` locate the kept directive (or inline math region)
    inside the opening marker; ``directives`` were read from there.  ``body_*`` is the
    expansion between the markers, ``stored_hash`` the hash the closing marker holds.
    """

    style: MarkerStyle
    start: int
    end: int
    source_start: int
    source_end: int
    body_start: int
    body_end: int
    stored_hash: str
    directives: tuple[Directive, ...]
    placement: Placement
    region: bool = False  # the source is an inline math region rather than one directive
    opener_id: str | None = None  # the hash the opening marker holds (None: written before ids)


@dataclass(slots=True)
class ScanResult:
    """Everything a scan found, in file order, and the problems, each with its offset."""

    directives: list[Directive] = field(default_factory=list)
    markers: list[MarkerBlock] = field(default_factory=list)
    problems: list[tuple[int, MatdiffError]] = field(default_factory=list)
    front_matter: dict[str, object] = field(default_factory=dict)
    #: every math region met: (inner start, inner end, region start, region end, "inline"|"display")
    math: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # directives left alone inside code
    in_container: set[int] = field(default_factory=set)  # ... of those, in an MkDocs container body
