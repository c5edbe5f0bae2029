"""What matdiff-tex refuses to do to files and to the machine: overwrite its input through a
symbolic link, write outside the -o folder, replace devices and FIFOs, change a note's owner,
lose an edit saved while it runs, run a template's code, put an unescaped label into HTML.

The command line runs in this process (click's runner) or, where the kernel must see a real
process (a FIFO that would block, memory limits), as a subprocess.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from matdiff_tex import render as render_module
from matdiff_tex.cli import main
from matdiff_tex.document import process_document
from matdiff_tex.integrations.batch import handle
from matdiff_tex.render import templates_root

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

NOTE = "# Note\n\n\\deriv<\\boldsymbol{x}^{\\top}\\boldsymbol{x}><\\boldsymbol{x}>\n"


def cli(*args: str, cwd: Path | None = None):  # type: ignore[no-untyped-def]
    old = os.getcwd()
    os.chdir(cwd or old)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def note(path: Path, text: str = NOTE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- item 3: -o reaching the input


def test_output_file_that_is_a_link_to_the_input_is_refused(tmp_path: Path) -> None:
    a = note(tmp_path / "a.md")
    (tmp_path / "link.md").symlink_to("a.md")
    result = cli("render", "a.md", "-o", "link.md", cwd=tmp_path)
    assert result.exit_code == 2 and "would overwrite the input" in result.output
    assert a.read_text(encoding="utf-8") == NOTE


def test_output_folder_that_is_a_link_to_the_input_folder_is_refused(tmp_path: Path) -> None:
    a = note(tmp_path / "docs" / "a.md")
    (tmp_path / "out").symlink_to("docs")
    result = cli("render", "docs/a.md", "-o", "out", cwd=tmp_path)
    assert result.exit_code == 2 and "would overwrite the input" in result.output
    result = cli("render", "docs", "-o", "out", cwd=tmp_path)  # every note is inside the output folder
    assert result.exit_code == 2 and "no .md, .markdown or .tex files found" in result.output
    assert a.read_text(encoding="utf-8") == NOTE


# ---------------------------------------------------------------- item 8: outside -o, devices, FIFOs


def test_a_committed_link_in_the_output_folder_is_not_followed(tmp_path: Path) -> None:
    note(tmp_path / "docs" / "a.md")
    note(tmp_path / "docs" / "b.md")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "a.md").symlink_to(victim)
    result = cli("render", "docs", "-o", "build", cwd=tmp_path)
    assert result.exit_code == 2
    assert "build/a.md: error: not written: it leads out of the output folder" in result.output
    assert victim.read_text() == "precious\n"
    assert "\\frac" in (tmp_path / "build" / "b.md").read_text(encoding="utf-8")  # the rest is written


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_output_onto_a_fifo_or_device_is_refused(tmp_path: Path, kind: str) -> None:
    note(tmp_path / "a.md")
    target = tmp_path / "out.md"
    if kind == "fifo":
        os.mkfifo(target)
    else:  # a null device of our own (never /dev/null itself: a bug would replace it)
        assert os.geteuid() == 0, "making a device node needs root (CI runs as root)"
        os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        target.symlink_to(tmp_path / "null")
    result = cli("render", "a.md", "-o", str(target), cwd=tmp_path)
    assert result.exit_code == 2 and "is not a regular file" in result.output
    kept = target.stat().st_mode
    assert stat.S_ISFIFO(kept) if kind == "fifo" else stat.S_ISCHR(kept)


# ---------------------------------------------------------------- item 4: owner, group, mode, read-only


def test_in_place_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "this test changes a file's owner: run it as root (CI does)"
    a = note(tmp_path / "a.md")
    os.chown(a, 12345, 23456)
    os.chmod(a, 0o640)
    result = cli("render", "--in-place", "a.md", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    info = a.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (12345, 23456, 0o640)
    assert "matdiff-tex" in a.read_text(encoding="utf-8")


def test_in_place_does_not_rewrite_a_read_only_note(tmp_path: Path) -> None:
    a = note(tmp_path / "a.md")
    os.chmod(a, 0o444)
    result = cli("render", "--in-place", "a.md", cwd=tmp_path)
    assert result.exit_code == 2 and "a.md: error: is read-only; not rewritten" in result.output
    assert a.read_text(encoding="utf-8") == NOTE and stat.S_IMODE(a.stat().st_mode) == 0o444


# ---------------------------------------------------------------- item 5: lost update


@pytest.mark.parametrize("meanwhile", ["edited", "deleted"])
def test_a_note_changed_while_rendering_is_not_overwritten(tmp_path: Path, monkeypatch, meanwhile: str) -> None:
    a = note(tmp_path / "a.md")
    real_expand = render_module.expand

    def expand_while_the_author_saves(*args):  # type: ignore[no-untyped-def]
        if meanwhile == "edited":
            a.write_text(NOTE + "\nA sentence saved meanwhile.\n", encoding="utf-8")
        else:
            a.unlink()
        return real_expand(*args)

    monkeypatch.setattr(render_module, "expand", expand_while_the_author_saves)
    result = cli("render", "--in-place", "a.md", cwd=tmp_path)
    assert result.exit_code == 2
    if meanwhile == "edited":
        assert "changed while matdiff-tex was working on it" in result.output
        assert a.read_text(encoding="utf-8").endswith("A sentence saved meanwhile.\n")
    else:
        assert "was deleted while matdiff-tex was working on it" in result.output
        assert not a.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# ---------------------------------------------------------------- item 7: templates run no code


EVIL = "<< cycler.__init__.__globals__.os.system('touch PWNED') >>\n"


def test_a_repository_template_cannot_run_commands_even_under_check(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "tpl" / "markdown").mkdir(parents=True)
    (tmp_path / "tpl" / "markdown" / "display.j2").write_text(EVIL)
    (tmp_path / "matdiff-tex.toml").write_text('templates = "tpl"\n')
    note(tmp_path / "a.md")
    result = cli("render", "--check", "a.md", cwd=tmp_path)
    assert not (tmp_path / "PWNED").exists()
    assert result.exit_code == 2 and "template markdown/display.j2" in result.output
    assert "unsafe" in result.output or "not safely" in result.output


def test_a_note_text_in_notes_toml_cannot_run_commands(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tpl").mkdir()
    keys = tomllib.loads((templates_root() / "notes.toml").read_text(encoding="utf-8"))["notes"]["zh"]
    (tmp_path / "tpl" / "notes.toml").write_text(
        "[notes.zh]\n" + "".join(f'{key} = """{EVIL.strip()}"""\n' for key in keys))
    result = process_document(NOTE, "markdown", options={"templates_dir": str(tmp_path / "tpl")})
    assert not (tmp_path / "PWNED").exists()
    assert len(result.errors) == 1 and "not allowed" in result.errors[0].message


def test_the_batch_server_takes_no_template_folder_from_a_post(tmp_path: Path) -> None:
    reply = handle({"id": 1, "path": "p.md", "text": NOTE, "post_options": {"templates": str(tmp_path)}})
    assert reply["text"] is None and "a post cannot choose templates" in reply["errors"][0]
    fine = handle({"id": 2, "path": "p.md", "text": NOTE, "post_options": {"lang": "en"}})
    assert fine["errors"] == [] and "product rule" in fine["text"]


# ---------------------------------------------------------------- item 9: label in HTML


@pytest.mark.parametrize("label", ['x"><script>alert(1)</script>', "a'b", "a<b", "a&b", "a=b"])
def test_a_label_that_html_would_read_is_refused(label: str) -> None:
    text = f"\\deriv[label={label}]<\\boldsymbol{{AX}}><\\boldsymbol{{X}}>\n"
    result = process_document(text, "markdown")
    assert result.errors and "label=" in result.errors[0].message and result.text == text


def test_a_plain_label_becomes_an_anchor() -> None:
    result = process_document("\\deriv[label=eq:ax-1]<\\boldsymbol{AX}><\\boldsymbol{X}>\n", "markdown")
    assert result.errors == [] and '<a id="eq:ax-1"></a>' in result.text


# ---------------------------------------------------------------- item 17: inputs that never end


def run_cli(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real command as a process, its memory capped at 1 GiB."""
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
    code = limit + "import sys; from matdiff_tex.cli import main; sys.argv[0] = 'matdiff-tex'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_dev_zero_as_a_note_or_config_and_a_fifo_as_config_are_refused_at_once(tmp_path: Path) -> None:
    note(tmp_path / "a.md")
    os.mkfifo(tmp_path / "fifo.toml")
    for args in (["render", "/dev/zero", "-f", "markdown"], ["render", "a.md", "--config", "/dev/zero"],
                 ["render", "a.md", "--config", "fifo.toml"]):
        done = run_cli(*args, cwd=tmp_path, timeout=30)
        assert done.returncode == 2, (args, done.stderr)
        assert "is not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_endless_standard_input_is_cut_off(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
        done = subprocess.run(
            [sys.executable, "-c", limit + "from matdiff_tex.cli import main; main()", "render", "-",
             "-f", "markdown"], stdin=zero, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "larger than 32 MiB" in done.stderr


def test_deeply_nested_json_gets_a_reply_and_the_server_goes_on() -> None:
    requests = "[" * 100000 + "\n" + json.dumps({"id": 2, "text": "plain\n"}) + "\n"
    done = subprocess.run([sys.executable, "-m", "matdiff_tex.integrations.batch"], input=requests,
                          capture_output=True, text=True, timeout=120, check=False)
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in replies] == [None, 2] and "nested too deeply" in replies[0]["errors"][0]
