"""The batch server behind the Hexo bridge: ``python -m matdiff_tex.integrations.batch``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from matdiff_tex.integrations.batch import handle, serve

ABX = "\\deriv<\\boldsymbol{ABX}><\\boldsymbol{X}>"
BROKEN = "\\deriv<\\boldsymbol{AX><\\boldsymbol{X}>"
FRONT = "---\ntitle: t\nmatdiff:\n  lang: en\n---\n"


def test_one_process_answers_every_request_in_order_and_survives_bad_ones(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    requests = [
        json.dumps({"id": "a", "path": "a.md", "text": f"x\n\n{ABX}\n"}),
        "this is not json",
        json.dumps({"id": 7, "path": "b.md", "text": f"One.\n\n{BROKEN}\n", "line_offset": 4}),
        json.dumps([1, 2]),
        json.dumps({"id": 8, "options": {}}),
        "",
        json.dumps({"id": 9, "path": "c.md", "text": f"{ABX}\n", "options": {"lang": "en"}}),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "matdiff_tex.integrations.batch"],
        input="\n".join(requests) + "\n", capture_output=True, text=True, timeout=300,
        env={**os.environ, "MATDIFF_TEX_BATCH_PIDFILE": str(pidfile)}, check=False)
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert [reply["id"] for reply in replies] == ["a", None, 7, None, 8, 9]

    first = replies[0]
    assert first["errors"] == [] and first["directives"] == 1
    assert first["text"].startswith("x\n\n$$\n") and "向量化分子分母" in first["text"]
    assert "\\deriv" not in first["text"]

    assert "bad request: not a JSON line" in replies[1]["errors"][0]
    broken = replies[2]
    assert broken["text"] is None and len(broken["errors"]) == 1
    assert broken["errors"][0].startswith("b.md:7:7: error: unclosed '<' of F")  # line 3 + offset 4
    assert broken["errors"][0].endswith(f"\n    {BROKEN}\n          ^")
    assert "expected a JSON object" in replies[3]["errors"][0]
    assert replies[4]["errors"] == ["<batch request>: error: bad request: 'text' must be a string"]
    assert "vectorize numerator and denominator" in replies[5]["text"]

    assert len(pidfile.read_text(encoding="utf-8").split()) == 1  # one process served them all


def test_front_matter_gives_defaults_and_counts_in_lines_but_is_not_returned() -> None:
    reply = handle({"id": 1, "path": "p.md", "front_matter": FRONT, "text": f"Body.\n\n{ABX}\n",
                    "options": {"lang": "zh"}})
    assert reply["errors"] == []
    assert reply["text"].startswith("Body.\n\n$$\n")  # the front matter is not sent back
    assert "vectorize numerator and denominator" in reply["text"]  # front matter beats the site option

    broken = handle({"id": 2, "path": "p.md", "front_matter": FRONT, "text": f"Body.\n\n{BROKEN}\n"})
    assert broken["text"] is None
    assert broken["errors"][0].startswith("p.md:8:7: error:")  # 5 front matter lines + line 3


def test_errors_in_the_front_matter_are_placed_in_it() -> None:
    reply = handle({"id": 1, "path": "p.md", "front_matter": "---\nmatdiff:\n  layout: sideways\n---\n",
                    "text": f"{ABX}\n"})
    assert len(reply["errors"]) == 1 and reply["errors"][0].startswith("p.md:3:")
    assert "sideways" in reply["errors"][0]


def test_bad_fields_and_bad_site_options_are_error_replies() -> None:
    assert "'line_offset' must be" in handle({"id": 1, "text": "", "line_offset": -1})["errors"][0]
    assert "'fmt' must be" in handle({"id": 1, "text": "", "fmt": "rst"})["errors"][0]
    assert "'options' must be" in handle({"id": 1, "text": "", "options": [1]})["errors"][0]
    reply = handle({"id": 3, "path": "q.md", "text": ABX, "options": {"layout": "bogus"}})
    assert reply["errors"] == ["q.md: error: layout=bogus is not allowed: layout is one of numerator|denominator"]


def test_a_text_without_directives_comes_back_unchanged() -> None:
    text = "# Title\r\n\r\nNothing to do: $x^2$.\r\n"
    assert handle({"id": 1, "text": text}) == {"id": 1, "text": text, "errors": [], "directives": 0}


def test_a_bug_is_an_internal_error_reply_not_a_dead_server(monkeypatch) -> None:
    import matdiff_tex.document as document

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(document, "process_document", explode)
    out = io.BytesIO()
    serve(io.BytesIO(b'{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n'), out)
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [reply["id"] for reply in replies] == [1, 2]
    assert all("internal error: unexpected RuntimeError: boom" in reply["errors"][0] for reply in replies)
