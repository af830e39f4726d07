"""The config file (`batch.toml`): read, checked key by key, turned into Settings.

`--config PATH` names the file; without it `./batch.toml` is read when it exists, else the
defaults apply. Every key is optional. An unknown section or key, or a value of the wrong type,
stops the run with `ConfigError` naming the dotted key (exit 2), e.g.
``config run.chunk_size: expected a whole number, got 'ten'``. Relative paths in the file are
relative to the file's own folder (so a cron job may run from anywhere).

| key | type | meaning (default) |
| --- | --- | --- |
| `zoom.account_id` | text | Server-to-Server OAuth account id |
| `zoom.client_id` | text | OAuth client id |
| `zoom.client_secret` | text | OAuth client secret (prefer `client_secret_env`) |
| `zoom.account_id_env` | text | NAME of an environment variable holding the account id |
| `zoom.client_id_env` | text | NAME of an environment variable holding the client id |
| `zoom.client_secret_env` | text | NAME of an environment variable holding the client secret |
| `zoom.api_url` | URL | API base (`https://api.zoom.us/v2`) |
| `zoom.oauth_url` | URL | token endpoint (zoom.us/oauth/token; with `api_url`: its host's) |
| `zoom.plan` | `"pro"`/`"business"` | the account's plan: the rate limits to start from (unset) |
| `zoom.timeout_s` | number > 0 | HTTP timeout in seconds (30) |
| `zoom.onprem` | `"auto"`/true/false | On-prem offered: auto = when an On-prem user exists |
| `sandbox.path` | path | use this emulated account; no real account is touched (unset) |
| `run.mode` | `"apply"`/`"sync"` | `--mode` (`"apply"`) |
| `run.max_removals` | `25` or `"5%"` | `--max-removals` in sync mode (`"5%"`) |
| `run.all_or_nothing` | true/false | `--all-or-nothing` (false) |
| `run.chunk_size` | whole number > 0 | operations per chunk (200) |
| `run.journal` | path | the resume journal (`.batch/journal.sqlite`); the lock sits beside it |
| `run.reports_dir` | path | where reports go (`reports`) |
| `run.log_format` | `"auto"`/`"text"`/`"json"` | `--log-format` (`"auto"`) |
| `run.quiet` | true/false | `--quiet` (false) |
| `report.full_account` | true/false | `--full-account` (false; true for inbox) |
| `inbox.dir` | path | the inbox folder (unset) |
| `inbox.archive` | path | its archive (`<inbox>/archive`) |
| `inbox.settle_s` | number >= 0 | a file must keep its size and time this long to be taken (2) |
| `mail.host` | text | SMTP server; mail is sent when host and recipients are set |
| `mail.port` | 1-65535 | (25; 587 with starttls; 465 with ssl) |
| `mail.security` | `"none"`/`"starttls"`/`"ssl"` | (`"none"`) |
| `mail.username` | text | login (none: no login) |
| `mail.password` | text | login password (prefer `password_env`) |
| `mail.password_env` | text | NAME of an environment variable holding the password |
| `mail.sender` | address | From (the username when it is an address) |
| `mail.recipients` | list of addresses | To; `--mail-to` replaces it |
| `mail.subject` | text | `{file}` `{status}` `{date}` (`Zoom license batch: {file} - {status}`) |
| `mail.timeout_s` | number > 0 | SMTP timeout in seconds (30) |
| `prices.currency` | 3 capitals | currency of the prices (`"EUR"`) |
| `prices."<license>"` | number >= 0 | monthly price per label: `"Webinar 500" = 79.0` |
| `limits.max_file_bytes` | whole number > 0 | largest input file (200 MiB) |
| `limits.max_rows` | whole number > 0 | most data rows (2,000,000) |
| `limits.max_cell_chars` | whole number > 0 | longest cell (32,767) |
| `limits.max_cells` | whole number > 0 | most filled cells in a workbook sheet (3,000,000) |
| `limits.max_shared_strings` | whole number > 0 | most shared strings in a workbook (3,000,000) |
| `intake.sheet` | text | the workbook sheet to read, as `--sheet` (unset: the active one) |
| `intake.ignore_columns` | list of texts | headers carried through unread, never refused |

Environment variables override the file: `ZOOM_ACCOUNT_ID`, `ZOOM_CLIENT_ID` and
`ZOOM_CLIENT_SECRET`, each on its own. The three credentials are needed together: some but not
all is a ConfigError rather than a silent fall back to the sandbox. A `[sandbox] path` wins over
any credentials, as `--sandbox` does.

Example::

    [zoom]
    account_id_env = "ZOOM_ACCOUNT_ID_PROD"
    client_id = "abc"
    client_secret_env = "ZOOM_SECRET_PROD"
    plan = "business"

    [mail]
    host = "smtp.example.com"
    security = "starttls"
    username = "batch@example.com"
    password_env = "SMTP_PASSWORD"
    recipients = ["finance@example.com"]

    [prices]
    currency = "EUR"
    "Licensed" = 14.99
    "Webinar 500" = 79.0
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from batch.errors import ConfigError
from batch.settings import (
    DEFAULT_CONFIG_PATH,
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
from batch.vocabulary import ADDON_SIZES, ADDONS, Kind, Mode, UserType, license_label, word_key

Parser = Callable[[object, str], object]

MAIL_PORTS: Final = {"none": 25, "starttls": 587, "ssl": 465}
SUBJECT_FIELDS: Final = ("file", "status", "date")
_ENV_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_REMOVALS_RE: Final = re.compile(r"^\d+%?$")

# Every license label a price may be given for, by folded label.
PRICE_LABELS: Final[dict[str, str]] = {
    word_key(label): label
    for label in (
        *(license_label(Kind.BASE, user_type) for user_type in UserType),
        *(license_label(kind, None, size) for kind in ADDONS for size in ADDON_SIZES[kind]),
    )
}


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
            return _with_credentials(Settings(), {}, env)
        path = DEFAULT_CONFIG_PATH
    data = _read(path)
    return _settings(data, path, env)


def _read(path: Path) -> dict[str, Any]:
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


# ---------------------------------------------------------------------------------------------
# Value parsers: (value, dotted key) -> parsed value, or ConfigError naming the key.


def _show(value: object) -> str:
    """A value as the error message quotes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _fail(key: str, expected: str, value: object) -> ConfigError:
    return ConfigError(key, f"expected {expected}, got {_show(value)}")


def _text(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise _fail(key, "text", value)
    return value.strip()


def _secret(value: object, key: str) -> Secret:
    if not isinstance(value, str) or not value.strip():
        # never echo a secret, not even a mistyped one
        raise ConfigError(key, "expected non-empty text")
    return Secret(value.strip())


def _env_name(value: object, key: str) -> str:
    name = _text(value, key)
    if not _ENV_NAME_RE.match(name):
        raise _fail(key, "the name of an environment variable", value)
    return name


def _choice(*options: str) -> Parser:
    def parse(value: object, key: str) -> str:
        if not isinstance(value, str) or value.strip().lower() not in options:
            raise _fail(key, " or ".join(repr(o) for o in options), value)
        return value.strip().lower()

    return parse


def _whole(minimum: int, maximum: int | None = None) -> Parser:
    def parse(value: object, key: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(key, "a whole number", value)
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise _fail(key, f"a whole number of at least {minimum}{upper}", value)
        return value

    return parse


def _number(*, positive: bool) -> Parser:
    def parse(value: object, key: str) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _fail(key, "a number", value)
        number = float(value)
        if not math.isfinite(number) or number < 0 or (positive and number == 0):
            raise _fail(key, "a number above 0" if positive else "a number of 0 or more", value)
        return number

    return parse


def _flag(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(key, "true or false", value)
    return value


def _url(value: object, key: str) -> str:
    text = _text(value, key)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(key, "an http(s) URL", value)
    return text.rstrip("/")


def _address(value: object, key: str) -> str:
    text = _text(value, key)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", text):
        raise _fail(key, "a mail address", value)
    return text


def _texts(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(key, 'a list of texts (["Notes", "Webinar (old)"])', value)
    return tuple(value)


def _addresses(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _fail(key, 'a list of mail addresses (["a@example.com"])', value)
    return tuple(_address(item, key) for item in value)


def _max_removals(value: object, key: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _MAX_REMOVALS_RE.match(value.strip()):
        return value.strip()
    raise _fail(key, 'a count (25) or a percentage ("5%")', value)


def _subject(value: object, key: str) -> str:
    text = _text(value, key)
    try:
        text.format(**dict.fromkeys(SUBJECT_FIELDS, ""))
    except (KeyError, IndexError, ValueError):
        fields = " ".join("{" + f + "}" for f in SUBJECT_FIELDS)
        raise _fail(key, f"text with only the fields {fields}", value) from None
    return text


def _currency(value: object, key: str) -> str:
    text = _text(value, key)
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise _fail(key, 'a currency code of three capitals ("EUR")', value)
    return text


def _onprem(value: object, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "auto":
        return "auto"
    raise _fail(key, '"auto", true or false', value)


# Section -> key -> parser. `prices` is open-ended (license labels) and handled apart.
SCHEMA: Final[dict[str, dict[str, Parser]]] = {
    "zoom": {
        "account_id": _text,
        "client_id": _text,
        "client_secret": _secret,
        "account_id_env": _env_name,
        "client_id_env": _env_name,
        "client_secret_env": _env_name,
        "api_url": _url,
        "oauth_url": _url,
        "plan": _choice("pro", "business"),
        "timeout_s": _number(positive=True),
        "onprem": _onprem,
    },
    "sandbox": {"path": _text},
    "run": {
        "mode": _choice(*(m.value for m in Mode)),
        "max_removals": _max_removals,
        "all_or_nothing": _flag,
        "chunk_size": _whole(1),
        "journal": _text,
        "reports_dir": _text,
        "log_format": _choice("auto", "text", "json"),
        "quiet": _flag,
    },
    "report": {"full_account": _flag},
    "inbox": {"dir": _text, "archive": _text, "settle_s": _number(positive=False)},
    "mail": {
        "host": _text,
        "port": _whole(1, 65535),
        "security": _choice(*MAIL_PORTS),
        "username": _text,
        "password": _secret,
        "password_env": _env_name,
        "sender": _address,
        "recipients": _addresses,
        "subject": _subject,
        "timeout_s": _number(positive=True),
    },
    "prices": {"currency": _currency},
    "web": {
        "host": _text,
        "port": _whole(1, 65535),
        "secure_cookies": _flag,
        "idle_timeout_minutes": _whole(1),
        "secret_key": _secret,
        "secret_key_env": _env_name,
    },
    "limits": {
        "max_file_bytes": _whole(1),
        "max_rows": _whole(1),
        "max_cell_chars": _whole(1),
        "max_cells": _whole(1),
        "max_shared_strings": _whole(1),
    },
    "intake": {"sheet": _text, "ignore_columns": _texts},
}


def _unknown(key: str, what: str, known: list[str]) -> ConfigError:
    name = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]}?" if close else "known: " + ", ".join(known)
    return ConfigError(key, f"unknown {what} ({hint})")


def _parse(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every section checked: unknown names and wrong types refused, values parsed."""
    parsed: dict[str, dict[str, Any]] = {}
    for section, table in data.items():
        if section not in SCHEMA:
            raise _unknown(section, "section", list(SCHEMA))
        if not isinstance(table, dict):
            raise _fail(section, "a [section] table", table)
        keys = SCHEMA[section]
        values: dict[str, Any] = {}
        for name, value in table.items():
            key = f"{section}.{name}"
            if name in keys:
                values[name] = keys[name](value, key)
            elif section == "prices":
                values.setdefault("labels", {})[_price_label(name, key)] = _number(positive=False)(
                    value, key
                )
            else:
                raise _unknown(key, "key", list(keys))
        parsed[section] = values
    return parsed


def _price_label(name: str, key: str) -> str:
    label = PRICE_LABELS.get(word_key(name))
    if label is None:
        examples = ", ".join(list(PRICE_LABELS.values())[:5])
        raise ConfigError(key, f"not a license label (such as {examples}, ...)")
    return label


def _from_env(section: dict[str, Any], name: str, env: Mapping[str, str]) -> str | None:
    """A value read from the environment variable the file names in `<name>_env`."""
    variable = section.get(f"{name}_env")
    if variable is None:
        return None
    value = env.get(variable, "").strip()
    if not value:
        raise ConfigError(
            f"{_section_of(name)}.{name}_env", f"environment variable {variable} is not set"
        )
    return value


def _section_of(name: str) -> str:
    return {"password": "mail", "secret_key": "web"}.get(name, "zoom")


def _one_of(section: dict[str, Any], name: str, env: Mapping[str, str]) -> str | Secret | None:
    """The value given directly or through `<name>_env`; both at once is refused."""
    if name in section and f"{name}_env" in section:
        key = f"{_section_of(name)}.{name}"
        raise ConfigError(key, f"give {name} or {name}_env, not both")
    from_env = _from_env(section, name, env)
    if from_env is not None:
        return from_env
    direct: str | Secret | None = section.get(name)
    return direct


def _with_credentials(settings: Settings, zoom: dict[str, Any], env: Mapping[str, str]) -> Settings:
    """Credentials from the file, each overridden by its ZOOM_* variable; all three or none."""
    names = ("account_id", "client_id", "client_secret")
    overrides = (ENV_ACCOUNT_ID, ENV_CLIENT_ID, ENV_CLIENT_SECRET)
    values: dict[str, str] = {}
    for name, variable in zip(names, overrides, strict=True):
        value = env.get(variable, "").strip() or _one_of(zoom, name, env)
        if isinstance(value, Secret):
            value = value.reveal()
        if value:
            values[name] = value
    if not values:
        return settings
    missing = [n for n in names if n not in values]
    if missing:
        n = missing[0]
        i = names.index(n)
        raise ConfigError(
            f"zoom.{n}",
            f"missing: the Zoom credentials need all three of account_id, client_id and "
            f"client_secret (set zoom.{n}, zoom.{n}_env or {overrides[i]})",
        )
    credentials = Credentials(
        values["account_id"], values["client_id"], Secret(values["client_secret"])
    )
    return replace(settings, credentials=credentials)


def _settings(data: dict[str, Any], path: Path, env: Mapping[str, str]) -> Settings:
    """Settings from a parsed document; relative paths resolved against the file's folder."""
    parsed = _parse(data)
    base = path.parent

    def where(text: str) -> Path:
        given = Path(text).expanduser()
        return given if given.is_absolute() else base / given

    zoom, run, inbox = parsed.get("zoom", {}), parsed.get("run", {}), parsed.get("inbox", {})
    mail, prices, limits = (
        parsed.get("mail", {}),
        parsed.get("prices", {}),
        parsed.get("limits", {}),
    )
    settings = Settings(config_path=path)
    settings = _with_credentials(settings, zoom, env)
    fields: dict[str, Any] = {
        "api_url": zoom.get("api_url"),
        "oauth_url": zoom.get("oauth_url") or oauth_url_beside(zoom.get("api_url")),
        "zoom_plan": zoom.get("plan"),
        "timeout_s": zoom.get("timeout_s"),
        "mode": Mode(run["mode"]) if "mode" in run else None,
        "max_removals": run.get("max_removals"),
        "all_or_nothing": run.get("all_or_nothing"),
        "chunk_size": run.get("chunk_size"),
        "journal_path": where(run["journal"]) if "journal" in run else None,
        "reports_dir": where(run["reports_dir"]) if "reports_dir" in run else None,
        "log_format": run.get("log_format"),
        "quiet": run.get("quiet"),
        "inbox_dir": where(inbox["dir"]) if "dir" in inbox else None,
        "archive_dir": where(inbox["archive"]) if "archive" in inbox else None,
        "settle_s": inbox.get("settle_s"),
        "currency": prices.get("currency"),
        "prices": prices.get("labels"),
        "full_account": parsed.get("report", {}).get("full_account"),
        "onprem": zoom.get("onprem"),
    }
    settings = settings.with_options(**fields)
    if "path" in parsed.get("sandbox", {}):
        # a sandbox run must never touch a real account, whatever credentials are around
        settings = replace(
            settings, sandbox_path=where(parsed["sandbox"]["path"]), credentials=None
        )
    if mail:
        settings = replace(settings, mail=_mail(mail, env))
    if limits:
        settings = replace(settings, limits=replace(Limits(), **limits))
    if "intake" in parsed:
        settings = replace(settings, intake=Intake(**parsed["intake"]))
    if "web" in parsed:
        settings = replace(settings, web=_web(parsed["web"], env))
    return settings


def _web(web: dict[str, Any], env: Mapping[str, str]) -> WebSettings:
    """WebSettings from the [web] section; the signing key from the file or the environment."""
    key = _one_of(web, "secret_key", env)
    values = {k: v for k, v in web.items() if k not in ("secret_key", "secret_key_env")}
    secret = Secret(key) if isinstance(key, str) else key
    return WebSettings(**values, secret_key=secret)


def _mail(mail: dict[str, Any], env: Mapping[str, str]) -> MailSettings:
    """MailSettings from the [mail] section; the port defaults by security."""
    password = _one_of(mail, "password", env)
    security = mail.get("security", "none")
    username = mail.get("username", "")
    sender = mail.get("sender") or (username if "@" in username else "")
    defaults = MailSettings()
    return MailSettings(
        host=mail.get("host", ""),
        port=mail.get("port", MAIL_PORTS[security]),
        security=security,
        username=username,
        password=Secret(password) if isinstance(password, str) else password,
        sender=sender,
        recipients=mail.get("recipients", ()),
        subject=mail.get("subject", defaults.subject),
        timeout_s=mail.get("timeout_s", defaults.timeout_s),
    )
