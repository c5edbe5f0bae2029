"""What a cached site build costs, counted in operations (not timed): the work per note that does
not depend on its contents is done once per folder, outputs that did not change are not rewritten,
rendered copies are not flushed to the disk one by one, and a cached note is answered before the
code-span prefilter reads it.  (Timings are in benchmarks/bench_build.py.)"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from matdiff_tex import cache as cache_module
from matdiff_tex import config, fsio
from matdiff_tex.fsio import TMP_SUFFIX, RealPaths, write_atomic
from matdiff_tex.options import site_options
from matdiff_tex.results import quick_result, stored_result

PLAIN = "# A note\n\nText with $x^2$ and no directive.\n"


def notes(folder: Path, count: int, text: str = PLAIN) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(count):
        path = folder / f"n{i:02d}.md"
        path.write_text(text.replace("A note", f"Note {i}"), encoding="utf-8")
        made.append(path)
    return made


def counting(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[tuple]:
    calls: list[tuple] = []
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


# ---------------------------------------------------------------- writing


def test_rendered_copies_are_not_fsynced_but_rewritten_notes_are(tmp_path, monkeypatch, cli) -> None:
    monkeypatch.chdir(tmp_path)
    notes(tmp_path / "docs", 6)
    synced = counting(monkeypatch, os, "fsync")
    assert cli("render", "docs", "-o", "out", "-q").exit_code == 0
    assert len(list((tmp_path / "out").iterdir())) == 6 and synced == []
    write_atomic(tmp_path / "docs" / "n00.md", b"edited\n")  # what --in-place uses: durable
    assert len(synced) == 1


def test_an_unchanged_output_is_not_rewritten(tmp_path, monkeypatch, cli) -> None:
    monkeypatch.chdir(tmp_path)
    made = notes(tmp_path / "docs", 3)
    first = cli("render", "docs", "-o", "out", "-q")
    assert first.exit_code == 0, first.output
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (tmp_path / "out").iterdir()}
    made[1].write_text(PLAIN + "\nOne more line.\n", encoding="utf-8")
    replaced = counting(monkeypatch, fsio.os, "replace")
    assert cli("render", "docs", "-o", "out", "-q").exit_code == 0
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (tmp_path / "out").iterdir()}
    assert len(replaced) == 1  # only the edited note
    assert after["n00.md"] == before["n00.md"] and after["n02.md"] == before["n02.md"]
    assert after["n01.md"] != before["n01.md"]
    assert (tmp_path / "out" / "n01.md").read_text(encoding="utf-8").endswith("One more line.\n")
    # an output changed by hand is rewritten from its note
    (tmp_path / "out" / "n02.md").write_text("hand edit", encoding="utf-8")
    assert cli("render", "docs", "-o", "out", "-q").exit_code == 0
    assert (tmp_path / "out" / "n02.md").read_text(encoding="utf-8") == made[2].read_text(encoding="utf-8")


def test_stale_temporaries_are_looked_for_once_per_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(fsio, "_swept", {})
    dead = _dead_pid()
    stale = tmp_path / f".n07.md.{dead}.abc123{TMP_SUFFIX}"  # left by a killed run, any note's name
    stale.write_bytes(b"half")
    ours = tmp_path / f".n07.md.{os.getpid()}.xyz789{TMP_SUFFIX}"  # this process's: never removed
    ours.write_bytes(b"mine")
    scans = counting(monkeypatch, os, "scandir")
    for i in range(20):
        write_atomic(tmp_path / f"n{i:02d}.md", b"x", durable=False)
    assert [call for call in scans if str(call[0]) == str(tmp_path)] == [(str(tmp_path),)]
    assert not stale.exists() and ours.exists()
    # a long-lived process (mkdocs serve) looks again after a while
    monkeypatch.setattr(fsio, "_swept", {str(tmp_path): -fsio.SWEEP_EVERY})
    stale.write_bytes(b"half")
    write_atomic(tmp_path / "n00.md", b"y")
    assert not stale.exists()


def _dead_pid() -> int:
    """The id of a process that has ended."""
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    return int(child.stdout)


# ---------------------------------------------------------------- planning


def test_configuration_is_looked_up_once_per_folder(tmp_path, monkeypatch, cli) -> None:
    monkeypatch.chdir(tmp_path)
    notes(tmp_path / "docs", 5)
    notes(tmp_path / "docs" / "sub", 4)
    (tmp_path / "docs" / "sub" / "matdiff-tex.toml").write_text('layout = "denominator"\n', encoding="utf-8")
    lookups = counting(monkeypatch, config, "find_config")
    assert cli("render", "docs", "-o", "out", "-q").exit_code == 0
    assert sorted(Path(call[0]).name for call in lookups) == ["docs", "sub"]


def test_real_paths_of_many_files_agree_with_realpath(tmp_path, monkeypatch) -> None:
    """Each folder resolved once must give os.path.realpath's answer for every file, whatever mix
    of linked folders, linked files, dangling links and missing files."""
    rng = random.Random(7)
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "c").mkdir()
    (tmp_path / "a" / "b" / "f.md").write_text("x")
    (tmp_path / "c" / "g.md").write_text("y")
    os.symlink(tmp_path / "c", tmp_path / "a" / "to_c")
    os.symlink(tmp_path / "a" / "b" / "f.md", tmp_path / "c" / "link.md")
    os.symlink(tmp_path / "nowhere", tmp_path / "c" / "dangling.md")
    os.symlink("../a/to_c/g.md", tmp_path / "c" / "relative.md")
    names = ["f.md", "g.md", "link.md", "dangling.md", "relative.md", "missing.md"]
    folders = ["a", "a/b", "c", "a/to_c", "a/to_c/../b", "a/./b", "missing_dir"]
    paths = [tmp_path / rng.choice(folders) / rng.choice(names) for _ in range(200)]
    real = RealPaths()
    monkeypatch.chdir(tmp_path / "a")  # relative paths too
    paths += [Path(rng.choice(["b", "to_c", "to_c/..", "."])) / rng.choice(names + ["..", "."]) for _ in range(100)]
    for path in paths + [tmp_path, Path("/"), Path("x.md"), Path("..")]:
        assert real.of(path) == os.path.realpath(path), path


# ---------------------------------------------------------------- the quick path


def test_a_cached_note_is_answered_before_the_prefilter_reads_it(tmp_path, monkeypatch) -> None:
    from matdiff_tex.scan import prefilter

    store = cache_module.Cache(tmp_path / "cache")
    text = "Live: \\deriv<\\boldsymbol{X}><\\boldsymbol{X}>\n"
    key = store.document_key(text, "markdown", site_options({}), False, (False, False))

    store.put(key, stored_result(1, "Live: expanded\n", [], []))
    read = counting(monkeypatch, prefilter, "code_mentions")
    result = quick_result(text, "markdown", options={}, cache=store)
    assert result is not None and result.text == "Live: expanded\n" and read == []
    # without the entry, the prefilter is asked (and finds a live directive: no quick answer)
    assert quick_result(text.replace("Live", "Other"), "markdown", options={}, cache=store) is None
    assert len(read) == 1


def test_folders_are_made_only_when_missing(tmp_path, monkeypatch) -> None:
    made = counting(monkeypatch, os, "mkdir")
    for i in range(10):
        write_atomic(tmp_path / f"n{i}.md", b"x", durable=False)
    store = cache_module.Cache(tmp_path / "cache")
    for i in range(10):
        store.put(f"{i:064x}", f"entry {i}")
    assert [call for call in made if str(call[0]).startswith(str(tmp_path / "cache"))]  # the cache's own folders
    made.clear()
    for i in range(10):
        write_atomic(tmp_path / f"n{i}.md", b"y", durable=False)
        store.put(f"{i:064x}", f"entry {i} again")
    assert made == []  # every folder was there: no failed mkdir per file
    write_atomic(tmp_path / "new" / "deeper" / "n.md", b"z", durable=False)
    assert (tmp_path / "new" / "deeper" / "n.md").read_bytes() == b"z"
    assert [store.get(f"{i:064x}") for i in range(10)] == [f"entry {i} again" for i in range(10)]
