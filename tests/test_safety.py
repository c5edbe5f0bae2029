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
from matdiff_tex.fsio import TMP_SUFFIX
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
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(TMP_SUFFIX)] == []


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


# ---------------------------------------------------------------- item 13: the environment fails


def test_an_unwritable_folder_is_one_line_and_the_batch_goes_on(tmp_path: Path, monkeypatch) -> None:
    """Root may write anywhere, so the refusal of the kernel is played by mkstemp (the one call
    that creates a file in the folder)."""
    import matdiff_tex.fsio as fsio

    a, b = note(tmp_path / "locked" / "a.md"), note(tmp_path / "open" / "b.md")
    real_mkstemp = fsio.tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # type: ignore[no-untyped-def]
        if Path(dir).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(fsio.tempfile, "mkstemp", mkstemp)
    result = cli("render", "--in-place", "locked/a.md", "open/b.md", cwd=tmp_path)
    assert result.exit_code == 2
    assert "locked/a.md: error: cannot write: Permission denied" in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert a.read_text(encoding="utf-8") == NOTE and "matdiff-tex" in b.read_text(encoding="utf-8")


def test_a_full_disk_is_one_line_and_the_batch_goes_on(tmp_path: Path) -> None:
    """RLIMIT_FSIZE plays the full disk: a write past it fails with EFBIG, as ENOSPC would."""
    note(tmp_path / "docs" / "big.md")
    note(tmp_path / "docs" / "small.md", "no directive here\n")
    limit = ("import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
             "resource.setrlimit(resource.RLIMIT_FSIZE, (600, 600)); ")
    done = subprocess.run([sys.executable, "-c", limit + "from matdiff_tex.cli import main; main()",
                           "render", "docs", "-o", "out"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "out/big.md: error: cannot write: File too large" in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "out" / "small.md").read_text() == "no directive here\n"
    assert not (tmp_path / "out" / "big.md").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["small.md"]  # no temporary file left


def test_output_under_a_file_and_dev_stdout(tmp_path: Path) -> None:
    note(tmp_path / "a.md")
    note(tmp_path / "b.md")
    done = run_cli("render", "a.md", "-o", "b.md/x.md", cwd=tmp_path)
    assert done.returncode == 2 and "b.md/x.md: error: cannot write: Not a directory" in done.stderr
    piped = subprocess.run(f"{sys.executable} -c 'from matdiff_tex.cli import main; main()' render a.md "
                           "-o /dev/stdout | cat", shell=True, cwd=tmp_path, capture_output=True, text=True,
                           timeout=120, check=False)
    assert piped.stderr == "" and "\\frac" in piped.stdout


def test_a_400_digit_constant_is_a_user_error() -> None:
    for f in ("9" * 400 + r"\boldsymbol{x}^{\top}\boldsymbol{x}", r"99999^{64} 99999^{64} \boldsymbol{x}^{\top}\boldsymbol{x}"):
        result = process_document(f"\\deriv<{f}><\\boldsymbol{{x}}>\n", "markdown")
        assert len(result.errors) == 1 and type(result.errors[0]).__name__ != "InternalError"
        assert "floating point" in result.errors[0].message


# ---------------------------------------------------------------- temporary files after SIGKILL


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(tmp_path: Path) -> None:
    a = note(tmp_path / "a.md")
    hang = ("import os, time; import matdiff_tex.fsio as f; "
            "f.os.fsync = lambda fd: (print('writing', flush=True), time.sleep(60)); "
            "f.write_atomic(f.Path('a.md'), b'half')")
    child = subprocess.Popen([sys.executable, "-c", hang], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "writing\n"
    child.kill()
    child.wait()
    assert [p for p in tmp_path.iterdir() if p.name.endswith(TMP_SUFFIX)]  # SIGKILL left one
    result = cli("render", "--in-place", "a.md", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"] and "matdiff-tex" in a.read_text(encoding="utf-8")


# ---------------------------------------------------------------- item 17: long Hadamard chains


def test_a_long_hadamard_chain_is_derived_at_once_under_a_cpu_limit(tmp_path: Path) -> None:
    """60 and 100 copies of X in one ⊙ chain: one product-rule step (k X^{∘(k-1)} ⊙ dX), derived and
    checked in well under the 20 s of CPU the process may use (the product rule's n terms of n
    factors on 2n lines took minutes); 60 separate copies of X in a sum of products are still
    refused at once."""
    limit = "import resource; resource.setrlimit(resource.RLIMIT_CPU, (20, 20)); "
    for n in (60, 100):
        chain = r" \odot ".join([r"\boldsymbol{X}"] * n)
        done = subprocess.run([sys.executable, "-c", limit + "from matdiff_tex.cli import main; main()",
                               "derive", chain, r"\boldsymbol{X}"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-500:]
        assert f"\\circ {n - 1}" in done.stdout
    products = " + ".join(rf"\boldsymbol{{A}}_{{{i}}}\boldsymbol{{X}}" for i in range(60))
    done = subprocess.run([sys.executable, "-c", limit + "from matdiff_tex.cli import main; main()",
                           "derive", products, r"\boldsymbol{X}"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr[-500:]
    assert "occurs 60 times in F; at most 24 copies" in done.stderr


@pytest.mark.slow
def test_a_chain_at_the_bound_is_still_derived_and_checked() -> None:
    from matdiff_tex import derive

    product = "".join(rf"\boldsymbol{{A}}_{{{i}}}\boldsymbol{{X}}" for i in range(24))
    derivation = derive(rf"\operatorname{{tr}}({product})", r"\boldsymbol{X}")  # the engine checks it
    assert len(derivation.rows()) > 2


# ---------------------------------------------------------------- smaller ones


def test_check_on_a_missing_note_is_a_user_error(tmp_path: Path) -> None:
    result = cli("render", "--check", "missing.md", cwd=tmp_path)
    assert result.exit_code == 2 and "missing.md: error: no such file" in result.output


def test_utf16_without_bom_is_refused_not_called_current(tmp_path: Path) -> None:
    (tmp_path / "u.md").write_bytes(NOTE.encode("utf-16-le"))
    result = cli("render", "--check", "u.md", cwd=tmp_path)
    assert result.exit_code == 2 and "looks like UTF-16" in result.output


def test_a_directive_over_a_setext_underline_stays_in_its_heading() -> None:
    text = "\\deriv<\\boldsymbol{AX}><\\boldsymbol{X}>\n===\n\nprose\n"
    result = process_document(text, "markdown")
    assert result.errors == [] and result.text.startswith("$\\frac{") and "\n===\n" in result.text
    once = process_document(text, "markdown", markers=True)
    assert process_document(once.text, "markdown", markers=True).text == once.text


def test_a_directive_alone_in_a_table_cell_becomes_inline_math() -> None:
    text = "\\begin{tabular}{c}\n\\deriv<\\boldsymbol{AX}><\\boldsymbol{X}>\n\\end{tabular}\n"
    result = process_document(text, "latex")
    assert result.errors == [] and "\\begin{equation}" not in result.text and "\n$\\frac{" in result.text
    once = process_document(text, "latex", markers=True)
    assert process_document(once.text, "latex", markers=True).text == once.text


@pytest.mark.parametrize("group", ["\\text", "\\mbox", "\\textrm"])
def test_a_directive_in_text_mode_inside_math_is_an_error(group: str) -> None:
    text = f"$$a {group}{{see \\deriv<\\boldsymbol{{AX}}><\\boldsymbol{{X}}>}} b$$\n"
    result = process_document(text, "markdown")
    assert len(result.errors) == 1 and "text mode" in result.errors[0].message and result.text == text
