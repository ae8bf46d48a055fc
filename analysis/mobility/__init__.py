"""Outgoing mobility: readers, harmonisation tables, indicators, trend models, report tables."""

from analysis.mobility.readers import (
    MobilityFormatError,
    MobilityIngest,
    combine_mobility_records,
    detect_mobility_layout,
    drop_double_counted,
    read_mobility_file,
)
from analysis.mobility.study import mobility_result_tables
from analysis.mobility.tables import default_table_path

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
