"""A long-running batch server for site generators: one Python process for a whole build.

``python -m matdiff_tex.integrations.batch`` reads one JSON object per line on stdin
and writes one JSON line per request on stdout (flushed after each), in order::

    -> {"id": 1, "path": "source/_posts/a.md", "text": "...", "fmt": "markdown",
        "options": {"layout": "denominator"}, "front_matter": "---\\n...\\n---\\n",
        "line_offset": 0}
    <- {"id": 1, "text": "...", "errors": [], "directives": 2}

Request fields, all optional except ``text``:

``path``
    the file name printed in error messages.
``fmt``
    ``"markdown"`` (default) or ``"latex"``.
``options``
    site-level options (``layout``, ``steps``, ``lang``, ``shapes``, ``templates_dir``),
    weaker than the document's front matter and the directive's own options.
``post_options``
    options a post gives for itself outside its text (Hexo's JSON front matter): like
    ``options`` but stronger, and never a template folder (a post must not choose the
    code that renders it; templates come from the site's configuration only).
``front_matter``
    the file's front matter exactly as it stands on disk, for callers that were
    handed only the body (Hexo strips the front matter before its filters run).
    It is put back in front of ``text`` for the run, so its ``matdiff:`` key gives
    the document defaults and error lines count it, and taken off the result again.
``line_offset``
    lines of the file before ``text`` (and ``front_matter``) that the server does
    not see; added to every error's line number.
``lint``
    ``"off"`` (default), ``"warn"`` or ``"error"``: also check the post's own math
    (:mod:`matdiff_tex.check.lint`); wrong claims come back in ``lint`` (warn) or in
    ``errors`` (error).

The reply echoes ``id``; ``text`` is the expanded text (``null`` when there are
errors), ``errors`` the formatted errors (``path:line:col: error: message``, the
source line and a caret; see :meth:`matdiff_tex.errors.MatdiffError.format`).  A
request that is not valid JSON or lacks ``text`` gets a reply with one error; a bug
inside matdiff-tex becomes an ``internal error`` reply.  Nothing a request does
stops the server: it ends at the end of its input.

Results are cached on disk (:mod:`matdiff_tex.cache`; ``MATDIFF_TEX_CACHE_DIR=off`` turns it off).

Anything else written to ``sys.stdout`` while serving (a stray ``print`` in a
dependency) goes to stderr, so the protocol stream stays clean.  When the
environment variable ``MATDIFF_TEX_BATCH_PIDFILE`` names a file, the server
appends its process id to it on start (the test suite counts processes that way).
"""

from __future__ import annotations

import copy
import json
import os
import sys
import traceback
from typing import IO, Any

from ..errors import InternalError, MatdiffError

PIDFILE_ENV = "MATDIFF_TEX_BATCH_PIDFILE"
_CACHE: Any = None  # the on-disk cache (matdiff_tex.cache), opened by main()


def _formatted(errors: list[MatdiffError], line_offset: int) -> list[str]:
    """Each error as ``path:line:col: error: ...``, its line moved down by ``line_offset``."""
    out = []
    for error in errors:
        if line_offset and error.line is not None:
            error = copy.copy(error)
            error.line += line_offset
        out.append(error.format())
    return out


def _bad_request(message: str, request_id: Any = None, path: Any = None) -> dict[str, Any]:
    where = path if isinstance(path, str) and path else "<batch request>"
    return {"id": request_id, "text": None, "errors": [f"{where}: error: bad request: {message}"],
            "directives": 0}


def handle(request: Any) -> dict[str, Any]:
    """The reply to one decoded request (never raises)."""
    if not isinstance(request, dict):
        return _bad_request(f"expected a JSON object, got {type(request).__name__}")
    request_id, path = request.get("id"), request.get("path")
    text, front = request.get("text"), request.get("front_matter") or ""
    fmt, options = request.get("fmt", "markdown"), request.get("options") or {}
    offset = request.get("line_offset") or 0
    post = request.get("post_options") or {}
    problem = (
        "'text' must be a string" if not isinstance(text, str)
        else "'path' must be a string" if path is not None and not isinstance(path, str)
        else "'front_matter' must be a string" if not isinstance(front, str)
        else "'options' must be an object" if not isinstance(options, dict)
        else "'post_options' must be an object" if not isinstance(post, dict)
        else "a post cannot choose templates ('templates' in its options); set them in the site's "
             "configuration" if {"templates", "templates_dir"} & set(post)
        else "'line_offset' must be a whole number >= 0"
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0
        else "'fmt' must be 'markdown' or 'latex'" if fmt not in ("markdown", "md", "latex", "tex")
        else None
    )
    lint = request.get("lint") or "off"
    if not problem and lint not in ("off", "warn", "error"):
        problem = "'lint' must be 'off', 'warn' or 'error'"
    if problem:
        return _bad_request(problem, request_id, path)
    try:
        from ..document import process_body

        result = process_body(text, fmt, front_matter=front, path=path, options={**options, **post},
                              cache=_CACHE)
        wrong = _lint(front + text, fmt, path, {**options, **post}, offset) if lint != "off" else []
        errors = _formatted(result.errors, offset) + (wrong if lint == "error" else [])
        reply = {"id": request_id, "text": None if errors else result.text, "errors": errors,
                 "directives": result.directives}
        if lint != "off":
            reply["lint"] = wrong
        return reply
    except Exception as exc:  # a bug: report it for this request and keep serving
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
        error = InternalError(f"unexpected {type(exc).__name__}: {exc}\n{detail}", path=path)
        return {"id": request_id, "text": None, "errors": [error.format()], "directives": 0}


def _lint(text: str, fmt: str, path: Any, options: dict[str, Any], offset: int) -> list[str]:
    """The wrong claims of the post's own math, formatted, lines moved down by ``offset``."""
    from dataclasses import replace

    from ..check.lint import lint_for_site

    findings = lint_for_site(text, "latex" if fmt in ("latex", "tex") else "markdown", path or "<post>", options)
    return [replace(f, line=f.line + offset).format() for f in findings]


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Answer every request line of ``stdin`` on ``stdout`` until end of input."""
    for raw in stdin:
        if not raw.strip():
            continue
        try:
            request = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            reply = _bad_request(f"not a JSON line: {exc}")
        except RecursionError:
            reply = _bad_request("not a JSON line: nested too deeply")
        else:
            reply = handle(request)
        stdout.write(json.dumps(reply).encode("ascii") + b"\n")
        stdout.flush()


def main() -> None:
    """Serve stdin/stdout; stray writes to sys.stdout go to stderr."""
    pidfile = os.environ.get(PIDFILE_ENV)
    if pidfile:
        with open(pidfile, "a", encoding="utf-8") as handle_:
            handle_.write(f"{os.getpid()}\n")
    global _CACHE
    from ..cache import open_cache

    _CACHE = open_cache()
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        serve(sys.stdin.buffer, protocol_out)
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        if _CACHE is not None and _CACHE.writes:
            _CACHE.prune()


if __name__ == "__main__":
    main()
