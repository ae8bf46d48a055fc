import json
import os
from datetime import UTC, datetime

import pytest

from flows.publish import discard, list_runs, new_run, previous_results, publish


def _write(paths, value):
    (paths.staging / "results.json").write_text(
        json.dumps(
            {"estimates": [{"key": "k", "estimate": value}], "provenance": {"run_name": paths.name}}
        )
    )
    (paths.staging / "report.html").write_text(f"<p>{value}</p>")


def test_runs_publish_atomically_and_latest_follows(tmp_path):
    r1 = new_run(tmp_path, "aaaa1111-x", datetime(2026, 1, 1, tzinfo=UTC))
    _write(r1, 1)
    publish(r1)
    assert (tmp_path / "latest" / "report.html").read_text() == "<p>1</p>"
    r2 = new_run(tmp_path, "bbbb2222-y", datetime(2026, 1, 2, tzinfo=UTC))
    _write(r2, 2)
    # before r2 publishes, readers still see r1 in full
    assert previous_results(tmp_path)["estimates"][0]["estimate"] == 1
    publish(r2)
    assert os.readlink(tmp_path / "latest") == "runs/" + r2.name
    assert [r["name"] for r in list_runs(tmp_path)] == [r2.name, r1.name]
    assert list_runs(tmp_path)[0]["latest"] is True


def test_a_failed_run_leaves_the_previous_report_untouched(tmp_path):
    r1 = new_run(tmp_path, "aaaa1111", datetime(2026, 1, 1, tzinfo=UTC))
    _write(r1, 1)
    publish(r1)
    r2 = new_run(tmp_path, "bbbb2222", datetime(2026, 1, 2, tzinfo=UTC))
    (r2.staging / "report.html").write_text("half")
    discard(r2)
    assert not r2.staging.exists() and not r2.final.exists()
    assert (tmp_path / "latest" / "report.html").read_text() == "<p>1</p>"


def test_two_runs_never_share_a_folder(tmp_path):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    a = new_run(tmp_path, "aaaa1111", now)
    b = new_run(tmp_path, "bbbb2222", now)
    assert a.staging != b.staging
    with pytest.raises(FileExistsError):
        new_run(tmp_path, "aaaa1111", now)
