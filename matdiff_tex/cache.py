"""The on-disk cache: a directive's expansion, and a whole note's result, computed once.

Two kinds of entries, both keyed on a SHA-256 of everything that changes the output:

* an *expansion*: the directive's kind, F and X, its resolved options (layout, steps, lang,
  shapes, label, templates folder), its placement and the output format;
* a *document*: the note's whole text (front matter included), its format, the site options
  (configuration file and command line), whether markers are written (``--in-place`` and
  ``--check``) and ``--force``.

Both keys also hold a fingerprint of matdiff-tex itself: its version, the names, sizes and
modification times of its Python code and built-in templates (so an upgrade or a local change
never serves a stale expansion), and the bytes of a user templates folder (names, sizes and
times are looked at on every use, the bytes read again when they change).  Failures are stored too: a note with errors keeps its
located messages (file:line:col, the source line), and a directive that failed keeps its error
(class, message, place in F or X) in its expansion entry, so a warm rebuild reports them again
without the engine.  Not stored: a directive stopped by the time limit, or one that crashed with
an unexpected exception (another run, on a less busy machine, may not meet them).

A warm rebuild of an unchanged note reads one entry and imports neither the engine nor sympy
nor numpy.

Where: ``--cache-dir``, else ``MATDIFF_TEX_CACHE_DIR``, else platformdirs' user cache folder
(``~/.cache/matdiff-tex`` on Linux); ``--no-cache`` (or ``MATDIFF_TEX_CACHE_DIR=off``) turns it
off.  Each entry is one file ``v1/<2 hex>/<62 hex>`` holding a header, the SHA-256 of its payload
and the payload: a truncated or corrupt entry fails that check, is ignored and is written again.
Writes go to a temporary file in the same folder, renamed into place (``os.replace``), so two
processes writing the same entry at once leave one whole entry.  The cache is bounded
(``MATDIFF_TEX_CACHE_MAX_MB``, default 200 MB): after a run that wrote entries, the least
recently used ones (file times; a hit refreshes an entry's time at most once a day) are removed
until it is below 80% of the bound.  Any error of the cache itself (a read-only or full disk)
only costs speed: the note is computed as if there were no cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from . import __version__
from .fsio import temporary_file

ENV_DIR = "MATDIFF_TEX_CACHE_DIR"
ENV_MAX_MB = "MATDIFF_TEX_CACHE_MAX_MB"
OFF_WORDS = ("", "0", "off", "none", "false", "no")
DEFAULT_MAX_MB = 200
MAGIC = b"matdiff-tex-cache 1\n"
LAYOUT = "v1"
_TOUCH_AFTER = 86_400.0  # refresh a hit's time (for eviction) at most once a day
_STALE_TEMP = 3_600.0  # a temporary file older than this was left by a killed process
_PRUNE_EVERY = 500  # writes between two prunes of a long-running process


class Cache:
    """One cache folder."""

    def __init__(self, root: str | os.PathLike[str], max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = _max_bytes() if max_bytes is None else max_bytes
        self.writes = 0
        self.hits = 0

    # -------------------------------------------------------------- entries

    def _path(self, key: str) -> Path:
        return self.root / LAYOUT / key[:2] / key[2:]

    def get(self, key: str) -> str | None:
        """The payload stored under ``key``; None when absent, truncated or corrupt."""
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        head = len(MAGIC) + 65  # the magic line, 64 hex digits and a line end
        if not data.startswith(MAGIC) or len(data) < head or data[head - 1:head] != b"\n":
            return None
        payload = data[head:]
        if hashlib.sha256(payload).hexdigest().encode("ascii") != data[len(MAGIC):head - 1]:
            return None
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:  # pragma: no cover - the hash matched
            return None
        self.hits += 1
        self._touch(path)
        return text

    def put(self, key: str, text: str) -> None:
        """Store ``text`` under ``key`` atomically (errors of the cache itself are ignored)."""
        try:
            payload = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not worth storing
            return
        data = MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload
        path = self._path(key)
        tmp = None
        try:
            fd, tmp = temporary_file(path.parent, ".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
            tmp = None
        except OSError:
            pass
        finally:
            if tmp is not None:
                with _quietly():
                    os.unlink(tmp)
        self.writes += 1
        if self.writes % _PRUNE_EVERY == 0:
            self.prune()

    @staticmethod
    def _touch(path: Path) -> None:
        with _quietly():
            if time.time() - path.stat().st_mtime > _TOUCH_AFTER:
                os.utime(path)

    # -------------------------------------------------------------- keys

    def expansion_key(self, kind: str, f: str, x: str, options: Any, placement: Any, fmt: str) -> str:
        """The key of one directive's expansion (``options`` is a ResolvedOptions)."""
        fields = [getattr(options, name) for name in options.__slots__]
        return _digest(["expansion", fingerprint(options.templates_dir), kind, f, x, fields,
                        getattr(placement, "value", placement), fmt])

    def document_key(self, text: str, fmt: str, site: dict[str, Any], markers: bool, force: bool) -> str:
        """The key of a whole note's result."""
        return _digest(["document", fingerprint(site.get("templates_dir")), fmt, markers, force,
                        site], text)

    # -------------------------------------------------------------- eviction

    def prune(self) -> int:
        """Remove least recently used entries until the cache is below 80% of its bound; the count."""
        entries, total, now = [], 0, time.time()
        for folder in _listdir(self.root / LAYOUT):
            for entry in _scandir(folder):
                try:
                    info = entry.stat()
                except OSError:
                    continue
                if entry.name.startswith(".tmp-"):
                    if now - info.st_mtime > _STALE_TEMP:
                        with _quietly():
                            os.unlink(entry.path)
                    continue
                entries.append((info.st_mtime, info.st_size, entry.path))
                total += info.st_size
        removed = 0
        if total <= self.max_bytes:
            return removed
        for _, size, path in sorted(entries):
            if total <= 0.8 * self.max_bytes:
                break
            with _quietly():
                os.unlink(path)
                total -= size
                removed += 1
        return removed


# ---------------------------------------------------------------- opening the cache


def default_dir() -> Path:
    """platformdirs' user cache folder for matdiff-tex."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("matdiff-tex", appauthor=False))


def open_cache(directory: str | os.PathLike[str] | None = None, *, enabled: bool = True) -> Cache | None:
    """The cache to use: ``directory``, else ``MATDIFF_TEX_CACHE_DIR``, else the user cache folder;
    None when ``enabled`` is false or the variable says ``off``."""
    if not enabled:
        return None
    if directory is None:
        env = os.environ.get(ENV_DIR)
        if env is not None and env.strip().lower() in OFF_WORDS:
            return None
        directory = env if env else default_dir()
    return Cache(directory)


def _max_bytes() -> int:
    try:
        megabytes = float(os.environ.get(ENV_MAX_MB, DEFAULT_MAX_MB))
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return int(max(megabytes, 0.0) * 2**20)


# ---------------------------------------------------------------- fingerprints


def _digest(parts: list[Any], text: str = "") -> str:
    head = json.dumps(parts, sort_keys=True, default=repr, ensure_ascii=False)
    hasher = hashlib.sha256(head.encode("utf-8"))
    hasher.update(b"\0")
    hasher.update(text.encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()


@functools.lru_cache(maxsize=1)
def _package_fingerprint() -> str:
    """matdiff-tex's version and the name, size and modification time of each file of its code and
    built-in templates: an upgrade, a reinstall or an edit changes it.  (Reading and hashing the
    code's 0.8 MB took a fifth of a cached site build; the times say the same for far less.)"""
    from .resources import templates_root

    hasher = hashlib.sha256(__version__.encode())
    for folder, suffix in ((Path(__file__).parent, ".py"), (templates_root(), "")):
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(suffix):
                    with _quietly():
                        info = os.stat(os.path.join(root, name))
                        hasher.update(f"{os.path.relpath(os.path.join(root, name), folder)}\0{info.st_size}\0"
                                      f"{info.st_mtime_ns}\0".encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()


@functools.lru_cache(maxsize=32)
def _folder_digest(folder: str, signature: tuple[tuple[str, int, int], ...]) -> str:
    hasher = hashlib.sha256()
    for name, _, _ in signature:
        hasher.update(name.encode("utf-8", "surrogatepass") + b"\0")
        with _quietly():
            hasher.update(Path(folder, name).read_bytes())
    return hasher.hexdigest()


def fingerprint(templates_dir: Any = None) -> str:
    """What besides a directive decides its expansion: matdiff-tex itself and the user templates."""
    if templates_dir is None:
        return _package_fingerprint()
    folder = str(templates_dir)
    signature = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            with _quietly():
                info = os.stat(path)
                signature.append((os.path.relpath(path, folder), info.st_mtime_ns, info.st_size))
    return _package_fingerprint() + ":" + _folder_digest(folder, tuple(signature))


# ---------------------------------------------------------------- small helpers


class _quietly:
    """``with _quietly():`` ignores OSError (the cache never breaks a build)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, value: Any, tb: Any) -> bool:
        return kind is not None and issubclass(kind, OSError)


def _listdir(folder: Path) -> list[str]:
    try:
        return [entry.path for entry in os.scandir(folder) if entry.is_dir()]
    except OSError:
        return []


def _scandir(folder: str) -> list[os.DirEntry[str]]:
    try:
        return list(os.scandir(folder))
    except OSError:
        return []
