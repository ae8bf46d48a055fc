import pandas as pd
import pytest

from analysis.changes import changes_since
from analysis.sample import response_rate_table, wave_academic_year


def test_wave_names_map_to_the_academic_year_they_describe():
    assert wave_academic_year("2023") == 2022
    assert wave_academic_year("2022-23") == 2022
    assert wave_academic_year("2022/2023") == 2022
    with pytest.raises(ValueError, match="spring"):
        wave_academic_year("spring")


def test_response_rate_by_hand():
    responses = pd.DataFrame({"wave": ["2023"] * 5, "school": ["a", "a", "a", "b", "b"]})
    enrolment = pd.DataFrame(
        {
            "school": ["a", "a", "b", "b", "a"],
            "academic_year": [2022, 2022, 2022, 2022, 2021],
            "gender": ["F", "M", "F", "M", "F"],
            "enrolled": [10, 20, 5, 5, 999],
        }
    )
    t = response_rate_table(responses, enrolment).by_key()
    assert t["sample.response_rate.2023.a"].estimate == pytest.approx(3 / 30)
    assert t["sample.response_rate.2023.b"].estimate == pytest.approx(2 / 10)
    assert t["sample.response_rate.2023.group"].estimate == pytest.approx(5 / 40)
    assert t["sample.response_rate.2023.group"].n_unweighted == 5


def test_response_rate_of_a_wave_without_a_year_uses_the_reference_year():
    enrolment = pd.DataFrame(
        {
            "school": ["a", "a", "b", "b"],
            "academic_year": [2022, 2021, 2022, 2021],
            "gender": ["F", "F", "F", "F"],
            "enrolled": [40, 1000, 10, 1000],
        }
    )
    spring = pd.DataFrame({"wave": ["spring"] * 3, "school": ["a", "a", "b"]})
    t = response_rate_table(spring, enrolment, reference_year=2022).by_key()
    assert t["sample.response_rate.spring.a"].estimate == pytest.approx(2 / 40)
    with pytest.raises(ValueError, match="spring"):
        response_rate_table(spring, enrolment)
    # a wave with a year keeps its own year (as the weights do): 2023 -> 2022-23
    dated = spring.assign(wave="2023")
    t = response_rate_table(dated, enrolment, reference_year=2021).by_key()
    assert t["sample.response_rate.2023.b"].estimate == pytest.approx(1 / 10)


def test_obs5_a_wave_of_one_school_has_no_group_row():
    enrolment = pd.DataFrame(
        {"school": ["a"], "academic_year": [2022], "gender": ["F"], "enrolled": [50]}
    )
    one = pd.DataFrame({"wave": ["2023"] * 4, "school": ["a"] * 4})
    t = response_rate_table(one, enrolment).by_key()
    assert set(t) == {"sample.response_rate.2023.a"}


def _est(key, value, lo=None, hi=None, n=None, table="survey.x", **domain):
    return {
        "key": key,
        "table": table,
        "estimate": value,
        "ci_low": lo,
        "ci_high": hi,
        "n_unweighted": n,
        "domain": domain,
    }


def test_changes_since_previous_run():
    prev = {
        "provenance": {"run_name": "r1"},
        "estimates": [
            _est("p", 0.30, 0.25, 0.35),
            _est("q", 0.50, 0.45, 0.55),
            _est(
                "sample.response_rate.2023.a", 0.1, n=10, table="sample.response_rate", school="a"
            ),
            _est(
                "mobility.counts.a.2021",
                12,
                table="mobility.counts",
                school="a",
                academic_year="2021",
            ),
        ],
    }
    cur = {
        "estimates": [
            _est("p", 0.40, 0.36, 0.44),  # outside the previous CI: moved
            _est("q", 0.52, 0.47, 0.57),  # inside: not flagged
            _est(
                "sample.response_rate.2023.a", 0.12, n=12, table="sample.response_rate", school="a"
            ),
            _est(
                "mobility.counts.a.2021",
                14,
                table="mobility.counts",
                school="a",
                academic_year="2021",
            ),
            _est(
                "mobility.counts.b.2022",
                3,
                table="mobility.counts",
                school="b",
                academic_year="2022",
            ),
        ]
    }
    ch = changes_since(prev, cur)
    assert [m["key"] for m in ch["moved"]] == ["p"]
    assert ch["new_responses"] == [
        {"key": "sample.response_rate.2023.a", "domain": {"school": "a"}, "before": 10, "now": 12}
    ]
    assert [r["key"] for r in ch["revised"]] == ["mobility.counts.a.2021"]
    assert ch["new_schools"] == ["b"] and ch["new_years"] == ["2022"]
    assert ch["added"] == 1 and ch["removed"] == 0 and ch["previous_run"] == "r1"
    assert changes_since(None, cur) == {"previous_run": None}
