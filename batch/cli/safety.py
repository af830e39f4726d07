"""Refusals before a run starts, where a default could otherwise hurt (all exit 2).

check_config_file(path)       a config holding a secret (or the account's URLs) that
                              others may change is refused; one others may read, warned
check_account_options(...)    Zoom's own API named without credentials; an API URL that
                              is not a /v2 base; a --sandbox file that does not exist
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from batch.config import load as config_load
from batch.errors import ConfigError, InputError
from batch.settings import DEFAULT_CONFIG_PATH, Settings

# Keys whose value is a secret, or decides where the secrets are sent.
_SECRET_KEYS: Final = {("zoom", "client_secret"), ("mail", "password")}
_ROUTING_KEYS: Final = {("zoom", "api_url"), ("zoom", "oauth_url"), ("mail", "host")}


def check_config_file(path: Path | None) -> str | None:
    """ConfigError when the config file holds a secret (or where secrets go) and is group- or
    world-writable; a warning (returned) when it holds a secret others can read."""
    path = _config_path(path)
    data = _toml(path)
    if path is None or data is None:
        return None  # no config, or load_config says what is wrong with it
    mode = path.stat().st_mode
    found = {(section, key) for section, table in data.items() if isinstance(table, dict)
             for key, value in table.items() if value not in ("", None)}  # fmt: skip
    secrets = sorted(f"{s}.{k}" for s, k in found & _SECRET_KEYS)
    routes = sorted(f"{s}.{k}" for s, k in found & _ROUTING_KEYS)
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and (secrets or routes):
        raise ConfigError(
            str(path),
            f"holds {', '.join(secrets or routes)} but other users may change it "
            f"(mode {stat.filemode(mode)}); make it private with `chmod 600 {path}`",
        )
    if mode & (stat.S_IRGRP | stat.S_IROTH) and secrets:
        return (
            f"config {path} holds {', '.join(secrets)} and other users may read it "
            f"(mode {stat.filemode(mode)}): `chmod 600 {path}`, or use the *_env keys"
        )
    return None


def _config_path(path: Path | None) -> Path | None:
    """The config file in use: `path`, else ./batch.toml when it exists."""
    if path is None and DEFAULT_CONFIG_PATH.is_file():
        return DEFAULT_CONFIG_PATH
    return path


def _toml(path: Path | None) -> dict[str, Any] | None:
    """The config's TOML (read as load_config reads it), or None when there is none or it
    cannot be read: load_config then says what is wrong with it."""
    if path is None:
        return None
    try:
        return config_load.read(path)
    except ConfigError:
        return None


def check_account_options(
    settings: Settings, options: dict[str, Any], config_path: Path | None = None
) -> None:
    """InputError for account options that would send the run somewhere it did not mean."""
    api_url = settings.api_url
    parts = urlsplit(api_url)
    if parts.path.rstrip("/") != "/v2" or parts.scheme not in ("http", "https"):
        raise InputError(
            f"API URL {api_url}: is not an API base ending in /v2 (e.g. https://api.zoom.us/v2 "
            "or a served sandbox's http://127.0.0.1:8080/v2); fix --api-url or zoom.api_url"
        )
    host = (parts.hostname or "").lower()
    zoom_itself = host == "zoom.us" or host.endswith(".zoom.us")
    zoom_table = (_toml(_config_path(config_path)) or {}).get("zoom")
    in_config = isinstance(zoom_table, dict) and bool(zoom_table.get("api_url"))
    named = options.get("api_url") is not None or in_config
    if settings.credentials is None and zoom_itself and named and settings.sandbox_path is None:
        raise InputError(
            f"API URL {api_url} is Zoom itself, but no credentials are set (ZOOM_ACCOUNT_ID, "
            "ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET or [zoom] in the config); for the sandbox, "
            "leave the URL out or give --sandbox PATH"
        )
    sandbox = options.get("sandbox_path")
    if sandbox is not None and not Path(sandbox).is_file():
        raise InputError(
            f"--sandbox {sandbox}: no such file; create it with `batch sandbox init {sandbox}`"
        )
