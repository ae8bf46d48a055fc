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
from analysis.ingest.inspect import inspect_path
from analysis.ingest.reader import SurveyIngest, pseudonymise, read_survey_export

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
