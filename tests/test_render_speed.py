"""Cheap paths of the renderer: step-note texts compiled once per process, shape messages written
only when a shape error happens."""

from __future__ import annotations

from matdiff_tex import render
from matdiff_tex.expr import nodes
from matdiff_tex.render import note_text


def test_note_templates_are_compiled_once(monkeypatch) -> None:
    render._note_template.cache_clear()
    env = render.environment(None)
    compiled = []
    original = type(env).from_string

    def counting(self, source, *args, **kwargs):
        compiled.append(source)
        return original(self, source, *args, **kwargs)

    monkeypatch.setattr(type(env), "from_string", counting)
    args = {"var": r"\\boldsymbol{X}"}
    first = [note_text(key, args, lang=lang) for lang in ("zh", "en") for key in ("product_rule", "chain_rule")]
    again = [note_text(key, args, lang=lang) for lang in ("zh", "en") for key in ("product_rule", "chain_rule")]
    assert first == again and len(compiled) == 4


def test_shape_messages_are_written_only_on_error(monkeypatch) -> None:
    calls = []
    original = nodes.shape_text
    monkeypatch.setattr(nodes, "shape_text", lambda shape: calls.append(shape) or original(shape))
    a = nodes.Sym("A", "matrix", nodes.Dim.of("m"), nodes.Dim.of("n"))
    b = nodes.Sym("B", "matrix", nodes.Dim.of("n"), nodes.Dim.of("p"))
    nodes.Mul((a, b))
    nodes.Add((a, a))
    assert calls == []
    try:
        nodes.Mul((b, a))
    except nodes.ShapeError as exc:
        assert "cannot multiply" in str(exc)
    assert calls
