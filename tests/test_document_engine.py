"""End to end with the real engine: documents in tests/fixtures/documents/engine/.

``python tests/test_document_engine.py --regen`` rewrites the expected files; read
them as a blogger would (they must look like seed 002's 求导方法 block) before
committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from matdiff_tex.document import process_document

FIXTURES = Path(__file__).parent / "fixtures" / "documents" / "engine"


def fmt_of(path: Path) -> str:
    """Format from the file's extension."""
    return "latex" if path.suffix == ".tex" else "markdown"


def expected(path: Path) -> Path:
    """``name.in.ext`` -> ``name.out.ext``, or ``name.ext.err`` for a document that fails."""
    name, ext = path.name.split(".in.")
    out = FIXTURES / f"{name}.out.{ext}"
    return out if out.exists() else FIXTURES / f"{name}.{ext}.err"


def read(path: Path) -> str:
    """Exact text."""
    return path.read_bytes().decode("utf-8")


def render(path: Path, **kwargs: object) -> tuple[str, str]:
    """The output text and the formatted errors of one fixture."""
    result = process_document(read(path), fmt_of(path), path=path.name, **kwargs)  # type: ignore[arg-type]
    return result.text, "".join(error.format() + "\n" for error in result.errors)


INPUTS = sorted(FIXTURES.glob("*.in.*"))


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_engine_fixture(path: Path) -> None:
    text, errors = render(path)
    want = expected(path)
    if want.suffix == ".err":
        assert errors == read(want) and text == read(path)
    else:
        assert errors == "" and text == read(want)


def test_fixtures_cover_both_formats_and_errors() -> None:
    kinds = {(fmt_of(p), expected(p).suffix == ".err") for p in INPUTS}
    assert {("markdown", False), ("latex", False), ("markdown", True)} <= kinds


@pytest.mark.parametrize("path", [p for p in INPUTS if expected(p).suffix != ".err"], ids=lambda p: p.name)
def test_engine_in_place_cycle(path: Path) -> None:
    once = process_document(read(path), fmt_of(path), markers=True)
    assert once.errors == [] and once.changed
    twice = process_document(once.text, fmt_of(path), markers=True)
    assert twice.errors == [] and not twice.changed
    plain = process_document(once.text, fmt_of(path))
    assert plain.errors == [] and "matdiff-tex" not in plain.text


def test_seed_002_block() -> None:
    text, _ = render(FIXTURES / "post.in.md")
    assert (
        "$$\n\\begin{equation}\n    \\begin{aligned}\n"
        "        \\frac{\\partial \\boldsymbol{ABX} }{\\partial \\boldsymbol{X} } &= "
        "\\frac{\\partial \\text{vec}(\\boldsymbol{ABX})}{\\partial \\text{vec}(\\boldsymbol{X})} "
        "\\Longrightarrow \\text{向量化分子分母} \\\\\n"
    ) in text
    assert "\\Longrightarrow \\text{变换成夹层饼样式} \\\\\n" in text
    assert "\\text{将变量$\\boldsymbol{X}$分离出来}" in text


if __name__ == "__main__" and "--regen" in sys.argv:
    for source in INPUTS:
        out_text, out_errors = render(source)
        name, ext = source.name.split(".in.")
        target = FIXTURES / (f"{name}.{ext}.err" if out_errors else f"{name}.out.{ext}")
        target.write_bytes((out_errors or out_text).encode("utf-8"))
