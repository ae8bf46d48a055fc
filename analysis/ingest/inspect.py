"""``inspect_path``: what an input file is, without running a study (``mobility-study inspect``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.ingest.personal import is_personal_column
from analysis.ingest.source import open_table


def inspect_path(path: Path) -> dict[str, Any]:
    """Describe an export: ``format`` (qualtrics, limesurvey, google-forms, surveymonkey, spss,
    erasmus-ka1, school-mobility; csv / xlsx when no known layout matches), ``variant``,
    ``container``, ``encoding``, ``delimiter``, ``decimal_comma``, ``decimal_mark`` (comma / point / None), ``header_rows``, ``rows``
    (data rows before any filter), ``columns`` (ids) and ``personal_data_columns``.

    Reads the whole file once (streaming) so that a truncated or malformed file raises
    :class:`analysis.ingest.errors.InputError` here rather than half-way through a run.
    """
    table = open_table(Path(path))
    lay = table.layout
    rows = 0
    short_rows = 0
    for chunk in table.chunks():
        rows += len(chunk)
        short_rows += int(chunk.isna().any(axis=1).sum())
    info: dict[str, Any] = {
        "file": table.name,
        "format": lay.format,
        "variant": lay.variant,
        "container": table.container,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "decimal_comma": table.decimal_comma,
        "decimal_mark": table.decimal_mark,
        "header_rows": lay.header_rows,
        "rows": rows,
        "columns": list(lay.columns),
        "personal_data_columns": [c for c in lay.columns if is_personal_column(c)],
    }
    if short_rows:
        info["short_rows"] = short_rows
    if table.container == "sav":
        info["variable_labels"] = {
            c: lab for c, lab in zip(lay.columns, lay.labels, strict=True) if lab
        }
    if table.sheets:
        info["sheets"] = dict(table.sheets)
    if table.value_labels:
        info["value_labels"] = sorted(table.value_labels)
    if table.user_missing:
        info["user_missing"] = {k: [list(r) for r in v] for k, v in table.user_missing.items()}
    return info
