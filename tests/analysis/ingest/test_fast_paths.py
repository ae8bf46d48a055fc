"""The fast paths of survey ingest give exactly the results of the straightforward code.

* the Arrow CSV reader (``RawTable._arrow_chunks``) against pandas' parser
  (``RawTable._csv_chunks``), cell for cell, and the hand-over to pandas for files Arrow
  would read differently (unclosed quoted cell at the end, short rows, other encodings);
* the hashlib HMAC of the respondent ids against the standard library's ``hmac``;
* the vectorised duplicate check against the rule written out by hand;
* a whole read (responses, quarantine, manifest) with and without the Arrow reader.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.config import FilterConfig
from analysis.ingest import InputError, parse_codebook, pseudonymise, read_survey_export
from analysis.ingest import source as source_mod
from analysis.ingest.reader import _duplicates, _pseudonymiser
from analysis.ingest.source import _ends_closed, _NotForArrow, open_table

ROOT = Path(__file__).resolve().parents[3]


def _frames(table, kind: str, size: int, usecols=None) -> list[pd.DataFrame]:
    chunks = table._arrow_chunks if kind == "arrow" else table._csv_chunks
    return list(chunks(size, usecols))


def _same(a: list[pd.DataFrame], b: list[pd.DataFrame]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


HEADER = b"id,submitdate,lastpage,startlanguage,q1,comment\n"
CLEAN = {
    "plain": HEADER + b"1,2021-05-03,4,fr,3,ok\n2,,4,fr,,\n3,2021-05-03,4,en,5,x\n",
    "quoted newline and escaped quotes": HEADER
    + b'1,2021-05-03,4,fr,3,"two\nlines"\n2,,4,fr,2,"say ""hi"", then go"\n'
    + b'3,2021-05-03,4,en,5,"ends with a quote"""\n',
    "crlf, blank lines, accents, BOM": b"\xef\xbb\xbf"
    + HEADER.replace(b"\n", b"\r\n")
    + '1,2021-05-03,4,fr,3,Télécom é\r\n\r\n2,,4,fr,2,"a;b"\r\n'.encode()
    + b"3,2021-05-03,4,en,5,z\r\n\r\n",
    "no final newline, quoted last field": HEADER + b'1,2021-05-03,4,fr,3,"a"\n2,,4,fr,2,"b,c"',
    "no final newline, empty last field": HEADER + b"1,2021-05-03,4,fr,3,a\n2,,4,fr,2,",
    "literal quote inside an unquoted cell": HEADER + b'1,2021-05-03,4,fr,5" screen,a\n',
    "a row of empty fields": HEADER + b"1,2021-05-03,4,fr,3,a\n,,,,,\n3,,4,fr,2,b\n",
    "Qualtrics header, label with a line break": b"StartDate,Q1,Q2\n"
    + b'Start Date,"Question\none, ""quoted""",Q2\n'
    + b'"{""ImportId"":""startDate""}","{""ImportId"":""QID1""}","{""ImportId"":""QID2""}"\n'
    + b'2023-03-01 10:00:00,1,"x\ny"\n2023-03-01 10:00:00,2,z\n',
}


@pytest.mark.parametrize("name", sorted(CLEAN))
@pytest.mark.parametrize("size", [1, 2, 100])
def test_arrow_reader_matches_pandas_cell_for_cell(tmp_path, name, size):
    table = open_table(_write(tmp_path / "lime.csv", CLEAN[name]))
    assert table.layout.header_rows == (3 if name.startswith("Qualtrics") else 1)
    _same(_frames(table, "arrow", size), _frames(table, "pandas", size))
    cols = [2, 1] if name.startswith("Qualtrics") else [4, 1]
    _same(_frames(table, "arrow", size, cols), _frames(table, "pandas", size, cols))
    _same(list(table.chunks(size)), _frames(table, "pandas", size))


def test_arrow_reader_matches_pandas_on_real_exports():
    for path in [
        ROOT / "data" / "raw" / "survey_2023_qualtrics.csv",
        ROOT / "data" / "raw" / "survey_2021_limesurvey_imt_nord_europe.csv",
        ROOT / "tests" / "fixtures" / "surveys" / "qualtrics_modern_sample.csv",
        ROOT / "tests" / "fixtures" / "surveys" / "limesurvey_remotecontrol_code_semicolon.csv",
    ]:
        table = open_table(path)
        _same(_frames(table, "arrow", 97), _frames(table, "pandas", 97))


def test_unclosed_quoted_cell_at_the_end_goes_to_pandas(tmp_path, monkeypatch):
    monkeypatch.setattr(source_mod, "ARROW_BLOCK_BYTES", 40)  # several Arrow blocks
    # Arrow would read the cut cell as closed; pandas reports the truncation
    for tail in (
        b'2,,4,fr,2,"cut here',
        b'2,,4,fr,2,"cut ""q"" \n',
        b'2,,4,fr,2,"x\n3,a,4,fr,1,b\n',
    ):
        p = _write(tmp_path / "cut.csv", HEADER + b"1,2021-05-03,4,fr,3,a\n" + tail)
        table = open_table(p)
        with pytest.raises(_NotForArrow):
            _frames(table, "arrow", 100)
        with pytest.raises(InputError, match=r"cut\.csv: file truncated inside a quoted cell"):
            list(table.chunks(100))
        with pytest.raises(InputError, match="truncated inside a quoted cell"):
            list(table.chunks(1))  # after the first rows were delivered by Arrow


def test_ends_closed_by_hand(tmp_path):
    p = tmp_path / "t.csv"
    cases = [
        (b"a,b\n1,xyz\n", "xyz", True),
        (b'a,b\n1,"x,""y"""\n', 'x,"y"', True),
        (b'a,b\n1,"x\n', "x\n", False),  # open quote: the value swallowed the newline
        (b'a,b\n1,"x""', 'x"', False),
        (b"a,b\n1,\n", "", True),
    ]
    for data, last, closed in cases:
        p.write_bytes(data)
        assert _ends_closed(p, last, ",") is closed, data


def test_short_row_mid_file_resumes_with_pandas(tmp_path, monkeypatch):
    monkeypatch.setattr(source_mod, "ARROW_BLOCK_BYTES", 64)  # small blocks: rows come early
    delivered = []
    arrow = source_mod.RawTable._arrow_chunks

    def spy(self, size, usecols):
        for df in arrow(self, size, usecols):
            delivered.append(list(df.index))
            yield df

    monkeypatch.setattr(source_mod.RawTable, "_arrow_chunks", spy)
    rows = [f"{i},2021-05-03,4,fr,3,c{i}\n".encode() for i in range(1, 41)]
    rows[29] = b"30,2021-05-03,4\n"  # 3 of 6 fields: pandas reads it, Arrow refuses
    table = open_table(_write(tmp_path / "short.csv", HEADER + b"".join(rows)))
    got = list(table.chunks(4))
    _same(got, _frames(table, "pandas", 4))
    assert [list(df.index) for df in got] == [list(range(i, i + 4)) for i in range(1, 41, 4)]
    assert delivered and delivered[-1][-1] < 30  # Arrow gave the first rows, pandas the rest
    with pytest.raises(_NotForArrow):
        _frames(table, "arrow", 4)


def test_doubtful_last_cell_goes_to_pandas_with_the_same_result(tmp_path):
    # a literal quote in the last (unquoted) cell: closed, but not provably so from the tail
    table = open_table(_write(tmp_path / "q.csv", HEADER + b'1,2021-05-03,4,fr,3,5" screen\n'))
    with pytest.raises(_NotForArrow):
        _frames(table, "arrow", 10)
    got = list(table.chunks(10))
    _same(got, _frames(table, "pandas", 10))
    assert got[0].loc[1, 5] == '5" screen'


def test_other_encodings_use_pandas(tmp_path):
    table = open_table(_write(tmp_path / "w.csv", HEADER + "1,,4,fr,3,Télécom\n".encode("cp1252")))
    assert table.encoding == "cp1252"
    with pytest.raises(_NotForArrow):
        _frames(table, "arrow", 10)
    assert list(table.chunks(10))[0].loc[1, 5] == "Télécom"


def test_error_rows_still_named_after_arrow_gives_up(tmp_path):
    rows = b"".join(f"{i},2021-05-03,4,fr,3,c{i}\n".encode() for i in range(1, 6))
    p = _write(tmp_path / "wide.csv", HEADER + rows + b"6,2021-05-03,4,fr,3,c,extra\n")
    with pytest.raises(InputError, match=r"wide\.csv: line 7 has 7 fields, the header has 6"):
        list(open_table(p).chunks(2))


# ----------------------------------------------------------------------------- HMAC
@pytest.mark.parametrize(
    "key", ["k", "synthetic-sample-key-not-secret", "x" * 64, "y" * 65, "clé-secrète-€" * 9]
)
def test_hashlib_hmac_equals_stdlib_hmac(key):
    one = _pseudonymiser(key, "src_2023")
    for raw in ["R_abc", "", "row:17", "Réponse-é", "R_" + "9" * 200]:
        want = hmac.new(key.encode(), f"src_2023|{raw}".encode(), hashlib.sha256).hexdigest()
        assert one(raw) == want[:32] == pseudonymise(key, "src_2023", raw)


# ----------------------------------------------------------------------------- duplicates
def _dup(frame: dict[str, list[str]], state: list[int], seen=None):
    chunk = pd.DataFrame({i: pd.array(v, dtype="str") for i, v in enumerate(frame.values())})
    roles = {r: i for i, r in enumerate(frame)}
    seen = {r: set() for r in frame} if seen is None else seen
    out = _duplicates(chunk, roles, list(frame), np.array(state, dtype=np.int16), seen)
    return out.tolist(), seen


def test_duplicates_keep_first_and_only_kept_rows_count():
    # row 2 repeats row 1's e-mail (duplicate, its id B is not remembered), so row 3 with id B
    # is not a duplicate; row 4 repeats row 3's e-mail with other case and spaces; row 5 was
    # filtered earlier (state 2) and neither counts nor is marked; row 6 repeats row 5's id,
    # which was never kept; empty keys never match
    frame = {
        "response_id": ["A", "B", "B", "C", "D", "D", "", ""],
        "email": ["x@e.org", "X@E.ORG", "y@e.org", " Y@e.org ", "z@e.org", "", "", ""],
    }
    got, seen = _dup(frame, [0, 0, 0, 0, 2, 0, 0, 0])
    assert got == [False, True, False, True, False, False, False, False]
    assert seen == {"response_id": {"a", "b", "d"}, "email": {"x@e.org", "y@e.org"}}
    # keys of earlier chunks count; casefold, not only lower: "STRASSE" matches "straße"
    got, _ = _dup({"response_id": ["a", "E", "e"], "email": ["", "straße", "STRASSE"]}, [0, 0, 0],
                  seen)  # fmt: skip
    assert got == [True, False, True]


# ----------------------------------------------------------------------------- whole read
def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_ingest", ROOT / "benchmarks" / "bench_ingest.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_whole_read_identical_with_and_without_arrow(tmp_path, monkeypatch):
    bench = _bench()
    path = tmp_path / "qualtrics_bench.csv"
    bench.generate(path, 3000)
    cb = parse_codebook(bench.CODEBOOK, "bench-codebook.toml")

    def read():
        return read_survey_export(path, cb, "bench", wave="2023", filters=FilterConfig(),
                                  pseudonym_key="k", chunk_rows=700)  # fmt: skip

    fast = read()
    monkeypatch.setattr(source_mod.RawTable, "_arrow_chunks", _refuse)
    slow = read()
    pd.testing.assert_frame_equal(fast.responses, slow.responses, check_exact=True)
    pd.testing.assert_frame_equal(fast.quarantine, slow.quarantine, check_exact=True)
    assert fast.manifest == slow.manifest
    assert fast.manifest["rows_read"] == 3000


def _refuse(self, size, usecols):
    raise _NotForArrow
    yield  # a generator, like the real one
