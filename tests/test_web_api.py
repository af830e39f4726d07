"""The JSON API: bearer tokens, 401/403, create -> 201, apply -> 202, the report as XLSX."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from web_support import HOSTILE, SAMPLES, Site


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """An app on a copy of the demo account."""
    return Site.make(tmp_path / "web")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _create(client: TestClient, token: str, path: Path, **fields: str) -> Any:
    with path.open("rb") as stream:
        return client.post(
            "/api/runs", headers=_bearer(token), data=fields, files={"file": (path.name, stream)}
        )


def _wait(client: TestClient, token: str, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"/api/runs/{run_id}", headers=_bearer(token)).json()
        if run["status"] not in ("queued", "applying"):
            return run
        time.sleep(0.1)
    raise AssertionError("the run did not end")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/runs"),
        ("get", "/api/runs/abc"),
        ("post", "/api/runs"),
        ("post", "/api/runs/abc/apply"),
        ("post", "/api/runs/abc/cancel"),
        ("get", "/api/runs/abc/report"),
    ],
)
def test_no_token_is_401(site: Site, method: str, path: str) -> None:
    """Every API route wants a token: none, or a wrong one, is 401."""
    client = TestClient(site.app)
    assert getattr(client, method)(path).status_code == 401
    assert getattr(client, method)(path, headers=_bearer("wrong")).status_code == 401


def test_create_apply_and_report(site: Site) -> None:
    """POST a file -> 201 planned; apply -> 202; it ends applied; the report is the XLSX."""
    client = TestClient(site.app)
    token = site.token("script", "admin")
    created = _create(client, token, SAMPLES / "licenses-long.xlsx", mode="apply")
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "planned" and body["exit_code"] == 1
    assert set(body) >= {"id", "status", "counts", "exit_code"}
    planned = body["counts"]["planned"]
    applied = client.post(f"/api/runs/{body['id']}/apply", headers=_bearer(token))
    assert applied.status_code == 202
    run = _wait(client, token, body["id"])
    assert run["status"] == "applied"
    assert run["progress"]["done"] == run["progress"]["total"] > 0  # changes sent to Zoom
    assert run["counts"]["applied"] == planned
    assert run["report_url"] == f"/api/runs/{body['id']}/report"
    report = client.get(run["report_url"], headers=_bearer(token))
    book = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)
    assert "Results" in book.sheetnames
    listed = client.get("/api/runs", headers=_bearer(token)).json()
    assert [r["id"] for r in listed] == [body["id"]]


def test_refused_file_is_201_refused_with_the_reason(site: Site) -> None:
    """A file the CLI refuses is recorded as `refused` with exit code 2 and the reason."""
    client = TestClient(site.app)
    token = site.token("script", "admin")
    body = _create(client, token, HOSTILE / "document.pdf").json()
    assert body["status"] == "refused" and body["exit_code"] == 2
    assert body["message"].startswith("document.pdf: ")


def test_viewer_token_cannot_write(site: Site) -> None:
    """A viewer's token reads runs and reports; every write is 403."""
    client = TestClient(site.app)
    admin = site.token("script", "admin")
    run_id = _create(client, admin, SAMPLES / "users-wide-en.csv").json()["id"]
    viewer = site.token("finance", "viewer")
    assert client.get(f"/api/runs/{run_id}", headers=_bearer(viewer)).status_code == 200
    assert client.get(f"/api/runs/{run_id}/report", headers=_bearer(viewer)).status_code == 200
    assert _create(client, viewer, SAMPLES / "users-wide-en.csv").status_code == 403
    for action in ("apply", "cancel"):
        answer = client.post(f"/api/runs/{run_id}/{action}", headers=_bearer(viewer))
        assert answer.status_code == 403
    assert client.get(f"/api/runs/{run_id}", headers=_bearer(admin)).json()["status"] == "planned"


def test_unknown_run_is_404_and_bad_mode_422(site: Site) -> None:
    """An unknown run id is 404; a mode that is neither apply nor sync is 422."""
    client = TestClient(site.app)
    token = site.token("script", "admin")
    assert client.get("/api/runs/nosuch", headers=_bearer(token)).status_code == 404
    assert _create(client, token, SAMPLES / "users-wide-en.csv", mode="merge").status_code == 422


def test_openapi_documents_the_runs_api(site: Site) -> None:
    """The OpenAPI document lists the run routes."""
    client = TestClient(site.app)
    assert client.get("/api/openapi.json").status_code == 401
    token = site.token("script", "viewer")
    paths = client.get("/api/openapi.json", headers=_bearer(token)).json()["paths"]
    assert {"/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/apply"} <= set(paths)
