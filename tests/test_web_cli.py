"""`batch web user add/list/remove` and `batch web token`, run as the console script's main()
in this process (nothing here needs a process of its own: no signal, lock or server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Run, run_inprocess
from fastapi.testclient import TestClient

from batch.settings import Settings
from batch.web.app import create_app


def _batch(cwd: Path, *args: str, stdin: str = "") -> Run:
    return run_inprocess(cwd, "web", *args, stdin=stdin)


def test_users_are_added_listed_and_removed(tmp_path: Path) -> None:
    """A user added with --password-stdin is listed, can sign in, and is gone once removed."""
    added = _batch(
        tmp_path,
        "user",
        "add",
        "ann",
        "--role",
        "admin",
        "--password-stdin",
        stdin="long enough pw\n",
    )
    assert added.code == 0, added.stderr
    _batch(tmp_path, "user", "add", "fin", "--role", "viewer", "--password-stdin", stdin="x" * 9)
    assert _batch(tmp_path, "user", "list").stdout.split() == ["ann", "admin", "fin", "viewer"]
    app = create_app(Settings(journal_path=tmp_path / ".batch" / "journal.sqlite"))
    assert app.state.store.check_password("ann", "long enough pw") is not None
    assert _batch(tmp_path, "user", "remove", "fin").code == 0
    assert _batch(tmp_path, "user", "list").stdout.split() == ["ann", "admin"]


def test_refusals_exit_2_with_one_error_line(tmp_path: Path) -> None:
    """A short password, a taken name or an unknown user: exit 2 and one Error: line."""
    args = ("user", "add", "ann", "--role", "admin", "--password-stdin")
    assert _batch(tmp_path, *args, stdin="pw long enough").code == 0
    for result in (
        _batch(tmp_path, *args, stdin="short"),
        _batch(tmp_path, *args, stdin="pw long enough"),
        _batch(tmp_path, "user", "remove", "nobody"),
        _batch(tmp_path, "token", "nobody"),
    ):
        assert result.code == 2
        assert [line for line in result.stderr.splitlines() if line.startswith("Error: ")]


def test_token_authorizes_the_api(tmp_path: Path) -> None:
    """`batch web token NAME` prints a token the API accepts; the database keeps only its hash."""
    _batch(tmp_path, "user", "add", "bot", "--role", "admin", "--password-stdin", stdin="p" * 12)
    token = _batch(tmp_path, "token", "bot").stdout.strip()
    app = create_app(Settings(journal_path=tmp_path / ".batch" / "journal.sqlite"))
    client = TestClient(app)
    assert client.get("/api/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert token.encode() not in (tmp_path / ".batch" / "web.sqlite").read_bytes()


def test_web_section_of_the_config(tmp_path: Path) -> None:
    """`[web]` keys are read, the key from the environment; a wrong one is refused, naming it."""
    from batch.config import load_config
    from batch.errors import ConfigError

    config = tmp_path / "batch.toml"
    config.write_text(
        "[web]\nport = 8443\nsecure_cookies = true\nidle_timeout_minutes = 5\n"
        'secret_key_env = "KEY"\n'
    )
    web = load_config(config, {"KEY": "s3cret-key"}).web
    assert (web.port, web.secure_cookies, web.idle_timeout_minutes) == (8443, True, 5)
    assert web.secret_key is not None and web.secret_key.reveal() == "s3cret-key"
    config.write_text("[web]\nport = 0\n")
    with pytest.raises(ConfigError, match=r"^config web\.port:"):
        load_config(config, {})
