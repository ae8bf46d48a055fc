"""The terminal and the run log: which Prefect log records reach the console, and in what form.

Prefect's own logging configuration is kept; the CLI adjusts its console handlers once Prefect
has set them up (no copy of Prefect's ``logging.yml``):
- one line per record on the console: tracebacks go to the run's log file and the Prefect API;
- no "View at http://127.0.0.1:PORT/..." line for a temporary server: it serves no UI and is
  gone when the command returns;
- with the live display or ``--quiet``, no log record on the console at all (the display, or
  silence, instead); the run's log file gets every record either way.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOG_FORMAT = "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s"


class OneLineFormatter(logging.Formatter):
    """Wraps Prefect's console formatter: the first line of the message, the exception's type."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__(LOG_FORMAT, datefmt="%H:%M:%S")
        self.inner = inner or logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            record = copy.copy(record)
            exc = record.exc_info[1] if record.exc_info else None
            record.exc_info = record.exc_text = record.stack_info = None
            if exc is not None:
                record.msg = f"{record.getMessage().splitlines()[0]} [{type(exc).__name__}]"
                record.args = None
        out = self.inner.format(record)
        # Prefect's own failure messages embed the formatted traceback in the message text.
        head, sep, _ = out.partition("\nTraceback (most recent call last):")
        return head if sep else out


class DropServerLinks(logging.Filter):
    """Drops Prefect's "View at <url>" record (a link to a server that will not exist)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("View at ")


def console_handlers() -> list[logging.Handler]:
    from prefect.logging.handlers import PrefectConsoleHandler

    return [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]


def configure_console(show_logs: bool, temporary_server: bool) -> None:
    """Adjust Prefect's console handlers (call after Prefect is imported)."""
    for h in console_handlers():
        if not isinstance(h.formatter, OneLineFormatter):
            h.setFormatter(OneLineFormatter(h.formatter))
        if temporary_server and not any(isinstance(f, DropServerLinks) for f in h.filters):
            h.addFilter(DropServerLinks())
        if not show_logs:
            h.setLevel(logging.CRITICAL + 1)


@contextmanager
def run_log(path: Path) -> Iterator[None]:
    """Every log record of the process (INFO and up) appended to ``path`` while the run lasts.
    A log file that cannot be written (read-only or full disk) is skipped, never fatal."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler | None = logging.FileHandler(path, encoding="utf-8", delay=True)
    except OSError:
        handler = None
    if handler is not None:
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
        handler.handleError = lambda record: None  # type: ignore[method-assign]
        logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
