"""Defaults that could send a run to the wrong account, or let others steer it, are refused."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from batch.vocabulary import EXIT_INPUT

if TYPE_CHECKING:
    from tests.conftest import Workspace

SECRET = "s3cret-in-config"


@pytest.mark.parametrize(
    ("config", "options"),
    [
        pytest.param(None, ("--api-url", "https://api.zoom.us/v2"), id="option"),
        pytest.param('[zoom]\napi_url = "https://api.zoom.us/v2/"\n', (), id="config"),
    ],
)
def test_zoom_api_url_without_credentials_is_refused(
    ws: Workspace, config: str | None, options: tuple[str, ...]
) -> None:
    """Zoom's own API named without credentials: exit 2 saying so, the sandbox untouched."""
    args: list[str | Path] = ["plan", ws.sample("users-wide-en.csv"), *options]
    if config is not None:
        (ws.root / "batch.toml").write_text(config)
    run = ws.run(*args, "--log-format", "text")
    assert run.code == EXIT_INPUT
    (error,) = run.errors
    assert "is Zoom itself, but no credentials are set" in error
    assert not (ws.root / ".batch" / "sandbox.json").exists()
    assert not (ws.root / "reports").exists()


def test_zoom_api_url_with_sandbox_option_uses_the_sandbox(ws: Workspace) -> None:
    """`--sandbox PATH` says the run is a sandbox one, whatever the config's API URL."""
    (ws.root / "batch.toml").write_text('[zoom]\napi_url = "https://api.zoom.us/v2"\n')
    run = ws.run("plan", ws.sample("users-wide-en.csv"), "--sandbox", ws.account,
                 "--config", "batch.toml", "--log-format", "text")  # fmt: skip
    assert run.code == 1
    assert run.stdout.startswith(f"Using the SANDBOX account in {ws.account}")


def test_missing_sandbox_file_is_refused_naming_init(ws: Workspace) -> None:
    """A mistyped `--sandbox PATH`: exit 2 naming `batch sandbox init PATH`; nothing created."""
    run = ws.run("apply", ws.sample("users-wide-en.csv"), "--sandbox", "acount.json",
                 "--log-format", "text")  # fmt: skip
    assert run.code == EXIT_INPUT
    assert run.errors == [
        "Error: --sandbox acount.json: no such file; create it with "
        "`batch sandbox init acount.json`"
    ]
    assert not (ws.root / "acount.json").exists()
    init = ws.run("sandbox", "init", "acount.json")
    assert init.code == 0 and (ws.root / "acount.json").is_file()


@pytest.mark.parametrize(
    ("mode", "code", "says"),
    [
        pytest.param(0o666, EXIT_INPUT, "other users may change it", id="world-writable"),
        pytest.param(0o620, EXIT_INPUT, "other users may change it", id="group-writable"),
        pytest.param(0o644, 1, "other users may read it", id="world-readable"),
        pytest.param(0o600, 1, None, id="private"),
    ],
)
def test_config_holding_a_secret_must_be_private(
    ws: Workspace, mode: int, code: int, says: str | None
) -> None:
    """A config holding a secret that others may change is refused; one they may read is
    used with a warning; the secret itself is never printed."""
    config = ws.root / "batch.toml"
    config.write_text(f'[mail]\npassword = "{SECRET}"\n')
    config.chmod(mode)
    run = ws.run("plan", ws.sample("users-wide-en.csv"), "--config", config,
                 "--sandbox", ws.account, "--log-format", "text")  # fmt: skip
    assert run.code == code, run.stderr[-2000:]
    assert SECRET not in run.stdout + run.stderr
    problems = [line for line in run.stderr.splitlines() if "mail.password" in line]
    if says is None:
        assert problems == []
    else:
        (line,) = problems
        assert says in line and "chmod 600" in line
