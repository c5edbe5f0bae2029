"""Where the package's data lies (kept apart from the renderer, so the cache can find it cheaply)."""

from __future__ import annotations

from pathlib import Path


def templates_root() -> Path:
    """The built-in templates: inside the installed package, else the repository's ``templates/``."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "templates"
