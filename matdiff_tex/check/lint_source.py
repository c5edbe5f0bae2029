"""What ``matdiff-tex lint`` reads from a note: equations, and the facts the prose states.

The math of a note is found by the same scanner as ``render`` (so code, front matter, comments
and everything else ``render`` protects is never read).  Each math region is cut into rows at
``\\\\``, each row into *pieces* at top-level relations (``=``, ``\\in``, ``\\ne``, ...), and
rows into sub-rows at top-level commas.  A row that starts with ``=`` (``&= ...``) continues the
chain of the row before.  Annotations are cut off: ``\\Longrightarrow \\text{...}`` (what
``render`` writes), ``\\quad ...``, a parenthesis of CJK words.

Plain-text pages (``.txt``, e.g. a web page saved with its TeX annotations after the rendered
formula) are read as Markdown, and a line with no math delimiters is read from its first
``\\frac`` or ``\\nabla`` to its end.

Besides equations the prose gives:

- declarations ``x \\in \\mathbb{R}^n`` (x is a vector), ``A \\in \\mathbb{R}^{m \\times n}``;
- assumptions: ``$X$ is symmetric`` / ``positive definite`` / ``$\\mathbf X$是正定矩阵`` / 对称;
- claims in words: ``Hessian矩阵为$R$``, ``the Hessian is $R$``, ``梯度为$R$``, ``the gradient is $R$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..scan import scan

#: Environments that only lay rows out: their \begin/\end are dropped, their rows read.
LAYOUT_ENVS = re.compile(
    r"\\(?:begin|end)\{(?:equation|align|alignat|aligned|alignedat|gather|gathered|split|multline|flalign|"
    r"eqnarray|displaymath|math)\*?\}(?:\{\d+\})?"
)
_DROP = re.compile(
    r"\\label\{[^{}]*\}|\\tag\*?\{[^{}]*\}|\\notag\b|\\nonumber\b|\\displaystyle\b|\\textstyle\b"
    r"|\\(?:left|right)\.|\\[,;:! ]|~"
)
_RELATION = re.compile(
    r"\\overset\s*\{(?:[^{}]|\{[^{}]*\})*\}\s*\{\s*=\s*\}|\\stackrel\s*\{(?:[^{}]|\{[^{}]*\})*\}\s*\{\s*=\s*\}"
    r"|:=|=:|\\coloneqq|\\eqqcolon|\\triangleq|\\equiv|\\neq?(?![A-Za-z])|\\approx|\\simeq|\\cong"
    r"|\\leq?(?![A-Za-z])|\\geq?(?![A-Za-z])|\\leqslant|\\geqslant|\\notin|\\in(?![A-Za-z])|\\sim(?![A-Za-z])"
    r"|\\propto|\\to(?![A-Za-z])|\\rightarrow|\\mapsto|\\subset(?:eq)?|<|>|="
)
_CUT = re.compile(r"\\(?:Longrightarrow|Rightarrow|implies|quad|qquad|iff|text|mbox|textrm|hbox)(?![A-Za-z])|\(|（|,|，")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_OPERATOR_WORDS = {"vec", "tr", "Tr", "diag", "det", "d", "T", "rank", "exp", "log", "expm"}


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of LaTeX between relations; ``start`` is its offset in the note."""

    text: str
    start: int


@dataclass(slots=True)
class Chain:
    """``head = member = member ...`` (rows ``&= ...`` included), with the author's row numbers."""

    head: Piece
    members: list[tuple[Piece, int]]
    head_row: int
    display: bool
    region: tuple[int, int]
    prose: str | None = None  # "hessian"/"gradient": a claim made in words before inline math
    end: int = 0  # where its last row ends in the note (annotations included)
    layout: str | None = None  # the layout its own text names, if it names one


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact stated by the note at ``offset``: a declaration, an assumption or a definition."""

    kind: str  # "vector" | "matrix" | "scalar" | "symmetric" | "block_layout" | "identity_derivative"
    name: str
    offset: int


@dataclass(slots=True)
class Page:
    chains: list[Chain] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    front_matter: dict[str, object] = field(default_factory=dict)
    problems: list[tuple[int, Exception]] = field(default_factory=list)


# ---------------------------------------------------------------- reading a page


def read_page(text: str, fmt: str) -> Page:
    """Every equation chain and stated fact of a note (``fmt``: markdown, latex or text)."""
    scanned = scan(text, "latex" if fmt == "latex" else "markdown")
    page = Page(front_matter=dict(scanned.front_matter), problems=list(scanned.problems))
    regions = _outermost([(a, b, c, d, kind) for a, b, c, d, kind in scanned.math])
    for inner_start, inner_end, start, end, kind in regions:
        before = text[max(0, text.rfind("\n", 0, start) + 1) : start]
        prose = _prose_claim(before) if kind == "inline" else None
        page.chains += _chains(text, inner_start, inner_end, kind == "display", (start, end), prose)
    if fmt == "text":
        page.chains += _bare_lines(text, [(c, d) for _, _, c, d, _ in regions])
    page.chains.sort(key=lambda chain: chain.head.start)
    _stated_layouts(text, page.chains)
    page.facts = sorted(_declarations(text) + _assumptions(text, regions) + _block_definitions(page.chains)
                        + _derivative_names(text, page.chains), key=lambda f: f.offset)
    return page


def symbol_name(token: str) -> str | None:
    """The name of a lone symbol (``\\mathbf X``, ``\\boldsymbol{x}``, ``f``, ``\\lambda``), else None."""
    m = re.fullmatch(
        r"\s*(?:\\(?:mathbf|boldsymbol|bm|mathit|vec|mathrm)\s*(?:\{\s*([A-Za-z])\s*\}|\s*([A-Za-z]))|([A-Za-z]))\s*",
        token,
    )
    if m is None:
        return None
    return next(g for g in m.groups() if g)


def _outermost(regions: list[tuple[int, int, int, int, str]]) -> list[tuple[int, int, int, int, str]]:
    regions = sorted(regions, key=lambda r: (r[2], -r[3]))
    out: list[tuple[int, int, int, int, str]] = []
    for region in regions:
        if out and region[2] < out[-1][3]:
            continue
        out.append(region)
    return out


_LAYOUT_WORDS = (("numerator", r"numerator layout|分子布局"),
                 ("denominator", r"denominator layout|分母布局"))


def _stated_layouts(text: str, chains: list[Chain]) -> None:
    """The layout a chain's own words name (``render`` names the one it used), else None.

    A chain followed in the same block by the same left-hand side restated in a named layout
    is the other layout's (``render`` writes the numerator rows, then their transpose).
    """
    for chain in chains:
        # inline: the paragraph up to the claim ("in numerator layout, $...$"); display: its own rows
        start = max(text.rfind("\n\n", 0, chain.region[0]), 0) if not chain.display else chain.head.start
        near = text[start : max(chain.end, chain.head.start)]
        said = [(m.start(), layout) for layout, pattern in _LAYOUT_WORDS for m in re.finditer(pattern, near, re.I)]
        chain.layout = max(said)[1] if said else None  # the last one named: "(分母布局)" ends render's note
    for before, after in zip(chains, chains[1:]):
        if (before.region == after.region and before.layout is None and after.layout is not None
                and re.sub(r"\s+", "", before.head.text) == re.sub(r"\s+", "", after.head.text)
                and before.members and after.members and before.members[-1][0].text != after.members[0][0].text):
            before.layout = "numerator" if after.layout == "denominator" else "denominator"
    for i, chain in enumerate(chains):  # a Hessian's "first the gradient" row: the layout its block names last
        if chain.layout is None and chain.display:
            chain.layout = next((c.layout for c in chains[i + 1:] if c.region == chain.region and c.layout), None)


def _prose_claim(before: str) -> str | None:
    tail = before[-40:]
    if re.search(r"(?:Hessian|海森|黑塞)\s*(?:矩阵|matrix)?\s*(?:为|是|is|equals)\s*[:：]?\s*$", tail, re.I):
        return "hessian"
    if re.search(r"(?:梯度|gradient)\s*(?:为|是|is|equals)\s*[:：]?\s*$", tail, re.I):
        return "gradient"
    return None


# ---------------------------------------------------------------- rows and pieces


def _mask(text: str) -> str:
    """``text`` with comments, layout environments, labels and spacing replaced by blanks."""
    chars = list(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if chars[k] != "\n":
                chars[k] = " "

    for m in re.finditer(r"(?<!\\)%[^\n]*", text):
        blank(m.start(), m.end())
    for pattern in (LAYOUT_ENVS, _DROP):
        for m in pattern.finditer(text):
            blank(m.start(), m.end())
    return "".join(chars)


def _depths(text: str) -> list[int]:
    """Nesting depth before each character: braces, parentheses, brackets and inner environments."""
    depth, out, i = 0, [0] * (len(text) + 1), 0
    while i < len(text):
        out[i] = depth
        ch = text[i]
        if ch == "\\":
            m = re.match(r"\\(begin|end)\{[^{}]*\}|\\[A-Za-z]+|\\.", text[i:])
            step = m.end() if m else 1
            if m and m.group(1) == "begin":
                depth += 1
            elif m and m.group(1) == "end":
                depth -= 1
            for k in range(i, min(i + step, len(text))):
                out[k] = depth if m and m.group(1) == "begin" else out[i]
            i += step
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        i += 1
    out[len(text)] = depth
    return out


def _split(text: str, depth: list[int], pattern: re.Pattern[str], offset: int = 0) -> list[tuple[int, int, str]]:
    """Top-level matches of ``pattern`` in ``text`` (start, end, match) — escapes are respected."""
    found = []
    for m in pattern.finditer(text):
        if depth[m.start()] == 0 and not _escaped(text, m.start()):
            found.append((m.start() + offset, m.end() + offset, m.group(0)))
    return found


def _escaped(text: str, pos: int) -> bool:
    k, slashes = pos - 1, 0
    while k >= 0 and text[k] == "\\":
        slashes += 1
        k -= 1
    return slashes % 2 == 1


def _chains(doc: str, start: int, end: int, display: bool, region: tuple[int, int], prose: str | None) -> list[Chain]:
    body = _mask(doc[start:end])
    depth = _depths(body)
    rows: list[tuple[int, int]] = []
    last = 0
    for a, b, _ in _split(body, depth, re.compile(r"\\\\(?:\[[^\]]*\])?")):
        rows.append((last, a))
        last = b
    rows.append((last, len(body)))
    rows, body = _join_wrapped(rows, body)
    depth = _depths(body)
    chains: list[Chain] = []
    current: Chain | None = None
    for number, (a, b) in enumerate(rows, start=1):
        row = body[a:b].replace("&", " ")
        row_depth = depth[a : b + 1]
        for sub_index, (sa, sb) in enumerate(_subrows(row, row_depth)):
            pieces = _pieces(row[sa:sb], row_depth[sa : sb + 1], start + a + sa)
            if not pieces:
                current = None
                continue
            first, relations = pieces[0], [rel for _, rel in pieces[1:]]
            continues = sub_index == 0 and first[0].text == "" and relations[:1] == ["="]
            if continues and current is not None:
                current.end = start + b
                for piece, rel in pieces[1:]:
                    if rel != "=":
                        current = None
                        break
                    current.members.append((piece, number))
                continue
            if first[0].text == "":
                current = None
                continue
            current = Chain(first[0], [], number, display, region, prose, start + b)
            chains.append(current)
            for piece, rel in pieces[1:]:
                if rel != "=":
                    break
                current.members.append((piece, number))
            if len(pieces) > 1 and any(rel != "=" for _, rel in pieces[1:]):
                current = None
    return chains


_WRAPPED = re.compile(
    r"\s*&?\s*(?:\\q?quad\s*|\\hspace\{[^{}]*\}\s*)*(?=[-+]|\\(?:cdot|otimes|odot|times)(?![A-Za-z]))"
    r"|\s*&\s*(?:\\q?quad(?![A-Za-z])\s*)+(?!\s*=)"  # "&\quad x^T": a long product wrapped
)


def _join_wrapped(rows: list[tuple[int, int]], body: str) -> tuple[list[tuple[int, int]], str]:
    """A row that starts with an operator (``&\\quad + ...``) goes on the row before it."""
    chars = list(body)
    joined: list[tuple[int, int]] = []
    for a, b in rows:
        m = _WRAPPED.match(body, a, b)
        if joined and m is not None:
            prev_a, prev_b = joined[-1]
            for k in range(prev_b, m.end()):
                if chars[k] != "\n":
                    chars[k] = " "
            joined[-1] = (prev_a, b)
        else:
            joined.append((a, b))
    return joined, "".join(chars)


def _subrows(row: str, depth: list[int]) -> list[tuple[int, int]]:
    """A row cut at top-level commas; annotations (``\\Longrightarrow ...``) end the row."""
    out, last = [], 0
    for a, b, token in _split(row, depth, _CUT):
        if token in (",", "，"):
            out.append((last, a))
            last = b
            continue
        if token in ("(", "（"):
            group_end = _group_end(row, a)
            if not _CJK.search(row[a:group_end]):
                continue
        elif token in ("\\text", "\\mbox", "\\textrm", "\\hbox"):
            m = re.match(r"\\[A-Za-z]+\s*\{([^{}]*)\}", row[a:])
            if m and m.group(1).strip() in _OPERATOR_WORDS:
                continue
        out.append((last, a))
        return out
    out.append((last, len(row)))
    return out


def _group_end(text: str, start: int) -> int:
    depth = 0
    for k in range(start, len(text)):
        if text[k] in "(（":
            depth += 1
        elif text[k] in ")）":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)


def _pieces(row: str, depth: list[int], offset: int) -> list[tuple[Piece, str]]:
    """The row cut at top-level relations: [(piece, relation before it)], '' for the first."""
    out: list[tuple[Piece, str]] = []
    last, relation = 0, ""
    for a, b, token in _split(row, depth, _RELATION):
        out.append((_piece(row, last, a, offset), relation))
        relation = "=" if token == "=" else token
        last = b
    out.append((_piece(row, last, len(row), offset), relation))
    if len(out) == 1 and not out[0][0].text:
        return []
    return out


def _piece(row: str, a: int, b: int, offset: int) -> Piece:
    raw = row[a:b]
    lead = len(raw) - len(raw.lstrip())
    text = raw.strip().rstrip(".。;；:：").strip()
    return Piece(re.sub(r"\s+", " ", text), offset + a + lead)


def _bare_lines(text: str, regions: list[tuple[int, int]]) -> list[Chain]:
    """Plain text: a line without math delimiters is read from its first ``\\frac``/``\\nabla``."""
    chains: list[Chain] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        line_start, pos = pos, pos + len(line)
        if "$" in line or any(a <= line_start < b for a, b in regions):
            continue
        m = re.search(r"\\frac\b|\\dfrac\b|\\nabla\b", line)
        if m is None:
            continue
        a = line_start + m.start()
        b = line_start + len(line.rstrip("\r\n"))
        chains += _chains(text, a, b, True, (a, b), None)
    return chains


# ---------------------------------------------------------------- facts in prose

_SYM = r"(?:\\(?:mathbf|boldsymbol|bm)\s*\{?\s*([A-Za-z])\s*\}?|([A-Za-z]))"
_DECLARATION = re.compile(
    _SYM + r"\s*\\in\s*\\mathbb\s*\{?\s*R\s*\}?(\s*\^\s*(\{[^{}]*\}|\w))?"
)
_ASSUMPTION_AFTER = re.compile(
    r"\$\s*" + _SYM + r"\s*\$\s*(?:is\s+(?:a\s+)?|为|是)?\s*(?:(?:real\s+)?symmetric|(?:semi-?)?positive[- ](?:semi-?)?definite|SPD|对称|(?:半)?正定)",
    re.I,
)
_ASSUMPTION_BEFORE = re.compile(
    r"(?:symmetric|positive[- ]definite|对称|正定)\s*(?:matrix|matrices|矩阵)?\s*\$\s*" + _SYM + r"\s*\$", re.I
)


def _declarations(text: str) -> list[Fact]:
    facts = []
    for m in _DECLARATION.finditer(text):
        name = m.group(1) or m.group(2)
        power = (m.group(4) or "").strip("{} ")
        if not m.group(3):
            kind = "scalar"
        elif re.search(r"\\times|×|,", power):
            kind = "matrix"
        else:
            kind = "vector"
        facts.append(Fact(kind, name, m.start()))
    return facts


def _assumptions(text: str, regions: list[tuple[int, int, int, int, str]]) -> list[Fact]:
    facts = []
    for pattern in (_ASSUMPTION_AFTER, _ASSUMPTION_BEFORE):
        for m in pattern.finditer(text):
            facts.append(Fact("symmetric", m.group(1) or m.group(2), m.start()))
    return facts


# ---------------------------------------------------------------- a page's own conventions

_FRACTION = re.compile(r"\\frac\s*\{\s*\\partial\s*([^{}]*(?:\{[^{}]*\}[^{}]*)*?)\s*\}\s*\{\s*\\partial\s*([^{}]*(?:\{[^{}]*\}[^{}]*)*?)\s*\}")
#: "define this matrix as E" (seed 003: 定义这个矩阵为$E \in \mathbb{R}^{m^2 \times n^2}$) right after a display.
_NAMES_IT = re.compile(
    r"(?:定义这个矩阵为|记这个矩阵为|define this matrix as|call this matrix|denote this matrix by)[^\n$]*?\$?\s*"
    r"(?<![A-Za-z\\])([A-Z])\s*(?=\\in(?![A-Za-z])|\$|。|，|,|\.|;|\s|$)", re.I)


def _block_definitions(chains: list[Chain]) -> list[Fact]:
    """Where a page defines ∂Y/∂X of matrices as the block matrix [∂Y_kl/∂X] (seed 003's layout):
    ``\\frac{\\partial Y}{\\partial X} = [\\frac{\\partial Y_{11}}{\\partial X} ...]``."""
    facts = []
    for chain in chains:
        head = _FRACTION.fullmatch(chain.head.text.strip())
        if head is None or not chain.members or "matrix" not in chain.members[0][0].text:
            continue
        y, x = symbol_name(head.group(1)), symbol_name(head.group(2))
        first = _FRACTION.search(chain.members[0][0].text)
        if y is None or x is None or y == x or first is None or symbol_name(first.group(2)) != x:
            continue
        entry = re.fullmatch(r"\s*(.+?)\s*_\s*\{?\s*11\s*\}?\s*", first.group(1))
        if entry is not None and symbol_name(entry.group(1)) == y:
            facts.append(Fact("block_layout", f"{y}/{x}", chain.head.start))
    return facts


def _derivative_names(text: str, chains: list[Chain]) -> list[Fact]:
    """A name given to the derivative of a matrix by itself, ∂X/∂X, in the display just before."""
    facts = []
    for m in _NAMES_IT.finditer(text):
        before = [c for c in chains if c.display and c.head.start < m.start()]
        if not before or "\n\n" in text[before[-1].end or before[-1].head.start:m.start()].replace("\r", ""):
            continue
        head = _FRACTION.fullmatch(before[-1].head.text.strip())
        if head is not None and symbol_name(head.group(1)) is not None and \
                symbol_name(head.group(1)) == symbol_name(head.group(2)):
            facts.append(Fact("identity_derivative", m.group(1), m.start(1)))
    return facts
