"""The matdiff-tex command line, end to end on real notes (document layer and engine included)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from matdiff_tex.cli import EXIT_INTERNAL_ERROR, MatdiffGroup

GOOD = r"\deriv<\boldsymbol{ABX}><\boldsymbol{X}>"
BAD = r"\deriv<\frobnicate(\boldsymbol{X})><\boldsymbol{X}>"
SCALAR = r"\deriv<\operatorname{tr}(\boldsymbol{AX})><\boldsymbol{X}>"

MD_GOOD = f"# 求导\n\n求 $\\boldsymbol{{ABX}}$ 的导数：\n\n{GOOD}\n\n完。\n"
MD_PLAIN = "# Nothing to do\n\nJust $x^2$ and text.\n"
TEX_GOOD = f"\\section{{Ex}}\nSolve:\n\n{SCALAR}\n\nDone.\n"


def write(path: Path, text: str | bytes) -> Path:
    """Create ``path`` (and its folders) with this content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def is_expanded(text: str) -> bool:
    """Does this text hold an expansion and no directive?"""
    return "\\frac{\\partial" in text and "\\begin{aligned}" in text and "\\deriv<" not in text


# ---------------------------------------------------------------- help and version


def test_help_shows_commands_example_and_exit_statuses(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for word in ("render", "derive", "rules", "Examples:", "matdiff-tex render --check"):
        assert word in result.stdout
    assert "Exit status:" in result.stdout and "internal error" in result.stdout


def test_render_help_documents_exit_statuses(cli) -> None:
    result = cli("render", "--help")
    assert result.exit_code == 0
    assert "--in-place" in result.stdout and "--check" in result.stdout
    assert "3  internal error" in result.stdout


def test_version(cli) -> None:
    import matdiff_tex

    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"matdiff-tex, version {matdiff_tex.__version__}"


# ---------------------------------------------------------------- render: where output goes


def test_one_file_to_stdout(cli, tmp_path: Path) -> None:
    note = write(tmp_path / "a.md", MD_GOOD)
    result = cli("render", str(note), "--no-config")
    assert result.exit_code == 0, result.stderr
    assert is_expanded(result.stdout)
    assert result.stdout.startswith("# 求导\n\n求 $\\boldsymbol{ABX}$ 的导数：\n\n")
    assert result.stdout.endswith("\n完。\n")
    assert note.read_text(encoding="utf-8") == MD_GOOD


def test_one_file_to_output_file_and_into_existing_folder(cli, tmp_path: Path) -> None:
    note = write(tmp_path / "a.md", MD_GOOD)
    out = tmp_path / "build" / "out.md"
    assert cli("render", str(note), "-o", str(out)).exit_code == 0
    assert is_expanded(out.read_text(encoding="utf-8"))
    folder = tmp_path / "site"
    folder.mkdir()
    assert cli("render", str(note), "-o", str(folder)).exit_code == 0
    assert is_expanded((folder / "a.md").read_text(encoding="utf-8"))
    assert cli("render", str(note), "-o", str(tmp_path / "new") + "/").exit_code == 0
    assert is_expanded((tmp_path / "new" / "a.md").read_text(encoding="utf-8"))
    to_stdout = cli("render", str(note), "-o", "-")
    assert to_stdout.exit_code == 0 and is_expanded(to_stdout.stdout)


def test_several_files_keep_their_relative_structure(cli, tmp_path: Path, monkeypatch) -> None:
    write(tmp_path / "notes" / "a.md", MD_GOOD)
    write(tmp_path / "notes" / "sub" / "b.tex", TEX_GOOD)
    monkeypatch.chdir(tmp_path)
    result = cli("render", "notes/a.md", "notes/sub/b.tex", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert is_expanded((tmp_path / "out" / "a.md").read_text(encoding="utf-8"))
    tex = (tmp_path / "out" / "sub" / "b.tex").read_text(encoding="utf-8")
    assert is_expanded(tex) and "\\begin{equation}" in tex and "$$" not in tex


def test_folder_input_finds_notes_and_skips_others(cli, tmp_path: Path) -> None:
    write(tmp_path / "docs" / "index.md", MD_GOOD)
    write(tmp_path / "docs" / "deep" / "x.markdown", MD_PLAIN)
    write(tmp_path / "docs" / "deep" / "y.tex", TEX_GOOD)
    write(tmp_path / "docs" / "image.png", b"\x89PNG")
    write(tmp_path / "docs" / ".hidden" / "z.md", BAD + "\n")
    result = cli("render", str(tmp_path / "docs"), "-o", str(tmp_path / "site"))
    assert result.exit_code == 0, result.stderr
    found = sorted(p.relative_to(tmp_path / "site").as_posix()
                   for p in (tmp_path / "site").rglob("*") if p.is_file())
    assert found == ["deep/x.markdown", "deep/y.tex", "index.md"]
    assert (tmp_path / "site" / "deep" / "x.markdown").read_text() == MD_PLAIN


def test_output_folder_inside_the_input_folder_is_not_read_back(cli, tmp_path: Path) -> None:
    write(tmp_path / "docs" / "index.md", MD_GOOD)
    for _ in range(2):
        result = cli("render", str(tmp_path / "docs"), "-o", str(tmp_path / "docs" / "_build"))
        assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "docs" / "_build" / "_build").exists()


def test_stdin_to_stdout_needs_a_format(cli) -> None:
    result = cli("render", "-", "--format", "markdown", "--no-config", input=MD_GOOD)
    assert result.exit_code == 0, result.stderr
    assert is_expanded(result.stdout)
    result = cli("render", "-", input=MD_GOOD)
    assert result.exit_code == 2
    assert "--format" in result.stderr


def test_stdin_latex(cli) -> None:
    result = cli("render", "-", "-f", "latex", input=TEX_GOOD)
    assert result.exit_code == 0, result.stderr
    assert "\\begin{equation}" in result.stdout and "\\deriv" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a.md", "b.md"], "several notes need -o"),
        (["a.md", "--in-place", "--check"], "exclude each other"),
        (["a.md", "--in-place", "-o", "x.md"], "exclude each other"),
        (["-", "a.md", "-f", "markdown"], "cannot be mixed"),
        (["-", "--in-place", "-f", "markdown"], "--in-place needs files"),
        (["a.md", "-o", "a.md"], "would overwrite the input"),
    ],
)
def test_usage_errors_exit_2(cli, tmp_path: Path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.md", MD_GOOD)
    write(tmp_path / "b.md", MD_GOOD)
    result = cli("render", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == MD_GOOD


# ---------------------------------------------------------------- in place and check


def test_in_place_cycle_and_check(cli, tmp_path: Path) -> None:
    note = write(tmp_path / "post.md", MD_GOOD)
    note.chmod(0o640)
    check = cli("render", "--check", str(note))
    assert check.exit_code == 1
    assert f"would update {note}" in check.stderr
    assert note.read_text(encoding="utf-8") == MD_GOOD

    first = cli("render", "--in-place", str(note))
    assert first.exit_code == 0, first.stderr
    assert f"updated {note}" in first.stderr
    once = note.read_bytes()
    assert is_expanded(once.decode("utf-8").replace(GOOD, "")) and GOOD in once.decode()
    assert stat.S_IMODE(note.stat().st_mode) == 0o640

    second = cli("render", "--in-place", str(note))
    assert second.exit_code == 0 and "updated" not in second.stderr
    assert note.read_bytes() == once
    assert cli("render", "--check", str(note)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["post.md"]


def test_hand_edited_expansion_is_refused_unless_forced(cli, tmp_path: Path) -> None:
    note = write(tmp_path / "post.md", MD_GOOD)
    assert cli("render", "--in-place", "-q", str(note)).exit_code == 0
    edited = note.read_text(encoding="utf-8").replace("\\otimes", "\\odot", 1)
    note.write_text(edited, encoding="utf-8")
    check = cli("render", "--check", str(note))
    assert check.exit_code == 1 and "edited by hand" in check.stderr
    refused = cli("render", "--in-place", str(note))
    assert refused.exit_code == 2 and note.read_text(encoding="utf-8") == edited
    forced = cli("render", "--in-place", "--force", str(note))
    assert forced.exit_code == 0, forced.stderr
    assert "\\odot" not in note.read_text(encoding="utf-8")
    assert cli("render", "--check", str(note)).exit_code == 0
    assert cli("render", "--force", str(note)).exit_code == 2  # --force needs --in-place


def test_quiet_in_place_prints_nothing(cli, tmp_path: Path) -> None:
    note = write(tmp_path / "post.md", MD_GOOD)
    result = cli("render", "--in-place", "--quiet", str(note))
    assert result.exit_code == 0 and result.stderr == "" and result.stdout == ""
    assert GOOD in note.read_text(encoding="utf-8")


def test_check_against_output_files(cli, tmp_path: Path) -> None:
    write(tmp_path / "docs" / "a.md", MD_GOOD)
    docs, site = str(tmp_path / "docs"), str(tmp_path / "site")
    assert cli("render", "--check", docs, "-o", site).exit_code == 1
    assert not (tmp_path / "site").exists()
    assert cli("render", docs, "-o", site).exit_code == 0
    assert cli("render", "--check", docs, "-o", site).exit_code == 0


def test_check_reports_failing_directives_with_status_1(cli, tmp_path: Path) -> None:
    note = write(tmp_path / "bad.md", f"text\n\n{BAD}\n")
    result = cli("render", "--check", str(note))
    assert result.exit_code == 1
    assert f"{note}:3:" in result.stderr and ": error: " in result.stderr


# ---------------------------------------------------------------- errors


def test_all_errors_are_reported_and_failed_files_are_not_written(cli, tmp_path: Path) -> None:
    good = write(tmp_path / "in" / "good.md", MD_GOOD)
    bad1 = write(tmp_path / "in" / "bad1.md", f"---\ntitle: x\n---\n\n{BAD}\n\nmore\n\n{BAD}\n")
    bad2 = write(tmp_path / "in" / "bad2.tex", f"% comment\n\\[\n  {BAD}\n\\]\n")
    out = tmp_path / "out"
    result = cli("render", str(good), str(bad1), str(bad2), "-o", str(out))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    headers = [line for line in lines if ": error: " in line]
    assert [h.split(":")[0:2] for h in headers] == [
        [str(bad1), "5"], [str(bad1), "9"], [str(bad2), "3"]
    ]
    # each error shows its source line and a caret under it
    index = lines.index(headers[0])
    assert lines[index + 1].strip() == BAD
    assert lines[index + 2].strip() == "^"
    assert "3 errors in 2 files" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["good.md"]


def test_in_place_error_leaves_the_file_byte_for_byte(cli, tmp_path: Path) -> None:
    original = f"ok\r\n\r\n{GOOD}\r\n\r\n{BAD}\r\n".encode("utf-8")
    note = write(tmp_path / "post.md", original)
    result = cli("render", "--in-place", str(note))
    assert result.exit_code == 2
    assert note.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["post.md"]


def test_non_utf8_and_missing_files_are_clear_errors(cli, tmp_path: Path) -> None:
    latin = write(tmp_path / "latin.md", b"caf\xe9\n")
    good = write(tmp_path / "good.md", MD_GOOD)
    result = cli("render", str(latin), str(tmp_path / "missing.md"), str(good),
                 "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert f"{latin}:1:4: error: not valid UTF-8" in result.stderr
    assert f"{tmp_path / 'missing.md'}: error: no such file" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out" / "good.md").exists()


def test_unknown_extension_needs_format(cli, tmp_path: Path) -> None:
    note = write(tmp_path / "note.txt", MD_GOOD)
    result = cli("render", str(note))
    assert result.exit_code == 2
    assert "--format" in result.stderr
    result = cli("render", str(note), "--format", "markdown")
    assert result.exit_code == 0 and is_expanded(result.stdout)


def test_unexpected_exception_is_an_internal_error_with_status_3() -> None:
    @click.group(cls=MatdiffGroup)
    def group() -> None:
        """A group like matdiff-tex's."""

    @group.command()
    def explode() -> None:
        raise ZeroDivisionError("boom")

    result = CliRunner().invoke(group, ["explode"])
    assert result.exit_code == EXIT_INTERNAL_ERROR
    assert "internal error: unexpected ZeroDivisionError: boom" in result.stderr
    assert "please report it" in result.stderr


# ---------------------------------------------------------------- bytes preserved


def test_crlf_bom_tabs_and_cjk_survive_in_place(cli, tmp_path: Path) -> None:
    text = f"\ufeff---\r\ntitle: 测试\r\n---\r\n\r\n\t缩进 \t \r\n\r\n{GOOD}\r\n\r\n尾\r\n"
    note = write(tmp_path / "crlf.md", text)
    assert cli("render", "--in-place", str(note)).exit_code == 0
    data = note.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf---\r\ntitle: \xe6\xb5\x8b\xe8\xaf\x95\r\n---\r\n")
    assert "\t缩进 \t \r\n".encode() in data
    assert data.count(b"\n") == data.count(b"\r\n")
    assert data.count(b"\xef\xbb\xbf") == 1
    out = tmp_path / "out.md"
    assert cli("render", str(note), "-o", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf---\r\n")


def test_note_without_directives_is_copied_exactly(cli, tmp_path: Path) -> None:
    data = "\ufeffa  \r\n\tb\n$x$\r\n".encode("utf-8")
    note = write(tmp_path / "plain.md", data)
    out = tmp_path / "out.md"
    assert cli("render", str(note), "-o", str(out)).exit_code == 0
    assert out.read_bytes() == data


# ---------------------------------------------------------------- configuration


def test_config_file_sets_defaults_and_flags_override(cli, tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.matdiff-tex]\nlang = "en"\nsteps = "none"\n')
    note = write(tmp_path / "docs" / "a.md", MD_GOOD)
    configured = cli("render", str(note))
    assert configured.exit_code == 0, configured.stderr
    flagged = cli("render", str(note), "--steps", "full")
    plain = cli("render", str(note), "--no-config")
    assert configured.stdout != plain.stdout
    assert "\\Longrightarrow" not in configured.stdout  # steps = none: the result only
    assert "\\Longrightarrow" in flagged.stdout and "\\Longrightarrow" in plain.stdout
    assert "向量化" in plain.stdout and "向量化" not in flagged.stdout  # lang en from config


def test_explicit_config_file(cli, tmp_path: Path) -> None:
    config = write(tmp_path / "elsewhere.toml", 'steps = "none"\n')
    note = write(tmp_path / "a.md", MD_GOOD)
    result = cli("render", str(note), "--config", str(config))
    assert result.exit_code == 0, result.stderr
    assert "\\Longrightarrow" not in result.stdout


def test_bad_config_is_a_located_error(cli, tmp_path: Path) -> None:
    config = write(tmp_path / "matdiff-tex.toml", 'lang = "en"\nlayout = "diagonal"\n')
    note = write(tmp_path / "a.md", MD_GOOD)
    result = cli("render", str(note))
    assert result.exit_code == 2
    assert f"{config}:2:1: error: layout = 'diagonal' is not allowed" in result.stderr
    assert "Traceback" not in result.stderr


def test_user_templates_override(cli, tmp_path: Path, repo_root: Path) -> None:
    builtin = repo_root / "templates"
    names = sorted(p.relative_to(builtin) for p in builtin.rglob("*.j2"))
    assert names, "the package ships templates"
    overrides = tmp_path / "tpl"
    for name in names:
        write(overrides / name, "OVERRIDDEN-" + name.as_posix() + "\n")
    note = write(tmp_path / "a.md", MD_GOOD)
    result = cli("render", str(note), "--templates", str(overrides))
    assert result.exit_code == 0, result.stderr
    assert "OVERRIDDEN-" in result.stdout


# ---------------------------------------------------------------- derive and rules


def test_derive_json(cli) -> None:
    result = cli("derive", r"\boldsymbol{ABX}", r"\boldsymbol{X}", "--shape", "A=2x3",
                 "--shape", "B=3x4", "--shape", "X=4x5", "--format", "json", "--no-config")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["layout"] == "numerator"
    assert data["shape"] == [10, 20]
    assert "\\otimes" in data["result"]
    assert data["steps"] and all({"rule", "note", "latex"} <= set(step) for step in data["steps"])
    assert data["steps"][0]["note"] == "向量化分子分母"  # zh by default, as in the seeds


def test_derive_json_follows_lang_and_steps(cli) -> None:
    args = ("derive", r"\boldsymbol{ABX}", r"\boldsymbol{X}", "--format", "json", "--no-config")
    full = json.loads(cli(*args, "--lang", "en").stdout)
    assert full["steps"][0]["note"] == "vectorize numerator and denominator"
    only = json.loads(cli(*args, "--steps", "none").stdout)
    assert [step["latex"] for step in only["steps"]] == [full["result"]]
    assert len(full["steps"]) > 1


def test_derive_latex_and_markdown(cli) -> None:
    args = (r"\operatorname{tr}(\boldsymbol{X}^{\top}\boldsymbol{AX})", r"\boldsymbol{X}")
    latex = cli("derive", *args, "--lang", "en", "--layout", "denominator")
    assert latex.exit_code == 0, latex.stderr
    assert "\\begin{equation}" in latex.stdout and "$$" not in latex.stdout
    markdown = cli("derive", *args, "--format", "markdown")
    assert markdown.exit_code == 0 and markdown.stdout.lstrip().startswith("$$")


def test_derive_hessian(cli) -> None:
    result = cli("derive", r"\boldsymbol{x}^{\top}\boldsymbol{Ax}", r"\boldsymbol{x}",
                 "--hessian", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["order"] == 2


def test_derive_error_points_into_the_argument(cli) -> None:
    result = cli("derive", r"\frobnicate(\boldsymbol{X})", r"\boldsymbol{X}")
    assert result.exit_code == 2
    first, source, caret = result.stderr.splitlines()[:3]
    assert first.startswith("<F>:1:") and ": error: " in first
    assert source.strip() == r"\frobnicate(\boldsymbol{X})"
    assert caret.strip() == "^"


def test_derive_bad_shape_flag(cli) -> None:
    result = cli("derive", "A", "X", "--shape", "A=three")
    assert result.exit_code == 2 and "--shape" in result.stderr


def test_rules_lists_the_registry_by_family(cli) -> None:
    from matdiff_tex.rules.registry import rules as registered

    result = cli("rules")
    assert result.exit_code == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert listed == [rule.name for rule in registered()]
    assert len(listed) >= 10
    families = [line[:-1] for line in result.stdout.splitlines() if line.endswith(":")]
    assert families and len(families) == len({rule.family for rule in registered()})
    assert "vec(" in result.stdout


def test_rules_of_one_family(cli) -> None:
    from matdiff_tex.rules.registry import rules as registered

    family = registered()[-1].family
    result = cli("rules", "--family", family)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"{family}:"
    assert cli("rules", "--family", "no-such-family").exit_code == 2


def test_exit_status_table() -> None:
    from matdiff_tex.cli import _status_for
    from matdiff_tex.errors import ConfigError, InternalError, MatdiffError

    user, config, internal = MatdiffError("u"), ConfigError("c"), InternalError("i")
    assert _status_for([], check=False) == 0
    assert _status_for([user], check=False) == 2
    assert _status_for([user], check=True) == 1
    assert _status_for([config], check=True) == 2
    assert _status_for([user, internal], check=True) == 3
    assert _status_for([internal], check=False) == 3


def test_check_on_stdin(cli) -> None:
    assert cli("render", "-", "-f", "markdown", "--check", input=MD_PLAIN).exit_code == 0
    result = cli("render", "-", "-f", "markdown", "--check", input=MD_GOOD)
    assert result.exit_code == 1
    assert result.stdout == "" and "would update <stdin>" in result.stderr


def test_stdin_uses_the_config_of_the_current_folder(cli, tmp_path: Path, monkeypatch) -> None:
    write(tmp_path / "matdiff-tex.toml", 'steps = "none"\n')
    monkeypatch.chdir(tmp_path)
    result = cli("render", "-", "-f", "markdown", input=MD_GOOD)
    assert result.exit_code == 0, result.stderr
    assert "\\frac{\\partial" in result.stdout and "\\deriv<" not in result.stdout
    assert "\\Longrightarrow" not in result.stdout  # steps = none from ./matdiff-tex.toml
