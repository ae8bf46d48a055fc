"""The readers on the bundled SYNTHETIC sample, against the figures its generator publishes.

``data/generate_sample.py`` writes the sample files and, in their README, the numbers it planted
(participants left out per reason, IMT participants per year).  Those figures come from the
generator's own bookkeeping, not from the code under test.  The test regenerates the sample into
a temporary folder (deterministic, ~2 s) and skips only when the generator or its README
section is absent.
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import parse_config
from analysis.enrolment import read_enrolment
from analysis.mobility import combine_mobility_records, mobility_result_tables, read_mobility_file
from analysis.results import ResultSet

REPO = Path(__file__).resolve().parents[3]
GENERATOR = REPO / "data" / "generate_sample.py"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    if not GENERATOR.is_file():
        pytest.skip("no sample generator")
    out = tmp_path_factory.mktemp("sample")
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True,
                   capture_output=True)  # fmt: skip
    return out


def _published(readme: str) -> dict:
    m = re.search(
        r"(\d+) participants from other French senders.*?(\d+) staff participants.*?"
        r"(\d+) incoming students.*?(\d+) rows with the unknown IMT-looking code `F\s+(\w+)`",
        readme,
        re.S,
    )
    t = re.search(r"\| all IMT schools \|([\d |]+)\n\| IMT Nord Europe[^|]*\|([\d |]+)", readme)
    if not (m and t):
        pytest.skip("the sample README no longer publishes the planted figures")
    ints = lambda s: [int(x) for x in s.split("|") if x.strip()]  # noqa: E731
    return {
        "other_fr": int(m.group(1)),
        "staff": int(m.group(2)),
        "incoming": int(m.group(3)),
        "unknown_rows": int(m.group(4)),
        "unknown_code": "F" + m.group(5),
        "all": ints(t.group(1)),
        "ine": ints(t.group(2)),
    }


def test_erasmus_sample_matches_the_planted_figures(sample, schools, countries):
    pub = _published((sample / "README.md").read_text(encoding="utf-8"))
    files = sorted(sample.glob("erasmus_ka1_*.csv"))
    ing = read_mobility_file(files[0], "auto", schools, countries)
    m = ing.manifest
    assert m["filtered_participants"]["staff_profile"] == pub["staff"]
    assert m["filtered_participants"]["sender_not_in_france"] == pub["incoming"]
    assert ing.unknown_codes == {pub["unknown_code"]: pub["unknown_rows"]}
    r = ing.records
    by_year = r.groupby("academic_year")["participants"].sum()
    assert list(by_year) == pub["all"]
    assert list(by_year.index) == list(range(2014, 2014 + len(pub["all"])))
    ine = r[r["school"] == "imt_nord_europe"].groupby("academic_year")["participants"].sum()
    assert list(ine) == pub["ine"]  # one series across Mines Douai, Télécom Lille, IMT Lille Douai


def test_whole_sample_produces_the_mobility_tables(sample, schools, countries):
    cfg = parse_config(tomllib.loads((sample / "study.toml").read_text("utf-8")),
                       sample / "study.toml")  # fmt: skip
    ingests = [
        read_mobility_file(i.path, i.format, schools, countries, i.school, i.columns)
        for i in cfg.mobility
    ]
    for i in ingests:
        m = i.manifest
        assert m["rows_read"] == m["rows_kept"] + sum(m["filtered"].values()) + m["quarantined"]
    records, combine = combine_mobility_records(ingests)
    # the sheet's Erasmus+-funded rows are in the Erasmus+ file too: counted once (the KA1 file
    # covers every year of the sheet); the independent count is a plain text search
    for i in cfg.mobility:
        if i.format == "school-mobility":
            text = i.path.read_text(encoding="utf-8-sig").splitlines()[1:]
            funded = [ln for ln in text if ";Erasmus+;" in ln]
            assert combine["double_counted"][i.path.name]["rows"] == len(funded) > 0
            assert combine["double_counted"][i.path.name]["participants"] == sum(
                int(ln.rsplit(";", 1)[1]) for ln in funded
            )
    enrol, _, em = read_enrolment(cfg.enrolment, schools)
    assert em["unknown_schools"] == {}
    tables = mobility_result_tables(records, enrol, cfg)
    rs = ResultSet(study={}, tables=tuple(tables))
    rs.to_dict()  # unique keys
    assert isinstance(records, pd.DataFrame) and len(records) > 0
    # every school-year of the enrolment file has a rate
    n_rates = len(rs.table("mobility.outgoing_rate").estimates)
    assert n_rates == len(enrol.groupby(["school", "academic_year"]))
