"""Property: every input row ends in exactly one place (kept, a named filter, or quarantine),
checked against a small independent oracle of the documented filter order."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.config import FilterConfig
from analysis.ingest import load_codebook, read_survey_export
from analysis.schema import Quarantine, Responses

from .conftest import FIXTURES, KEY, qualtrics_row, write_qualtrics

CODEBOOK = load_codebook(FIXTURES / "codebook_test.toml")

row_st = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["0", "0", "0", "1", "2", "8", "4", "3"]),
        "finished": st.sampled_from(["1", "1", "0"]),
        "duration": st.sampled_from(["10", "100", "", "abc"]),
        "email": st.sampled_from(["", "", "a@x.org", "A@x.org", "b@x.org"]),
        "school": st.sampled_from(["1", "2", "3", "9", "", "NSP"]),
        "likert": st.sampled_from(["1", "5", "6", "0", "x", ""]),
    }
)


def oracle(rows, filters: FilterConfig):
    """(kept, filtered counts, quarantined) following the order documented in reader.py."""
    kept, q = 0, 0
    f = {"qualtrics_preview": 0, "qualtrics_test": 0, "qualtrics_spam": 0}
    if filters.drop_unfinished:
        f["unfinished"] = 0
    if filters.min_duration_seconds > 0:
        f["speeder"] = 0
    if filters.drop_duplicates:
        f["duplicate"] = 0
    seen: set[str] = set()
    for i, r in enumerate(rows, 1):
        status = {"1": "qualtrics_preview", "2": "qualtrics_test", "8": "qualtrics_spam"}
        if r["status"] == "3":  # unknown status code
            q += 1
            continue
        if r["status"] in status:
            f[status[r["status"]]] += 1
            continue
        if filters.drop_unfinished and r["finished"] == "0":
            f["unfinished"] += 1
            continue
        if (
            filters.min_duration_seconds > 0
            and r["duration"].isdigit()
            and int(r["duration"]) < filters.min_duration_seconds
        ):
            f["speeder"] += 1
            continue
        if filters.drop_duplicates:
            keys = {f"id:{i}"} | ({"mail:" + r["email"].lower()} if r["email"] else set())
            if keys & seen:
                f["duplicate"] += 1
                continue
            seen |= keys
        if r["school"] not in ("1", "2", "3"):
            q += 1
            continue
        kept += 1
    return kept, f, q


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row_st, min_size=0, max_size=20),
    drop_unfinished=st.booleans(),
    min_duration=st.sampled_from([0.0, 60.0]),
    drop_duplicates=st.booleans(),
    chunk_rows=st.sampled_from([4, 100]),
)
def test_every_row_accounted_for(rows, drop_unfinished, min_duration, drop_duplicates, chunk_rows):
    filters = FilterConfig(drop_unfinished=drop_unfinished, min_duration_seconds=min_duration,
                           drop_duplicates=drop_duplicates)  # fmt: skip
    built = [
        qualtrics_row(
            i,
            {"Q1": r["school"], "Q6": r["likert"]},
            status=r["status"],
            finished=r["finished"],
            duration=r["duration"],
            email=r["email"],
        )  # fmt: skip
        for i, r in enumerate(rows, 1)
    ]
    with tempfile.TemporaryDirectory() as d:
        path = write_qualtrics(Path(d) / "prop.csv", built)
        res = read_survey_export(path, CODEBOOK, "qualtrics_2023", wave="2023", filters=filters,
                                 pseudonym_key=KEY, chunk_rows=chunk_rows)  # fmt: skip
    m = res.manifest
    assert m["rows_read"] == len(rows)
    assert m["rows_read"] == m["rows_kept"] + sum(m["filtered"].values()) + m["quarantined"]
    assert len(res.responses) == m["rows_kept"]
    qrows = res.quarantine.loc[res.quarantine["scope"] == "row", Quarantine.SOURCE_ROW]
    assert qrows.is_unique and len(qrows) == m["quarantined"]
    kept_rows = set(res.responses[Responses.SOURCE_ROW])
    assert not kept_rows & set(qrows)
    assert (m["rows_kept"], m["filtered"], m["quarantined"]) == oracle(rows, filters)
    # Likert cells outside 1..5 are cell-quarantined on kept rows only
    n_bad_likert = sum(
        1 for i, r in enumerate(rows, 1) if i in kept_rows and r["likert"] in ("6", "0", "x")
    )
    cells = res.quarantine[res.quarantine["scope"] == "cell"]
    assert len(cells[cells[Quarantine.COLUMN] == "Q6"]) == n_bad_likert
    assert res.responses[Responses.RESPONDENT_ID].is_unique
