"""Process-level defaults that must be in place before Prefect is imported.

Called by the CLI first thing. Only ``setdefault``: an analyst's own Prefect settings win.
"""

from __future__ import annotations

import os
from pathlib import Path


def apply_prefect_defaults() -> None:
    # Offline machines log a telemetry traceback on every temporary-server start otherwise.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The temporary server needs more than the default 20 s on a cold PREFECT_HOME on slow CI.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_COLORS", "false")
    # One line per record on the console; tracebacks go to the run log and the Prefect API.
    os.environ.setdefault(
        "PREFECT_LOGGING_CONFIG_PATH", str(Path(__file__).with_name("logging.yml"))
    )
