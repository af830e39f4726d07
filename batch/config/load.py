"""Reading `batch.toml`: the TOML document checked against the model, then turned into Settings.

Errors become one ConfigError naming the dotted key (exit 2): pydantic's refusals are worded in
`batch.config.types`; unknown sections and keys get a did-you-mean here. What needs the
environment (the `*_env` keys, the ZOOM_* overrides, the three credentials together) is resolved
after the model has checked the file.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from batch.config.model import Config, Mail, Web, Zoom
from batch.config.types import CONFIG_ERROR, show
from batch.errors import ConfigError
from batch.settings import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_JOURNAL_PATH,
    DEFAULT_OAUTH_URL,
    DEFAULT_REPORTS_DIR,
    ENV_ACCOUNT_ID,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    Credentials,
    Intake,
    Limits,
    MailSettings,
    Secret,
    Settings,
    WebSettings,
    oauth_url_beside,
)
from batch.vocabulary import Mode

MAIL_PORTS: Final = {"none": 25, "starttls": 587, "ssl": 465}
# the credentials, each with the variable that overrides it
_CREDENTIALS: Final = (
    ("account_id", ENV_ACCOUNT_ID),
    ("client_id", ENV_CLIENT_ID),
    ("client_secret", ENV_CLIENT_SECRET),
)


def load_config(path: Path | None, env: Mapping[str, str]) -> Settings:
    """Settings from the config file at `path` (or `./batch.toml` when it exists), else defaults.

    `env` is the environment (the caller passes `os.environ`; tests pass a dict): it supplies
    the `*_env` variables and overrides the credentials. Raises ConfigError for a missing
    explicit file, bad TOML, an unknown key or a wrong value.

    >>> load_config(None, {}).chunk_size
    200
    """
    if path is None:
        if not DEFAULT_CONFIG_PATH.is_file():
            return _settings(Config(), None, env)
        path = DEFAULT_CONFIG_PATH
    return _settings(check(read(path)), path, env)


def read(path: Path) -> dict[str, Any]:
    """The TOML document at `path`, or ConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), "no such file") from None
    except OSError as error:
        raise ConfigError(str(path), f"cannot be read ({error.strerror})") from None
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), f"not valid TOML: {error}") from None


def check(data: dict[str, Any]) -> Config:
    """The document as the model, or ConfigError for its first problem in file order."""
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        first = min(error.errors(), key=lambda e: _place(e, data))
        raise _config_error(first, data) from None


def _place(error: ErrorDetails, data: dict[str, Any]) -> tuple[int, int]:
    """Where the error's key sits in the document, so the first one in the file is reported."""
    names = [str(part) for part in error["loc"]]
    sections = list(data)
    section = sections.index(names[0]) if names and names[0] in sections else len(sections)
    table = data.get(names[0]) if names else None
    keys = list(table) if isinstance(table, dict) else []
    name = _key_name(names)
    return section, keys.index(name) if name in keys else -1


def _key_name(names: list[str]) -> str:
    """The key in its section; a price's key is its license label."""
    if names[:2] == ["prices", "labels"]:
        return names[2] if len(names) > 2 else ""
    return names[1] if len(names) > 1 else ""


def _config_error(error: ErrorDetails, data: dict[str, Any]) -> ConfigError:
    """The pydantic error as the user reads it: the dotted key and what was wrong."""
    names = [str(part) for part in error["loc"]]
    section, name = names[0], _key_name(names)
    key = f"{section}.{name}" if name else section
    if error["type"] == "extra_forbidden":
        known = list(Config.model_fields if not name else _section_model(section).model_fields)
        close = difflib.get_close_matches(name or section, known, n=1)
        hint = f"did you mean {close[0]}?" if close else "known: " + ", ".join(known)
        return ConfigError(key, f"unknown {'key' if name else 'section'} ({hint})")
    if error["type"] == CONFIG_ERROR:
        return ConfigError(key, error["msg"])
    if not name:  # a section that is not a table
        return ConfigError(key, f"expected a [section] table, got {show(data.get(section))}")
    return ConfigError(key, error["msg"])  # not expected: every type words its own refusals


def _section_model(section: str) -> type[BaseModel]:
    annotation = Config.model_fields[section].annotation
    assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return annotation


def _settings(config: Config, path: Path | None, env: Mapping[str, str]) -> Settings:
    """Settings from the checked file; relative paths resolved against the file's folder."""
    base = path.parent if path is not None else Path()

    def where(text: str | None) -> Path | None:
        if text is None:
            return None
        given = Path(text).expanduser()
        return given if given.is_absolute() else base / given

    zoom, run, inbox = config.zoom, config.run, config.inbox
    credentials = _credentials(zoom, env)
    sandbox_path = where(config.sandbox.path)
    return Settings(
        config_path=path,
        # a sandbox run must never touch a real account, whatever credentials are around
        credentials=None if sandbox_path is not None else credentials,
        sandbox_path=sandbox_path,
        api_url=zoom.api_url,
        oauth_url=zoom.oauth_url or oauth_url_beside(zoom.api_url) or DEFAULT_OAUTH_URL,
        timeout_s=zoom.timeout_s,
        zoom_plan=zoom.plan,
        onprem=str(zoom.onprem).lower(),
        mode=Mode(run.mode),
        max_removals=str(run.max_removals),
        all_or_nothing=run.all_or_nothing,
        chunk_size=run.chunk_size,
        journal_path=where(run.journal) or DEFAULT_JOURNAL_PATH,
        reports_dir=where(run.reports_dir) or DEFAULT_REPORTS_DIR,
        log_format=run.log_format,
        quiet=run.quiet,
        full_account=config.report.full_account,
        inbox_dir=where(inbox.dir),
        archive_dir=where(inbox.archive),
        settle_s=inbox.settle_s,
        mail=_mail(config.mail, env),
        prices=config.prices.labels,
        currency=config.prices.currency,
        limits=Limits(**config.limits.model_dump()),
        intake=Intake(**config.intake.model_dump()),
        web=_web(config.web, env),
    )


def _given(section: BaseModel, section_name: str, name: str, env: Mapping[str, str]) -> str | None:
    """The value of `name` given directly or through `<name>_env`; both at once is refused."""
    direct: str | SecretStr | None = getattr(section, name)
    variable: str | None = getattr(section, f"{name}_env")
    if direct is not None and variable is not None:
        raise ConfigError(f"{section_name}.{name}", f"give {name} or {name}_env, not both")
    if variable is not None:
        value = env.get(variable, "").strip()
        if not value:
            raise ConfigError(
                f"{section_name}.{name}_env", f"environment variable {variable} is not set"
            )
        return value
    return direct.get_secret_value() if isinstance(direct, SecretStr) else direct


def _credentials(zoom: Zoom, env: Mapping[str, str]) -> Credentials | None:
    """Credentials from the file, each overridden by its ZOOM_* variable; all three or none."""
    values: dict[str, str] = {}
    for name, variable in _CREDENTIALS:
        value = env.get(variable, "").strip() or _given(zoom, "zoom", name, env)
        if value:
            values[name] = value
    if not values:
        return None
    for name, variable in _CREDENTIALS:
        if name not in values:
            raise ConfigError(
                f"zoom.{name}",
                f"missing: the Zoom credentials need all three of account_id, client_id and "
                f"client_secret (set zoom.{name}, zoom.{name}_env or {variable})",
            )
    return Credentials(values["account_id"], values["client_id"], Secret(values["client_secret"]))


def _secret(value: str | None) -> Secret | None:
    return Secret(value) if value is not None else None


def _mail(mail: Mail, env: Mapping[str, str]) -> MailSettings:
    """MailSettings from the [mail] section; the port defaults by security."""
    return MailSettings(
        host=mail.host,
        port=mail.port if mail.port is not None else MAIL_PORTS[mail.security],
        security=mail.security,
        username=mail.username,
        password=_secret(_given(mail, "mail", "password", env)),
        sender=mail.sender or (mail.username if "@" in mail.username else ""),
        recipients=mail.recipients,
        subject=mail.subject,
        timeout_s=mail.timeout_s,
    )


def _web(web: Web, env: Mapping[str, str]) -> WebSettings:
    """WebSettings from the [web] section; the signing key from the file or the environment."""
    return WebSettings(
        host=web.host,
        port=web.port,
        secure_cookies=web.secure_cookies,
        idle_timeout_minutes=web.idle_timeout_minutes,
        secret_key=_secret(_given(web, "web", "secret_key", env)),
    )
