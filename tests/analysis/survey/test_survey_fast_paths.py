"""The vectorised fast paths give bit-for-bit the numbers of the straightforward definitions.

* ``engine._as_labels`` labels each distinct value once (``pd.factorize``) instead of every
  row: compared with the row-wise definition and with hand-written labels;
* the post-stratified domain variances of ``linearize`` work per domain on the rows that can
  be non-zero: compared with the full-length loop written out here (``z * (d == k)`` projected
  on the calibration cells with ``_project_calibration``, then summed per stratum), with
  ``==`` on the floats, not a tolerance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.survey.compare import _group_mask
from analysis.survey.design import SurveyDesign, _missing_mask, by_distinct_value
from analysis.survey.engine import _as_labels, _as_labels_rowwise
from analysis.survey.linearization import (
    DesignArrays,
    DomainIndex,
    _poststratified_domain_variances,
    _project_calibration,
    _variance_from_sums,
    linearize,
)


def _same_labels(a: pd.Series, b: pd.Series) -> bool:
    return (
        a.equals(b)
        and a.index.equals(b.index)
        and a.name == b.name
        and a.dtype == b.dtype
        and [type(v) for v in a] == [type(v) for v in b]
    )


LABEL_CASES = {
    "float": (pd.Series([1.0, 0.0, np.nan, 1.0]), ["1.0", "0.0", None, "1.0"]),
    "category": (
        pd.Series(pd.Categorical(["a", "b", None, "a", " "])),
        ["a", "b", None, "a", None],
    ),
    "str": (pd.Series(["a", None, " ", "b", ""]), ["a", None, None, "b", None]),
    "int": (pd.Series([1, 2, 1]), ["1", "2", "1"]),
    "bool": (pd.Series([True, False]), ["True", "False"]),
    "all_missing": (pd.Series([np.nan, np.nan]), [None, None]),
    "negative_zero": (pd.Series([0.0, -0.0, 1.0]), ["0.0", "-0.0", "1.0"]),
    "object": (pd.Series(["a", None, 3, " "], dtype=object), ["a", None, "3", None]),
}


@pytest.mark.parametrize("case", sorted(LABEL_CASES))
def test_as_labels_hand_written_and_rowwise(case):
    s, expected = LABEL_CASES[case]
    s = s.copy()
    s.name = "v"
    s.index = s.index + 10  # a non-default index is kept
    got = _as_labels(s)
    assert _same_labels(got, _as_labels_rowwise(s))
    assert [None if not isinstance(v, str) else v for v in got] == expected
    assert list(got.index) == list(s.index)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.sampled_from([0.0, 1.0, 2.5, np.nan]), min_size=1, max_size=40),
    as_category=st.booleans(),
)
def test_as_labels_matches_rowwise_definition(values, as_category):
    s = pd.Series(values)
    if as_category:
        s = s.map(lambda v: None if np.isnan(v) else f"lv{v}").astype("category")
    assert _same_labels(_as_labels(s), _as_labels_rowwise(s))


def _reference_variances(z: np.ndarray, d: np.ndarray, D: int, design: DesignArrays):
    """The per-domain loop of ``linearize`` over full-length arrays (the definition)."""
    out = np.empty(D)
    H = design.n_strata
    for k in range(D):
        zk = _project_calibration(np.where(d == k, z, 0.0), design.weights, design.calibration)
        out[k] = _variance_from_sums(
            np.bincount(design.strata, weights=zk, minlength=H)[None, :],
            np.bincount(design.strata, weights=zk * zk, minlength=H)[None, :],
            design,
        )[0]
    return out


def _random_design(rng, n, n_strata, n_cells, fpc, nested):
    strata = rng.integers(0, n_strata, n)
    strata[:n_strata] = np.arange(n_strata)  # every stratum present
    if nested:  # calibration cells inside strata (school x gender inside wave x school)
        cell = strata * 3 + rng.integers(0, 3, n)
    else:
        cell = rng.integers(0, n_cells, n)
    cell = pd.factorize(cell, sort=True)[0].astype(np.int64)
    w = rng.uniform(0.5, 40.0, n)
    w[rng.random(n) < 0.05] = 0.0  # zero weights take the ratio 1 branch
    n_h = np.bincount(strata, minlength=n_strata).astype(float)
    frac = n_h / (n_h * rng.uniform(1.0, 5.0, n_strata)) if fpc else np.zeros(n_strata)
    return DesignArrays(w, strata.astype(np.int64), n_strata, frac, (cell,))


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(5, 1500),
    n_strata=st.integers(1, 40),
    n_domains=st.integers(2, 9),
    fpc=st.booleans(),
    nested=st.booleans(),
    aligned=st.booleans(),
)
def test_poststratified_domain_variances_bit_identical(
    seed, n, n_strata, n_domains, fpc, nested, aligned
):
    rng = np.random.default_rng(seed)
    n_strata = min(n_strata, n)
    design = _random_design(rng, n, n_strata, max(2, n // 7), fpc, nested)
    if aligned:  # domains = strata (school x wave), cells inside them: the small-domain path
        n_domains = max(2, n_strata)
        dom = np.where(rng.random(n) < 0.05, -1, design.strata % n_domains)
    else:
        dom = rng.integers(-1, n_domains, n)  # -1: outside every domain
    idx = DomainIndex.build(dom, n_domains, design)
    z = rng.normal(size=n) * rng.uniform(0.0, 3.0, n)
    z[rng.random(n) < 0.1] = 0.0
    z = np.where(idx.codes < n_domains, z, 0.0)
    got = _poststratified_domain_variances(z, idx, design)
    ref = _reference_variances(z, idx.codes, n_domains, design)
    assert np.array_equal(got, ref, equal_nan=True)
    # the cached row groupings give the same answer on a second call
    assert np.array_equal(_poststratified_domain_variances(z, idx, design), ref, equal_nan=True)


def test_linearize_by_domain_poststratified_equals_definition():
    """End to end through ``linearize``: SEs equal the full-length projection loop."""
    rng = np.random.default_rng(7)
    n, H, D = 3000, 8, 5
    design = _random_design(rng, n, H, 0, fpc=True, nested=True)
    y = rng.integers(0, 2, n).astype(float)
    y[rng.random(n) < 0.1] = np.nan
    dom = rng.integers(0, D, n)
    dom[:40] = -1
    r = linearize(y, design, dom, D, statistic="mean")
    # the definition: influence values of the domain means, full-length loop
    w, ok = design.weights, ~np.isnan(y)
    z = np.zeros(n)
    for k in range(D):
        ink = (dom == k) & ok
        wk = w[ink].sum()
        ybar = np.sum(w[ink] * y[ink]) / wk
        assert r.estimate[k] == pytest.approx(ybar, rel=1e-12)
        z[ink] = w[ink] * (y[ink] - ybar) / wk
    ref = np.sqrt(_reference_variances(z, np.where(dom >= 0, dom, D), D, design))
    np.testing.assert_allclose(r.se, ref, rtol=1e-12)
    assert np.all(r.se > 0)


MASK_CASES = {
    "category": (pd.Series(pd.Categorical(["a", None, " ", "b", "a"])), [0, 1, 1, 0, 0]),
    "str": (pd.Series(["a", None, "", "  ", "b"]), [0, 1, 1, 1, 0]),
    "float": (pd.Series([1.0, np.nan, 0.0, -0.0]), [0, 1, 0, 0]),
    "object": (pd.Series(["a", None, np.nan, " "], dtype=object), [0, 1, 1, 1]),
    "int": (pd.Series([3, 3, 4]), [0, 0, 0]),
}


@pytest.mark.parametrize("case", sorted(MASK_CASES))
def test_missing_mask_per_distinct_value(case):
    s, expected = MASK_CASES[case]
    got = _missing_mask(s)
    assert got.dtype == bool
    assert got.astype(int).tolist() == expected
    # the row-by-row definition
    rowwise = (s.isna() | (s.astype(str).str.strip() == "")).to_numpy()
    assert np.array_equal(got, rowwise)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.sampled_from(["F", "M", "X", " ", None]), min_size=1, max_size=40),
    as_category=st.booleans(),
    wanted=st.sets(st.sampled_from(["F", "M", "nan", "None", " "])),
)
def test_by_distinct_value_equals_rowwise(values, as_category, wanted):
    s = pd.Series(values, dtype="category" if as_category else "str")
    strs = sorted(wanted)

    def fn(x: pd.Series) -> np.ndarray:
        return x.astype(str).isin(strs).to_numpy()

    assert np.array_equal(by_distinct_value(s, fn), fn(s))
    design = SurveyDesign.from_frame(pd.DataFrame({"g": s}), "unweighted")
    mask = _group_mask(design, "g", strs)
    assert np.array_equal(mask, fn(s))
    assert mask.base is None or not np.shares_memory(mask, s.to_numpy())


def test_weighting_leaves_the_callers_frame_untouched():
    """weight_responses no longer deep-copies its input: the input must stay as it was."""
    from analysis.config import WeightingConfig
    from analysis.survey.study import weight_responses

    from .conftest import synthetic_responses

    resp, enr = synthetic_responses()
    resp = resp.set_index(resp.index + 100)  # reset_index must not write back either
    before = resp.copy(deep=True)
    wr = weight_responses(resp, enr, WeightingConfig())
    pd.testing.assert_frame_equal(resp, before)
    assert "weight" not in resp.columns and "weight" in wr.frame.columns
    wr.frame.loc[0, "school"] = "changed"  # writing to the result does not reach the input
    pd.testing.assert_frame_equal(resp, before)
