"""The config file (`batch.toml`): read, checked key by key, turned into Settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from batch.settings import Settings


def load_config(path: Path | None, env: Mapping[str, str]) -> Settings:
    """Settings from the config file at `path` (or the default location), else the defaults."""
    return Settings(config_path=path)
