"""Reading and writing notes byte for byte, and safely.

A note is read as bytes and decoded as strict UTF-8 without any newline
translation, so CRLF stays CRLF.  A UTF-8 byte order mark is taken off before
the document layer sees the text (front matter must start at the first
character) and put back when the text is written.  Files are written through a
temporary file in the same folder and ``os.replace``: a reader sees the old
file or the new one, never half of one, and the file keeps its mode, owner and
group.  A rewritten note (``--in-place``) is also flushed to the disk (``fsync``)
before it replaces the old one, so not even a power cut loses it; a rendered copy
under ``-o`` (``durable=False``: made again by the next build) is not, which saves
most of a cached site build's time.

Safety rules (each failure is a :class:`ReadError` or :class:`WriteError`, one line):

* a note or configuration file larger than :data:`MAX_FILE_BYTES` is refused, and
  so is a device (``/dev/zero``) as a note; a FIFO is refused where it could block;
* only regular files are replaced: a device node, FIFO or socket as the output is
  refused, never replaced by a regular file;
* ``within``: a file written under an output folder must lie inside it after
  symbolic links are followed;
* ``expected``: the file must still be the one that was read (same bytes, same
  inode, size and modification time) just before it is replaced, so an edit saved
  meanwhile is never lost and a note deleted meanwhile is not re-created;
* a read-only note is not rewritten, and a file whose owner or group cannot be
  kept is not replaced.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import MatdiffError

BOM = "\ufeff"
BOM_BYTES = BOM.encode("utf-8")
#: The largest note or configuration file read (notes are prose; this is far above any).
MAX_FILE_BYTES = 32 * 1024 * 1024
#: Temporary files are named ``.NAME.PID.RANDOM.matdiff-tmp`` next to the file they replace.
TMP_SUFFIX = ".matdiff-tmp"


class ReadError(MatdiffError):
    """A note that cannot be read: missing, unreadable, too large or not UTF-8."""


class WriteError(MatdiffError):
    """A file that cannot or must not be written."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a file was when it was read: to tell, before replacing it, that it is unchanged."""

    inode: int
    size: int
    mtime_ns: int
    digest: str


@dataclass(frozen=True, slots=True)
class SourceText:
    """The text of a note, without its byte order mark, and whether it had one."""

    text: str
    bom: bool = False
    stamp: Stamp | None = None  # set when read from a regular file

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
    nul = text.find("\0")
    if nul >= 0:  # valid UTF-8, but no note holds NUL: UTF-16 without a byte order mark, or binary
        before = data[: len(text[:nul].encode("utf-8"))]
        raise ReadError("holds NUL bytes: this looks like UTF-16 (or a binary file); matdiff-tex reads "
                        "UTF-8 notes only (re-save the file as UTF-8)", path=path,
                        line=before.count(b"\n") + 1)
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


def read_limited(stream: BinaryIO, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """All of ``stream``, refusing more than ``limit`` bytes (``/dev/zero`` never ends)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ReadError(f"larger than {limit // (1024 * 1024)} MiB; matdiff-tex does not read "
                        "files this large", path=name)
    return data


def read_file(path: Path, name: str, *, what: str = "note", fifo_ok: bool = True) -> tuple[bytes, Stamp | None]:
    """The bytes of the file at ``path`` (bounded) and its :class:`Stamp` when it is a regular file."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) * (not fifo_ok)
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise ReadError(f"is a directory, not a {what}", path=name) from None
    except FileNotFoundError:
        raise ReadError("no such file", path=name) from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}", path=name) from None
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        os.close(fd)
        raise ReadError(f"is a directory, not a {what}", path=name)
    with os.fdopen(fd, "rb") as stream:
        if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) or stat.S_ISSOCK(info.st_mode) or (
                stat.S_ISFIFO(info.st_mode) and not fifo_ok):
            raise ReadError(f"is not a regular file (a device, FIFO or socket); a {what} must be a file",
                            path=name)
        try:
            data = read_limited(stream, name)
        except OSError as exc:
            raise ReadError(f"cannot read: {exc.strerror or exc}", path=name) from None
    stamp = None
    if stat.S_ISREG(info.st_mode):
        stamp = Stamp(info.st_ino, info.st_size, info.st_mtime_ns, hashlib.sha256(data).hexdigest())
    return data, stamp


def read_source(path: Path, display: str | None = None) -> SourceText:
    """Read and decode the note at ``path``; failures are :class:`ReadError` naming ``display``."""
    name = display if display is not None else str(path)
    data, stamp = read_file(path, name)
    source = decode(data, name)
    return SourceText(source.text, source.bom, stamp)


def temporary_file(folder: Path, prefix: str, suffix: str = "") -> tuple[int, str]:
    """``tempfile.mkstemp`` in ``folder``, made (with its parents) only when it is missing: asking
    for a folder that exists costs a failed ``mkdir`` per file, a good part of a build's writes."""
    try:
        return tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)


class RealPaths:
    """``os.path.realpath`` of many files, each folder resolved once: the real path of ``folder/name``
    is the folder's real path joined with ``name`` unless ``name`` itself is a symbolic link (a
    folder of n notes costs n ``lstat`` calls, not n times its depth).  For one planning pass: a
    folder replaced by a link afterwards is not seen."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def of(self, path: str | os.PathLike[str]) -> str:
        folder, name = os.path.split(os.fspath(path))  # not abspath: "link/.." is not "."
        if name in ("", ".", ".."):
            return os.path.realpath(path)
        folder = folder or os.curdir
        if folder not in self._folders:
            self._folders[folder] = os.path.realpath(folder)
        joined = os.path.join(self._folders[folder], name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined


def write_atomic(path: Path, data: bytes, *, within: Path | None = None, expected: Stamp | None = None,
                 display: str | None = None, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step, keeping the old file's mode, owner and group.

    A new file gets the permissions a plain ``open()`` would give it (0o666 less
    the umask).  Missing parent folders are created.  A symbolic link is written
    through: its target gets the new text and the link stays a link (but see
    ``within``).  ``expected``: the file must still be as it was read (see the
    module docs).  ``durable``: flush the new text to the disk before the
    replacement.  Every refusal is a :class:`WriteError` naming ``display``.
    """
    name = display if display is not None else str(path)
    real = Path(os.path.realpath(path))
    if within is not None and not _is_inside(real, Path(_real_folder(os.getcwd(), os.fspath(within)))):
        raise WriteError(f"not written: it leads out of the output folder {within} to {real} "
                         "(through a symbolic link)", path=name)
    old = _existing(real, name)
    if expected is not None:
        _check_unchanged(real, old, expected, name)
    elif old is not None and not _writable(real, old):
        raise WriteError("is read-only; not rewritten (make it writable to let matdiff-tex update it)",
                         path=name)
    try:
        fd, tmp_name = temporary_file(real.parent, f".{real.name}.{os.getpid()}.", TMP_SUFFIX)
        _remove_stale_temporaries(real)
    except OSError as exc:
        raise WriteError(f"cannot write: {exc.strerror or exc}", path=name) from None
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            if durable:
                tmp.flush()
                os.fsync(tmp.fileno())
        os.chmod(tmp_name, _target_mode(old))
        if old is not None:
            _keep_owner(tmp_name, old, name)
        if expected is not None:
            _check_unchanged(real, _existing(real, name), expected, name)
        os.replace(tmp_name, real)
    except BaseException as exc:
        _remove_quietly(tmp_name)
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write: {exc.strerror or exc}", path=name) from None
        raise


@functools.lru_cache(maxsize=16)
def _real_folder(cwd: str, folder: str) -> str:
    """The real path of an output folder, looked up once per working folder (a folder later
    replaced by a link to elsewhere makes the check above refuse, never pass)."""
    return os.path.realpath(os.path.join(cwd, folder))


def _is_inside(path: Path, folder: Path) -> bool:
    """Is ``path`` the folder itself or below it (both already real paths)?"""
    return path == folder or folder in path.parents


def _existing(real: Path, name: str) -> os.stat_result | None:
    """The stat of the file to replace (None: there is none); only regular files are replaced."""
    try:
        info = os.stat(real)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(f"cannot write: {exc.strerror or exc}", path=name) from None
    if stat.S_ISDIR(info.st_mode):
        raise WriteError("is a directory; name a file (or end the name with / for a folder)", path=name)
    if not stat.S_ISREG(info.st_mode):
        raise WriteError("is not a regular file (a device, FIFO or socket); matdiff-tex only replaces "
                         "regular files (use -o - for standard output)", path=name)
    return info


def _writable(real: Path, info: os.stat_result) -> bool:
    """Has the file a write permission bit, and may this process write it?"""
    return bool(info.st_mode & 0o222) and os.access(real, os.W_OK)


def _check_unchanged(real: Path, info: os.stat_result | None, expected: Stamp, name: str) -> None:
    """The file must still be exactly what was read."""
    if info is None:
        raise WriteError("was deleted while matdiff-tex was working on it; not re-created", path=name)
    same = (info.st_ino, info.st_size, info.st_mtime_ns) == (expected.inode, expected.size, expected.mtime_ns)
    if same:
        try:
            same = hashlib.sha256(real.read_bytes()).hexdigest() == expected.digest
        except OSError:
            same = False
    if not same:
        raise WriteError("changed while matdiff-tex was working on it; not written, so that change "
                         "is kept (run matdiff-tex again)", path=name)
    if not _writable(real, info):
        raise WriteError("is read-only; not rewritten (make it writable to let matdiff-tex update it)",
                         path=name)


def _keep_owner(tmp_name: str, old: os.stat_result, name: str) -> None:
    """Give the new file the old one's owner and group; refuse when that is not possible."""
    if (old.st_uid, old.st_gid) == (os.geteuid(), os.getegid()):
        return
    try:
        os.chown(tmp_name, old.st_uid, old.st_gid)
    except PermissionError:
        raise WriteError("cannot keep its owner and group (it belongs to another user); not "
                         "rewritten", path=name) from None


def _target_mode(old: os.stat_result | None) -> int:
    """The permission bits the written file should have."""
    if old is not None:
        return stat.S_IMODE(old.st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: Folders whose stale temporary files this process removed, and when (``time.monotonic``).
_swept: dict[str, float] = {}
#: A folder is looked through again after this many seconds (a long-lived process: ``mkdocs serve``).
SWEEP_EVERY = 30.0


def _remove_stale_temporaries(real: Path) -> None:
    """Delete the temporary files left in ``real``'s folder by a matdiff-tex that was killed (its
    process is gone); each folder is looked through once per :data:`SWEEP_EVERY` seconds, not once
    per file written (a folder of n notes would cost n^2 directory entries)."""
    folder = str(real.parent)
    now = time.monotonic()
    if now - _swept.get(folder, -SWEEP_EVERY) < SWEEP_EVERY:
        return
    for entry in os.scandir(folder):
        if not (entry.name.startswith(".") and entry.name.endswith(TMP_SUFFIX)):
            continue
        parts = entry.name[:-len(TMP_SUFFIX)].rsplit(".", 2)  # [".NAME", PID, RANDOM]
        pid = parts[1] if len(parts) == 3 else ""
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            _remove_quietly(entry.path)
    _swept[folder] = now


def _alive(pid: int) -> bool:
    """Is there a process with this id?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_quietly(name: str) -> None:
    """Delete a temporary file if it is still there."""
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass
