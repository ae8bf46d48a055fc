"""File reads are retried on I/O errors only; content errors fail at once (real engine)."""

import pytest
from prefect import flow, task

from flows.cache import retry_on_io_error as _retry_on_io_error

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_io_errors_are_retried_and_content_errors_are_not():
    calls = {"io": 0, "content": 0, "missing": 0}

    @task(retries=2, retry_delay_seconds=0, retry_condition_fn=_retry_on_io_error)
    def flaky_read():
        calls["io"] += 1
        if calls["io"] < 2:
            raise OSError(5, "Input/output error")
        return "ok"

    @task(retries=2, retry_delay_seconds=0, retry_condition_fn=_retry_on_io_error)
    def malformed():
        calls["content"] += 1
        raise ValueError("survey.csv: row 3, column Q2: value 7 outside 1-5")

    @task(retries=2, retry_delay_seconds=0, retry_condition_fn=_retry_on_io_error)
    def missing():
        calls["missing"] += 1
        raise FileNotFoundError("nope.csv")

    @flow
    def reads():
        return (
            flaky_read(),
            malformed(return_state=True).type.value,
            missing(return_state=True).type.value,
        )

    assert reads() == ("ok", "FAILED", "FAILED")
    assert calls == {"io": 2, "content": 1, "missing": 1}
