"""Document fixtures (input -> expected output) and the document layer's promises.

The expander is injected: :func:`fake_expander` renders a fake derivation through
the real templates, so these tests check scanning, options, templates and splicing
without the engine.  ``python tests/test_document.py --regen`` rewrites the expected
files after a deliberate change; read the diff before committing it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from matdiff_tex import render_text
from matdiff_tex.derivation import Row
from matdiff_tex.document import DocumentResult, process_document
from matdiff_tex.errors import DirectiveError, LatexSyntaxError, MatdiffError
from matdiff_tex.options import ResolvedOptions
from matdiff_tex.render import render_derivation
from matdiff_tex.scan.model import Placement

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
ROOT = Path(__file__).parent.parent


@dataclass(frozen=True)
class FakeDerivation:
    """Looks like an engine Derivation; its rows are recognisable, not correct math."""

    f_latex: str
    x_latex: str
    layout: str
    order: int

    @property
    def lhs_latex(self) -> str:
        if self.order == 2:
            return rf"\frac{{\partial^2 {self.f_latex}}}{{\partial {self.x_latex} \partial {self.x_latex}^{{\top}}}}"
        return rf"\frac{{\partial {self.f_latex}}}{{\partial {self.x_latex}}}"

    @property
    def result_latex(self) -> str:
        mark = "" if self.layout == "numerator" else r"^{\top}"
        return rf"\mathcal{{D}}({self.f_latex}){mark}"

    def rows(self) -> list[Row]:
        f, x = self.f_latex, self.x_latex
        chain = [
            Row(self.lhs_latex, rf"\frac{{\partial \text{{vec}}({f})}}{{\partial \text{{vec}}({x})}}",
                "vectorize", {}, "vectorize"),
            Row(None, rf"\mathcal{{S}}({f})", "sandwich", {}, "sandwich"),
            Row(None, rf"\mathcal{{S}}({f}) \text{{vec}}({x})", "separate_var", {"var": x}, "separate"),
            Row(None, self.result_latex, None, {}, "result"),
        ]
        if self.order == 2:
            return [Row(r"\mathrm{d} f", rf"\mathrm{{d}} ({f})", "differential", {}, "d"),
                    Row(None, r"\operatorname{tr}(\cdots)", "trace_trick", {}, "tr"), *chain]
        return chain


def fake_expander(kind: str, f: str, x: str, options: ResolvedOptions, placement: Placement, fmt: str) -> str:
    """Render a fake derivation; ``BAD`` in F or X is a located syntax error."""
    for field, text in (("F", f), ("X", x)):
        if "BAD" in text:
            at = text.index("BAD")
            raise LatexSyntaxError("unknown command BAD", field=field, span=(at, at + 3))
    derivation = FakeDerivation(f, x, options.layout, 2 if kind == "hessian" else 1)
    return render_derivation(derivation, options, placement, fmt, kind)  # type: ignore[arg-type]


def read(path: Path) -> str:
    """A fixture's exact text (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def run(text: str, fmt: str, **kwargs: object) -> DocumentResult:
    """Process with the fake expander."""
    return process_document(text, fmt, expander=fake_expander, **kwargs)  # type: ignore[arg-type]


def fmt_of(path: Path) -> str:
    """Format from the fixture's extension."""
    return "latex" if path.suffix == ".tex" else "markdown"


def inputs(kind: str) -> list[Path]:
    """Fixture inputs that have an expected file of ``kind`` (out, inplace, err)."""
    found = []
    for path in sorted(FIXTURES.glob("*.in.*")):
        name, ext = path.name.split(".in.")
        if expected_path(path, kind).exists():
            found.append(path)
    return found


def expected_path(path: Path, kind: str) -> Path:
    """The expected-output file of a fixture input."""
    name, ext = path.name.split(".in.")
    return FIXTURES / (f"{name}.{ext}.err" if kind == "err" else f"{name}.{kind}.{ext}")


def formatted_errors(result: DocumentResult) -> str:
    """All errors as the CLI prints them."""
    return "\n".join(error.format() for error in result.errors) + "\n"


# ---------------------------------------------------------------- fixtures


@pytest.mark.parametrize("path", inputs("out"), ids=lambda p: p.name)
def test_fixture_output(path: Path) -> None:
    result = run(read(path), fmt_of(path), path=path.name)
    assert [e.format() for e in result.errors] == []
    assert result.text == read(expected_path(path, "out"))
    assert result.changed == (result.text != read(path))


@pytest.mark.parametrize("path", inputs("inplace"), ids=lambda p: p.name)
def test_fixture_in_place(path: Path) -> None:
    result = run(read(path), fmt_of(path), markers=True)
    assert result.errors == []
    assert result.text == read(expected_path(path, "inplace"))


@pytest.mark.parametrize("path", inputs("err"), ids=lambda p: p.name)
def test_fixture_errors(path: Path) -> None:
    text = read(path)
    result = run(text, fmt_of(path), path=f"notes/{path.name}")
    assert result.errors
    assert result.text == text and not result.changed
    assert formatted_errors(result) == read(expected_path(path, "err"))


def test_every_fixture_kind_is_present() -> None:
    assert len(inputs("out")) >= 8 and len(inputs("inplace")) >= 2 and len(inputs("err")) >= 2


@pytest.mark.parametrize("path", inputs("out") + inputs("inplace"), ids=lambda p: p.name)
def test_expected_outputs_never_hold_nunjucks_delimiters(path: Path) -> None:
    for kind in ("out", "inplace"):
        expected = expected_path(path, kind)
        if expected.exists():
            for pair in ("{{", "}}", "{#", "{%"):
                text = read(expected)
                allowed = read(path).count(pair)  # what the author wrote (e.g. Hexo raw tags) stays
                assert text.count(pair) == allowed, (expected.name, pair)


# ---------------------------------------------------------------- byte preservation


def test_crlf_and_bom_are_kept() -> None:
    text = read(FIXTURES / "crlf.in.md")
    out = run(text, "markdown").text
    assert out.startswith("\ufeff")
    assert re.search(r"(?<!\r)\n", out) is None, "a bare LF was written into a CRLF file"
    assert "尾部空格   \r\n" in out and "求导：\t\r\n" in out


def test_text_without_directives_is_returned_as_is() -> None:
    text = "# 标题\r\n\t`code` $x$ trailing  \n"
    result = run(text, "markdown")
    assert result.text is text and result.directives == 0 and not result.changed


def test_nunjucks_pairs_are_broken_at_the_splice() -> None:
    def braces(*args: object) -> str:
        return "{x}"

    text = "$${\\deriv<A><X>}$$\n"
    out = process_document(text, "markdown", expander=braces).text
    assert out == "$${ {x} }$$\n"


# ---------------------------------------------------------------- in-place cycle


@pytest.mark.parametrize("name", ["inplace.in.md", "inplace.in.tex"])
def test_second_in_place_run_changes_nothing(name: str) -> None:
    path = FIXTURES / name
    once = run(read(path), fmt_of(path), markers=True).text
    twice = run(once, fmt_of(path), markers=True)
    assert twice.errors == [] and not twice.changed and twice.text == once
    assert twice.directives == run(read(path), fmt_of(path)).directives


@pytest.mark.parametrize("name", ["inplace.in.md", "inplace.in.tex"])
def test_edited_directive_is_expanded_again(name: str) -> None:
    path = FIXTURES / name
    fmt = fmt_of(path)
    once = run(read(path), fmt, markers=True).text
    edited_source = read(path).replace("\\deriv<", "\\deriv[lang=en]<", 1)
    edited = re.sub(r"(matdiff-tex [0-9a-f]{8}: \\deriv)<", r"\1[lang=en]<", once, count=1)
    result = run(edited, fmt, markers=True)
    assert result.errors == [] and result.changed
    assert result.text == run(edited_source, fmt, markers=True).text
    assert "vectorize numerator and denominator" in result.text


@pytest.mark.parametrize("name", ["inplace.in.md", "inplace.in.tex"])
def test_hand_edited_expansion_is_an_error_unless_forced(name: str) -> None:
    path = FIXTURES / name
    fmt = fmt_of(path)
    once = run(read(path), fmt, markers=True).text
    tampered = once.replace("变换成夹层饼样式", "我改的", 1)
    result = run(tampered, fmt, markers=True, path="p")
    assert not result.changed and result.text == tampered
    assert len(result.errors) == 1 and "edited by hand" in result.errors[0].message
    assert result.errors[0].source_line is not None and "matdiff-tex" in result.errors[0].source_line
    forced = run(tampered, fmt, markers=True, force=True)
    assert forced.errors == [] and forced.text == once


def test_emptied_expansion_is_written_again() -> None:
    once = run(read(FIXTURES / "inplace.in.md"), "markdown", markers=True).text
    emptied = re.sub(r"(<!-- matdiff-tex [0-9a-f]{8}: [^\n]*-->).*?(<!-- /matdiff-tex)", r"\1\2", once, count=1, flags=re.S)
    assert emptied != once
    result = run(emptied, "markdown", markers=True)
    assert result.errors == [] and result.text == once


def test_reindenting_and_line_ends_are_not_hand_edits() -> None:
    once = run(read(FIXTURES / "inplace.in.md"), "markdown", markers=True).text
    reindented = once.replace("        &= ", "      &= ").replace("\n", "\r\n")
    assert reindented != once
    assert run(reindented, "markdown", markers=True).errors == []


@pytest.mark.parametrize("name", ["inplace.in.md", "inplace.in.tex"])
def test_white_space_edited_inside_a_line_is_a_hand_edit(name: str) -> None:
    """A space added inside an expansion's line is an edit like any other, never silently reverted."""
    path = FIXTURES / name
    once = run(read(path), fmt_of(path), markers=True).text
    spaced = once.replace("&= ", "&=  ", 1)
    assert spaced != once
    result = run(spaced, fmt_of(path), markers=True)
    assert len(result.errors) == 1 and "edited by hand" in result.errors[0].message
    assert result.text == spaced


@pytest.mark.parametrize("name", ["inplace.in.md", "inplace.in.tex"])
def test_a_missing_closing_marker_is_an_error(name: str) -> None:
    path = FIXTURES / name
    once = run(read(path), fmt_of(path), markers=True).text
    broken = re.sub(r"(<!-- |% )/matdiff-tex [0-9a-f]{8}( -->)?", "", once, count=1)
    result = run(broken, fmt_of(path), markers=True)
    assert any("no closing" in error.message for error in result.errors)


@pytest.mark.parametrize("name", ["inplace.in.md", "inplace.in.tex"])
def test_plain_run_on_a_marked_file_writes_plain_expansions(name: str) -> None:
    path = FIXTURES / name
    once = run(read(path), fmt_of(path), markers=True).text
    plain = run(once, fmt_of(path))
    assert plain.errors == []
    assert "matdiff-tex" not in plain.text
    assert plain.text.count("\\begin{aligned}") == run(read(path), fmt_of(path)).text.count("\\begin{aligned}")


def test_crlf_in_place_cycle() -> None:
    text = read(FIXTURES / "crlf.in.md")
    once = run(text, "markdown", markers=True).text
    assert re.search(r"(?<!\r)\n", once) is None
    assert run(once, "markdown", markers=True).text == once


# ---------------------------------------------------------------- errors


def test_errors_are_all_reported_with_positions() -> None:
    text = "---\nt: 1\n---\n\\deriv[x=1]<A><X>\n\n\\deriv<A><\\boldsymbol{BAD}>\n"
    result = run(text, "markdown", path="a.md")
    assert [(e.line, e.col) for e in result.errors] == [(4, 8), (6, 23)]
    assert result.errors[1].format() == (
        "a.md:6:23: error: unknown command BAD\n"
        "    \\deriv<A><\\boldsymbol{BAD}>\n"
        "    " + " " * 22 + "^"
    )


def test_engine_crash_is_an_internal_error_at_the_directive() -> None:
    def broken(*args: object) -> str:
        raise ZeroDivisionError("boom")

    result = process_document("x\n\n\\deriv<A><X>\n", "markdown", expander=broken)
    assert result.errors[0].kind == "internal error" and result.errors[0].line == 3


def test_render_text_raises_one_error_holding_all_messages() -> None:
    text = "\\deriv[a=1]<A><X>\n\n\\deriv[b=2]<A><X>\n"
    with pytest.raises(DirectiveError) as caught:
        render_text(text, expander=fake_expander, path="n.md")
    message = str(caught.value)
    assert message.startswith("n.md:1:8: error: unknown option 'a'")
    assert "n.md:3:8: error: unknown option 'b'" in message
    assert len(caught.value.errors) == 2  # type: ignore[attr-defined]


def test_render_text_returns_the_text() -> None:
    out = render_text("\\deriv<A><X>\n", "latex", expander=fake_expander, lang="en")
    assert out.startswith("\\begin{equation}\n    \\begin{aligned}\n")
    assert "(numerator layout)" in out


def test_bad_site_option_is_a_config_error() -> None:
    result = run("\\deriv<A><X>\n", "markdown", options={"layout": "diagonal"}, path="x.md")
    assert result.errors[0].path == "x.md" and "layout=diagonal" in result.errors[0].message
    with pytest.raises(MatdiffError):
        render_text("\\deriv<A><X>\n", layout="diagonal")


def test_site_options_are_the_weakest_layer() -> None:
    text = "---\nmatdiff: {lang: en}\n---\n$\\deriv<A><X>$ $\\deriv[layout=numerator]<B><X>$\n"
    out = run(text, "markdown", options={"layout": "denominator", "lang": "zh", "steps": "none"}).text
    assert r"\mathcal{D}(A)^{\top}" in out and r"\mathcal{D}(B)$" in out


def test_results_are_cached_within_a_run() -> None:
    calls = []

    def counting(*args: object) -> str:
        calls.append(args)
        return "R"

    result = process_document("$\\deriv<A><X>$ $\\deriv<A><X>$\n", "markdown", expander=counting)
    assert result.text == "$R$ $R$\n" and result.directives == 2 and len(calls) == 1


# ---------------------------------------------------------------- start-up


def test_document_without_directives_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from matdiff_tex import render_text\n"
        "from matdiff_tex.document import process_document\n"
        "text = '# t\\n\\n$x$ and `code`\\n\\n```\\nx\\n```\\n'\n"
        "assert process_document(text, 'markdown').text == text\n"
        "assert render_text('% tex\\n', 'latex') == '% tex\\n'\n"
        "heavy = [m for m in ('sympy', 'numpy', 'matdiff_tex.engine', 'jinja2') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def regenerate() -> None:
    """Rewrite every expected file from the current code (review the diff!)."""
    for path in sorted(FIXTURES.glob("*.in.*")):
        name, ext = path.name.split(".in.")
        text, fmt = read(path), fmt_of(path)
        result = run(text, fmt, path=f"notes/{path.name}")
        if result.errors:
            (FIXTURES / f"{name}.{ext}.err").write_bytes(formatted_errors(result).encode("utf-8"))
            continue
        (FIXTURES / f"{name}.out.{ext}").write_bytes(result.text.encode("utf-8"))
        if name.startswith("inplace") or name == "crlf":
            marked = run(text, fmt, markers=True).text
            (FIXTURES / f"{name}.inplace.{ext}").write_bytes(marked.encode("utf-8"))


if __name__ == "__main__" and "--regen" in sys.argv:
    regenerate()
