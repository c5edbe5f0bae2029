"""The ``matdiff-tex`` command line: render notes, derive one expression, list the rules.

Start-up stays light: this module imports click and the standard library only;
the document layer and the engine (sympy, numpy) are imported when a command
needs them, and the document layer imports the engine only for a note that
holds a directive.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

import click

from . import __version__
from .config import CHOICES, Config, ConfigFinder, load_config, parse_shape_assignment
from .options import DEFAULT_WIDTH, DOCUMENT_CHOICES, parse_width, symmetric_value
from .errors import ConfigError, InternalError, MatdiffError
from .fsio import ReadError, RealPaths, SourceText, WriteError, decode, read_limited, read_source, write_atomic

EXIT_OK = 0
EXIT_CHANGES = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3
EXIT_INTERRUPTED = 130

FORMAT_BY_SUFFIX = {".md": "markdown", ".markdown": "markdown", ".qmd": "markdown", ".rmd": "markdown",
                    ".tex": "latex", ".latex": "latex", ".ipynb": "notebook"}  # .qmd: Quarto, .Rmd: R Markdown
SKIPPED_FOLDERS = {"node_modules", "__pycache__", "site-packages"}
PROGRESS_MIN_FILES = 8

Mode = Literal["stdout", "output", "in-place", "check"]

EXIT_STATUS_HELP = """\b
Exit status:
  0  success; with --check: every file is current
  1  --check only: a file would change or a directive fails
  2  user error: a directive, option, config file or input file
     is wrong (every error is printed as path:line:col: error: ...)
  3  internal error: a bug in matdiff-tex (please report it)"""

STRICT_HELP = "Treat warnings (readings that are probably not what was meant, e.g. tr(X) without a backslash) as errors."

MAIN_EPILOG = f"""\b
Examples:
  matdiff-tex render notes.md -o build/notes.md
  matdiff-tex render docs/ -o build/docs
  matdiff-tex render --in-place post.md     (keeps directives in comments)
  matdiff-tex render --check docs/          (CI, pre-commit)
  cat note.tex | matdiff-tex render - --format latex
  matdiff-tex derive '\\operatorname{{tr}}(\\boldsymbol{{X}}^{{\\top}}\\boldsymbol{{AX}})' '\\boldsymbol{{X}}'

\b
Defaults come from, strongest first: the directive's [options], the
note's front matter (matdiff:), command-line flags, matdiff-tex.toml or
[tool.matdiff-tex] in pyproject.toml (nearest one walking up from the
note), built-in defaults (layout=numerator, steps=full, lang=zh).

{EXIT_STATUS_HELP}
"""


# ---------------------------------------------------------------- errors


def _report(error: MatdiffError) -> None:
    """Print one error as ``path:line:col: error: message`` with its source line and caret."""
    click.echo(error.format(), err=True)


def _status_for(errors: Iterable[MatdiffError], check: bool) -> int:
    """The exit status for a run that ended with ``errors`` (all of them already printed)."""
    errors = list(errors)
    if any(isinstance(error, InternalError) for error in errors):
        return EXIT_INTERNAL_ERROR
    if any(isinstance(error, (ConfigError, ReadError, WriteError)) for error in errors):
        return EXIT_USER_ERROR  # a missing or unreadable note is not "would change", also under --check
    if errors:
        return EXIT_CHANGES if check else EXIT_USER_ERROR
    return EXIT_OK


def _internal_error(exc: BaseException, where: str | None = None) -> InternalError:
    """Wrap an unexpected exception (a bug) as an :class:`InternalError` with its traceback."""
    import traceback

    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    message = (
        f"unexpected {type(exc).__name__}: {exc}\n"
        f"this is a bug in matdiff-tex {__version__}; please report it with the input.\n{detail}"
    )
    return InternalError(message, path=where)


class MatdiffGroup(click.Group):
    """A click group that turns escaped exceptions into the documented exit statuses."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("matdiff-tex: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:  # `matdiff-tex rules | head`: the reader has gone, stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(EXIT_OK) from None
        except MatdiffError as exc:
            _report(exc)
            code = EXIT_INTERNAL_ERROR if isinstance(exc, InternalError) else EXIT_USER_ERROR
            raise click.exceptions.Exit(code) from None
        except Exception as exc:  # a bug: say so, keep the traceback, use its own status
            _report(_internal_error(exc))
            raise click.exceptions.Exit(EXIT_INTERNAL_ERROR) from None


# ---------------------------------------------------------------- options shared by commands


def _shape_callback(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, Any]:
    """``--shape A=3x4 --shape X=n x n`` -> ``{"A": (3, 4), "X": ("n", "n")}``."""
    shapes: dict[str, Any] = {}
    for value in values:
        try:
            name, shape = parse_shape_assignment(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
        shapes[name] = shape
    return shapes


def _width_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """``--width 48`` or ``--width 600px`` -> a width in glyphs."""
    if value is None:
        return None
    try:
        return parse_width(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _option_flags(func: Any) -> Any:
    """The options that a config file can also set."""
    decorators = [
        click.option("--layout", type=click.Choice(CHOICES["layout"]), default=None,
                     help="Derivative layout (default: numerator)."),
        click.option("--lang", type=click.Choice(CHOICES["lang"]), default=None,
                     help="Language of the step notes (default: zh)."),
        click.option("--steps", type=click.Choice(CHOICES["steps"]), default=None,
                     help="How many steps to show (default: full)."),
        click.option("--method", type=click.Choice(CHOICES["method"]), default=None,
                     help="How e^{X} is differentiated: the integral rule, or seed 000's power series "
                          "(default: integral)."),
        click.option("--number/--no-number", "number", default=None,
                     help="Number the display equations (default: --number)."),
        click.option("--width", default=None, metavar="CHARS|PXpx", callback=_width_callback,
                     help=f"Line width: characters (e.g. 48) or the column size (e.g. 600px); default {DEFAULT_WIDTH}."),
        click.option("--shape", "shapes", multiple=True, metavar="NAME=RxC",
                     callback=_shape_callback,
                     help="Fix a symbol's size, e.g. --shape A=3x4 (repeatable)."),
        click.option("--symmetric", "symmetric", multiple=True, metavar="NAME",
                     help="A symmetric matrix, e.g. --symmetric X (repeatable)."),
        click.option("--templates", "templates_dir", default=None,
                     type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="A folder whose templates override the built-in ones."),
        click.option("--config", "config_path", default=None,
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Use this configuration file instead of looking one up."),
        click.option("--no-config", is_flag=True,
                     help="Ignore matdiff-tex.toml and pyproject.toml."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@dataclass
class Settings:
    """Options from the command line and how to find the configuration file."""

    flags: dict[str, Any]
    config_path: Path | None = None
    no_config: bool = False
    force: bool = False
    strict: bool = False
    finder: ConfigFinder = field(default_factory=ConfigFinder)

    def config_for(self, folder: Path) -> Config:
        """The configuration for notes in ``folder`` (raises ConfigError for a bad file)."""
        if self.no_config:
            return Config()
        if self.config_path is not None:
            return load_config(self.config_path)
        return self.finder.for_folder(folder)

    def options_for(self, folder: Path) -> dict[str, Any]:
        """Configuration file options with the command-line flags on top."""
        config = self.config_for(folder)
        options = dict(config.options)
        for key, value in self.flags.items():
            if key == "shapes":
                options["shapes"] = {**options.get("shapes", {}), **value}
            elif key == "symmetric":
                options["symmetric"] = tuple(sorted({*options.get("symmetric", ()), *value}))
            else:
                options[key] = value
        if "templates_dir" in options:
            options["templates_dir"] = str(options["templates_dir"])
        return options


def _settings(
    layout: str | None,
    lang: str | None,
    steps: str | None,
    shapes: dict[str, Any],
    templates_dir: Path | None,
    config_path: Path | None,
    no_config: bool,
    symmetric: tuple[str, ...] = (),
    *,
    number: bool | None = None,
    width: int | None = None,
    method: str | None = None,
) -> Settings:
    """Collect the flags that were given (None and empty mean: not given)."""
    given = {"layout": layout, "lang": lang, "steps": steps, "templates_dir": templates_dir,
             "number": number, "width": width, "method": method}
    flags: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
    if shapes:
        flags["shapes"] = shapes
    if symmetric:
        try:
            flags["symmetric"] = symmetric_value(list(symmetric))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--symmetric") from None
    if templates_dir is not None:
        flags["templates_dir"] = templates_dir.resolve()
    return Settings(flags, config_path=config_path, no_config=no_config)


# ---------------------------------------------------------------- the group


@click.group(cls=MatdiffGroup, epilog=MAIN_EPILOG,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="matdiff-tex")
def main() -> None:
    """Replace \\deriv<F><X> and \\hessian<f><X> directives in Markdown and LaTeX
    notes with checked, step-by-step matrix-calculus derivations."""


# ---------------------------------------------------------------- render


@dataclass(frozen=True)
class Job:
    """One note to render: where it comes from, how it is named, where it goes."""

    source: Path | None  # None: standard input
    display: str
    fmt: str | None
    target: Path | None = None  # None: standard output (or the source itself, in place)
    root: Path | None = None  # the -o folder the target must stay inside (None: -o names a file)


@dataclass
class RunState:
    """What a render run has seen so far."""

    errors: list[MatdiffError] = field(default_factory=list)
    failed_files: int = 0
    changed: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    defer_messages: bool = False
    quiet: bool = False
    notices: bool = False  # report directives left alone in code (--verbose, --check)

    def say(self, text: str) -> None:
        """Print to stderr now, or after the progress bar has finished."""
        if self.defer_messages:
            self.deferred.append(text)
        else:
            click.echo(text, err=True)

    def fail(self, errors: list[MatdiffError]) -> None:
        """Record (and print) the errors of one file."""
        self.failed_files += 1
        self.errors.extend(errors)
        for error in errors:
            self.say(error.format())


@main.command(epilog=EXIT_STATUS_HELP, short_help="Expand the directives of notes (or stdin).")
@click.argument("inputs", nargs=-1, required=True, metavar="FILE_OR_FOLDER...")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Output file (one input; '-' for stdout) or folder (several inputs or a folder).")
@click.option("-i", "--in-place", is_flag=True,
              help="Rewrite the notes, keeping each directive in a marker comment.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if a note (or -o output) is not current.")
@click.option("-f", "--format", "fmt", type=click.Choice(["markdown", "latex", "notebook"]), default=None,
              help="Input format (needed for stdin; otherwise from .md/.markdown/.tex).")
@click.option("--force", is_flag=True,
              help="With --in-place: rewrite expansions that were edited by hand.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print only errors (and, with --check, the notes that would change).")
@click.option("-v", "--verbose", is_flag=True,
              help="Also report directives left alone because they stand in code.")
@click.option("--markdown", "markdown_mode", type=click.Choice(DOCUMENT_CHOICES["markdown"]), default=None,
              help="How Markdown is read: mkdocs opens admonitions, details and tabs (default: commonmark).")
@click.option("--flavor", type=click.Choice(DOCUMENT_CHOICES["flavor"]), default=None,
              help="Output flavour: pandoc writes display math as pandoc reads it (default: default).")
@click.option("--solutions", type=click.Choice(CHOICES["solutions"]), default=None,
              help="hide: a student's copy, each directive's question and blank space instead of its "
                   "solution (default: show).")
@click.option("--strict", is_flag=True, help=STRICT_HELP)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Render N notes at a time in worker processes (default: the number of cores).")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Cache folder (default: $MATDIFF_TEX_CACHE_DIR, else the user cache folder).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop a directive after this much CPU time, as an error (default 10; 0: no limit).")
@_option_flags
def render(
    inputs: tuple[str, ...],
    output: str | None,
    in_place: bool,
    check: bool,
    fmt: str | None,
    force: bool,
    quiet: bool,
    verbose: bool,
    markdown_mode: str | None,
    flavor: str | None,
    solutions: str | None,
    strict: bool,
    jobs: int | None,
    cache_dir: str | None,
    no_cache: bool,
    time_limit: float | None,
    layout: str | None,
    lang: str | None,
    steps: str | None,
    method: str | None,
    number: bool | None,
    width: int | None,
    shapes: dict[str, Any],
    symmetric: tuple[str, ...],
    templates_dir: Path | None,
    config_path: Path | None,
    no_config: bool,
) -> None:
    """Expand the directives of FILE... (Markdown or LaTeX; '-' reads stdin).

    Without -o, one note goes to standard output. A folder is searched for
    .md, .markdown and .tex files, and its structure is kept under -o.
    Nothing is written for a note that has an error.
    """
    output = None if output in ("-", "/dev/stdout") else output
    mode = _render_mode(inputs, output, in_place, check)
    if force and mode not in ("in-place", "check"):
        raise click.UsageError("--force only applies to --in-place (and --check)")
    settings = _settings(layout, lang, steps, shapes, templates_dir, config_path, no_config, symmetric,
                         number=number, width=width, method=method)
    settings.flags.update({key: value for key, value in (("markdown", markdown_mode), ("flavor", flavor),
                                                         ("solutions", solutions)) if value is not None})
    settings.force, settings.strict = force, strict
    planned = _plan_jobs(inputs, output, fmt, mode)
    state = RunState(quiet=quiet, notices=(verbose or mode == "check") and not quiet)
    if time_limit is not None:
        os.environ["MATDIFF_TEX_TIME_LIMIT"] = repr(time_limit)  # read by matdiff_tex.limits (and workers)
    from .cache import open_cache
    from .parallel import Task, default_jobs, render_all

    cache = open_cache(cache_dir, enabled=not no_cache)
    prepared = [_prepare_job(job, mode, settings) for job in planned]
    tasks = [Task(source.text, job.fmt, job.display, options, _uses_markers(job, mode),
                  settings.force and _uses_markers(job, mode), settings.strict)
             for job, source, options in prepared if source is not None]
    results = render_all(tasks, jobs or default_jobs(), None if cache is None else str(cache.root))
    for job, source, failure in _with_progress(prepared, state, quiet):
        if source is None:
            state.fail(failure)
            continue
        text, errors, warnings, notices = next(results)
        for warning in warnings:
            state.say(warning.format())
        for notice in notices if state.notices else ():
            state.say(notice.format())
        if errors:
            state.fail(errors)
            continue
        _deliver_or_fail(job, mode, source, text, state)
    results.close()  # ends the workers and trims the cache
    _finish(state, mode, quiet)


def _render_mode(
    inputs: tuple[str, ...], output: str | None, in_place: bool, check: bool
) -> Mode:
    """Check that the options fit together and say what the run does."""
    if in_place and check:
        raise click.UsageError("--in-place and --check exclude each other (--check writes nothing)")
    if in_place and output is not None:
        raise click.UsageError("--in-place and -o exclude each other")
    if "-" in inputs and len(inputs) > 1:
        raise click.UsageError("'-' (standard input) cannot be mixed with other inputs")
    if "-" in inputs and in_place:
        raise click.UsageError("--in-place needs files, not standard input")
    if in_place:
        return "in-place"
    if check:
        return "check"
    if output is not None:
        return "output"
    if len(inputs) > 1 or any(Path(name).is_dir() for name in inputs if name != "-"):
        raise click.UsageError(
            "several notes need -o FOLDER, --in-place or --check (one note goes to stdout)"
        )
    return "stdout"


def _plan_jobs(
    inputs: tuple[str, ...], output: str | None, fmt: str | None, mode: Mode
) -> list[Job]:
    """Expand folders into notes and decide where each note's output goes."""
    if inputs == ("-",):
        if fmt is None:
            raise click.UsageError("standard input needs --format markdown or --format latex")
        return [Job(None, "<stdin>", fmt, None if output is None else Path(output))]
    real = RealPaths()
    files = list(_expand_inputs(inputs, output, real))
    if not files:
        raise click.UsageError("no .md, .markdown or .tex files found in " + ", ".join(inputs))
    single = len(inputs) == 1 and not Path(inputs[0]).is_dir()
    base = None if output is None or single else _common_base(inputs)
    jobs = []
    for path, display in files:
        target = None if output is None else _target(path, output, base)
        root = None if output is None or target == Path(output) else Path(output)
        jobs.append(Job(path, display, fmt or FORMAT_BY_SUFFIX.get(path.suffix.lower()), target, root))
    _refuse_overwriting_sources(jobs, mode, real)
    return jobs


def _expand_inputs(inputs: tuple[str, ...], output: str | None,
                   real: RealPaths | None = None) -> Iterator[tuple[Path, str]]:
    """Each file as given, and each note found in a folder (sorted, output folder excluded)."""
    real = real if real is not None else RealPaths()
    out_abs = os.path.realpath(output) if output is not None else None
    for name in inputs:
        path = Path(name)
        if not path.is_dir():
            yield path, name
            continue
        for found in sorted(_notes_in(path)):
            if out_abs is not None and _is_within(real.of(found), out_abs):
                continue
            yield found, str(found)


def _notes_in(folder: Path) -> Iterator[Path]:
    """Markdown and LaTeX notes under ``folder``, skipping hidden and tool folders."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS]
        for name in files:
            if Path(name).suffix.lower() in FORMAT_BY_SUFFIX and not name.startswith("."):
                yield Path(root) / name


def _is_within(path: str, folder: str) -> bool:
    """Is ``path`` inside ``folder`` (or the folder itself)?"""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _target(path: Path, output: str, base: str | None) -> Path:
    """Where the rendered note goes under ``-o`` (a name ending in / is a folder): the place of
    ``path`` under ``base`` (:func:`_common_base`), or, for a single note (``base`` None), the
    output itself."""
    if base is None:
        if Path(output).is_dir() or output.endswith(("/", os.sep)):
            return Path(output) / path.name
        return Path(output)
    return Path(output) / os.path.relpath(os.path.abspath(path), base)


def _common_base(inputs: tuple[str, ...]) -> str:
    """The folder that -o mirrors: the deepest folder holding every input."""
    anchors = [
        os.path.abspath(name) if Path(name).is_dir() else os.path.dirname(os.path.abspath(name))
        for name in inputs
    ]
    return os.path.commonpath(anchors)


def _refuse_overwriting_sources(jobs: list[Job], mode: Mode, real: RealPaths) -> None:
    """-o must not reach one of the inputs, not even through a symbolic link: that is what
    --in-place is for."""
    if mode != "output":
        return
    sources = {real.of(job.source) for job in jobs if job.source is not None}
    for job in jobs:
        if job.target is not None and real.of(job.target) in sources:
            raise click.UsageError(
                f"-o would overwrite the input {job.display}; use --in-place to rewrite notes"
            )


def _with_progress(jobs: list[Any], state: RunState, quiet: bool) -> Iterator[Any]:
    """Iterate over the jobs, with a progress bar on a terminal when there are many."""
    if quiet or len(jobs) < PROGRESS_MIN_FILES or not _stderr_is_terminal():
        yield from jobs
        return
    state.defer_messages = True
    with click.progressbar(
        jobs, label="matdiff-tex", file=sys.stderr, show_pos=True,
        item_show_func=lambda item: item[0].display if item is not None else None,
    ) as bar:
        yield from bar
    state.defer_messages = False
    for text in state.deferred:
        click.echo(text, err=True)


def _stderr_is_terminal() -> bool:
    """True when standard error is a terminal (not a pipe, file or CI log)."""
    try:
        return os.isatty(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def _prepare_job(job: Job, mode: Mode, settings: Settings) -> tuple[Job, Any, Any]:
    """``(job, source, options)`` for a note to render, or ``(job, None, errors)`` when it cannot be read."""
    try:
        source = _read(job)
        if job.fmt is None:
            raise ReadError(
                "cannot tell the format from the file name; use --format markdown|latex",
                path=job.display,
            )
        folder = job.source.parent if job.source is not None else Path.cwd()
        return job, source, settings.options_for(folder)
    except MatdiffError as exc:
        return job, None, [exc]
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        return job, None, [_internal_error(exc, job.display)]


def _deliver_or_fail(job: Job, mode: Mode, source: SourceText, text: str, state: RunState) -> None:
    """:func:`_deliver`, with a failure to write recorded as this note's error (the run goes on)."""
    try:
        _deliver(job, mode, source, text, state)
    except MatdiffError as exc:
        state.fail([exc])
    except BrokenPipeError:  # the reader of standard output has gone: stop quietly
        raise
    except OSError as exc:  # the environment (a full disk, a closed pipe): one line, and go on
        where = job.display if job.target is None else str(job.target)
        state.fail([WriteError(f"cannot write: {exc.strerror or exc}", path=where)])


def _uses_markers(job: Job, mode: Mode) -> bool:
    """In-place output keeps directives in marker comments; so does checking a note itself."""
    return mode == "in-place" or (mode == "check" and job.target is None)


def _read(job: Job) -> SourceText:
    """The note's text: from its file, or all of standard input."""
    if job.source is None:
        return decode(read_limited(_binary(sys.stdin), job.display), job.display)
    return read_source(job.source, job.display)


def _binary(stream: Any) -> Any:
    """The byte stream under a text stream (stdin/stdout), so CRLF and the BOM pass untouched."""
    return getattr(stream, "buffer", stream)


def _deliver(job: Job, mode: Mode, source: SourceText, text: str, state: RunState) -> None:
    """Write the rendered note where it belongs, or compare it in --check mode."""
    data = source.encode(text)
    if mode == "stdout" or (mode == "output" and job.target is None):
        stream = _binary(sys.stdout)
        stream.write(data)
        stream.flush()
    elif mode == "output":
        if not _is_current(job, source, text, data):  # an unchanged output keeps its time: a
            # watcher, rsync or the site generator's own cache see nothing to redo
            write_atomic(job.target, data, within=job.root, display=str(job.target), durable=False)
    elif mode == "in-place":
        if text != source.text:
            write_atomic(job.source, data, expected=source.stamp, display=job.display)
            state.changed.append(job.display)
            if not state.quiet:
                state.say(f"updated {job.display}")
    elif mode == "check":
        if not _is_current(job, source, text, data):
            state.changed.append(job.display)
            where = job.display if job.target is None else f"{job.target} (from {job.display})"
            state.say(f"would update {where}")


def _is_current(job: Job, source: SourceText, text: str, data: bytes) -> bool:
    """Does the note (or its -o output) already hold exactly this rendering?"""
    if job.target is None:
        return text == source.text
    try:  # only a regular file of the same size is read (a FIFO would block, a device never end)
        info = os.stat(job.target)
        return stat.S_ISREG(info.st_mode) and info.st_size == len(data) and job.target.read_bytes() == data
    except OSError:
        return False


def _finish(state: RunState, mode: Mode, quiet: bool) -> None:
    """Print the summary and leave with the documented exit status."""
    if state.errors:
        total = sum(error.counts for error in state.errors)
        noun = "error" if total == 1 else "errors"
        files = "file" if state.failed_files == 1 else "files"
        click.echo(
            f"matdiff-tex: {total} {noun} in {state.failed_files} {files}; "
            "nothing was written for them",
            err=True,
        )
    if mode == "check" and state.changed and not quiet:
        count = len(state.changed)
        click.echo(
            f"matdiff-tex: {count} file{'s' if count != 1 else ''} would be updated "
            "(run matdiff-tex render --in-place, or -o, to update)",
            err=True,
        )
    status = _status_for(state.errors, check=mode == "check")
    if status == EXIT_OK and mode == "check" and state.changed:
        status = EXIT_CHANGES
    raise click.exceptions.Exit(status)


# ---------------------------------------------------------------- derive


@main.command(epilog=EXIT_STATUS_HELP, short_help="Derive one expression (LaTeX, Markdown or JSON).",
              context_settings={"ignore_unknown_options": True})  # F may start with '-'
@click.argument("f")
@click.argument("x")
@click.option("--hessian", is_flag=True, help="Second derivative of a scalar F.")
@click.option("--strict", is_flag=True, help=STRICT_HELP)
@click.option("--format", "out_format", type=click.Choice(["latex", "markdown", "json"]),
              default="latex", show_default=True, help="What to print.")
@_option_flags
def derive(
    f: str,
    x: str,
    hessian: bool,
    strict: bool,
    out_format: str,
    layout: str | None,
    lang: str | None,
    steps: str | None,
    method: str | None,
    number: bool | None,
    width: int | None,
    shapes: dict[str, Any],
    symmetric: tuple[str, ...],
    templates_dir: Path | None,
    config_path: Path | None,
    no_config: bool,
) -> None:
    """Derive one expression: dF/dX, or the Hessian of F with --hessian.

    \b
    Example:
      matdiff-tex derive '\\boldsymbol{ABX}' '\\boldsymbol{X}' --shape A=3x4 --format json
      matdiff-tex derive -- '-\\boldsymbol{y}^{\\top}\\boldsymbol{x}' '\\boldsymbol{x}'
    (a formula starting with '-' is read as F; '--' before F makes that explicit)
    """
    settings = _settings(layout, lang, steps, shapes, templates_dir, config_path, no_config, symmetric,
                         number=number, width=width, method=method)
    options = settings.options_for(Path.cwd())
    derivation = _derive_or_exit(f, x, options, order=2 if hessian else 1)
    for warning in derivation.warnings:
        located = locate_in_argument(warning, f, x)
        _report(located.as_error() if strict else located)
    if strict and derivation.warnings:
        raise click.exceptions.Exit(EXIT_USER_ERROR)
    if out_format == "json":
        click.echo(json.dumps(derivation_json(derivation, options), ensure_ascii=False, indent=2))
        return
    click.echo(_render_single(f, x, hessian, out_format, options), nl=False)


def _derive_or_exit(f: str, x: str, options: dict[str, Any], order: int) -> Any:
    """Run the engine; a user error is printed against F or X and ends the run."""
    from . import derive as derive_expression

    try:
        return derive_expression(
            f, x, layout=options.get("layout", "numerator"),
            shapes=options.get("shapes") or None, order=order, symmetric=options.get("symmetric", ()),
            functions=dict(options.get("functions", ())) or None, method=options.get("method", "integral"),
        )
    except MatdiffError as exc:
        _report(locate_in_argument(exc, f, x))
        code = EXIT_INTERNAL_ERROR if isinstance(exc, InternalError) else EXIT_USER_ERROR
        raise click.exceptions.Exit(code) from None


def locate_in_argument(error: MatdiffError, f: str, x: str) -> MatdiffError:
    """Place an engine error inside the F or X argument, so the caret points at the culprit."""
    if error.line is not None or error.field not in ("F", "X") or error.span is None:
        return error
    text = f if error.field == "F" else x
    return error.located(path=f"<{error.field}>", line=1, col=error.span[0] + 1, source_line=text)


def _render_single(f: str, x: str, hessian: bool, out_format: str, options: dict[str, Any]) -> str:
    """The display block a directive standing alone would become."""
    from . import render_text

    name = "hessian" if hessian else "deriv"
    fmt = "latex" if out_format == "latex" else "markdown"
    with warnings.catch_warnings():  # derive() has printed them against F already
        warnings.simplefilter("ignore")
        text = render_text(f"\\{name}<{f}><{x}>\n", fmt=fmt, **options)
    return text if text.endswith("\n") else text + "\n"


def derivation_json(derivation: Any, options: dict[str, Any]) -> dict[str, Any]:
    """A derivation as plain data for ``--format json``: the rows ``steps`` selects, notes in ``lang``."""
    from .render import note_text, select_rows

    lang = options.get("lang", "zh")
    templates_dir = options.get("templates_dir")
    return {
        "f": derivation.f_latex,
        "x": derivation.x_latex,
        "order": derivation.order,
        "layout": derivation.layout,
        "lhs": derivation.lhs_latex,
        "result": derivation.result_latex,
        "shape": list(derivation.shape),
        "steps": [
            {
                "lhs": row.lhs,
                "latex": row.rhs,
                "rule": row.rule,
                "note_key": row.note,
                "note": None if row.note is None else note_text(
                    row.note, row.note_args, lang=lang, templates_dir=templates_dir
                ),
            }
            for row in select_rows(derivation, options.get("steps", "full"))
        ],
    }


# ---------------------------------------------------------------- rules


@main.command()
@click.option("--family", default=None, metavar="NAME",
              help="Only the rules of one family (differential, linear, simplify, ...).")
def rules(family: str | None) -> None:
    """List the differentiation rules, family by family, in the order the engine tries them."""
    from .rules.registry import rules as registered_rules

    table = registered_rules(family)
    if not table:
        raise click.UsageError(f"no rules in the family {family!r}")
    width = max(len(rule.name) for rule in table)
    current = None
    for rule in table:
        if rule.family != current:
            current = rule.family
            click.echo(("" if rule is table[0] else "\n") + f"{current}:")
        click.echo(f"  {rule.name:<{width}}  {rule.identity}")


from . import lint_command as _lint_command  # noqa: E402,F401 - registers `matdiff-tex lint`

if __name__ == "__main__":  # pragma: no cover
    main()
