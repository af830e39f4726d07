"""The config file: every section, environment overrides, and the errors a user sees."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from batch.cli.main import cli
from batch.config import load_config
from batch.config.load import check, read
from batch.config.markdown import readme_table, table, with_table
from batch.config.model import Config
from batch.errors import ConfigError
from batch.settings import Credentials, Limits, MailSettings, Secret, Settings
from batch.vocabulary import EXIT_INPUT, Mode

FULL = """
[zoom]
account_id = "acc"
client_id = "cid"
client_secret = "s3cret"
api_url = "http://127.0.0.1:8080/v2/"
oauth_url = "http://127.0.0.1:8080/oauth/token"
plan = "business"
timeout_s = 12

[run]
mode = "sync"
max_removals = 25
all_or_nothing = true
chunk_size = 30
journal = "state/journal.sqlite"
reports_dir = "/srv/reports"
log_format = "json"
quiet = true

[inbox]
dir = "inbox"
archive = "archive"
settle_s = 0.5

[mail]
host = "smtp.example.com"
security = "starttls"
username = "batch@example.com"
password = "mailpw"
recipients = ["finance@example.com", "it@example.com"]
subject = "{status}: {file} ({date})"
timeout_s = 5

[prices]
currency = "USD"
"Licensed" = 14.99
"webinar 500" = 79

[limits]
max_file_bytes = 1000
max_rows = 10
max_cell_chars = 100
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "batch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_section_is_read(tmp_path: Path) -> None:
    """A file using every section gives Settings with each value, paths beside the file."""
    path = write(tmp_path, FULL)
    settings = load_config(path, {})
    assert settings == Settings(
        config_path=path,
        credentials=Credentials("acc", "cid", Secret("s3cret")),
        api_url="http://127.0.0.1:8080/v2",
        oauth_url="http://127.0.0.1:8080/oauth/token",
        zoom_plan="business",
        timeout_s=12.0,
        mode=Mode.SYNC,
        max_removals="25",
        all_or_nothing=True,
        chunk_size=30,
        journal_path=tmp_path / "state/journal.sqlite",
        reports_dir=Path("/srv/reports"),
        log_format="json",
        quiet=True,
        inbox_dir=tmp_path / "inbox",
        archive_dir=tmp_path / "archive",
        settle_s=0.5,
        mail=MailSettings(
            host="smtp.example.com",
            port=587,
            security="starttls",
            username="batch@example.com",
            password=Secret("mailpw"),
            sender="batch@example.com",
            recipients=("finance@example.com", "it@example.com"),
            subject="{status}: {file} ({date})",
            timeout_s=5.0,
        ),
        prices={"Licensed": 14.99, "Webinar 500": 79.0},
        currency="USD",
        limits=Limits(max_file_bytes=1000, max_rows=10, max_cell_chars=100),
    )


def test_sandbox_section_wins_over_credentials(tmp_path: Path) -> None:
    """`[sandbox] path` makes a sandbox run even when credentials are configured."""
    text = '[zoom]\naccount_id="a"\nclient_id="b"\nclient_secret="c"\n[sandbox]\npath="sb.json"\n'
    settings = load_config(write(tmp_path, text), {})
    assert (settings.sandbox_path, settings.uses_sandbox) == (tmp_path / "sb.json", True)


def test_no_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --config and without ./batch.toml the defaults apply."""
    monkeypatch.chdir(tmp_path)
    assert load_config(None, {}) == Settings()


def test_default_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --config, ./batch.toml is read when it exists."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[run]\nchunk_size = 7\n")
    assert load_config(None, {}).chunk_size == 7


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"ZOOM_ACCOUNT_ID": "e-acc", "ZOOM_CLIENT_ID": "e-cid", "ZOOM_CLIENT_SECRET": "e-s"},
            Credentials("e-acc", "e-cid", Secret("e-s")),
        ),
        ({"ZOOM_CLIENT_SECRET": "e-s"}, Credentials("acc", "cid", Secret("e-s"))),
        ({"ZOOM_CLIENT_SECRET": "  "}, Credentials("acc", "cid", Secret("s3cret"))),
    ],
    ids=["all-three", "secret-only", "blank-ignored"],
)
def test_environment_overrides_file(
    tmp_path: Path, env: dict[str, str], expected: Credentials
) -> None:
    """Each ZOOM_* variable overrides its credential from the file."""
    text = '[zoom]\naccount_id="acc"\nclient_id="cid"\nclient_secret="s3cret"\n'
    assert load_config(write(tmp_path, text), env).credentials == expected


def test_secrets_from_named_variables(tmp_path: Path) -> None:
    """`*_env` keys name the environment variables that hold the values."""
    text = (
        '[zoom]\naccount_id_env="PROD_ACC"\nclient_id="cid"\nclient_secret_env="PROD_SECRET"\n'
        '[mail]\nhost="smtp"\npassword_env="SMTP_PW"\n'
    )
    env = {"PROD_ACC": "acc", "PROD_SECRET": "zoomsecret", "SMTP_PW": "mailsecret"}
    settings = load_config(write(tmp_path, text), env)
    assert settings.credentials == Credentials("acc", "cid", Secret("zoomsecret"))
    assert settings.mail.password == Secret("mailsecret")
    assert "zoomsecret" not in repr(settings) and "mailsecret" not in repr(settings)


def test_environment_credentials_without_file(tmp_path: Path) -> None:
    """With no file at all, the ZOOM_* variables still give the credentials."""
    env = {"ZOOM_ACCOUNT_ID": "a", "ZOOM_CLIENT_ID": "b", "ZOOM_CLIENT_SECRET": "c"}
    path = write(tmp_path, "")
    assert load_config(path, env).credentials == Credentials("a", "b", Secret("c"))


LABELS = "such as Basic, Licensed, On-prem, Large Meeting 500, Large Meeting 1000, ..."

# (file text, dotted key, reason)
BAD = [
    ("[run]\nchunk_size = 'ten'", "run.chunk_size", "expected a whole number, got 'ten'"),
    ("[run]\nchunk_size = 0", "run.chunk_size", "expected a whole number of at least 1, got 0"),
    ("[run]\nchunk_size = true", "run.chunk_size", "expected a whole number, got true"),
    ("[run]\nchunk_sise = 3", "run.chunk_sise", "unknown key (did you mean chunk_size?)"),
    ("[runn]\nmode = 'sync'", "runn", "unknown section (did you mean run?)"),
    ("[run]\nmode = 'fast'", "run.mode", "expected 'apply' or 'sync', got 'fast'"),
    ("[run]\nquiet = 'yes'", "run.quiet", "expected true or false, got 'yes'"),
    (
        "[run]\nmax_removals = '5 percent'",
        "run.max_removals",
        "expected a count (25) or a percentage (\"5%\"), got '5 percent'",
    ),
    (
        "[run]\nlog_format = 'xml'",
        "run.log_format",
        "expected 'auto' or 'text' or 'json', got 'xml'",
    ),
    ("[inbox]\nsettle_s = -1", "inbox.settle_s", "expected a number of 0 or more, got -1"),
    ("[zoom]\nplan = 'free'", "zoom.plan", "expected 'pro' or 'business', got 'free'"),
    (
        "[zoom]\napi_url = 'api.zoom.us'",
        "zoom.api_url",
        "expected an http(s) URL, got 'api.zoom.us'",
    ),
    ("[zoom]\nclient_secret = 42", "zoom.client_secret", "expected non-empty text"),
    (
        "[mail]\nport = 70000",
        "mail.port",
        "expected a whole number of at least 1 and at most 65535, got 70000",
    ),
    (
        "[mail]\nrecipients = 'a@b.c'",
        "mail.recipients",
        "expected a list of mail addresses ([\"a@example.com\"]), got 'a@b.c'",
    ),
    (
        "[mail]\nrecipients = ['finance']",
        "mail.recipients",
        "expected a mail address, got 'finance'",
    ),
    (
        "[mail]\nsubject = '{file} {when}'",
        "mail.subject",
        "expected text with only the fields {file} {status} {date}, got '{file} {when}'",
    ),
    (
        "[mail]\npassword = 'x'\npassword_env = 'PW'",
        "mail.password",
        "give password or password_env, not both",
    ),
    (
        "[mail]\npassword_env = 'NOT_SET'",
        "mail.password_env",
        "environment variable NOT_SET is not set",
    ),
    ("[prices]\n'Licenced' = 14.99", "prices.Licenced", f"not a license label ({LABELS})"),
    ("[prices]\n'Webinar 700' = 10", "prices.Webinar 700", f"not a license label ({LABELS})"),
    ("[prices]\n'Licensed' = 'cheap'", "prices.Licensed", "expected a number, got 'cheap'"),
    (
        "[prices]\ncurrency = 'euro'",
        "prices.currency",
        "expected a currency code of three capitals (\"EUR\"), got 'euro'",
    ),
    ("[limits]\nmax_rows = 1.5", "limits.max_rows", "expected a whole number, got 1.5"),
    ("run = 3", "run", "expected a [section] table, got 3"),
    ("[zoom]\ntimeout_s = nan", "zoom.timeout_s", "expected a number above 0, got nan"),
    (
        "[zoom]\naccount_id_env = '1X'",
        "zoom.account_id_env",
        "expected the name of an environment variable, got '1X'",
    ),
    ("[mail]\nrecipients = [1]", "mail.recipients", "expected a mail address, got 1"),
    (
        "[intake]\nignore_columns = ['Notes', ' ']",
        "intake.ignore_columns",
        'expected a list of texts (["Notes", "Webinar (old)"]), got a list',
    ),
    (
        "[web]\nsecret_key = 'k'\nsecret_key_env = 'K'",
        "web.secret_key",
        "give secret_key or secret_key_env, not both",
    ),
    ("[web]\nport = '8000'", "web.port", "expected a whole number, got '8000'"),
    ("[report]\nxyz = 1", "report.xyz", "unknown key (known: full_account)"),
    ("[run]\nquiet = 1\nchunk_size = 0", "run.quiet", "expected true or false, got 1"),
    (
        "[run]\nchunk_size = 0\nquiet = 1",
        "run.chunk_size",
        "expected a whole number of at least 1, got 0",
    ),
    (
        "[zoom]\naccount_id = 'a'\nclient_id = 'b'",
        "zoom.client_secret",
        "missing: the Zoom credentials need all three of account_id, client_id and "
        "client_secret (set zoom.client_secret, zoom.client_secret_env or ZOOM_CLIENT_SECRET)",
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "reason"), BAD, ids=[f"{key}-{i}" for i, (_, key, _) in enumerate(BAD)]
)
def test_bad_values_are_refused_naming_the_key(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    """A wrong key or value stops with exit 2 and one line naming the dotted key."""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text + "\n"), {})
    assert (str(caught.value), caught.value.exit_code) == (f"config {key}: {reason}", EXIT_INPUT)


def test_secret_is_never_echoed_in_errors(tmp_path: Path) -> None:
    """A mistyped secret is refused without repeating it."""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "[mail]\npassword = ['hunter2']\n"), {})
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        (b"[run\nchunk_size = 3", "not valid TOML"),
        (b"\xff\xfe[run]", "not UTF-8 text"),
    ],
    ids=["missing", "bad-toml", "not-utf8"],
)
def test_unusable_file_is_refused(tmp_path: Path, content: bytes | None, reason: str) -> None:
    """A missing explicit --config file, or one that is not TOML, is a ConfigError."""
    path = tmp_path / "missing.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value).startswith(f"config {path}: {reason}")


def test_partial_environment_credentials_refused(tmp_path: Path) -> None:
    """Some ZOOM_* variables but not all is an error, never a silent sandbox run."""
    with pytest.raises(ConfigError, match=r"zoom\.client_id: missing"):
        load_config(write(tmp_path, ""), {"ZOOM_ACCOUNT_ID": "a"})


@pytest.mark.parametrize(
    ("security", "port"),
    [("none", 25), ("starttls", 587), ("ssl", 465)],
    ids=["none", "starttls", "ssl"],
)
def test_mail_port_follows_security(tmp_path: Path, security: str, port: int) -> None:
    """Without a port, the usual one for the security mode is used."""
    settings = load_config(write(tmp_path, f'[mail]\nhost="h"\nsecurity="{security}"\n'), {})
    assert settings.mail.port == port


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    """A file with no keys gives exactly the defaults the README's table shows."""
    path = write(tmp_path, "")
    assert load_config(path, {}) == Settings(config_path=path)


def test_choices_ignore_case_and_spaces(tmp_path: Path) -> None:
    """`mode = " SYNC "` reads as sync, as a hand-edited file is apt to say it."""
    settings = load_config(write(tmp_path, '[run]\nmode = " SYNC "\n[zoom]\nplan = "Pro"\n'), {})
    assert (settings.mode, settings.zoom_plan) == (Mode.SYNC, "pro")


def test_secrets_hidden_in_the_model(tmp_path: Path) -> None:
    """The checked model shows its secrets as stars, never their text."""
    text = '[zoom]\nclient_secret = "zoomsecret1"\n[web]\nsecret_key = "websecret1"\n'
    model = check(read(write(tmp_path, text)))
    assert "zoomsecret1" not in repr(model) and "websecret1" not in repr(model)
    assert "zoomsecret1" not in model.model_dump_json()


README = Path(__file__).parents[1] / "README.md"


def test_readme_config_table_is_the_models() -> None:
    """The README's config table is the one rendered from the model (regenerate it if not)."""
    documented = readme_table(README.read_text(encoding="utf-8"))
    assert documented == table(), "run: python -m batch.config --write-readme README.md"


def test_readme_table_names_every_key() -> None:
    """Every key the model accepts has its own row in the README."""
    documented = readme_table(README.read_text(encoding="utf-8")) or ""
    for section, holder in Config.model_fields.items():
        model = holder.annotation
        assert model is not None
        for name in model.model_fields:
            shown = '"<license>"' if (section, name) == ("prices", "labels") else name
            assert f"| `{section}.{shown}` |" in documented


def test_table_is_written_between_the_markers() -> None:
    """`with_table` replaces only what lies between the markers."""
    readme = README.read_text(encoding="utf-8")
    stale = readme.replace("| `run.chunk_size` |", "| `run.chunk_sise` |")
    assert with_table(stale) == readme


def test_markdown_command_prints_the_table() -> None:
    """`python -m batch.config --markdown` prints the table and exits 0."""
    done = subprocess.run(
        [sys.executable, "-m", "batch.config", "--markdown"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, table())


def test_readme_example_config_loads(tmp_path: Path) -> None:
    """The README's example batch.toml is accepted, its secrets read from the variables named."""
    example = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert example is not None
    env = {"ZOOM_ACCOUNT_ID_PROD": "acc", "ZOOM_SECRET_PROD": "zsecret", "SMTP_PASSWORD": "pw"}
    settings = load_config(write(tmp_path, example.group(1)), env)
    assert settings.credentials == Credentials("acc", "abc", Secret("zsecret"))
    assert settings.prices == {"Licensed": 14.99, "Webinar 500": 79.0}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "[run]\nchunk_sise = 3\n",
            "Error: config run.chunk_sise: unknown key (did you mean chunk_size?)",
        ),
        (
            '[zoom]\nclient_secret = ["hunter2-secret"]\n',
            "Error: config zoom.client_secret: expected non-empty text",
        ),
    ],
    ids=["misspelt-key", "mistyped-secret"],
)
def test_command_with_bad_config_exits_2(tmp_path: Path, text: str, line: str) -> None:
    """`batch validate --config` with a bad file: exit 2, one Error: line, no secret echoed."""
    data = tmp_path / "lines.csv"
    data.write_text("Email,User type\na@example.com,Basic\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["validate", str(data), "--log-format", "text", "--config", str(write(tmp_path, text))],
    )
    errors = [out for out in result.output.splitlines() if out.startswith("Error:")]
    assert (result.exit_code, errors) == (EXIT_INPUT, [line])
    assert "hunter2" not in result.output
