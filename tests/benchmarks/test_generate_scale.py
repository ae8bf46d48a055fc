"""The scaled synthetic study (benchmarks/generate_scale.py): deterministic, in the real export
layouts, readable by the pipeline's readers, with the planted messiness found where it was put.

Expected values come from the files themselves read with the csv module (an independent parse),
from the bundled sample's own generator (the IMT Erasmus+ rows) or from the counts the generator
planted, never from the reader under test.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import FilterConfig
from analysis.ingest import load_codebook, read_survey_export
from analysis.mobility import read_mobility_file
from analysis.mobility.tables import default_table_path

REPO = Path(__file__).resolve().parents[2]
RESPONSES = 2_000
ERASMUS_ROWS = 20_000


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


gen = _load("generate_scale", REPO / "benchmarks" / "generate_scale.py")
bench = _load("bench_scale", REPO / "benchmarks" / "bench_scale.py")


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("scale")
    manifest = gen.generate(out, RESPONSES, ERASMUS_ROWS, seed=7, max_rows_per_file=500)
    return out, manifest


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    def read(p: Path) -> pd.DataFrame:
        return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")

    return read(default_table_path("schools")), read(default_table_path("countries"))


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name != "manifest.json"  # holds the generation time
    }


def test_same_seed_same_bytes_other_seed_other_bytes(scaled, tmp_path):
    out, _ = scaled
    gen.generate(tmp_path / "again", RESPONSES, ERASMUS_ROWS, seed=7, max_rows_per_file=500)
    assert _digest(tmp_path / "again") == _digest(out)
    gen.generate(tmp_path / "other", RESPONSES, ERASMUS_ROWS, seed=8, max_rows_per_file=500)
    other = _digest(tmp_path / "other")
    assert other["erasmus_ka1.csv"] != _digest(out)["erasmus_ka1.csv"]


def test_files_rows_and_columns(scaled):
    out, m = scaled
    surveys = m["surveys"]
    assert sum(s["rows"] for s in surveys) == RESPONSES
    assert {s["wave"] for s in surveys} == {"2021", "2022", "2023"}
    assert {s["platform"] for s in surveys} == {"qualtrics", "limesurvey"}
    qualtrics = [s for s in surveys if s["platform"] == "qualtrics"]
    assert len(qualtrics) > 2  # waves split over several exports (max 500 rows per file)
    for s in qualtrics:
        text = (out / s["file"]).read_text(encoding="utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows[0]) == 38 and all(len(r) == 38 for r in rows)
        assert rows[2][0] == '{"ImportId":"startDate","timeZone":"Europe/Paris"}'
        assert len(rows) - 3 == s["rows"]
        assert "\r\n" not in text  # LF line ends
    schools = sorted(sch for s in qualtrics if s["wave"] == "2023" for sch in s["schools"])
    assert len(schools) == 10 and len(set(schools)) == 10  # every school, in one file each
    for s in (s for s in surveys if s["platform"] == "limesurvey"):
        raw = (out / s["file"]).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n\r\n")
        rows = list(csv.reader(io.StringIO(raw[3:].decode()), delimiter=";"))
        assert rows[0][:4] == ["id", "submitdate", "lastpage", "startlanguage"]
        assert len(rows) - 2 == s["rows"]  # header + final empty line
    # Erasmus+: the 24 KA1 columns, M rows, the IMT rows of the sample with Participants x k
    lines = (out / "erasmus_ka1.csv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split(";")
    gs = gen.gs
    assert head == gs.ERASMUS_HEADER and len(lines) - 1 == ERASMUS_ROWS
    rows = list(csv.reader(lines[1:], delimiter=";"))
    assert all(len(r) == 24 for r in rows)
    imt_codes = {
        gs._pad_code(code, nbsp=nb)
        for table in gs.ERASMUS_SENDERS.values()
        for _, senders in table
        for code, *_ in senders
        for nb in (False, True)
    }
    got = sum(int(r[23]) for r in rows if r[18] in imt_codes and r[10] == "Learner")
    sample = list(
        csv.reader(io.StringIO(gs._erasmus(gs.np.random.default_rng([7, 3]), gs._enrolment(
            gs.np.random.default_rng([7, 5])))[0]), delimiter=";")
    )[1:]  # fmt: skip
    want = sum(int(r[23]) for r in sample if r[18] in imt_codes and r[10] == "Learner")
    assert got == want * m["enrolment_scale"]
    tomllib.loads((out / "study.toml").read_text(encoding="utf-8"))


def test_readers_find_what_was_planted(scaled):
    out, m = scaled
    schools, countries = _tables()
    codebook = load_codebook(out / "codebook.toml")
    filters = FilterConfig(drop_unfinished=True, min_duration_seconds=60, drop_duplicates=True)
    for s in m["surveys"]:
        res = read_survey_export(
            out / s["file"], codebook, s["source"], wave=s["wave"], filters=filters,
            pseudonym_key="k", schools=schools,
        )  # fmt: skip
        man, planted = res.manifest, s["planted"]
        assert man["rows_read"] == s["rows"]
        if s["platform"] == "qualtrics":
            f = man["filtered"]
            assert f["qualtrics_preview"] == planted["preview"]
            assert f["qualtrics_spam"] == planted["spam"]
            assert f["unfinished"] == planted["unfinished"]
            assert f["speeder"] == planted["speeders"]
            assert f["duplicate"] == planted["duplicates"]
            q = res.quarantine
            assert (q["reason"] == "unknown_school").sum() == planted["unknown_school"]
            assert (q["reason"] == "out_of_range").sum() == planted["out_of_scale"]
            # the extra questions: Q10_* mapped (extra Likert variables), Q11/Q12 listed
            assert {"Q11", "Q12"} <= set(man["unmapped_columns"])
            assert "Q10_1" not in man["unmapped_columns"]
            extra = res.responses["support_international_office"]
            assert extra.notna().sum() > 0 and extra.dropna().isin([1, 2, 3, 4, 5]).all()
            assert set(res.responses["school"].astype(str)) == set(s["schools"])
        else:
            assert man["filtered"]["incomplete"] == planted["incomplete"]
            assert set(res.responses["school"].astype(str)) == {"imt_nord_europe"}
        # personal data never reaches the tidy table
        text = res.responses.astype(str).to_csv()
        assert "@example.org" not in text and "STU1" not in text
    er = read_mobility_file(out / "erasmus_ka1.csv", "erasmus-ka1", schools, countries)
    assert er.manifest["rows_read"] == ERASMUS_ROWS
    assert set(er.records["school"]) == {sch.id for sch in gen.gs.SCHOOLS}


def test_enrolment_keeps_sample_response_rates():
    enrol = gen.gs._enrolment(gen.np.random.default_rng([1, 5]))
    k = gen.enrolment_scale(1_000_000, enrol)
    wave_2023 = gen._wave_sizes(1_000_000)["2023"]
    population = sum(f + m for (sid, y), (f, m) in enrol.items() if y == 2022) * k
    assert 0.05 < wave_2023 / population < 0.25  # the sample: 8 %-25 % by school


def test_differences_and_report_shape():
    a = {
        "tables": [{"id": "t", "keys": ["x"]}],
        "estimates": [{"key": "x", "estimate": 0.5, "se": 0.1}],
    }
    assert bench.differences(a, a) == []
    b = {"tables": a["tables"], "estimates": [{"key": "x", "estimate": 0.5000001, "se": 0.1}]}
    assert bench.differences(a, b) == ["estimate x: estimate 0.5 != 0.5000001"]
    c = {"tables": [{"id": "t", "keys": ["x", "y"]}], "estimates": a["estimates"]}
    assert bench.differences(a, c) == ["table t: differs"]
    html = '<section id="a"><table><tr><td>1</td></tr><tr class="x"></tr></table></section>'
    shape = bench.report_shape(html)
    assert shape["tr"] == 2 and shape["tables"] == 1 and shape["sections"] == ["a"]


def test_flow_log_stages_from_prefect_log_lines():
    import time as _time

    started = _time.mktime(_time.strptime("2026-11-28 20:39:21", "%Y-%m-%d %H:%M:%S"))
    log = "\n".join(
        [
            "20:39:29.476 | INFO    | prefect - Starting temporary server on http://127.0.0.1:8704",
            "20:39:39.998 | INFO    | Flow run 'cyan-agouti' - stage: ingest",
            "20:39:40.100 | INFO    | Flow run 'cyan-agouti' - stage: ingest (a.csv)",
            "20:40:28.081 | INFO    | Flow run 'cyan-agouti' - stage: mobility statistics",
            "20:40:30.421 | INFO    | Flow run 'cyan-agouti' - stage: survey statistics",
            "20:41:09.921 | INFO    | Flow run 'cyan-agouti' - stage: render report",
            "20:41:20.508 | INFO    | Flow run 'cyan-agouti' - stage: publish",
            "not a log line",
        ]
    )
    got = bench.flow_log_stages(log, started, started + 121.0)
    # hand-computed from the timestamps: 18.998, 50.423 (to the first survey statistics line),
    # 39.5 (no assemble line: statistics runs to render), 10.587, 1.492 to the end (20:41:22)
    assert got == {
        "start-up": 19.0,
        "ingest": 50.4,
        "statistics": 39.5,
        "render": 10.6,
        "publish": 1.5,
    }
