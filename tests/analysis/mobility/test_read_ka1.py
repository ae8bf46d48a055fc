"""Erasmus+ KA1 CSV reader on a hand-made fixture that copies the real header and quirks.

tests/fixtures/mobility/ka1_sample.csv has 16 data rows, each commented in the script that
wrote it (tests/fixtures/mobility/make_fixtures.py): 8 kept, 6 left out by named rules,
2 quarantined.
"""

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.mobility.readers import (
    KA1_HEADER,
    MobilityFormatError,
    detect_mobility_layout,
    read_mobility_file,
)
from analysis.schema import Mobility, Quarantine

from .conftest import FIXTURES

KA1 = FIXTURES / "ka1_sample.csv"


@pytest.fixture(scope="module")
def ingest(schools, countries):
    return read_mobility_file(KA1, "auto", schools, countries)


def test_manifest_accounts_for_every_row(ingest):
    m = ingest.manifest
    assert m["format"] == "erasmus-ka1"
    assert m["file"] == "ka1_sample.csv"
    assert m["rows_read"] == 16
    assert m["rows_kept"] == 8  # rows 1-5, 13, 14, 15
    assert m["filtered"] == {
        "sender_not_in_france": 1,  # row 7: German sender (incoming)
        "sender_not_imt": 3,  # rows 8, 9, 10
        "staff_profile": 1,  # row 6
        "not_student_activity": 1,  # row 11: Advance Planning Visit – EVS
    }
    # participants behind the filters: row 7 = 2, rows 8-10 = 5 + 1 + 1, row 6 = 1, row 11 = 1
    assert m["filtered_participants"] == {
        "sender_not_in_france": 2,
        "sender_not_imt": 7,
        "staff_profile": 1,
        "not_student_activity": 1,
    }
    assert m["quarantined"] == 2  # rows 12 (participants "abc") and 16 (year "garbage")
    assert m["rows_read"] == m["rows_kept"] + sum(m["filtered"].values()) + m["quarantined"]
    # 3 + 2 + 1 + 1 + 4 + 1 + 1 + 1 participants kept
    assert m["participants_kept"] == 14


def test_unknown_imt_looking_code_reported_with_count(ingest):
    # rows 9 and 10: F DOUAI99 sent by "ECOLE DES MINES DE DOUAI" (once with NBSP, once without
    # a space); row 8 F PARIS001 "Universite de Paris" is not IMT-looking.
    assert ingest.unknown_codes == {"FDOUAI99": 2}
    assert ingest.unknown_countries == {"ZZ": 1}  # row 14


def test_records_are_harmonised(ingest):
    r = ingest.records.set_index(Mobility.SOURCE_ROW)
    assert list(r.index) == [1, 2, 3, 4, 5, 13, 14, 15]
    assert r.loc[1, Mobility.SCHOOL] == "imt_nord_europe"
    assert r.loc[1, Mobility.SENDING_CODE] == "FLILLE91"  # NBSP removed
    assert r.loc[1, Mobility.PARTICIPANTS] == 3
    assert r.loc[1, Mobility.DURATION_MONTHS] == pytest.approx(150 / 30)
    assert r.loc[1, "region"] == "euroregion"
    # merger continuity: Mines Douai 2016-17 and IMT Lille Douai 2017-18 are one school
    assert r.loc[2, Mobility.SCHOOL] == r.loc[3, Mobility.SCHOOL] == "imt_nord_europe"
    assert (r.loc[2, Mobility.ACADEMIC_YEAR], r.loc[3, Mobility.ACADEMIC_YEAR]) == (2016, 2017)
    assert r.loc[3, Mobility.ACTIVITY] == "traineeship"
    assert r.loc[4, Mobility.COUNTRY] == "GR"  # EL
    assert r.loc[4, Mobility.GENDER] == "X"  # Undefined
    assert r.loc[5, Mobility.COUNTRY] == "GB"  # UK
    assert r.loc[5, Mobility.SCHOOL] == "imt_atlantique"  # Télécom Bretagne
    assert math.isnan(r.loc[5, Mobility.DURATION_DAYS])  # "-"
    assert pd.isna(r.loc[13, Mobility.COUNTRY])  # "? Unknown ?" is missing, not unknown
    assert pd.isna(r.loc[14, Mobility.COUNTRY])  # ZZ unknown, reported
    assert r.loc[15, Mobility.ACADEMIC_YEAR] == 2019  # from start month 2020-02
    assert r.loc[15, Mobility.COUNTRY] == "XK"
    assert r[Mobility.ERASMUS_FUNDED].all()
    assert r[Mobility.GRANT_EUR].isna().all()


def test_quarantine_names_row_column_reason(ingest):
    q = ingest.quarantine.sort_values(Quarantine.SOURCE_ROW)
    assert list(q[Quarantine.SOURCE_ROW]) == [12, 16]
    assert list(q[Quarantine.COLUMN]) == ["Participants", "Academic Year"]
    assert list(q[Quarantine.REASON]) == ["bad_participants", "bad_year"]
    assert set(q.columns) == set(Quarantine.SCHEMA.required)


@pytest.mark.parametrize(
    ("activity", "kind"),
    [
        ("Student mobility for studies between Programme Countries", "study"),
        ("Student mobility for traineeships between Programme Countries", "traineeship"),
        ("Student mobility for Studies To/From Partner Countries", "study"),
        ("Blended mobility of higher education students", "study"),
        ("Staff mobility for teaching between Programme Countries", None),
        ("Staff mobility for training of students' tutors", None),
        ("Advance Planning Visit \u2013 EVS", None),
    ],
)
def test_activity_classes(activity, kind):
    from analysis.mobility.readers import _ka1_activity

    assert _ka1_activity(activity) == kind


def test_detect_layout():
    assert detect_mobility_layout(list(KA1_HEADER)) == "erasmus-ka1"
    assert detect_mobility_layout(["\ufeffProject Reference", *KA1_HEADER[1:], ""]) == "erasmus-ka1"
    drifted = [
        "Project Reference",
        "Mobility Start Year/Month",
        "Activity (mob)",
        "Participant Profile",
        "Sending Country",
        "Sending Organisation Erasmus Code",
        "Receiving Country",
        "Actual Participants (Contracted Projects)",
    ]
    assert detect_mobility_layout(drifted) == "erasmus-xlsx"
    assert detect_mobility_layout(drifted[:-1]) is None  # no participants column
    assert detect_mobility_layout(["StartDate", "EndDate", "Status"]) is None


def _write(tmp_path, lines, name="ka1.csv"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_wrong_header_names_file_row_and_column(tmp_path, schools, countries):
    header = list(KA1_HEADER)
    header[18] = "Sending Erasmus Code"
    p = _write(tmp_path, [";".join(header)])
    with pytest.raises(MobilityFormatError) as e:
        read_mobility_file(p, "erasmus-ka1", schools, countries)
    msg = str(e.value)
    assert "ka1.csv" in msg and "row 1" in msg and "Sending Organisation Erasmus Code" in msg


def test_ragged_row_names_the_row(tmp_path, schools, countries):
    good = KA1.read_text(encoding="utf-8").splitlines()
    bad = good[:4] + [good[4] + ";extra;cells"] + good[5:]
    p = _write(tmp_path, bad)
    with pytest.raises(MobilityFormatError) as e:
        read_mobility_file(p, "erasmus-ka1", schools, countries)
    assert "ka1.csv: row 4" in str(e.value)


def test_auto_on_unknown_layout_is_an_error(tmp_path, schools, countries):
    p = _write(tmp_path, ["a;b;c", "1;2;3"])
    with pytest.raises(MobilityFormatError, match="row 1"):
        read_mobility_file(p, "auto", schools, countries)


def test_chunked_reading_gives_the_same_result(monkeypatch, schools, countries, ingest):
    import analysis.mobility.readers as readers

    monkeypatch.setattr(readers, "_ARROW_BLOCK", 512)
    small = read_mobility_file(KA1, "erasmus-ka1", schools, countries)
    pd.testing.assert_frame_equal(small.records, ingest.records)
    assert small.manifest == ingest.manifest


# --------------------------------------------------------------------------- property test

_ROW_KINDS = st.sampled_from(
    ["imt", "imt_nbsp", "staff", "incoming", "other_fr", "bad_part", "bad_year", "evs", "unk_cc"]
)


def _row(kind: str, i: int) -> str:
    code = {"imt_nbsp": "F\u00a0 ALBI05", "other_fr": "F  LYON12", "incoming": "D  BONN01"}.get(
        kind, "F  ALES02"
    )
    cells = dict.fromkeys(KA1_HEADER, "-")
    cells.update(
        {
            "Academic Year": "garbage" if kind == "bad_year" else "2018-19",
            "Mobility Start Month": "" if kind == "bad_year" else "2018-09",
            "Mobility Duration": str(30 + i),
            "Activity (mob)": "Advance Planning Visit \u2013 EVS"
            if kind == "evs"
            else "Student mobility for studies between Programme Countries",
            "Participant Profile": "Staff" if kind == "staff" else "Learner",
            "Sending Country Code": "DE" if kind == "incoming" else "FR",
            "Sending Organization": "Some sender",
            "Sending Organisation Erasmus Code": code,
            "Receiving Country Code": "QQ" if kind == "unk_cc" else "BE",
            "Participants": "x" if kind == "bad_part" else str(1 + i % 3),
        }
    )
    return ";".join(cells[h] for h in KA1_HEADER)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kinds=st.lists(_ROW_KINDS, max_size=30))
def test_every_row_is_kept_filtered_or_quarantined(tmp_path_factory, schools, countries, kinds):
    p = tmp_path_factory.mktemp("ka1") / "prop.csv"
    p.write_text(
        "\n".join([";".join(KA1_HEADER)] + [_row(k, i) for i, k in enumerate(kinds)]) + "\n",
        encoding="utf-8",
    )
    m = read_mobility_file(p, "erasmus-ka1", schools, countries).manifest
    assert m["rows_read"] == len(kinds)
    assert m["rows_read"] == m["rows_kept"] + sum(m["filtered"].values()) + m["quarantined"]
    n = {k: kinds.count(k) for k in set(kinds)}
    assert m["rows_kept"] == n.get("imt", 0) + n.get("imt_nbsp", 0) + n.get("unk_cc", 0)
    assert m["quarantined"] == n.get("bad_part", 0) + n.get("bad_year", 0)
    assert m["filtered"].get("staff_profile", 0) == n.get("staff", 0)
    assert m["filtered"].get("sender_not_in_france", 0) == n.get("incoming", 0)
    assert m["filtered"].get("sender_not_imt", 0) == n.get("other_fr", 0)
    assert m["filtered"].get("not_student_activity", 0) == n.get("evs", 0)
    assert m["unknown_countries"] == ({"QQ": n["unk_cc"]} if "unk_cc" in n else {})


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_bom_and_cp1252_files_read_the_same(tmp_path, schools, countries, ingest, encoding):
    p = tmp_path / f"ka1_{encoding}.csv"
    p.write_bytes(KA1.read_text(encoding="utf-8").encode(encoding))
    other = read_mobility_file(p, "auto", schools, countries)
    cols = [c for c in ingest.records.columns if c != Mobility.SOURCE_FILE]
    pd.testing.assert_frame_equal(other.records[cols], ingest.records[cols])
    assert other.unknown_codes == ingest.unknown_codes
