"""The `batch sandbox` commands as an admin runs them: output lines, exit codes, files."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from batch.cli.main import cli
from batch.sandbox import DEMO_ACCOUNT

BATCH = [sys.executable, "-c", "from batch.cli.main import main; main()"]


def test_init_creates_demo_account(tmp_path: Path) -> None:
    """`init PATH` copies the demo account and says what it made."""
    path = tmp_path / "state" / "sandbox.json"
    result = CliRunner().invoke(cli, ["sandbox", "init", str(path)])
    assert result.exit_code == 0
    assert result.output == f"Created {path}: demo account, business plan, 50 users.\n"
    assert json.loads(path.read_text()) == json.loads(DEMO_ACCOUNT.read_text())


@pytest.mark.parametrize(
    ("args", "exit_code", "stderr"),
    [
        ([], 2, "Error: {path}: already exists (use --force to replace it)\n"),
        (["--force"], 0, ""),
    ],
    ids=["refuses-overwrite", "force"],
)
def test_init_existing_file(tmp_path: Path, args: list[str], exit_code: int, stderr: str) -> None:
    """`init` refuses to replace an account unless --force."""
    path = tmp_path / "sandbox.json"
    path.write_text("{}")
    result = CliRunner().invoke(cli, ["sandbox", "init", str(path), *args])
    assert result.exit_code == exit_code
    assert result.stderr == stderr.format(path=path)


def test_default_path_created_when_missing(tmp_path: Path) -> None:
    """Without PATH, `show` uses .batch/sandbox.json, creating it from the demo and saying so."""
    result = subprocess.run(
        [*BATCH, "sandbox", "show"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stderr == "Created .batch/sandbox.json from the demo account.\n"
    assert (tmp_path / ".batch" / "sandbox.json").exists()


def test_show_plain_text(tmp_path: Path) -> None:
    """`show` lists seats per license and size, users by type and status, and every user."""
    path = tmp_path / "sandbox.json"
    path.write_bytes(DEMO_ACCOUNT.read_bytes())
    result = CliRunner().invoke(cli, ["sandbox", "show", str(path)])
    assert result.exit_code == 0
    lines = [re.sub(r"\s{2,}", " | ", line) for line in result.output.splitlines()]
    assert (
        lines[0]
        == f"Sandbox account sandbox ({path}): business plan, On-prem user type not available"
    )
    assert "Licensed / On-prem | 34 | 32 | 2" in lines
    assert "Webinar 1000 | 1 | 1 | 0" in lines
    assert "Licensed | 30 | 1 | 1" in lines
    assert "ann.smit@example.com | Ann Smit | Sales | Licensed | active | 500" in lines
    assert "Users (50)" in lines


@pytest.mark.parametrize(
    ("command", "content", "reason"),
    [
        ("show", "{broken", "not valid JSON"),
        ("serve", '{"account": {"id": "a", "plan": "gold"}}', "account.plan 'gold' is not one of"),
    ],
    ids=["show-bad-json", "serve-bad-plan"],
)
def test_bad_account_file(tmp_path: Path, command: str, content: str, reason: str) -> None:
    """A bad account file gives one `Error: <path>: <reason>` line and exit 2."""
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = CliRunner().invoke(cli, ["sandbox", command, str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}: {reason}")
    assert result.stderr.count("\n") == 1


def test_serve_until_sigterm(tmp_path: Path) -> None:
    """`serve` prints its URL, answers over HTTP, and on SIGTERM stops with the file saved."""
    path = tmp_path / "sandbox.json"
    path.write_bytes(DEMO_ACCOUNT.read_bytes())
    server = subprocess.Popen(
        [*BATCH, "sandbox", "serve", str(path), "--port", "0", "--latency-ms", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        match = re.fullmatch(r"Sandbox \S+ serving at (http://127\.0\.0\.1:\d+) \(API \1/v2, "
                             r"token \1/oauth/token\)\n", line)  # fmt: skip
        assert match is not None, line
        url = match.group(1)
        token = httpx.post(
            f"{url}/oauth/token",
            data={"grant_type": "account_credentials", "account_id": "sandbox"},
            auth=("id", "secret"),
        ).json()["access_token"]
        response = httpx.patch(
            f"{url}/v2/users/ann.smit@example.com",
            json={"type": 1},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 204
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0
    assert stderr.endswith(f"Stopped after 1 writes (1 saves); {path} is saved.\n")
    saved = json.loads(path.read_text())
    assert (
        next(u for u in saved["users"] if u["email"] == "ann.smit@example.com")["type"] == "Basic"
    )
