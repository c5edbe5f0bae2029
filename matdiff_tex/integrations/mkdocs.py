"""The MkDocs plugin: expand matdiff-tex directives while the site builds.

Register it in ``mkdocs.yml`` (the options are the site's defaults; a page's front
matter ``matdiff:`` and each directive's ``[options]`` override them)::

    plugins:
      - search
      - matdiff-tex:
          layout: denominator        # numerator | denominator
          steps: full                # full | brief | none
          lang: en                   # zh | en
          width: 48                  # line width (glyphs, or 600px); Material's default: 48
          solutions: hide            # show (default) | hide: questions and blank space, no solutions
          shapes: {A: 3x4}           # optional
          templates: my-templates    # optional folder, relative to mkdocs.yml
          fail_on_error: true        # false: warn and leave the page as written
          lint: warn                 # check the page's own math (matdiff-tex lint): warn | error | off

Every error of every page is logged as ``docs/page.md:LINE:COL: error: ...`` with
the source line and a caret, lines counted in the file on disk (front matter
included, although MkDocs hands ``on_page_markdown`` the text after it); with
``fail_on_error`` the build then stops with a :class:`mkdocs.exceptions.PluginError`
once all pages are read, so one run shows every error.

When the site's ``markdown_extensions`` include ``admonition``, ``pymdownx.details``
or ``pymdownx.tabbed``, pages are scanned as MkDocs reads them (``markdown: mkdocs``):
directives inside those containers' indented bodies are expanded, not taken for
indented code.  A directive left alone because it stands in code is logged (INFO)
as ``docs/page.md:LINE:COL: note: \\deriv not expanded (inside code)``.

Importing this module imports MkDocs and matdiff-tex's scanner, not sympy: the
engine is loaded when the first page with a directive is met.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.utils.meta import get_data

from ..document import process_body
from ..results import TRIGGERS
from ..errors import ConfigError, MatdiffError
from ..options import CHOICES, parse_items, site_options
from ..scan.frontmatter import FRONT_MATTER_KEYS as FRONT_KEYS

log = get_plugin_logger("matdiff-tex")
#: Python-Markdown extensions whose containers hold indented Markdown, not code.
CONTAINER_EXTENSIONS = frozenset({"admonition", "pymdownx.details", "pymdownx.tabbed"})

#: The line width (in the glyphs of :func:`matdiff_tex.render.visual_width`) on a MkDocs Material
#: site that sets none: Material's content column is 688 CSS px on a desktop screen (both sidebars
#: shown; 34.4 em of its 16 px text, and as many em from 100 em up), and MathJax 3 set up as the
#: README says (arithmatex, no equation numbers) draws a glyph of the width model in up to 14 px
#: there, matching the page font's x-height (measured in headless Chromium: tests/test_mathjax_material.py).
MATERIAL_WIDTH = 48

__all__ = ["MatdiffConfig", "MatdiffPlugin"]


class MatdiffConfig(base.Config):
    """The plugin's options in ``mkdocs.yml``."""

    layout = c.Optional(c.Choice(CHOICES["layout"]))
    steps = c.Optional(c.Choice(CHOICES["steps"]))
    lang = c.Optional(c.Choice(CHOICES["lang"]))
    solutions = c.Optional(c.Choice(CHOICES["solutions"]))  # hide: a student's copy of the site
    number = c.Optional(c.Type(bool))
    width = c.Optional(c.Type((int, str)))
    shapes = c.Optional(c.Type((dict, str)))
    templates = c.Optional(c.Dir(exists=True))  # made absolute, relative to mkdocs.yml
    fail_on_error = c.Type(bool, default=True)
    lint = c.Type((str, bool), default="warn")  # warn | error | off (YAML reads a bare off as false)
    cache = c.Type(bool, default=True)  # the on-disk cache of matdiff_tex.cache
    cache_dir = c.Optional(c.Type(str))  # default: $MATDIFF_TEX_CACHE_DIR, else the user cache folder


class MatdiffPlugin(BasePlugin[MatdiffConfig]):
    """Runs :func:`matdiff_tex.document.process_body` on every page's Markdown."""

    supports_multiple_instances = False

    def __init__(self) -> None:
        super().__init__()
        self.site: dict[str, Any] = {}
        self.failed: dict[str, int] = {}  # display path -> number of errors
        self.config_dir: str | None = None
        self.cache: Any = None

    # ------------------------------------------------------------ events

    def on_config(self, config: Any) -> Any:
        """Check the site options once, before any page is read."""
        options = {key: self.config[key]
                   for key in ("layout", "steps", "lang", "number", "width", "shapes", "solutions")}
        if options["width"] is None and _theme_name(config) == "material":
            options["width"] = MATERIAL_WIDTH
        templates = self.config["templates"]
        options["templates_dir"] = os.path.abspath(templates) if templates else None
        if CONTAINER_EXTENSIONS & set(_extension_names(config.get("markdown_extensions"))):
            options["markdown"] = "mkdocs"
        lint = self.config["lint"]
        self.config["lint"] = {False: "off", True: "warn"}.get(lint, lint) if isinstance(lint, bool) else lint
        if self.config["lint"] not in ("warn", "error", "off"):
            raise PluginError(f"matdiff-tex: in mkdocs.yml: lint must be warn, error or off, not {lint!r}")
        try:
            self.site = site_options(options)
        except ConfigError as error:
            raise PluginError(f"matdiff-tex: in mkdocs.yml: {error.message}") from None
        path = getattr(config, "config_file_path", None) or config.get("config_file_path")
        self.config_dir = os.path.dirname(os.path.abspath(path)) if path else None
        return config

    def on_pre_build(self, config: Any) -> None:
        """Forget the errors of the previous build (``mkdocs serve`` builds again and again)."""
        self.failed = {}
        from ..cache import open_cache

        self.cache = open_cache(self.config["cache_dir"], enabled=self.config["cache"])

    def on_post_build(self, config: Any) -> None:
        """Keep the cache within its size bound."""
        if self.cache is not None and self.cache.writes:
            self.cache.prune()

    def on_page_markdown(self, markdown: str, page: Any, config: Any, files: Any) -> str:
        """The page's Markdown with every directive expanded (unchanged when one fails)."""
        if self.config["lint"] != "off":
            self._lint(markdown, page)
        if not any(trigger in markdown for trigger in TRIGGERS):
            return markdown
        display = self._display_path(page)
        prefix, front = self._front_matter(page)
        try:
            options = _merge(self.site, front)
        except ConfigError as error:
            message = f"in the page's matdiff: meta: {error.message}"
            self._report(display, [MatdiffError(message, path=display)])
            return markdown
        result = process_body(markdown, "markdown", front_matter=prefix, path=display, options=options,
                              cache=self.cache)
        for notice in result.notices:
            log.info(notice.format())
        if result.errors:
            self._report(display, result.errors)
        return result.text

    def on_env(self, env: Any, config: Any, files: Any) -> Any:
        """After all pages are read: stop the build when any page had an error."""
        if self.failed and (self.config["fail_on_error"] or self.config["lint"] == "error"):
            total = sum(self.failed.values())
            pages = ", ".join(sorted(self.failed))
            raise PluginError(
                f"matdiff-tex: {total} error{'s' if total != 1 else ''} in "
                f"{len(self.failed)} page{'s' if len(self.failed) != 1 else ''} ({pages}); "
                "each is shown above with its file:line:col "
                "(set fail_on_error: false to build anyway, leaving those pages as written)"
            )
        return env

    # ------------------------------------------------------------ helpers

    def _lint(self, markdown: str, page: Any) -> None:
        """``lint: warn`` logs each wrong claim of the page; ``lint: error`` also fails the build."""
        from ..check.lint import CLAIM_TRIGGERS, lint_for_site

        if not any(trigger in markdown for trigger in CLAIM_TRIGGERS):
            return
        display = self._display_path(page)
        prefix, _ = self._front_matter(page)
        findings = lint_for_site(prefix + markdown, "markdown", display, self.site)
        if not findings:
            return
        if self.config["lint"] == "error":
            self.failed[display] = self.failed.get(display, 0) + len(findings)
        for finding in findings:
            (log.error if self.config["lint"] == "error" else log.warning)(finding.format())

    def _report(self, display: str, errors: list[MatdiffError]) -> None:
        """Log each error as ``path:line:col: error: ...`` plus source line and caret."""
        self.failed[display] = self.failed.get(display, 0) + len(errors)
        emit = log.error if self.config["fail_on_error"] else log.warning
        for error in errors:
            emit(error.format())
        if not self.config["fail_on_error"]:
            log.warning(f"{display}: left unexpanded because of the error(s) above")

    def _display_path(self, page: Any) -> str:
        """The page's file as a user finds it: relative to mkdocs.yml's folder (``docs/x.md``)."""
        abs_path = getattr(page.file, "abs_src_path", None)
        if abs_path and self.config_dir:
            relative = os.path.relpath(abs_path, self.config_dir)
            return relative.replace(os.sep, "/")
        return abs_path or page.file.src_path

    @staticmethod
    def _front_matter(page: Any) -> tuple[str, Any]:
        """What MkDocs cut off before ``markdown``, and the page's ``matdiff`` meta when needed.

        MkDocs hands ``on_page_markdown`` the source without its front matter.  The
        source is read again (as MkDocs reads it) and MkDocs' own splitter finds the
        cut: a YAML front matter is put back in front of the Markdown, so
        :func:`process_body` reads its ``matdiff:`` key and counts its lines like
        the command line does.  Other meta-data (MultiMarkdown style) is replaced by
        as many blank lines, and ``page.meta["matdiff"]`` is returned to be applied;
        so is it when the source cannot be read again or does not agree with
        ``page.meta`` (a plugin supplied it).
        """
        meta = page.meta if isinstance(getattr(page, "meta", None), Mapping) else {}
        front = meta.get("matdiff")
        try:
            source = _read_source(page.file)
        except (OSError, ValueError, AssertionError, AttributeError):
            source = None
        if source is None:
            return "", front
        body, data = get_data(source)
        if not source.endswith(body) or not isinstance(data, Mapping) or data.get("matdiff") != front:
            return "", front
        cut = source[: len(source) - len(body)]
        if cut.startswith("---"):
            return cut, None
        return "\n" * cut.count("\n"), front


def _extension_names(extensions: Any) -> list[str]:
    """The names in ``markdown_extensions`` (MkDocs gives a list of names, or of one-key dicts)."""
    names: list[str] = []
    for entry in extensions or ():
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, Mapping):
            names += [str(key) for key in entry]
    return names


def _read_source(file: Any) -> str | None:
    """The page's source as MkDocs reads it (``content_string`` since 1.6, else the file)."""
    if hasattr(file, "content_string"):
        return file.content_string
    path = getattr(file, "abs_src_path", None)
    if not path:
        return None
    with open(path, encoding="utf-8-sig", errors="strict") as handle:
        return handle.read()


def _merge(site: dict[str, Any], front: Any) -> dict[str, Any]:
    """The site options with a page's ``matdiff`` meta on top (shapes merge symbol by symbol).

    Only used when the front matter could not be put back in front of the page;
    ConfigError when the meta is not usable.
    """
    if front is None:
        return site
    if isinstance(front, str):
        items, problems = parse_items(front, assign="=:")
        if problems:
            raise ConfigError(problems[0][1])
        front = {item.key: item.value for item in items}
    if not isinstance(front, Mapping):
        raise ConfigError(f"matdiff must be a mapping like {{layout: denominator}}, not {front!r}")
    for key in front:
        if key not in FRONT_KEYS:
            raise ConfigError(f"unknown option {key!r}; known options: {', '.join(FRONT_KEYS)}")
    layer = site_options(front)
    merged = {**site, **layer}
    if "shapes" in site and "shapes" in layer:
        merged["shapes"] = {**dict(site["shapes"]), **dict(layer["shapes"])}
    return merged


def _theme_name(config: Any) -> str | None:
    """The name of the site's theme (``material``), if it has one."""
    theme = config.get("theme") if hasattr(config, "get") else None
    return getattr(theme, "name", None) or (theme.get("name") if isinstance(theme, Mapping) else None)
