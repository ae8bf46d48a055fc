"""What a failed run tells the analyst: one line on stderr and an exit status; the published
report (``latest``) is never touched by a failed run.

Exit status (also in the README):

- **2, a user error**: the command, the config or a file or folder it names cannot be used as
  given: a config error, an input file with bad content or over a size limit, an input that
  cannot be read (missing, permission denied), no respondent left in any survey file, an
  output path that is a file, whose parent does not exist, or that cannot be written
  (read-only, permission denied). Fix the command, the config or the file, and run again.
- **1, an environment fault**: the run started and its environment failed under it: the disk
  is full, an input was deleted or changed during the run, an I/O error, or a stage crashed.
  The traceback is in ``<output>/logs/`` when it could be written.

The checks of :func:`check_output_root` and :func:`check_inputs_readable` run before any Prefect
machinery starts, so the common mistakes are reported at once.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from analysis.config import ConfigError, StudyConfig
from analysis.empty_inputs import NoRespondentsError
from analysis.ingest.errors import CodebookError, InputError
from analysis.limits import LimitError
from analysis.mobility.readers import MobilityFormatError

USER_ERROR = 2
ENVIRONMENT_FAULT = 1

# input the user must fix, e.g. no respondent left in any survey file
_USER_INPUT_ERRORS = (
    ConfigError,
    InputError,
    CodebookError,
    MobilityFormatError,
    LimitError,
    NoRespondentsError,
)
_FULL = (errno.ENOSPC, errno.EDQUOT)
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


class RunError(Exception):
    """A failure reported as one line with an exit status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def _disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and (
        exc.errno in _FULL or "no space left on device" in str(exc).lower()
    )


def check_output_root(root: Path) -> None:
    """The output folder can be used: a folder (created if only it is missing), writable."""
    root = Path(os.path.abspath(root))
    if root.exists() and not root.is_dir():
        raise RunError(f"{root}: the output path is a file, not a folder", USER_ERROR)
    if not root.exists():
        if not root.parent.is_dir():
            raise RunError(
                f"{root}: the output folder's parent {root.parent} does not exist", USER_ERROR
            )
        try:
            root.mkdir()
        except OSError as exc:
            raise _output_error(root, exc) from None
    try:  # a real write: os.access says yes to root on a read-only mount
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-") as f:
            f.write(b"x")
            f.flush()
    except OSError as exc:
        raise _output_error(root, exc) from None


def _output_error(root: Path, exc: OSError) -> RunError:
    if _disk_full(exc):
        return RunError(f"{root}: no space left on device", ENVIRONMENT_FAULT)
    if exc.errno in _NOT_WRITABLE:
        return RunError(f"{root}: the output folder is not writable ({exc.strerror})", USER_ERROR)
    return RunError(f"{root}: cannot use the output folder ({exc.strerror or exc})", USER_ERROR)


def check_inputs_readable(config: StudyConfig) -> None:
    """Every input file can be opened for reading (permission, a folder instead of a file)."""
    for p in config.input_paths():
        try:
            with open(p, "rb") as f:
                f.read(1)
        except OSError as exc:
            msg = f"{p}: cannot read the input file ({exc.strerror or exc})"
            raise RunError(msg, USER_ERROR) from None


def describe_failure(exc: BaseException, output_root: Path) -> RunError:
    """The one line and exit status for an exception that ended a run."""
    from flows.stages import StageFailure

    logs = Path(os.path.abspath(output_root)) / "logs"
    cause = exc
    where = ""
    if isinstance(exc, StageFailure):
        cause = exc.__cause__ or exc
        where = f"stage '{exc.stage}' failed" + (f" [{exc.file}]" if exc.file else "")
    if isinstance(cause, RunError):
        return cause
    if _disk_full(cause):
        path = getattr(cause, "filename", None) or os.path.abspath(output_root)
        return RunError(
            f"{where + ': ' if where else ''}no space left on device writing {path}",
            ENVIRONMENT_FAULT,
        )
    if isinstance(cause, _USER_INPUT_ERRORS):
        status = USER_ERROR
    elif isinstance(cause, FileNotFoundError):  # checked at the start: gone during the run
        path = cause.filename or "an input file"
        return RunError(
            f"{where + ': ' if where else ''}{path} disappeared during the run", ENVIRONMENT_FAULT
        )
    elif isinstance(cause, OSError) and (
        cause.errno in _NOT_WRITABLE or isinstance(cause, NotADirectoryError | IsADirectoryError)
    ):
        status = USER_ERROR
    else:
        status = ENVIRONMENT_FAULT
    text = str(exc) if isinstance(exc, StageFailure) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())  # one line
    return RunError(f"{text} (traceback in {logs}/)", status)
