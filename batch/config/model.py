"""The config file as a model: one class per `[section]`, one field per key.

Each field's description is the README's "meaning"; its default is the one a run gets when the
key is absent (taken from the Settings dataclasses, so the two cannot drift), or, for a key whose
absence means something else, the `shown` text. `batch.config.markdown` renders the README's
table from these classes; a test compares it with the README.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from batch.config.types import (
    Address,
    Addresses,
    Amount,
    Count,
    Currency,
    EnvName,
    Flag,
    LogFormat,
    MaxRemovals,
    OnPrem,
    PathText,
    Plan,
    Port,
    PriceLabel,
    RunMode,
    Seconds,
    SecretText,
    Security,
    Subject,
    Text,
    Texts,
    Url,
)
from batch.settings import (
    DEFAULT_API_URL,
    DEFAULT_JOURNAL_PATH,
    DEFAULT_MAX_REMOVALS,
    DEFAULT_OAUTH_URL,
    DEFAULT_REPORTS_DIR,
    Intake,
    Limits,
    MailSettings,
    Settings,
    WebSettings,
)


def key(default: Any, meaning: str, *, shown: str | None = None, name: str | None = None) -> Any:
    """A config key: its default, its meaning, how the README shows a default of None (`shown`)
    and, for a field standing for many keys, the name the README gives them (`name`)."""
    extra: JsonDict = {"shown_default": shown, "shown_key": name}
    return Field(default, description=meaning, json_schema_extra=extra)


class Section(BaseModel):
    """A `[section]`: strict types, no unknown keys, frozen."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Zoom(Section):
    """`[zoom]`: the account and how to reach it."""

    account_id: Text | None = key(None, "Server-to-Server OAuth account id")
    client_id: Text | None = key(None, "OAuth client id")
    client_secret: SecretText | None = key(None, "OAuth client secret (prefer `client_secret_env`)")
    account_id_env: EnvName | None = key(None, "an environment variable holding the account id")
    client_id_env: EnvName | None = key(None, "an environment variable holding the client id")
    client_secret_env: EnvName | None = key(
        None, "an environment variable holding the client secret"
    )
    api_url: Url = key(DEFAULT_API_URL, "API base; it must end in `/v2`")
    oauth_url: Url | None = key(
        None,
        "token endpoint",
        shown=f"`{DEFAULT_OAUTH_URL}`; with only `api_url` set, that host's `/oauth/token`",
    )
    plan: Plan | None = key(
        None,
        "the account's plan: the rate limits to start from; the client then follows Zoom's "
        "`X-RateLimit-Limit`",
        shown='unset: `"business"`\'s limits',
    )
    timeout_s: Seconds = key(Settings.timeout_s, "HTTP timeout in seconds")
    onprem: OnPrem = key(
        Settings.onprem,
        'whether the account offers the On-prem user type: `"auto"` takes it as offered when '
        "at least one user is On-prem; true/false say it outright",
    )


class Sandbox(Section):
    """`[sandbox]`: an emulated account instead of Zoom."""

    path: PathText | None = key(None, "use this emulated account; no real account is touched")


class Run(Section):
    """`[run]`: the defaults of the run options."""

    mode: RunMode = key(Settings.mode.value, "`--mode`")
    max_removals: MaxRemovals = key(DEFAULT_MAX_REMOVALS, "`--max-removals` in sync mode")
    all_or_nothing: Flag = key(Settings.all_or_nothing, "`--all-or-nothing`")
    chunk_size: Count = key(Settings.chunk_size, "operations per chunk")
    journal: PathText | None = key(
        None,
        "the resume journal; the lock sits beside it",
        shown=f"`{DEFAULT_JOURNAL_PATH}` in the working folder",
    )
    reports_dir: PathText | None = key(
        None, "where reports go", shown=f"`{DEFAULT_REPORTS_DIR}` in the working folder"
    )
    log_format: LogFormat = key(Settings.log_format, "`--log-format`")
    quiet: Flag = key(Settings.quiet, "`--quiet`")


class Report(Section):
    """`[report]`: what the report reads."""

    full_account: Flag | None = key(
        None, "`--full-account`", shown="false; `inbox` runs default to true"
    )


class Inbox(Section):
    """`[inbox]`: the folder the nightly job takes files from."""

    dir: PathText | None = key(None, "the inbox folder")
    archive: PathText | None = key(None, "its archive", shown="`<inbox>/archive`")
    settle_s: Amount = key(
        Settings.settle_s, "a file must keep its size and time this long (seconds) to be taken"
    )


class Mail(Section):
    """`[mail]`: where the report is mailed; mail is sent when host and recipients are set."""

    host: Text = key(
        MailSettings.host, "SMTP server; mail is sent when host and recipients are set"
    )
    port: Port | None = key(None, "SMTP port", shown="25; 587 with starttls; 465 with ssl")
    security: Security = key(MailSettings.security, "how the connection is secured")
    username: Text = key(MailSettings.username, "login (empty: no login)")
    password: SecretText | None = key(None, "login password (prefer `password_env`)")
    password_env: EnvName | None = key(None, "an environment variable holding the password")
    sender: Address | None = key(None, "From", shown="the username when it is an address")
    recipients: Addresses = key(MailSettings.recipients, "To; `--mail-to` replaces it")
    subject: Subject = key(MailSettings.subject, "the mail's subject")
    timeout_s: Seconds = key(MailSettings.timeout_s, "SMTP timeout in seconds")


class Prices(Section):
    """`[prices]`: monthly prices per license label, for the Chargeback sheet."""

    currency: Currency = key(Settings.currency, "currency of the prices")
    labels: dict[PriceLabel, Amount] = key(
        {},
        'monthly price per license label, e.g. `"Webinar 500" = 79.0`: the report\'s '
        "Chargeback sheet then shows costs",
        shown="no prices: no costs",
        name='"<license>"',
    )

    @model_validator(mode="before")
    @classmethod
    def _labels_apart(cls, data: Any) -> Any:
        """Every key but `currency` is a license label."""
        if not isinstance(data, dict):
            return data  # refused as not a table
        labels = {name: value for name, value in data.items() if name != "currency"}
        return {**{k: v for k, v in data.items() if k == "currency"}, "labels": labels}


class LimitsSection(Section):
    """`[limits]`: a file past one is refused as a whole, naming the limit."""

    max_file_bytes: Count = key(Limits.max_file_bytes, "largest input file, in bytes (200 MiB)")
    max_rows: Count = key(Limits.max_rows, "most data rows")
    max_cell_chars: Count = key(Limits.max_cell_chars, "longest cell, in characters")
    max_cells: Count = key(
        Limits.max_cells,
        "most filled cells in a workbook sheet; its grid from A1 may span 4 times that",
    )
    max_shared_strings: Count = key(
        Limits.max_shared_strings, "most entries in a workbook's shared-strings table"
    )


class IntakeSection(Section):
    """`[intake]`: how a file is read."""

    sheet: Text | None = key(
        Intake.sheet, "the workbook sheet to read, as `--sheet`", shown="unset: the active sheet"
    )
    ignore_columns: Texts = key(
        Intake.ignore_columns,
        'headers carried through to the report unread and never refused, e.g. `["Webinar (old)"]`',
    )


class Web(Section):
    """`[web]`: how `batch web` serves the app."""

    host: Text = key(WebSettings.host, "`batch web --host`")
    port: Port = key(WebSettings.port, "`batch web --port`")
    secure_cookies: Flag = key(
        WebSettings.secure_cookies,
        "send the session cookie over HTTPS only: set it behind an HTTPS proxy",
    )
    idle_timeout_minutes: Count = key(
        WebSettings.idle_timeout_minutes, "a session unused this long (minutes) signs out"
    )
    secret_key: SecretText | None = key(
        None,
        "the key that signs session cookies (prefer `secret_key_env`)",
        shown="made once into `.batch/web-secret`",
    )
    secret_key_env: EnvName | None = key(None, "an environment variable holding that key")


class Config(Section):
    """The whole file; every section and key is optional."""

    zoom: Zoom = Zoom()
    sandbox: Sandbox = Sandbox()
    run: Run = Run()
    report: Report = Report()
    inbox: Inbox = Inbox()
    mail: Mail = Mail()
    prices: Prices = Prices()
    limits: LimitsSection = LimitsSection()
    intake: IntakeSection = IntakeSection()
    web: Web = Web()
