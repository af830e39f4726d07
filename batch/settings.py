"""Settings: built once from command options, environment and config file, then passed down.

Precedence: command options > environment variables > config file > defaults. Nothing below
the CLI reads `os.environ`; `build_settings` is the one place that does (it is handed the
environment as a mapping, so tests pass their own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urljoin

from batch import scrub
from batch.vocabulary import Mode

DEFAULT_API_URL: Final = "https://api.zoom.us/v2"
DEFAULT_OAUTH_URL: Final = "https://zoom.us/oauth/token"
DEFAULT_STATE_DIR: Final = Path(".batch")
DEFAULT_SANDBOX_PATH: Final = DEFAULT_STATE_DIR / "sandbox.json"
DEFAULT_JOURNAL_PATH: Final = DEFAULT_STATE_DIR / "journal.sqlite"
DEFAULT_REPORTS_DIR: Final = Path("reports")
DEFAULT_CONFIG_PATH: Final = Path("batch.toml")
DEFAULT_CHUNK_SIZE: Final = 200
DEFAULT_MAX_REMOVALS: Final = "5%"
DEFAULT_TIMEOUT_S: Final = 30.0

# Input limits: a file past them is refused as a whole, naming the limit.
DEFAULT_MAX_FILE_BYTES: Final = 200 * 1024 * 1024
DEFAULT_MAX_ROWS: Final = 2_000_000
DEFAULT_MAX_CELL_CHARS: Final = 32_767  # Excel's own limit for one cell
# Workbooks are unpacked whole (about 220 bytes per filled cell, 50 per empty one inside the
# sheet's grid, 70 per shared string): these keep the largest accepted one under 2 GiB.
DEFAULT_MAX_CELLS: Final = 3_000_000  # filled cells of a sheet; its grid may span 4 times that
DEFAULT_MAX_SHARED_STRINGS: Final = 3_000_000  # entries of the shared-strings table

ENV_ACCOUNT_ID: Final = "ZOOM_ACCOUNT_ID"
ENV_CLIENT_ID: Final = "ZOOM_CLIENT_ID"
ENV_CLIENT_SECRET: Final = "ZOOM_CLIENT_SECRET"


class Secret:
    """A value that must never be printed, logged or written: its repr and str hide it."""

    __slots__ = ("_value",)

    def __init__(self, value: str, *, public: bool = False, expires: bool = False) -> None:
        self._value = value
        if not public:  # public: known to all (the sandbox's built-in "sandbox"), nothing to hide
            scrub.register(value, expires=expires)  # hidden from every text the tool writes

    def reveal(self) -> str:
        """The secret itself, for the one place that sends it (the OAuth request)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Credentials:
    """Server-to-Server OAuth credentials of a Zoom app."""

    account_id: str
    client_id: str
    client_secret: Secret


@dataclass(frozen=True)
class MailSettings:
    """Where and how the report is mailed (delivery)."""

    host: str = ""
    port: int = 25
    security: str = "none"  # "none", "starttls" or "ssl"
    username: str = ""
    password: Secret | None = None
    sender: str = ""
    recipients: tuple[str, ...] = ()
    subject: str = "Zoom license batch: {file} - {status}"
    timeout_s: float = 30.0

    @property
    def enabled(self) -> bool:
        """Mail is sent when a server and at least one recipient are configured."""
        return bool(self.host and self.recipients)


@dataclass(frozen=True)
class Limits:
    """Input limits; a file past one is refused with the limit named."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS
    max_cells: int = DEFAULT_MAX_CELLS
    max_shared_strings: int = DEFAULT_MAX_SHARED_STRINGS


@dataclass(frozen=True)
class Intake:
    """How a file is read: the sheet to take (`--sheet`) and columns to carry through unread."""

    sheet: str | None = None  # None: the active sheet, or the only one with our header
    ignore_columns: tuple[str, ...] = ()  # headers never matched nor refused ([intake])


@dataclass(frozen=True)
class WebSettings:
    """The `[web]` section: how `batch web` serves the app."""

    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookies: bool = False  # True behind HTTPS: the session cookie is sent only over it
    idle_timeout_minutes: int = 30
    secret_key: Secret | None = None  # signs the session cookie; None = .batch/web-secret


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, frozen."""

    config_path: Path | None = None
    credentials: Credentials | None = None
    sandbox_path: Path | None = None  # set when running against an emulated account
    api_url: str = DEFAULT_API_URL
    oauth_url: str = DEFAULT_OAUTH_URL
    timeout_s: float = DEFAULT_TIMEOUT_S
    zoom_plan: str | None = None  # [zoom] plan "pro"/"business": starting rate limits
    reports_dir: Path = DEFAULT_REPORTS_DIR
    report_path: Path | None = None  # --report; None = reports_dir/<stem>-<UTC timestamp>.xlsx
    journal_path: Path = DEFAULT_JOURNAL_PATH
    chunk_size: int = DEFAULT_CHUNK_SIZE
    mode: Mode = Mode.APPLY
    max_removals: str = DEFAULT_MAX_REMOVALS  # a count ("25") or a percentage ("5%")
    all_or_nothing: bool = False
    dry_run: bool = False
    log_format: str = "auto"  # "auto", "text" or "json"
    quiet: bool = False
    inbox_dir: Path | None = None
    archive_dir: Path | None = None
    settle_s: float = 2.0  # an inbox file must keep its size this long before it is read
    lock_wait_s: float = 0.0  # --wait: how long a writer waits for the account's lock
    mail: MailSettings = field(default_factory=MailSettings)
    prices: Mapping[str, float] = field(default_factory=dict)  # license label -> monthly price
    currency: str = "EUR"
    limits: Limits = field(default_factory=Limits)
    # read the add-ons of every Licensed/On-prem user, so Chargeback attributes every seat;
    # None = the command's default (on for inbox, off otherwise)
    full_account: bool | None = None
    onprem: str = "auto"  # [zoom] onprem: "auto" (an On-prem user exists), "true", "false"
    intake: Intake = field(default_factory=Intake)
    web: WebSettings = field(default_factory=WebSettings)

    @property
    def uses_sandbox(self) -> bool:
        """True when the run talks to an emulated account, never to Zoom."""
        return self.credentials is None

    def with_options(self, **options: Any) -> Settings:
        """A copy with command options applied; options given as None are left alone."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})


def oauth_url_beside(api_url: str | None) -> str | None:
    """The token endpoint that goes with another API host (a served sandbox): its /oauth/token.

    None for Zoom's own API (its token endpoint is on another host, DEFAULT_OAUTH_URL).

    >>> oauth_url_beside("http://127.0.0.1:8080/v2")
    'http://127.0.0.1:8080/oauth/token'
    """
    if not api_url or api_url.rstrip("/") == DEFAULT_API_URL:
        return None
    return urljoin(api_url, "/oauth/token")
