"""Reading the study config file (TOML) into the validated :class:`StudyConfig`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from analysis.config import ConfigError, StudyConfig, parse_config

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_CONFIG = REPO_ROOT / "data" / "raw" / "study.toml"


def load_config(path: Path | str | None = None) -> StudyConfig:
    """Load and validate a study config; ``None`` means the bundled sample study."""
    p = Path(path) if path is not None else BUNDLED_CONFIG
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:  # message carries line and column
        raise ConfigError(f"{p}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    cfg = parse_config(raw, p)
    missing = [str(q) for q in cfg.input_paths() if not q.exists()]
    if missing:
        raise ConfigError(f"{p}: input file(s) not found: {', '.join(missing)}")
    return cfg
