"""Test-wide isolation: a private PREFECT_HOME and result storage, set before prefect loads."""

import os
import tempfile
from pathlib import Path

_home = tempfile.mkdtemp(prefix="mobility-study-prefect-")
os.environ["PREFECT_HOME"] = _home
os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = str(Path(_home) / "storage")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.pop("PREFECT_API_URL", None)

REPO = Path(__file__).resolve().parents[1]
