"""`mobility-study config check`: validate a study folder without running the study."""

from __future__ import annotations

from pathlib import Path

from flows.config_io import BUNDLED_CONFIG, load_config


def check_study_folder(path: Path | str | None = None) -> str:
    """Validate the config (a file, or a folder holding ``study.toml``), the codebook and every
    input file; a one-line summary.

    Raises :class:`analysis.config.ConfigError` (one line) on the first problem.
    """
    from analysis.ingest.codebook import load_codebook

    p = Path(path) if path is not None else BUNDLED_CONFIG
    if p.is_dir() and (p / "study.toml").is_file():  # a study folder
        p = p / "study.toml"
    cfg = load_config(p)
    codebook = load_codebook(cfg.codebook)  # valid: load_config has read it
    waves = sorted({s.wave for s in cfg.surveys})
    parts = [
        f"{len(cfg.surveys)} survey file(s)" + (f" (waves {', '.join(waves)})" if waves else ""),
        f"{len(cfg.mobility)} mobility file(s)",
        f"codebook {cfg.codebook.name}: {len(codebook.variables)} variables, "
        f"{len(codebook.sources)} sources",
        "budget: " + ("none" if cfg.budget is None else f"{cfg.budget.envelope_eur:g} EUR"),
    ]
    return f"{p}: OK: " + "; ".join(parts)
