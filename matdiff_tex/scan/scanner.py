"""The scanner proper: a note's directives, marker blocks, options and problems (see the package)."""

from __future__ import annotations

from ..errors import ConfigError
from .frontmatter import latex_header, markdown_front_matter
from .directive import DIRECTIVE_START
from .markdown import code_blocks, hexo_raw, merge
from .model import Directive, MarkerBlock, MarkerStyle, Placement, ScanResult
from .recognisers import LATEX, MARKDOWN
from .walk import Ctx, Walker


def scan_markdown(text: str, *, markdown: str = "commonmark") -> ScanResult:
    """Scan a Markdown document; ``markdown="mkdocs"`` (or the front matter's ``markdown:``)
    reads admonitions, details and tabs as MkDocs does."""
    front = markdown_front_matter(text)
    markdown = str(front.values.get("markdown", markdown))
    blank = merge(([(0, front.end)] if front.end else []) + hexo_raw(text))
    code = code_blocks(text, blank, containers=markdown == "mkdocs")
    walker = Walker(text, "markdown", merge(blank + code))
    walker.walk(0, Ctx(limit=len(text)), MARKDOWN)
    result = _finish(walker, front.values, front.problems)
    in_code = {match.start() for start, end in code for match in DIRECTIVE_START.finditer(text, start, end)}
    result.skipped = sorted(set(result.skipped) | in_code)
    if in_code and markdown != "mkdocs":
        opened = code_blocks(text, blank, containers=True)
        result.in_container = {offset for offset in in_code
                               if not any(start <= offset < end for start, end in opened)}
    return result


def scan_latex(text: str) -> ScanResult:
    """Scan a LaTeX document."""
    header = latex_header(text)
    walker = Walker(text, "latex")
    walker.walk(0, Ctx(limit=len(text)), LATEX)
    return _finish(walker, header.values, header.problems)


def scan(text: str, fmt: str, *, markdown: str = "commonmark") -> ScanResult:
    """Scan ``text`` as ``"markdown"`` (read as ``markdown``: commonmark or mkdocs) or ``"latex"``."""
    if fmt == "markdown":
        return scan_markdown(text, markdown=markdown)
    if fmt == "latex":
        return scan_latex(text)
    raise ValueError(f"unknown format {fmt!r}: use 'markdown' or 'latex'")


def _finish(walker: Walker, values: dict[str, object], problems: list[tuple[int, str]]) -> ScanResult:
    """Attach the document options and their problems to the walker's findings."""
    result = walker.result
    result.front_matter = values
    result.problems = sorted(
        [(offset, ConfigError(f"in the document's matdiff options: {message}")) for offset, message in problems]
        + result.problems,
        key=lambda item: item[0],
    )
    return result
