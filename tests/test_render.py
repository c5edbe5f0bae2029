"""Templates, notes and the expansion unit."""

from __future__ import annotations

import ast
import re
import sys
import types
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matdiff_tex.derivation import Row
from matdiff_tex.errors import ConfigError, InternalError
from matdiff_tex.options import ResolvedOptions
from matdiff_tex.render import (
    _safe,
    environment,
    expand,
    note_keys,
    note_text,
    notes_table,
    render_derivation,
    select_rows,
    templates_root,
)
from matdiff_tex.scan.model import Placement

ROOT = Path(__file__).parent.parent

# The note keys named in the issue; the engine's own keys are added by reading its source.
NOTE_KEYS = {
    "vectorize", "sandwich", "separate_var", "expand_sandwich", "product_rule", "chain_rule",
    "differential", "trace_trick", "cyclic", "transpose_trace", "hadamard_trace", "commutation",
    "hadamard_vec", "identify", "layout_transpose", "simplify", "collect", "gradient", "hessian",
    "elementwise", "scalar_chain", "zero", "linearity",
}


def engine_note_keys() -> set[str]:
    """Note keys written in the engine's source: note="..." keywords, NOTE_PRIORITY, lines.add(e, rule, note)."""
    files = [ROOT / "matdiff_tex" / "engine.py", *sorted((ROOT / "matdiff_tex" / "rules").glob("*.py"))]
    keys: set[str] = set()
    for path in files:
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "note" and isinstance(node.value, ast.Constant):
                keys.add(node.value.value)
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "NOTE_PRIORITY" for t in node.targets):
                keys |= {e.value for e in getattr(node.value, "elts", []) if isinstance(e, ast.Constant)}
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add"
                    and len(node.args) >= 3 and isinstance(node.args[2], ast.Constant)):
                keys.add(node.args[2].value)
    return {key for key in keys if isinstance(key, str)}


class Fake:
    """A derivation with two chains of rows."""

    f_latex, x_latex, layout, order = "f", r"\boldsymbol{X}", "numerator", 1
    lhs_latex = r"\frac{\partial f}{\partial \boldsymbol{X}}"
    result_latex = r"\boldsymbol{G}^{\top}"

    def rows(self) -> list[Row]:
        return [
            Row(r"\mathrm{d} f", "a", "differential", {}, "d"),
            Row(None, "b", "trace_trick", {}, "t"),
            Row(None, "c", "cyclic", {}, "c"),
            Row(self.lhs_latex, "d", "identify", {}, "i"),
            Row(None, self.result_latex, None, {}, "r"),
        ]


def render(placement: Placement, fmt: str = "markdown", **options: object) -> str:
    """Render the fake derivation."""
    return render_derivation(Fake(), ResolvedOptions(**options), placement, fmt)  # type: ignore[arg-type]


# ---------------------------------------------------------------- notes


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("key", sorted(NOTE_KEYS | engine_note_keys()))
def test_every_note_key_has_a_text(key: str, lang: str) -> None:
    args = {"var": r"\boldsymbol{X}", "layout": "numerator", "power": "n", "value": "2"}  # power, value: X^{n}
    text = note_text(key, args, lang=lang)
    assert text.strip() and "<<" not in text and "{{" not in text


def test_engine_keys_are_read_from_its_source() -> None:
    if (ROOT / "matdiff_tex" / "engine.py").exists():
        assert engine_note_keys() >= {"product_rule", "linearity"}


def test_both_languages_have_the_same_keys() -> None:
    assert note_keys("zh") == note_keys("en")


def test_note_arguments_are_filled_in() -> None:
    assert note_text("separate_var", {"var": r"\boldsymbol{X}"}) == r"将变量$\boldsymbol{X}$分离出来"
    assert note_text("zero", {"var": "x"}, lang="en") == "the variable $x$ does not occur in the function"


def test_missing_note_key_is_an_internal_error() -> None:
    with pytest.raises(InternalError, match="no zh text for the note 'no_such_note'"):
        note_text("no_such_note", {})


def test_missing_note_argument_is_an_internal_error() -> None:
    with pytest.raises(InternalError, match="separate_var"):
        note_text("separate_var", {})


# ---------------------------------------------------------------- templates


def test_display_markdown_looks_like_seed_002() -> None:
    lines = render(Placement.DISPLAY).split("\n")
    assert lines[:3] == ["$$", r"\begin{equation}", r"    \begin{aligned}"]
    assert lines[-3:] == [r"    \end{aligned}", r"\end{equation}", "$$"]
    assert lines[3] == r"        \mathrm{d} f &= a \Longrightarrow \text{求微分} \\"
    assert lines[4] == r"        &= b \Longrightarrow \text{标量的迹等于其自身} \\"
    assert lines[-4] == r"        &= \boldsymbol{G}^{\top} \qquad \text{（分子布局）}"


def test_display_latex_is_a_bare_equation_with_label() -> None:
    text = render(Placement.DISPLAY, "latex", label="eq:g", lang="en")
    assert text.startswith("\\begin{equation}\n    \\label{eq:g}\n    \\begin{aligned}\n")
    assert text.endswith("(numerator layout)}\n    \\end{aligned}\n\\end{equation}")


def test_aligned_block_and_lines() -> None:
    block = render(Placement.ALIGNED_BLOCK).split("\n")
    assert block[0] == r"\begin{aligned}" and block[-1] == r"\end{aligned}"
    assert all(line.startswith("    ") for line in block[1:-1])
    lines = render(Placement.ALIGNED_LINES).split("\n")
    assert lines == [line[4:] for line in block[1:-1]]


def test_inline_and_prose() -> None:
    assert render(Placement.INLINE) == r"\frac{\partial f}{\partial \boldsymbol{X} } = \boldsymbol{G}^{\top}"
    assert render(Placement.PROSE, "latex") == "$" + render(Placement.INLINE) + "$"


@pytest.mark.parametrize("steps, rhs", [
    ("full", ["a", "b", "c", "d", r"\boldsymbol{G}^{\top}"]),
    ("brief", ["a", "c", "d", r"\boldsymbol{G}^{\top}"]),
    ("none", [r"\boldsymbol{G}^{\top}"]),
])
def test_steps(steps: str, rhs: list[str]) -> None:
    assert [row.rhs for row in select_rows(Fake(), steps)] == rhs  # type: ignore[arg-type]


def test_steps_none_keeps_the_lhs() -> None:
    assert render(Placement.ALIGNED_LINES, steps="none") == (
        r"\frac{\partial f}{\partial \boldsymbol{X} } &= \boldsymbol{G}^{\top} \qquad \text{（分子布局）}")


def test_delimiters_do_not_clash_with_latex(tmp_path: Path) -> None:
    env = environment(None)
    template = env.from_string(r"\frac{{a}}{b} {# x #} {% y %} << v >> <% if v %>on<% endif %> <# gone #>")
    assert template.render(v="X") == r"\frac{{a}}{b} {# x #} {% y %} X on "


def test_user_folder_overrides_one_template_and_one_note(tmp_path: Path) -> None:
    (tmp_path / "markdown").mkdir()
    (tmp_path / "markdown" / "display.j2").write_text("MINE << result >>", encoding="utf-8")
    (tmp_path / "notes.toml").write_text('[notes.zh]\ncyclic = "我的注释"\n', encoding="utf-8")
    folder = str(tmp_path)
    assert render(Placement.DISPLAY, templates_dir=folder) == r"MINE \boldsymbol{G}^{\top}"
    assert render(Placement.DISPLAY, "latex", templates_dir=folder).startswith(r"\begin{equation}")
    assert r"\text{我的注释}" in render(Placement.ALIGNED_LINES, templates_dir=folder)
    assert r"\text{求微分}" in render(Placement.ALIGNED_LINES, templates_dir=folder)
    assert notes_table(None)["notes"]["zh"]["cyclic"] == "迹的循环性质"


def test_common_template_override_applies_to_both_formats(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "inline.j2").write_text("<< lhs >> := << result >>", encoding="utf-8")
    for fmt in ("markdown", "latex"):
        assert ":=" in render(Placement.PROSE, fmt, templates_dir=str(tmp_path))


def test_missing_templates_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        render(Placement.DISPLAY, templates_dir=str(tmp_path / "nope"))


def test_broken_user_template_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "inline.j2").write_text("<< no_such_variable >>", encoding="utf-8")
    with pytest.raises(ConfigError, match="inline"):
        render(Placement.INLINE, templates_dir=str(tmp_path))


def test_templates_are_found_in_the_repository() -> None:
    root = templates_root()
    assert (root / "notes.toml").is_file()
    for name in ("markdown/display.j2", "latex/display.j2", "common/aligned_block.j2",
                 "common/aligned_lines.j2", "common/inline.j2", "common/prose.j2"):
        assert (root / name).is_file(), name


# ---------------------------------------------------------------- never {{ }} {# {%


@given(st.text(alphabet="{}#%ab\\ ", max_size=30))
def test_safe_breaks_every_nunjucks_pair(text: str) -> None:
    safe = _safe(text)
    assert not re.search(r"\{\{|\}\}|\{#|\{%", safe)
    assert safe.replace(" ", "") == text.replace(" ", "")


def test_rendered_output_has_no_nunjucks_pairs() -> None:
    class Nested(Fake):
        result_latex = r"{{\boldsymbol{A}}^{\top}}"

    text = render_derivation(Nested(), ResolvedOptions(), Placement.DISPLAY, "markdown")  # type: ignore[arg-type]
    assert r"{ {\boldsymbol{A} }^{\top} }" in text
    assert not re.search(r"\{\{|\}\}|\{#|\{%", text)


# ---------------------------------------------------------------- expand() wiring


def test_expand_calls_the_engine_with_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def derive(f: str, x: str, *, layout: str, shapes: object, order: int, symmetric: object,
               functions: object, where: object, vech: bool, method: str) -> Fake:
        calls.append((f, x, layout, shapes, order, symmetric, vech, method))
        return Fake()

    monkeypatch.setitem(sys.modules, "matdiff_tex.engine", types.SimpleNamespace(derive=derive))
    options = ResolvedOptions(layout="denominator", shapes=(("A", (3, 4)),), lang="en", symmetric=("S",),
                              method="series")
    text = expand("hessian", "f", "X", options, Placement.INLINE, "markdown")
    assert calls == [("f", "X", "denominator", {"A": (3, 4)}, 2, ("S",), False, "series")]
    assert text == render(Placement.INLINE)
    assert hash(("hessian", "f", "X", options, Placement.INLINE, "markdown"))  # a cache key


def test_markdown_label_is_an_anchor_because_katex_has_no_label() -> None:
    text = render(Placement.DISPLAY, label="eq:g")
    assert text.startswith('<a id="eq:g"></a>\n$$\n\\begin{equation}\n    \\begin{aligned}\n')
    assert "\\label" not in text


def test_long_sums_wrap_at_top_level_terms():
    """A sum too wide for the page is continued on `&\\quad + ...` lines; the note stays last."""
    from matdiff_tex.render import visual_width, wrap_terms

    terms = [r"\boldsymbol{A}\boldsymbol{B}\boldsymbol{C}\boldsymbol{D}"] + [
        rf"+ \boldsymbol{{A}}_{{{i}}} \otimes \boldsymbol{{B}}_{{{i}}}" for i in range(12)
    ]
    lines = wrap_terms(terms, lead=10, note="collect like terms", width=40)
    assert len(lines) > 1
    if lines[-1] == "":  # the note did not fit after the last terms: it has a line of its own
        lines = lines[:-1]
    assert " ".join(lines) == " ".join(terms)
    assert all(line.startswith("+") for line in lines[1:])
    assert all(10 + visual_width(line) <= 40 for line in lines[:-1])


def test_short_sums_stay_on_one_line():
    from matdiff_tex.render import wrap_terms

    assert wrap_terms([r"\boldsymbol{A}", r"+ \boldsymbol{B}"], lead=5, note="simplify") == (
        r"\boldsymbol{A} + \boldsymbol{B}",
    )


def test_wrapped_rows_render_as_quad_lines():
    from matdiff_tex import render_text

    text = render_text(r"\deriv[lang=en]<\boldsymbol{X}^{4}><\boldsymbol{X}>" + "\n", fmt="markdown")
    continued = [line for line in text.splitlines() if line.strip().startswith(r"&\quad")]
    assert continued, text
    assert all(line.startswith(("        &\\quad + ", "        &\\quad  \\Longrightarrow")) for line in continued)
    assert any(line.startswith("        &\\quad + ") for line in continued)


def test_a_derivation_written_in_several_forms_is_derived_once(monkeypatch) -> None:
    """Directives that differ only in how the derivation is written out (steps, lang, placement)
    share one checked derivation per process; each is written exactly as it is on its own."""
    from matdiff_tex import engine, render_text
    from matdiff_tex import render as render_module

    directive = "\\deriv[{}]<\\boldsymbol{{A}}\\boldsymbol{{X}}\\boldsymbol{{B}}><\\boldsymbol{{X}}>"
    forms = [directive.format(o) for o in ("steps=full", "steps=none", "steps=brief, lang=en")]
    notes = [f"{forms[0]}\n", f"Inline {forms[1]} here.\n", f"$$\n{forms[2]}\n$$\n"]
    render_module.derived.cache_clear()
    alone = []
    for note in notes:
        render_module.derived.cache_clear()
        alone.append(render_text(note, "markdown"))
    calls: list[str] = []
    original = engine.derive

    def counting(f, x, **kwargs):
        calls.append(kwargs["layout"])
        return original(f, x, **kwargs)

    monkeypatch.setattr(engine, "derive", counting)
    render_module.derived.cache_clear()
    together = render_text("\n".join(notes), "markdown")
    assert together == "\n".join(alone)
    assert calls == ["numerator"]
    render_text(directive.format("layout=denominator") + "\n", "markdown")  # another derivative: derived
    assert calls == ["numerator", "denominator"]
