"""The bundled synthetic sample inputs (data/raw/) and their generator.

The files are read here with plain pandas / csv / tomllib, independently of the pipeline's
readers, so that a reader bug cannot hide a generator bug (and the reverse).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
GENERATOR = ROOT / "data" / "generate_sample.py"

ERASMUS_HEADER = (
    "Project Reference;Academic Year;Mobility Start Month;Mobility End Month;Mobility Duration;"
    "Activity (mob);Field of Education;Participant Nationality;Education Level;Participant Gender;"
    "Participant Profile;Special Needs;Fewer Opportunities;GroupLeader;Participant Age;"
    "Sending Country Code;Sending City;Sending Organization;Sending Organisation Erasmus Code;"
    "Receiving Country Code;Receiving City;Receiving Organization;"
    "Receiving Organisation Erasmus Code;Participants"
)
QUALTRICS_META = [
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
    "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel",
    "UserLanguage",
]  # fmt: skip
INE_CODES = {"LILLE91", "DOUAI05", "LILLE15"}  # IMT Nord Europe and its predecessors
IMT_CODES = INE_CODES | {
    "NANTES80", "BREST05", "NANTES26", "ALBI05", "ALES02", "ST-ETIE06", "PARIS083", "EVRY11",
    "EVRY12", "CANNES09", "PARIS081",
}  # fmt: skip


def _load_generator():
    spec = importlib.util.spec_from_file_location("generate_sample", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    return _load_generator()


@pytest.fixture(scope="module")
def fresh(gen, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fresh")
    gen.generate(out, 2023)
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ------------------------------------------------------------------ determinism


def test_same_seed_gives_identical_bytes(gen, fresh, tmp_path):
    again = tmp_path / "again"
    gen.generate(again, 2023)
    assert _files(again) == _files(fresh)


def test_other_seed_gives_different_data(gen, fresh, tmp_path):
    other = tmp_path / "other"
    gen.generate(other, 7)
    a, b = _files(fresh), _files(other)
    assert a.keys() == b.keys()
    for name in ("survey_2023_qualtrics.csv", "erasmus_ka1_2014_2022.csv", "enrolment.csv"):
        assert a[name] != b[name], name


def test_committed_files_equal_a_fresh_generation(fresh):
    """data/raw/ is written by the generator only: a hand edit shows up here."""
    committed = _files(RAW)
    expected = _files(fresh)
    assert sorted(committed) == sorted(expected)
    changed = [name for name in expected if committed[name] != expected[name]]
    assert not changed, f"re-run `python data/generate_sample.py`: {changed} differ"


def test_cli_writes_the_files(tmp_path):
    out = tmp_path / "cli"
    run = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(out), "--seed", "11"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "survey_2023_qualtrics.csv" in run.stdout
    assert (out / "study.toml").is_file() and (out / "README.md").is_file()


def test_sizes_are_modest():
    assert sum(p.stat().st_size for p in RAW.iterdir()) < 5_000_000


def test_no_clock_time_in_the_files(fresh):
    """Nothing depends on "now": no date after the study's data cut-off anywhere."""
    import re

    for name, data in _files(fresh).items():
        years = {int(y) for y in re.findall(rb"(?<!\d)(20\d\d)-\d\d-\d\d", data)}
        assert not years or max(years) <= 2023, name


def test_synthetic_label():
    readme = (RAW / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "synthetic" in readme
    study = tomllib.loads((RAW / "study.toml").read_text(encoding="utf-8"))
    assert study["study"]["synthetic"] is True


# ------------------------------------------------------------------ Qualtrics 2023


@pytest.fixture(scope="module")
def qualtrics() -> tuple[list[list[str]], pd.DataFrame]:
    raw = (RAW / "survey_2023_qualtrics.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in raw.replace(b'\r\n"', b"")  # LF line ends
    text = raw.decode("utf-8")
    header = list(csv.reader(io.StringIO(text)))[:3]
    df = pd.read_csv(io.StringIO(text), header=0, skiprows=[1, 2], dtype=str, keep_default_na=False)
    return header, df


def test_qualtrics_layout(qualtrics):
    header, df = qualtrics
    ids, labels, imports = header
    assert ids[: len(QUALTRICS_META)] == QUALTRICS_META
    assert labels[:3] == ["Start Date", "End Date", "Response Type"]
    parsed = [json.loads(cell) for cell in imports]
    assert all("ImportId" in p for p in parsed)
    assert parsed[0] == {"ImportId": "startDate", "timeZone": "Europe/Paris"}
    assert {"ImportId": "QID8", "choiceId": "1"} in parsed
    assert [f"Q8_{i}" for i in range(1, 8)] == [c for c in ids if c.startswith("Q8_")]
    assert "Q9_TEXT" in ids
    assert len(df) >= 2400
    assert set(df["UserLanguage"]) == {"EN", "FR"}


def test_qualtrics_planted_messiness(qualtrics):
    _, df = qualtrics
    status = df["Status"].value_counts()
    assert 1 <= status.get("1", 0) <= 10 and 1 <= status.get("8", 0) <= 10
    unfinished = df[df["Finished"] == "0"]
    assert 20 <= len(unfinished) <= 200
    assert (unfinished["Progress"].astype(int) < 100).all()
    later = ["Q9_TEXT"] + [f"Q8_{i}" for i in range(1, 8)]
    assert (unfinished[later] == "").all().all()
    assert (unfinished["Q1"] != "").all()
    done = df[(df["Finished"] == "1") & (df["Status"] == "0")]
    assert 1 <= (done["Duration (in seconds)"].astype(int) < 60).sum() <= 10
    emails = done.loc[done["RecipientEmail"] != "", "RecipientEmail"]
    assert 1 <= emails.duplicated().sum() <= 10
    likert = done[["Q6", "Q7_1", "Q7_2", "Q7_3"]].replace("", "0").astype(int)
    assert 2 <= (likert > 5).sum().sum() <= 3
    assert 1 <= (done["Q1"] == "99").sum() <= 2
    for text in ("<script>alert(1)</script>", '=HYPERLINK("http://x","y")', "@SUM(A1)", "-2+3"):
        assert (df["Q9_TEXT"] == text).sum() == 1, text
    assert df["Q9_TEXT"].str.startswith("+33 6").any()
    assert df["Q9_TEXT"].str.contains("é").any()
    assert df["IPAddress"].str.match(r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$").all()
    assert emails.str.endswith("@example.org").all()


def _valid(df: pd.DataFrame) -> pd.DataFrame:
    keep = (df["Status"] == "0") & (df["Finished"] == "1") & (df["Q1"] != "99")
    return df[keep]


def test_qualtrics_effects(qualtrics):
    _, df = qualtrics
    v = _valid(df)
    v = v[v["Q7_1"].isin(list("12345"))]
    intends = v["Q5"] == "1"
    fin = v["Q7_1"].astype(int)
    low, high = intends[fin <= 2].mean(), intends[fin >= 4].mean()
    assert low - high > 0.2, (low, high)

    went = v["Q4"] == "1"
    by_year = went.groupby(v["Q2"].astype(int)).mean()
    assert by_year.is_monotonic_increasing and by_year[5] - by_year[1] > 0.3

    interest = v[v["Q6"].isin(list("12345"))]
    mean = interest["Q6"].astype(int).groupby(interest["Q1"]).mean()
    assert mean["2"] == mean.max() and mean["2"] - mean.drop("2").max() > 0.4

    assert v["Q1"].nunique() >= 9


def test_response_rates_and_gender_bias(qualtrics):
    _, df = qualtrics
    v = _valid(df)
    enrol = pd.read_csv(RAW / "enrolment.csv", sep=";", dtype=str, keep_default_na=False)
    e = enrol[enrol["academic_year"] == "2022-23"].assign(enrolled=lambda d: d.enrolled.astype(int))
    codes = {
        "1": "IMT Atlantique", "2": "IMT Nord Europe", "3": "IMT Mines Albi", "4": "IMT Mines Alès",
        "5": "Mines Saint-Étienne", "6": "Télécom Paris", "7": "Télécom SudParis",
        "8": "Institut Mines-Télécom Business School", "9": "EURECOM", "10": "Mines Paris - PSL",
    }  # fmt: skip
    per_school = e.groupby("school")["enrolled"].sum()
    n = v["Q1"].map(codes).value_counts()
    # planted speeders/duplicates/out-of-range rows shift a rate by a few responses only
    rate = (n / per_school).dropna()
    assert len(rate) == 10
    assert rate.min() >= 0.075 and rate.max() <= 0.255 and rate.max() - rate.min() > 0.1
    women_enrolled = e.loc[e.gender == "F", "enrolled"].sum() / e["enrolled"].sum()
    women_resp = (v["Q3"] == "1").mean()
    assert women_resp - women_enrolled > 0.03


# ------------------------------------------------------------------ LimeSurvey 2021


def test_limesurvey_layout():
    raw = (RAW / "survey_2021_limesurvey_imt_nord_europe.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n\r\n")
    lines = raw[3:].decode("utf-8").split("\r\n")
    assert "\n" not in "".join(lines)  # CRLF only
    head = lines[0].split(";")
    assert head[:7] == [
        '"id"', '"submitdate"', '"lastpage"', '"startlanguage"', '"seed"', '"startdate"', '"datestamp"'
    ]  # fmt: skip
    assert all(h.startswith('"') and h.endswith('"') for h in head)
    df = pd.read_csv(
        io.BytesIO(raw), sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    assert 250 <= len(df) <= 350
    assert "G02Q08[SQ001]" in df.columns and "G01Q06" in df.columns
    assert set(df["G01Q06"]) <= {"Y", "N", ""}  # yes/no in this wave
    assert 1 <= (df["submitdate"] == "").sum() <= 40
    assert 1 <= (df["submitdate"] == "1980-01-01 00:00:00").sum() <= 60
    complete = df[df["submitdate"] != ""]
    fin = complete["G02Q07[SQ001]"].str[1].astype(int)
    intends = complete["G01Q05"] == "Y"
    assert intends[fin <= 2].mean() > intends[fin >= 4].mean()
    # NULL (never reached) is an empty unquoted field, an empty answer is ""
    assert any(";;" in line for line in lines[1:]) and any('""' in line for line in lines[1:])


# ------------------------------------------------------------------ Erasmus+ KA1


@pytest.fixture(scope="module")
def erasmus() -> pd.DataFrame:
    raw = (RAW / "erasmus_ka1_2014_2022.csv").read_bytes()
    assert raw.decode("utf-8").split("\n", 1)[0] == ERASMUS_HEADER
    df = pd.read_csv(io.BytesIO(raw), sep=";", dtype=str, keep_default_na=False)
    return df.assign(
        code=df["Sending Organisation Erasmus Code"].str.replace(r"\s", "", regex=True).str[1:],
        n=df["Participants"].astype(int),
    )


def _imt_outgoing(df: pd.DataFrame) -> pd.DataFrame:
    keep = (
        (df["Sending Country Code"] == "FR")
        & df["code"].isin(IMT_CODES)
        & (df["Participant Profile"] == "Learner")
        & df["Activity (mob)"].str.startswith("Student mobility")
    )
    return df[keep]


def test_erasmus_layout_and_quirks(erasmus):
    df = erasmus
    assert list(df.columns[:24]) == ERASMUS_HEADER.split(";")
    assert (df["n"] > 1).any() and (df["n"] >= 1).all()
    assert df["Academic Year"].str.fullmatch(r"20\d\d-\d\d").all()
    assert sorted(df["Academic Year"].unique())[0] == "2014-15"
    assert sorted(df["Academic Year"].unique())[-1] == "2022-23"
    assert df["Mobility Start Month"].str.fullmatch(r"20\d\d-\d\d").all()
    codes = df["Sending Organisation Erasmus Code"]
    assert codes.str.contains("\u00a0").any() and codes.str.contains("F  ").any()
    for value, column in (
        ("EL", "Receiving Country Code"),
        ("UK", "Receiving Country Code"),
        ("-", "Participant Nationality"),
        ("-", "Participant Age"),
        ("? Unknown ?", "Field of Education"),
        ("??? - ? Unknown ?", "Education Level"),
        ("Staff", "Participant Profile"),
    ):
        assert (df[column] == value).any(), (column, value)
    assert df["Education Level"].str.contains("Master\u2019s").any()
    assert (df["code"] == "DOUAI12").sum() >= 3
    assert ((df["Sending Country Code"] != "FR") & (df["Receiving Country Code"] == "FR")).any()
    assert (df["Sending Country Code"].eq("FR") & ~df["code"].isin(IMT_CODES | {"DOUAI12"})).any()
    activities = set(df["Activity (mob)"])
    assert {
        "Student mobility for studies between Programme Countries",
        "Student mobility for traineeships between Programme Countries",
        "Student mobility for Studies To/From Partner Countries",
    } <= activities


def test_erasmus_predecessor_codes_by_year(erasmus):
    out = _imt_outgoing(erasmus)
    years = out.groupby("code")["Academic Year"].agg(lambda s: sorted(set(s)))
    assert years["LILLE15"][-1] == "2016-17" and years["BREST05"][-1] == "2016-17"
    assert years["NANTES80"][0] == "2017-18" and years["LILLE91"][0] == "2021-22"
    assert years["DOUAI05"] == [f"{y}-{(y + 1) % 100:02d}" for y in range(2014, 2021)]


def test_erasmus_effects(erasmus):
    out = _imt_outgoing(erasmus)
    ine = out[out["code"].isin(INE_CODES)]
    euro = ine.loc[ine["Receiving Country Code"].isin(["BE", "NL", "DE"]), "n"].sum()
    assert euro / ine["n"].sum() >= 0.5
    others = out[~out["code"].isin(INE_CODES)]
    top = others.groupby("Receiving Country Code")["n"].sum().sort_values(ascending=False)
    assert top.index[0] not in ("BE", "NL")

    by_year = out.groupby("Academic Year")["n"].sum()
    assert by_year["2020-21"] < 0.6 * by_year["2018-19"]
    assert by_year["2020-21"] < by_year["2019-20"] < by_year["2018-19"]

    train = out.loc[out["Activity (mob)"].str.contains("traineeships"), "n"].sum()
    assert 0.25 <= train / out["n"].sum() <= 0.42


def test_erasmus_volume_against_enrolment(erasmus):
    out = _imt_outgoing(erasmus)
    enrol = pd.read_csv(RAW / "enrolment.csv", sep=";", dtype=str, keep_default_na=False)
    total = enrol.groupby("academic_year")["enrolled"].apply(lambda s: s.astype(int).sum())
    ratio = out.groupby("Academic Year")["n"].sum() / total
    normal = ratio.drop(["2019-20", "2020-21"])
    assert normal.between(0.04, 0.15).all(), ratio


# ------------------------------------------------------------------ school sheet, enrolment


def test_school_sheet_layout():
    raw = (RAW / "school_mobility_imt_nord_europe.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    df = pd.read_csv(
        io.BytesIO(raw), sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    study = tomllib.loads((RAW / "study.toml").read_text(encoding="utf-8"))
    sheet = [m for m in study["inputs"]["mobility"] if m["format"] == "school-mobility"][0]
    assert set(sheet["columns"]) <= set(df.columns)
    assert set(sheet["columns"].values()) == {
        "academic_year", "activity", "country", "host", "duration_months", "grant_eur",
        "funding", "participants",
    }  # fmt: skip
    assert df["Année universitaire"].str.fullmatch(r"20\d\d/20\d\d").all()
    assert set(df["Année universitaire"]) == {f"{y}/{y + 1}" for y in range(2017, 2023)}
    assert set(df["Type de mobilité"]) == {"Double diplôme", "Stage", "Études"}
    assert set(df["Financement"]) == {"Erasmus+", "Région", "Aucun"}
    assert df["Durée (mois)"].str.contains(",").any()
    grants = df.loc[df["Bourse (EUR)"] != "", "Bourse (EUR)"]
    assert grants.str.fullmatch(r"\d{1,3}(\u00a0\d{3})*,\d\d").all()
    assert grants.str.contains("\u00a0").any()
    mons = df[df["Établissement d'accueil"].str.contains("Mons")]
    assert (mons["Pays de destination"] == "Belgique").all() and len(mons) == 6
    assert {"Belgique", "Allemagne", "Pays-Bas", "Canada", "Chine"} <= set(
        df["Pays de destination"]
    )


def test_enrolment():
    df = pd.read_csv(RAW / "enrolment.csv", sep=";", dtype=str, keep_default_na=False)
    assert list(df.columns) == ["school", "academic_year", "gender", "enrolled"]
    df = df.assign(enrolled=df.enrolled.astype(int))
    names = df.groupby("academic_year")["school"].agg(set)
    assert {"Mines Douai", "Télécom Lille", "Télécom Bretagne", "Mines Nantes"} <= names["2016-17"]
    assert "IMT Lille Douai" in names["2020-21"] and "IMT Nord Europe" not in names["2020-21"]
    assert {"IMT Nord Europe", "IMT Atlantique", "Télécom Paris"} <= names["2022-23"]
    assert len(names["2022-23"]) == 10
    tot = df.groupby(["school", "academic_year"])["enrolled"].sum()
    merged = tot.drop(["Télécom Lille", "Mines Douai", "Télécom Bretagne", "Mines Nantes"])
    assert merged.between(600, 2600).all()
    share_f = df[df.gender == "F"].groupby(["school", "academic_year"])["enrolled"].sum() / tot
    assert share_f.between(0.18, 0.46).all()


# ------------------------------------------------------------------ codebook and config


def test_codebook_maps_every_survey_column():
    cb = tomllib.loads((RAW / "codebook.toml").read_text(encoding="utf-8"))
    assert cb["version"] == 1
    variables = cb["variables"]
    for v in ("school", "gender", "study_year", "went_abroad", "intends_abroad",
              "interest_dual_degree", "interest_dual_degree_yn", "barrier_finance",
              "barrier_language", "barrier_recognition", "pref_region", "comment"):  # fmt: skip
        assert v in variables, v
    assert variables["pref_region"]["options"] == [
        "euroregion", "other_europe", "north_america", "latin_america", "asia", "africa", "oceania"
    ]  # fmt: skip
    sources = {s["id"]: s for s in cb["sources"]}
    assert sources["imt_survey_2023"]["platform"] == "qualtrics"
    assert sources["ine_survey_2021"]["platform"] == "limesurvey"
    q_cols = (RAW / "survey_2023_qualtrics.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    for col in q_cols.split(","):
        if col.startswith("Q"):
            assert col in sources["imt_survey_2023"]["columns"], col
    ls_cols = pd.read_csv(
        RAW / "survey_2021_limesurvey_imt_nord_europe.csv", sep=";", nrows=0, encoding="utf-8-sig"
    ).columns
    for col in ls_cols:
        if col.startswith("G"):
            assert col in sources["ine_survey_2021"]["columns"], col
    for src in sources.values():
        for target in src["columns"].values():
            name = target["variable"] if isinstance(target, dict) else target
            assert name in variables, name
    assert variables["school"]["values"]["2"] == "imt_nord_europe"
    personal = {"IPAddress", "RecipientEmail", "RecipientFirstName", "RecipientLastName",
                "ExternalReference", "LocationLatitude", "LocationLongitude", "ResponseId", "id"}  # fmt: skip
    for src in sources.values():
        assert not personal & set(src["columns"]), src["id"]
    assert any(b["variable"] == "interest_dual_degree" for b in cb["breaks"])


def test_study_config_parses():
    from analysis.config import parse_config

    path = RAW / "study.toml"
    cfg = parse_config(tomllib.loads(path.read_text(encoding="utf-8")), path)
    assert cfg.synthetic and cfg.data_cutoff == "2023-06-30" and cfg.language == "en"
    assert cfg.title["en"] == "IMT group study: outgoing mobility and dual-degree interest"
    assert all(p.is_file() for p in cfg.input_paths())
    assert [s.source for s in cfg.surveys] == ["imt_survey_2023", "ine_survey_2021"]
    assert [m.format for m in cfg.mobility] == ["erasmus-ka1", "school-mobility"]
    assert cfg.filters.min_duration_seconds == 60
    assert cfg.weighting.method == "poststratify" and cfg.weighting.cells == ("school", "gender")
    assert cfg.design.type == "stratified"
    assert cfg.budget.envelope_eur == 90000 and cfg.budget.academic_year == 2020


# ------------------------------------------------------------------ through the project's readers


def test_sample_runs_through_the_survey_reader_with_the_planted_counts(qualtrics):
    """The ingest code sees exactly the problems planted (counts fixed by the generator's
    design: 4 previews, 3 spam, 6 speeders, 5 duplicates, 3 out-of-scale values, 2 unknown
    schools; unfinished counted here with pandas)."""
    from analysis.config import parse_config
    from analysis.ingest.codebook import load_codebook
    from analysis.ingest.reader import read_survey_export

    _, df = qualtrics
    path = RAW / "study.toml"
    cfg = parse_config(tomllib.loads(path.read_text(encoding="utf-8")), path)
    cb = load_codebook(cfg.codebook)
    q, ls = (
        read_survey_export(s.path, cb, s.source, wave=s.wave, filters=cfg.filters,
                           pseudonym_key=cfg.pseudonym_key)
        for s in cfg.surveys
    )  # fmt: skip
    assert q.manifest["filtered"] == {
        "qualtrics_preview": 4, "qualtrics_test": 0, "qualtrics_spam": 3,
        "unfinished": int((df["Finished"] == "0").sum()), "speeder": 6, "duplicate": 5,
    }  # fmt: skip
    assert q.manifest["quarantine_reasons"] == {"out_of_range": 3, "unknown_school": 2}
    assert ls.manifest["filtered"]["incomplete"] == 24
    assert ls.manifest["quarantined"] == 0
    assert set(ls.responses["school"]) == {"imt_nord_europe"}
