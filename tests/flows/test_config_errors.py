"""A bad study.toml never changes or breaks a study: exit 2, one line naming file, line and key.

The hostile-config corpus runs the real CLI entry point (``flows.cli.main``) in-process: a config
error is raised before any Prefect machinery starts, so each case takes milliseconds. A few cases
run the console command in a subprocess; the one case that needs a report produced by a real run
lives in tests/flows/test_end_to_end.py (test_config_typo_keeps_the_published_report).

Expected lines come from the written text (the line holding the offending fragment), not from
the code under test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.config import ConfigError
from flows import cli
from flows.config_io import load_config

REPO = Path(__file__).resolve().parents[2]
RAW = REPO / "data" / "raw"
GOOD = (RAW / "study.toml").read_text(encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A study folder: the bundled config's inputs (the codebook real, the others stand-ins:
    config validation checks that they are readable files, it does not parse them)."""
    d = tmp_path / "study"
    d.mkdir()
    for f in RAW.iterdir():
        if f.name == "codebook.toml":
            shutil.copy(f, d / f.name)
        elif f.name != "study.toml":
            (d / f.name).write_text("stand-in\n", encoding="utf-8")
    return d


@pytest.fixture
def restore_environ():
    saved = dict(os.environ)  # cli.main() sets Prefect defaults in os.environ
    yield
    os.environ.clear()
    os.environ.update(saved)


def _line_of(text: str, fragment: str | tuple[str, int]) -> int:
    """Line of the first (or ``(fragment, n)``: the n-th) line holding ``fragment``."""
    frag, nth = fragment if isinstance(fragment, tuple) else (fragment, 1)
    return [i for i, ln in enumerate(text.splitlines(), 1) if frag in ln][nth - 1]


def _snapshot(root: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p))
        elif p.is_file():
            out[rel] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


@pytest.fixture
def previous_report(tmp_path: Path) -> Path:
    """An output folder holding a published report (the layout flows/publish.py writes)."""
    out = tmp_path / "output"
    run = out / "runs" / "2026-01-05T06-00-00"
    run.mkdir(parents=True)
    (run / "report.html").write_text("<html>last week's report</html>", encoding="utf-8")
    (run / "results.json").write_text("{}", encoding="utf-8")
    (out / "index.html").write_text("<html>index</html>", encoding="utf-8")
    (out / "latest").symlink_to(run.relative_to(out))
    return out


# (old text of the bundled study.toml, replacement, fragment of the offending line or None,
#  words the message must hold)
CORPUS = [
    # typos in section and key names
    ("[disclosure]", "[disclosre]", "[disclosre]", "unknown section; did you mean `disclosure`?"),
    ("[weighting]", "[weighing]", "[weighing]", "did you mean `weighting`?"),
    ('enrolment = "enrolment.csv"', 'enrolment = "enrolment.csv"\nenrollment = "e.csv"',
     "enrollment =", "inputs.enrollment: unknown key; did you mean `enrolment`?"),
    ('language = "en"', 'langage = "en"', "langage", "study.langage: unknown key; did you mean `language`?"),
    ("min_count = 5", "min_cout = 5", "min_cout", "disclosure.min_cout: unknown key; did you mean `min_count`?"),
    ("min_base = 10", "min_base = 10\ndrop_duplicates = true  # <-", "# <-",
     "`drop_duplicates` belongs in [filters]"),
    ('wave = "2023"', 'wave = "2023"\nwaves = "2023"', 'waves = "2023"',
     "inputs.surveys[0].waves: unknown key; did you mean `wave`?"),
    # wrong types
    ("drop_unfinished = true", 'drop_unfinished = "no"', "drop_unfinished", 'must be true or false (no quotes), got "no"'),
    ('cells = ["school", "gender"]', 'cells = "school"', "cells =", 'weighting.cells: must be an array'),
    ("title = { en", "title = 5\nxtitle = { en", "title = 5", "study.title: must be a string, or a table"),
    ("covid_break_years = [2019, 2020]", "covid_break_years = 2019", "covid_break_years",
     "must be an array of integers, got 2019"),
    ("min_count = 5", "min_count = true", "min_count", "must be an integer, got true"),
    ("min_count = 5", "min_count = 0", "min_count", "greater than or equal to 1"),
    ("envelope_eur = 90000", 'envelope_eur = "90k"', "envelope_eur", 'budget.envelope_eur: must be a number, got "90k"'),
    ('wave = "2023"', "wave = 2023", "wave = 2023", "inputs.surveys[0].wave: must be a string, got 2023"),
    ('data_cutoff = "2023-06-30"', 'data_cutoff = "30/06/2023"', "data_cutoff", "must be a date YYYY-MM-DD"),
    ('cells = ["school", "gender"]', 'cells = ["school", "sex"]', "cells =", 'weighting.cells[1]: must be one of "school", "gender"'),
    ('method = "poststratify"', 'method = "column"', "[weighting]", 'method "column" needs `weight_column'),
    ('method = "poststratify"', 'method = "column"\nweight_column = "study_yaer"', "weight_column",
     "'study_yaer' is not a variable of codebook.toml; did you mean `study_year`?"),
    ('method = "poststratify"', 'method = "column"\nweight_column = "gender"', "weight_column",
     "'gender' is a categorical variable; weights need a numeric one"),
    # unknown names of formats, methods, sources
    ('format = "erasmus-ka1"', 'format = "erasmus_ka1"', 'format = "erasmus_ka1"', "did you mean `erasmus-ka1`?"),
    ('method = "poststratify"', 'method = "post-stratify"', "post-stratify", "did you mean `poststratify`?"),
    ('source = "imt_survey_2023"', 'source = "imt_survey_2032"', "imt_survey_2032",
     "unknown codebook source 'imt_survey_2032'; did you mean `imt_survey_2023`?"),
    ('"Durée (mois)" = "duration_months"', '"Durée (mois)" = "duration"', '"Durée (mois)"',
     "did you mean `duration_months`?"),
    # missing sections and keys
    ("[study]\n", "[studdy]\n", "[studdy]", "unknown section; did you mean `study`?"),
    ('codebook = "codebook.toml"\n', "", "[inputs]", "inputs.codebook: required key is missing"),
    ("envelope_eur = 90000\n", "", "[budget]", "budget.envelope_eur: required key is missing"),
    ('school = "imt_nord_europe"\n', "", ("[[inputs.mobility]]", 2), "needs `school"),
    ("[[inputs.surveys]]", "[[inputs.surveys_old]]", "[[inputs.surveys_old]]", "did you mean `surveys`?"),
    # bad and missing paths, path traversal
    ('enrolment = "enrolment.csv"', 'enrolment = "enrolement.csv"', "enrolement.csv", "file not found"),
    ('path = "survey_2023_qualtrics.csv"', 'path = "../../../../../etc/passwd"', "etc/passwd",
     "leaves the folder of study.toml"),
    ('path = "survey_2023_qualtrics.csv"', 'path = "/dev/zero"', "/dev/zero", "not a regular file"),
    ('path = "survey_2023_qualtrics.csv"', 'path = "/"', 'path = "/"', "is a folder, not a file"),
    ('enrolment = "enrolment.csv"', 'enrolment = ""', "enrolment =", "at least 1 character"),
    ('path = "survey_2021_limesurvey_imt_nord_europe.csv"', 'path = "survey_2023_qualtrics.csv"',
     ("survey_2023_qualtrics.csv", 2), "inputs.surveys[1].path: the same file as inputs.surveys[0].path"),
    ('path = "survey_2023_qualtrics.csv"', 'path = "a\\nb.csv"', "a\\nb.csv", "may not contain control characters"),
    # wrong table syntax
    ('[[inputs.surveys]]\npath = "survey_2023', '[inputs.surveys]\npath = "survey_2023', "[inputs.surveys]",
     "write [[inputs.surveys]] (double brackets)"),
    ("[filters]", "[[filters]]", "[[filters]]", "write `[filters]` (single brackets)"),
    ('format = "erasmus-ka1"', 'format = "erasmus-ka1"\nschool = "imt_atlantique"', 'school = "imt_atlantique"',
     'inputs.mobility[0].school: is only read for format "school-mobility"'),
    # invalid TOML
    ("min_count = 5", "min_count = ", "min_count =", "invalid TOML"),
    ("[design]", "[design", "[design", "invalid TOML"),
    ('wave = "2023"', 'wave = "2023"\nwave = "2024"', 'wave = "2024"', "`inputs.surveys[0].wave` is given twice"),
    ('ci_method = "logit"', "ci_method = 'logit", "ci_method", "invalid TOML"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "fragment", "words"), CORPUS)
def test_hostile_config_exits_2_with_one_line_and_keeps_the_report(
    folder, previous_report, restore_environ, capsys, old, new, fragment, words
):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    config = folder / "study.toml"
    config.write_text(text, encoding="utf-8")
    before = _snapshot(previous_report)

    for argv in (
        ["run", "--config", str(config), "--output", str(previous_report)],
        ["config", "check", "--config", str(config)],
    ):
        assert cli.main(argv) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.count("\n") == 1 and "Traceback" not in err, err
        prefix = f"mobility-study: {config}:{_line_of(text, fragment)}: "
        assert err.startswith(prefix), (err, prefix)
        assert words in err, err
    assert _snapshot(previous_report) == before


_VALUES = ['"x"', '""', "0", "-1", "1e400", "true", "[]", '[1, "a"]', "{}", "{ a = 1 }",
           "2023-06-30", '"../x"', '"/dev/null"', "[[1]]", '"\\u0000"', "nan"]  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_mutated_config_is_accepted_or_refused_in_one_line(folder, data):
    """Property: whatever is changed in a valid config (values, lines dropped, repeated or cut,
    table headers), load_config returns a config or raises ConfigError with one line."""
    lines = GOOD.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        line, op = (
            lines[i],
            data.draw(st.sampled_from(["value", "drop", "repeat", "cut", "header"])),
        )
        if op == "value" and "=" in line and not line.startswith("["):
            lines[i] = line.split("=", 1)[0] + "= " + data.draw(st.sampled_from(_VALUES))
        elif op == "drop":
            del lines[i]
        elif op == "repeat":
            lines.insert(data.draw(st.integers(0, len(lines))), line)
        elif op == "cut":
            lines[i] = line[: data.draw(st.integers(0, len(line)))]
        elif op == "header" and line.startswith("["):
            lines[i] = (
                line.replace("[[", "[").replace("]]", "]") if "[[" in line else "[" + line + "]"
            )
    (folder / "study.toml").write_text("\n".join(lines), encoding="utf-8")
    try:
        load_config(folder / "study.toml")
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(folder / "study.toml"))


# ----------------------------------------------------------------------------- issue 13.1
ISSUE_13_1 = [
    ("[disclosure]\nmin_count = 5", "[disclosre]\nmin_count = 50", "[disclosre]", "disclosre"),
    ('codebook = "codebook.toml"', 'codebook = "codebook.toml"\nsurvey = "x.csv"', "survey =", "inputs.survey"),
    ('language = "en"', 'language = "en"\nlang = "fr"', "lang =", "study.lang"),
    ("drop_unfinished = true", 'drop_unfinished = "no"', "drop_unfinished", "filters.drop_unfinished"),
    ('cells = ["school", "gender"]', 'cells = "school"', "cells", "weighting.cells"),
    ('[[inputs.surveys]]\npath = "survey_2021', '[inputs.surveys]  # <-\npath = "survey_2021', "# <-",
     "[[inputs.surveys]]"),
    ("title = { en", "title = 5\nxtitle = { en", "title = 5", "study.title"),
    ("covid_break_years = [2019, 2020]", "covid_break_years = 2019", "covid_break_years",
     "study.covid_break_years"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "fragment", "key"), ISSUE_13_1)
def test_issue_13_bad_configs_are_refused_with_file_line_and_key(folder, old, new, fragment, key):
    """The seven bad configs of issue 13.1 (accepted, or ending in tracebacks, before)."""
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    (folder / "study.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(folder / "study.toml")
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(f"{folder / 'study.toml'}:{_line_of(text, fragment)}: "), msg
    assert key in msg


def test_the_only_survey_as_a_single_table_says_double_brackets(folder):
    text = GOOD.replace(
        '[[inputs.surveys]]\npath = "survey_2021_limesurvey_imt_nord_europe.csv"\n'
        'source = "ine_survey_2021"\nwave = "2021"\n',
        "",
    ).replace("[[inputs.surveys]]", "[inputs.surveys]")
    (folder / "study.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"write `\[\[inputs\.surveys\]\]` \(double brackets\)"):
        load_config(folder / "study.toml")


# ----------------------------------------------------------------------------- the config file itself
def _write_bytes(folder: Path, data: bytes) -> Path:
    p = folder / "study.toml"
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "required section [study] is missing"),
        ("title = 'é'".encode("latin-1"), "not UTF-8 text"),
        (b"a = " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b"# " + b"x" * 1_100_000, "is not a study config"),
    ],
    ids=["empty", "latin-1", "nested", "huge"],
)
def test_a_broken_config_file_is_one_line(folder, content, words):
    p = _write_bytes(folder, content)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_a_missing_config_or_a_folder_is_one_line(folder):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(folder / "nope.toml")
    with pytest.raises(ConfigError, match="not a file"):
        load_config(folder)


def test_a_fifo_or_a_link_to_a_device_is_refused_without_reading_it(folder):
    os.mkfifo(folder / "fifo.csv")  # opening it for reading would block the run forever
    (folder / "zero.csv").symlink_to("/dev/zero")
    for name in ("fifo.csv", "zero.csv"):
        text = GOOD.replace('path = "survey_2023_qualtrics.csv"', f'path = "{name}"')
        (folder / "study.toml").write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match="not a regular file"):
            load_config(folder / "study.toml")


def test_an_invalid_codebook_is_reported_with_its_own_file_and_line(folder):
    cb = (folder / "codebook.toml").read_text(encoding="utf-8")
    bad = cb.replace('type = "categorical"', 'type = "categorical"\nlable = "Gender"', 1)
    (folder / "codebook.toml").write_text(bad, encoding="utf-8")
    (folder / "study.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(folder / "study.toml")
    msg = str(exc.value)
    line = _line_of(bad, 'lable = "Gender"')
    assert msg.startswith(f"{folder / 'codebook.toml'}:{line}: variables.gender.lable: unknown key")
    assert "did you mean `label`?" in msg


# ----------------------------------------------------------------------------- what is accepted
def test_a_config_without_any_input_file_is_refused(folder):
    start, end = GOOD.index("[[inputs.surveys]]"), GOOD.index("[filters]")
    text = GOOD[:start] + GOOD[end:]
    (folder / "study.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(folder / "study.toml")
    assert str(exc.value).startswith(
        f"{folder / 'study.toml'}:{_line_of(text, '[inputs]')}: inputs: "
    )
    assert "no survey and no mobility input" in str(exc.value)


def test_a_config_without_budget_carries_none_not_a_default_envelope(folder):
    start = GOOD.index("[budget]")
    (folder / "study.toml").write_text(GOOD[:start], encoding="utf-8")
    cfg = load_config(folder / "study.toml")
    assert cfg.budget is None and cfg.to_dict()["budget"] is None


def test_bom_toml_dates_plain_titles_and_absolute_paths_are_accepted(folder, tmp_path):
    elsewhere = tmp_path / "shared" / "survey.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_text("stand-in\n", encoding="utf-8")
    text = (
        GOOD.replace('data_cutoff = "2023-06-30"', "data_cutoff = 2023-06-30")
        .replace("title = { en = ", 'title = "Plain"\nx = { en = ')
        .replace('path = "survey_2023_qualtrics.csv"', f'path = "{elsewhere}"')
    )
    text = text.replace("\nx = { en = ", "\n# ", 1)
    (folder / "study.toml").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    cfg = load_config(folder / "study.toml")
    assert cfg.data_cutoff == "2023-06-30"
    assert cfg.title == {"en": "Plain"}
    assert cfg.surveys[0].path == elsewhere.resolve()
    # the published config names a file outside the study folder without its folders
    assert cfg.to_dict()["surveys"][0]["path"] == ".../survey.csv"


def test_the_bundled_config_passes_config_check(restore_environ, capsys):
    assert cli.main(["config", "check"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count("\n") == 1 and ": OK: 2 survey file(s) (waves 2021, 2023)" in out
    assert cli.main(["config", "check", "--config", str(RAW)]) == 0  # the study folder
    out, _ = capsys.readouterr()
    assert out.startswith(f"{RAW / 'study.toml'}: OK: ")


# ----------------------------------------------------------------------------- real processes
def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_console_config_check_and_run_exit_2_with_one_line(folder, previous_report):
    text = GOOD.replace("[disclosure]", "[disclosre]")
    (folder / "study.toml").write_text(text, encoding="utf-8")
    before = _snapshot(previous_report)
    line = _line_of(text, "[disclosre]")
    for args in (
        ("config", "check", "--config", "study.toml"),
        ("run", "--config", "study.toml", "--output", str(previous_report)),
    ):
        proc = _cli(*args, cwd=folder)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        assert proc.stderr == (
            f"mobility-study: study.toml:{line}: disclosre: unknown section; did you mean "
            "`disclosure`? (allowed: study, inputs, filters, weighting, design, disclosure, "
            "budget)\n"
        )
    assert _snapshot(previous_report) == before


def test_console_config_check_of_the_bundled_study_exits_0(tmp_path):
    proc = _cli("config", "check", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and ": OK: " in proc.stdout
