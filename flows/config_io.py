"""Reading the study config file (TOML) into the validated :class:`StudyConfig`.

Every error is one line (``study.toml:LINE: key: message``, or ``codebook.toml:LINE: ...``) raised
as :class:`ConfigError`: the config's shape and values, each input file (exists, is a regular
file, readable), the codebook, and the codebook source each survey names.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from analysis.config import ConfigError, StudyConfig, input_keys, parse_config
from analysis.tomlschema import located, suggestion, toml_syntax_error

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_CONFIG = REPO_ROOT / "data" / "raw" / "study.toml"
MAX_CONFIG_BYTES = 1_000_000


def load_config(path: Path | str | None = None) -> StudyConfig:
    """Load and validate a study config; ``None`` means the bundled sample study."""
    p = Path(path) if path is not None else BUNDLED_CONFIG
    text = _read_text(p)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # message carries line and column
        raise ConfigError(toml_syntax_error(str(p), exc, text)) from None
    except RecursionError:
        raise ConfigError(f"{p}: invalid TOML: arrays or tables nested too deeply") from None
    cfg = parse_config(raw, p, text)
    for loc, q in input_keys(cfg):
        problem = _unreadable(q)
        if problem:
            raise ConfigError(located(str(p), text, loc, f"{q}: {problem}"))
    _check_codebook_sources(cfg, str(p), text)
    return cfg


def _read_text(p: Path) -> str:
    try:
        if not p.is_file():
            raise ConfigError(
                f"{p}: config file not found" if not p.exists() else f"{p}: not a file"
            )
        size = p.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{p}: {size / 1e6:.1f} MB is not a study config (at most "
                f"{MAX_CONFIG_BYTES // 1_000_000} MB; a study.toml is a few KB)"
            )
        return p.read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is not an error
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the config: {exc.strerror or exc}") from None


def _unreadable(p: Path) -> str | None:
    """Why input ``p`` cannot be read, or None: it must be an existing, readable regular file
    (a directory, a device such as /dev/zero, a FIFO or a socket is refused: reading it could
    hang the run or read endless data)."""
    try:
        st = p.stat()
    except FileNotFoundError:
        return "file not found"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a device, FIFO or socket)"
    try:
        with p.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    return None


def _check_codebook_sources(cfg: StudyConfig, label: str, text: str) -> None:
    """The codebook is valid and defines every source a survey input names."""
    from analysis.ingest.codebook import load_codebook
    from analysis.ingest.errors import CodebookError

    try:
        codebook = load_codebook(cfg.codebook)
    except CodebookError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"{cfg.codebook}: cannot read: {exc.strerror or exc}") from None
    col = cfg.weighting.weight_column
    if col is not None and cfg.surveys and codebook.variables.get(col) is None:
        raise ConfigError(
            located(
                label,
                text,
                ("weighting", "weight_column"),
                f"{col!r} is not a variable of {cfg.codebook.name}"
                f"{suggestion(col, sorted(codebook.variables))}",
            )
        )
    if col is not None and cfg.surveys and codebook.variables[col].type != "numeric":
        raise ConfigError(
            located(
                label,
                text,
                ("weighting", "weight_column"),
                f"{col!r} is a {codebook.variables[col].type} variable; weights need a numeric one",
            )
        )
    known = sorted(codebook.sources)
    for i, s in enumerate(cfg.surveys):
        if s.source not in codebook.sources:
            listed = ", ".join(known) or "none"
            raise ConfigError(
                located(
                    label,
                    text,
                    ("inputs", "surveys", i, "source"),
                    f"unknown codebook source {s.source!r}{suggestion(s.source, known)} "
                    f"({cfg.codebook.name} defines: {listed})",
                )
            )
