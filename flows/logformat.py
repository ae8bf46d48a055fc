"""Console log format: one line per record, tracebacks left to the log file and the API."""

from __future__ import annotations

import copy
import logging

from prefect.logging.formatters import PrefectFormatter


class ConsoleFormatter(PrefectFormatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            record = copy.copy(record)
            exc = record.exc_info[1] if record.exc_info else None
            record.exc_info = record.exc_text = record.stack_info = None
            if exc is not None:
                record.msg = f"{record.getMessage().splitlines()[0]} [{type(exc).__name__}]"
                record.args = None
        out = super().format(record)
        # Prefect's own failure messages embed the formatted traceback in the message text.
        head, sep, _ = out.partition("\nTraceback (most recent call last):")
        return head if sep else out
