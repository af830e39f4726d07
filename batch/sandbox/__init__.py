"""The sandbox: a Zoom-compatible emulator of the endpoints `batch` uses (README, `batch sandbox`).

    Sandbox.from_file(path) / Sandbox.from_dict(data)   the account, from JSON
    sandbox.handle(request) / sandbox.transport()       in-process, for httpx clients
    serve(sandbox) -> "http://127.0.0.1:PORT"           over real HTTP
    Faults(...)                                         seeded errors, drops, latency, expiry
    init_account(path)                                  a copy of the demo account

>>> from batch.sandbox import Sandbox, serve
>>> with serve(Sandbox.from_file(".batch/sandbox.json")) as url:   # doctest: +SKIP
...     ...
"""

from __future__ import annotations

import shutil
from pathlib import Path

import batch
from batch.errors import FileRefused
from batch.sandbox.app import Sandbox, SandboxStats
from batch.sandbox.faults import Faults
from batch.sandbox.server import serve
from batch.settings import DEFAULT_SANDBOX_PATH

DEMO_ACCOUNT = Path(batch.__file__).resolve().parents[1] / "samples" / "sandbox.json"

__all__ = ["DEMO_ACCOUNT", "Faults", "Sandbox", "SandboxStats", "init_account", "serve"]


def init_account(path: str | Path = DEFAULT_SANDBOX_PATH, *, force: bool = False) -> Path:
    """Copy the demo account to `path`; refuses to replace an existing file unless force."""
    path = Path(path)
    if path.exists() and not force:
        raise FileRefused(str(path), "already exists (use --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEMO_ACCOUNT, path)
    return path
