"""Process-level defaults that must be in place before Prefect is imported.

Called by the CLI first thing. Only ``setdefault``: an analyst's own Prefect settings win.
"""

from __future__ import annotations

import os


def apply_prefect_defaults() -> None:
    # Offline machines log a telemetry traceback on every temporary-server start otherwise.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # ... and the client's: no usage data sent from a study of personal data, and no
    # "Prefect collects anonymous usage data" notice on the analyst's terminal.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # The temporary server needs more than the default 20 s on a cold PREFECT_HOME on slow CI.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_COLORS", "false")
