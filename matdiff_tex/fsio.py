"""Reading and writing notes byte for byte.

A note is read as bytes and decoded as strict UTF-8 without any newline
translation, so CRLF stays CRLF.  A UTF-8 byte order mark is taken off before
the document layer sees the text (front matter must start at the first
character) and put back when the text is written.  Files are written through a
temporary file in the same folder and ``os.replace``: a reader sees the old
file or the new one, never half of one, and the file keeps its mode.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import MatdiffError

BOM = "\ufeff"
BOM_BYTES = BOM.encode("utf-8")


class ReadError(MatdiffError):
    """A note that cannot be read: missing, unreadable, or not UTF-8."""


@dataclass(frozen=True, slots=True)
class SourceText:
    """The text of a note, without its byte order mark, and whether it had one."""

    text: str
    bom: bool = False

    def encode(self, text: str | None = None) -> bytes:
        """``text`` (default: this text) as UTF-8 bytes, with the BOM if the source had one."""
        body = (self.text if text is None else text).encode("utf-8")
        return BOM_BYTES + body if self.bom else body


def decode(data: bytes, path: str) -> SourceText:
    """Decode a note's bytes; a byte that is not UTF-8 is a :class:`ReadError` at its line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(data, exc, path) from None
    if text.startswith(BOM):
        return SourceText(text[1:], bom=True)
    return SourceText(text)


def _decode_error(data: bytes, exc: UnicodeDecodeError, path: str) -> ReadError:
    """Point at the first byte that is not UTF-8, counting lines as the file has them."""
    before = data[: exc.start]
    line_start = before.rfind(b"\n") + 1
    line_end = data.find(b"\n", exc.start)
    line_bytes = data[line_start : len(data) if line_end < 0 else line_end]
    col = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
    message = (
        f"not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}; "
        "matdiff-tex reads UTF-8 notes only (re-save the file as UTF-8)"
    )
    return ReadError(
        message,
        path=path,
        line=before.count(b"\n") + 1,
        col=col,
        source_line=line_bytes.decode("utf-8", errors="replace").lstrip(BOM),
    )


def read_source(path: Path, display: str | None = None) -> SourceText:
    """Read and decode the note at ``path``; failures are :class:`ReadError` naming ``display``."""
    name = display if display is not None else str(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ReadError("is a directory, not a note", path=name) from None
    except FileNotFoundError:
        raise ReadError("no such file", path=name) from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}", path=name) from None
    return decode(data, name)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step, keeping the old file's permission bits.

    A new file gets the permissions a plain ``open()`` would give it (0o666 less
    the umask).  Missing parent folders are created.  A symbolic link is written
    through: its target gets the new text and the link stays a link.
    """
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _target_mode(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        _remove_quietly(tmp_name)
        raise


def _target_mode(path: Path) -> int:
    """The permission bits the written file should have."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove_quietly(name: str) -> None:
    """Delete a temporary file if it is still there."""
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass
