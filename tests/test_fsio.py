"""Byte-exact reading and atomic writing of notes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from matdiff_tex.fsio import ReadError, SourceText, decode, read_source, write_atomic


def test_crlf_and_bom_round_trip_byte_for_byte() -> None:
    data = "\ufeff---\r\ntitle: 矩阵\r\n---\r\n\t$x$  \r\n".encode("utf-8")
    source = decode(data, "a.md")
    assert source.bom is True
    assert source.text.startswith("---\r\n")
    assert source.encode() == data
    assert source.encode(source.text + "more\r\n") == data + b"more\r\n"


def test_no_bom_added_when_there_was_none() -> None:
    source = decode(b"plain\n", "a.md")
    assert source == SourceText("plain\n", bom=False)
    assert source.encode() == b"plain\n"


def test_non_utf8_is_located_at_the_bad_byte() -> None:
    data = "第一行\n".encode("utf-8") + b"abc \xe9t\xe9\n"
    with pytest.raises(ReadError) as info:
        decode(data, "notes/a.md")
    error = info.value
    assert (error.path, error.line, error.col) == ("notes/a.md", 2, 5)
    assert "not valid UTF-8" in error.message and "0xe9" in error.message
    assert error.format().splitlines()[0].startswith("notes/a.md:2:5: error: not valid UTF-8")


def test_missing_and_folder_inputs_are_read_errors(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no such file"):
        read_source(tmp_path / "nope.md", "nope.md")
    with pytest.raises(ReadError, match="directory"):
        read_source(tmp_path, "dir")


def test_unreadable_path(tmp_path: Path) -> None:
    (tmp_path / "file.md").write_text("x")
    with pytest.raises(ReadError, match="cannot read: Not a directory"):
        read_source(tmp_path / "file.md" / "inner.md")


def test_write_atomic_keeps_mode_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "post.md"
    path.write_bytes(b"old")
    path.chmod(0o640)
    write_atomic(path, b"new\r\n")
    assert path.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["post.md"]


def test_write_atomic_creates_folders_and_new_files_get_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a" / "b" / "out.md", b"x")
    finally:
        os.umask(old)
    out = tmp_path / "a" / "b" / "out.md"
    assert out.read_bytes() == b"x"
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_write_atomic_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_bytes(b"old")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "post.md"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["post.md"]
