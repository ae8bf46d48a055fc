"""Reader processes (flows/loading.py): when they start, where a body runs, errors across."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from analysis.mobility.readers import MobilityFormatError
from flows.config_io import load_config
from flows.loading import (
    INLINE_MAX_BYTES,
    PROCESS_MIN_BYTES,
    READERS_ENV,
    ReaderPool,
    load_mobility,
)

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"


def _sized(tmp_path: Path, name: str, size: int) -> Path:
    p = tmp_path / name
    with p.open("wb") as fh:
        fh.truncate(size)  # sparse: the size is what the decision reads
    return p


def test_auto_reads_small_inputs_in_threads(tmp_path, monkeypatch):
    monkeypatch.delenv(READERS_ENV, raising=False)
    files = [_sized(tmp_path, f"f{i}.csv", 1 << 20) for i in range(5)]
    assert ReaderPool.workers_for(files) == 0


def test_auto_starts_one_process_per_big_file_up_to_the_cores(tmp_path, monkeypatch):
    monkeypatch.delenv(READERS_ENV, raising=False)
    big = [_sized(tmp_path, f"big{i}.csv", PROCESS_MIN_BYTES) for i in range(3)]
    small = [_sized(tmp_path, "small.csv", INLINE_MAX_BYTES - 1)]
    want = 0 if (os.cpu_count() or 1) < 2 else min(os.cpu_count() or 1, 3)
    assert ReaderPool.workers_for(big + small) == want
    assert ReaderPool.workers_for(big[:1]) == (0 if want == 0 else 1)


def test_the_environment_forces_the_choice(tmp_path, monkeypatch):
    files = [_sized(tmp_path, "a.csv", 10)]
    monkeypatch.setenv(READERS_ENV, "processes")
    assert ReaderPool.workers_for(files) == 1
    monkeypatch.setenv(READERS_ENV, "threads")
    assert ReaderPool.workers_for([_sized(tmp_path, "b.csv", PROCESS_MIN_BYTES * 2)]) == 0
    monkeypatch.setenv(READERS_ENV, "fork")
    with pytest.raises(ValueError, match="MOBILITY_STUDY_READERS must be auto, processes or"):
        ReaderPool.workers_for(files)


def test_bodies_run_in_a_reader_process_and_small_files_inline(monkeypatch):
    pool = ReaderPool()
    assert pool.run(os.getpid) == os.getpid()  # no pool: inline
    monkeypatch.delenv(READERS_ENV, raising=False)
    pool.start(1)
    try:
        assert pool.active
        assert pool.run(os.getpid, nbytes=INLINE_MAX_BYTES) != os.getpid()
        assert pool.run(os.getpid, nbytes=10) == os.getpid()  # a small file: not worth a turn
    finally:
        pool.shutdown()
    assert not pool.active
    monkeypatch.setenv(READERS_ENV, "processes")  # forced: every file goes to a process
    pool.start(1)
    try:
        assert pool.run(os.getpid, nbytes=10) != os.getpid()
    finally:
        pool.shutdown()


def test_an_input_error_raised_in_a_reader_process_keeps_file_row_and_column(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(RAW, data)
    ka1 = data / "erasmus_ka1_2014_2022.csv"
    lines = ka1.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(3, lines[2].rstrip("\r\n") + ";extra\n")  # data row 3 has 25 fields
    ka1.write_text("".join(lines), encoding="utf-8")
    config = load_config(data / "study.toml")
    index = next(i for i, m in enumerate(config.mobility) if m.path.name == ka1.name)
    monkeypatch.setenv(READERS_ENV, "processes")
    pool = ReaderPool()
    pool.start(1)
    try:
        with pytest.raises(MobilityFormatError) as info:
            pool.run(load_mobility, index, config, str(tmp_path / "interim"), "k", "sha")
    finally:
        pool.shutdown()
    err = info.value
    assert (err.file, err.row) == (ka1.name, 3)
    assert str(err).startswith(f"{ka1.name}: row 3, column ?: not a valid ';'-separated KA1 row")


def _die_in_a_reader_process() -> str:
    """Kills the reader process it runs in (as the OOM killer would); returns in the parent
    (whose pid the spawned process inherits in its environment)."""
    if str(os.getpid()) != os.environ["TEST_LOADING_PARENT_PID"]:
        os._exit(137)
    return "read in the flow's thread"


def test_a_dead_reader_process_falls_back_to_reading_in_the_thread(monkeypatch, caplog):
    monkeypatch.setenv(READERS_ENV, "processes")
    monkeypatch.setenv("TEST_LOADING_PARENT_PID", str(os.getpid()))
    pool = ReaderPool()
    pool.start(2)
    try:
        log = logging.getLogger("test_loading.readers")  # the tasks pass their run logger
        log.propagate = True
        with caplog.at_level("WARNING", logger=log.name):
            assert pool.run(_die_in_a_reader_process, log=log) == "read in the flow's thread"
        assert "the reader processes stopped" in caplog.text
        assert not pool.active  # later files are read in the threads too
        assert pool.run(os.getpid) == os.getpid()
    finally:
        pool.shutdown()


def test_reader_processes_exit_when_the_flow_process_is_killed(tmp_path):
    """SIGKILL of the process that owns the pool (no cleanup runs): its readers exit anyway."""
    import signal
    import subprocess
    import sys

    import psutil

    script = tmp_path / "owner.py"
    script.write_text(
        "import os, sys, time\n"
        "from flows.loading import ReaderPool\n"
        "if __name__ == '__main__':\n"
        "    os.environ['MOBILITY_STUDY_READERS'] = 'processes'\n"
        "    pool = ReaderPool()\n"
        "    pool.start(2)\n"
        "    pool.run(os.getpid)\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(600)\n",
        encoding="utf-8",
    )
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        children = psutil.Process(owner.pid).children(recursive=True)
        workers = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
        assert len(workers) == 2, [" ".join(c.cmdline())[:200] for c in children]
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
        _gone, alive = psutil.wait_procs(workers, timeout=20)
        assert not alive, [w.pid for w in alive]
    finally:
        if owner.poll() is None:
            owner.kill()


def test_a_pool_pickles_as_a_new_empty_pool(monkeypatch):
    """Dask and served flow runs pickle the flow's tasks and, with them, the module's pool."""
    import pickle

    import cloudpickle

    from flows import study

    monkeypatch.setenv(READERS_ENV, "processes")
    pool = ReaderPool()
    pool.start(1)
    try:
        copy = pickle.loads(pickle.dumps(pool))
        assert pool.active and not copy.active
    finally:
        pool.shutdown()
    cloudpickle.loads(cloudpickle.dumps(study.ingest_mobility))  # what the Dask runner sends
