"""Shared fixtures: the packaged school and country tables, read as the flow reads them."""

from pathlib import Path

import pandas as pd
import pytest

from analysis.mobility.tables import default_table_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mobility"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(default_table_path(name), dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def schools() -> pd.DataFrame:
    return _read("schools")


@pytest.fixture(scope="session")
def countries() -> pd.DataFrame:
    return _read("countries")
