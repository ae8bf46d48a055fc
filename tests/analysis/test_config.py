from pathlib import Path

import pytest

from analysis.config import ConfigError, parse_config

BASE = {
    "study": {"title": {"en": "T", "fr": "T"}, "language": "fr"},
    "inputs": {
        "codebook": "cb.toml",
        "enrolment": "sub/enrol.csv",
        "surveys": [{"path": "s.csv", "source": "src", "wave": "2023"}],
        "mobility": [{"path": "/abs/m.csv", "format": "erasmus-ka1"}],
    },
}


def test_paths_resolve_against_the_config_folder_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir("/")
    cfg = parse_config(BASE, tmp_path / "conf" / "study.toml")
    assert cfg.enrolment == (tmp_path / "conf" / "sub" / "enrol.csv").resolve()
    assert cfg.mobility[0].path == Path("/abs/m.csv")
    assert cfg.language == "fr"
    assert cfg.design.type == "stratified" and cfg.disclosure.min_count == 5


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"design": {"type": "cluster"}}, 'design.type: must be one of "unweighted"'),
        ({"weighting": {"metod": "rake"}}, "weighting.metod: unknown key; did you mean `method`?"),
        ({"study": {"title": "x", "language": "de"}}, 'study.language: must be one of "en", "fr"'),
        ({"inputs": {"enrolment": "e.csv"}}, "inputs.codebook: required key is missing"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, patch, message):
    raw = {**BASE, **patch}
    with pytest.raises(ConfigError) as exc:
        parse_config(raw, tmp_path / "study.toml")
    assert message in str(exc.value)
    assert str(tmp_path / "study.toml") in str(exc.value)
