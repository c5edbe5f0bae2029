"""Jupyter notebooks: the Markdown cells go through the document layer, nothing else changes.

:func:`process_notebook` reads an ``.ipynb`` (JSON, nbformat 4), runs
:func:`matdiff_tex.document.process_document` on the source of every Markdown cell
(with the notebook's options, markers for ``--in-place``), and writes the notebook
back the way nbformat writes it (keys sorted, one-space indent, non-ASCII kept).
Code cells, raw cells, outputs and all metadata are copied as they are; a notebook
whose cells do not change is returned byte for byte.  The result is validated with
nbformat before it is returned.  An error in a cell is reported at
``nb.ipynb:cell N:LINE:COL`` (N counts cells from 1, LINE the line in that cell).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .errors import MatdiffError
from .fsio import ReadError


def _cell_source(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a string or a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _with_source(cell: dict[str, Any], text: str) -> None:
    """Store ``text`` in the cell in the form its source had (list of lines or one string)."""
    cell["source"] = text.splitlines(keepends=True) if isinstance(cell.get("source"), list) else text


def _load(text: str, path: str | None) -> dict[str, Any]:
    """The notebook as JSON; ReadError when it is not a notebook."""
    try:
        notebook = json.loads(text)
    except ValueError as exc:
        raise ReadError(f"not a Jupyter notebook (invalid JSON: {exc})", path=path) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ReadError("not a Jupyter notebook (no list of cells); only nbformat 4 is read", path=path)
    return notebook


def _validate(notebook: dict[str, Any], path: str | None) -> None:
    """nbformat's own validation of the notebook that would be written."""
    try:
        import nbformat
    except ImportError:
        raise ReadError("notebooks need nbformat: pip install 'matdiff-tex[notebook]'", path=path) from None

    try:
        nbformat.validate(nbformat.from_dict(notebook))
    except nbformat.ValidationError as exc:
        raise ReadError(f"the notebook is not valid nbformat: {exc.message}", path=path) from None


def dumps(notebook: Mapping[str, Any]) -> str:
    """The notebook as nbformat writes it."""
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def process_notebook(text: str, *, path: str | None = None, **kwargs: Any) -> "DocumentResult":
    """Expand the directives of every Markdown cell of the notebook ``text``; collect all errors.

    ``kwargs`` are :func:`matdiff_tex.document.process_document`'s (options, markers, ...).
    """
    from .document import DocumentResult, process_document

    try:
        notebook = _load(text, path)
    except MatdiffError as error:
        return DocumentResult(text, [error])
    errors: list[MatdiffError] = []
    notices: list[MatdiffError] = []
    warnings: list[MatdiffError] = []
    count, changed = 0, False
    for number, cell in enumerate(notebook["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        where = f"{path or '<notebook>'}:cell {number}"
        source = _cell_source(cell)
        result = process_document(source, "markdown", path=where, **kwargs)
        errors += result.errors
        notices += result.notices
        warnings += result.warnings
        count += result.directives
        if not result.errors and result.text != source:
            _with_source(cell, result.text)
            changed = True
    if errors:
        return DocumentResult(text, errors, count, warnings=warnings, notices=notices)
    if not changed:
        return DocumentResult(text, [], count, warnings=warnings, notices=notices)
    try:
        _validate(notebook, path)
    except MatdiffError as error:
        return DocumentResult(text, [error], count, warnings=warnings, notices=notices)
    return DocumentResult(dumps(notebook), [], count, True, warnings, notices)
