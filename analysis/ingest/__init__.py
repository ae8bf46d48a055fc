"""Reading survey exports: format detection, the codebook, and the tidy response table.

Public entry points::

    inspect_path(path) -> dict                               # analysis.ingest.inspect
    load_codebook(path) -> Codebook / parse_codebook(text, label)
    read_survey_export(path, codebook, source_id, *, wave, filters, pseudonym_key,
                       schools=None) -> SurveyIngest
"""

from analysis.ingest.codebook import (
    Break,
    Codebook,
    ColumnMap,
    Source,
    Variable,
    load_codebook,
    parse_codebook,
)
from analysis.ingest.errors import CodebookError, InputError

# The readers import pandas (1.5 s): loaded when first asked for, so that validating a config
# and its codebook (``mobility-study config check``, the first step of ``run``) stays instant.
_LAZY = {
    "inspect_path": "analysis.ingest.inspect",
    "SurveyIngest": "analysis.ingest.reader",
    "pseudonymise": "analysis.ingest.reader",
    "read_survey_export": "analysis.ingest.reader",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Break",
    "Codebook",
    "CodebookError",
    "ColumnMap",
    "InputError",
    "Source",
    "SurveyIngest",
    "Variable",
    "inspect_path",
    "load_codebook",
    "parse_codebook",
    "pseudonymise",
    "read_survey_export",
]
