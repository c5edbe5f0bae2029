"""``matdiff-tex lint FILES...``: check the derivatives a person wrote (see :mod:`matdiff_tex.check.lint`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .cli import FORMAT_BY_SUFFIX, Settings, _expand_inputs, _report, _shape_callback, main
from .config import CHOICES
from .errors import MatdiffError
from .fsio import read_source

LINT_FORMATS = {**FORMAT_BY_SUFFIX, ".txt": "text"}


@main.command(short_help="Check the matrix calculus written in notes.")
@click.argument("inputs", nargs=-1, required=True, metavar="FILE_OR_FOLDER...")
@click.option("--layout", type=click.Choice([*CHOICES["layout"], "mixed"]), default=None,
              help="Layout of the notes when their front matter does not say; mixed: gradients denominator, Jacobians numerator.")
@click.option("--shape", "shapes", multiple=True, metavar="NAME=RxC", callback=_shape_callback,
              help="Fix a symbol's size, e.g. --shape A=3x4 (repeatable).")
@click.option("--format", "out_format", type=click.Choice(["text", "json"]), default="text",
              help="How to print the findings.")
@click.option("-v", "--verbose", is_flag=True, help="Also list the claims that were skipped, and why.")
@click.option("--config", "config_path", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Use this configuration file instead of looking one up.")
@click.option("--no-config", is_flag=True, help="Ignore matdiff-tex.toml and pyproject.toml.")
def lint(inputs: tuple[str, ...], layout: str | None, shapes: dict[str, Any], out_format: str,
         verbose: bool, config_path: Path | None, no_config: bool) -> None:
    """Check every derivative claim, chain and identity of FILE... numerically.

    \b
    Exit status: 0 no wrong claim, 1 a wrong claim, 2 a file cannot be read.
    Each wrong claim prints as path:line:col: error: ..., then a summary line
    such as "12 claims checked, 1 wrong, 3 skipped" (--verbose says why each
    skipped claim was skipped).  Layout: front matter, then --layout, then
    the configuration file, as for render.
    """
    from .check.lint import Report, lint_report

    settings = Settings({}, config_path=config_path, no_config=no_config)
    total = Report()
    failed = False
    for path, display in _expand_inputs(inputs, None):
        if LINT_FORMATS.get(path.suffix.lower()) == "notebook":  # lint reads Markdown, LaTeX and text
            continue
        try:
            source = read_source(path, display)
            site = settings.config_for(path.resolve().parent).options
        except MatdiffError as error:
            _report(error)
            failed = True
            continue
        fmt = LINT_FORMATS.get(path.suffix.lower(), "markdown")
        report = lint_report(source.text, fmt, layout=layout, shapes=shapes, path=display,
                             site={k: v for k, v in site.items() if k in ("layout", "shapes")})
        total.extend(report)
        if out_format == "text":
            lines = source.text.splitlines()
            for finding in report.findings:
                if finding.severity == "error" or verbose:
                    click.echo(finding.format(), err=False)
                    if finding.severity == "error" and 0 < finding.line <= len(lines):
                        click.echo("    " + lines[finding.line - 1].rstrip())
                        click.echo("    " + " " * (finding.col - 1) + "^")
    if out_format == "json":
        click.echo(json.dumps({
            "checked": total.checked, "wrong": len(total.errors), "skipped": len(total.skipped),
            "findings": [f.as_dict() for f in total.findings if f.severity == "error" or verbose],
        }, ensure_ascii=False, indent=2))
    else:
        click.echo(total.summary(), err=True)
    if failed:
        sys.exit(2)
    sys.exit(1 if total.errors else 0)
