"""Outgoing mobility: readers, harmonisation tables, indicators, trend models, report tables."""

from analysis.mobility.readers import (
    MobilityFormatError,
    MobilityIngest,
    combine_mobility_records,
    detect_mobility_layout,
    drop_double_counted,
    read_mobility_file,
)
from analysis.mobility.tables import default_table_path


def __getattr__(name: str):
    # the report tables need statsmodels (~1.5 s to import): loaded when asked for, so that
    # the readers (e.g. in a reader process) do not pay for it
    if name == "mobility_result_tables":
        from analysis.mobility.study import mobility_result_tables

        return mobility_result_tables
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MobilityFormatError",
    "MobilityIngest",
    "combine_mobility_records",
    "default_table_path",
    "detect_mobility_layout",
    "drop_double_counted",
    "mobility_result_tables",
    "read_mobility_file",
]
