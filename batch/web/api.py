"""The JSON API for scripts: token auth (`Authorization: Bearer TOKEN`), OpenAPI at /api/docs.

    POST /api/runs              multipart file (+ mode, max_removals, all_or_nothing) -> 201
    GET  /api/runs              the web's runs, newest first
    GET  /api/runs/{id}         status, counts, progress, exit code, report URL
    POST /api/runs/{id}/apply   -> 202 (queued; the plan is checked against the account first)
    POST /api/runs/{id}/cancel  -> 202
    GET  /api/runs/{id}/report  the XLSX (the run's report, else the plan report)

No token: 401; a viewer's write: 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from batch.web.auth import api_admin, api_user, session_user
from batch.web.pages import UploadForm, create_run, report_file
from batch.web.preview import total_removals
from batch.web.runs import RunManager
from batch.web.store import Store, User

router = APIRouter(prefix="/api", tags=["runs"])

ApiUser = Annotated[User, Depends(api_user)]
ApiAdmin = Annotated[User, Depends(api_admin)]


class RunProgress(BaseModel):
    """Operations answered of those planned."""

    done: int
    total: int


class RunView(BaseModel):
    """A run as the API shows it."""

    id: str
    status: str  # planned | queued | applying | applied | stopped | failed | refused
    file_name: str
    user: str
    counts: dict[str, int]
    progress: RunProgress
    exit_code: int | None
    message: str
    report_url: str | None


class Created(BaseModel):
    """What POST /api/runs answers."""

    id: str
    status: str
    counts: dict[str, int]
    exit_code: int | None
    message: str


def _view(request: Request, row: dict[str, Any]) -> RunView:
    manager: RunManager = request.app.state.runs
    live = manager.progress(row["id"]) or {}
    counts = row["counts"]
    total = live.get("total", 0) or counts.get("planned", 0)
    done = live.get("done", 0)
    if row["status"] == "applied" and not live:  # applied before this process started
        done = total = counts.get("applied", 0) + counts.get("failed", 0)
    has_report = bool(row["report"] or row["plan_report"])
    return RunView(
        id=row["id"],
        status=row["status"],
        file_name=row["file_name"],
        user=row["user"],
        counts=counts,
        progress=RunProgress(done=done, total=total),
        exit_code=row["exit_code"],
        message=row["message"],
        report_url=f"/api/runs/{row['id']}/report" if has_report else None,
    )


def _row(request: Request, run_id: str) -> dict[str, Any]:
    store: Store = request.app.state.store
    row = store.run(run_id)
    if row is None:
        raise HTTPException(404, detail=f"no run {run_id}")
    return row


def openapi_reader(request: Request) -> User:
    """The OpenAPI document is for a token or a signed-in session."""
    user = session_user(request)
    return user if user is not None else api_user(request)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, user: Annotated[User, Depends(openapi_reader)]) -> dict[str, Any]:
    """The OpenAPI document of this API."""
    document: dict[str, Any] = request.app.openapi()
    return document


@router.post("/runs", status_code=201, response_model=Created)
async def create(request: Request, user: ApiAdmin, form: UploadForm) -> Created:
    """Upload a file and plan it: `planned`, or `refused` with the CLI's reason in `message`."""
    run_id = await create_run(request, user, form)
    row = _row(request, run_id)
    return Created(
        id=run_id,
        status=row["status"],
        counts=row["counts"],
        exit_code=row["exit_code"],
        message=row["message"],
    )


@router.get("/runs", response_model=list[RunView])
def list_runs(request: Request, user: ApiUser) -> list[RunView]:
    """The web's runs, newest first."""
    store: Store = request.app.state.store
    return [_view(request, row) for row in store.runs()]


@router.get("/runs/{run_id}", response_model=RunView)
def get_run(request: Request, run_id: str, user: ApiUser) -> RunView:
    """One run: status, counts, progress, exit code and where its report is."""
    return _view(request, _row(request, run_id))


@router.post("/runs/{run_id}/apply", status_code=202, response_model=RunView)
async def apply_run(
    request: Request, run_id: str, user: ApiAdmin, confirm_removals: int | None = None
) -> RunView:
    """Queue a planned run's apply; a sync plan's removals need `?confirm_removals=N`."""
    row = _row(request, run_id)
    if row["status"] not in ("planned", "stopped"):
        raise HTTPException(409, detail=f"the run is {row['status']}, not planned")
    manager: RunManager = request.app.state.runs
    preview = await run_in_threadpool(manager.preview, run_id)
    if preview is None:
        raise HTTPException(409, detail="the run's file can no longer be planned")
    removals = total_removals(preview.plan)
    if removals and confirm_removals != removals:
        raise HTTPException(
            409, detail=f"the plan removes {removals} licenses: pass confirm_removals={removals}"
        )
    manager.apply(run_id, resume=row["status"] == "stopped")
    return _view(request, _row(request, run_id))


@router.post("/runs/{run_id}/cancel", status_code=202, response_model=RunView)
def cancel_run(request: Request, run_id: str, user: ApiAdmin) -> RunView:
    """Ask a queued or running apply to stop after the requests in flight."""
    row = _row(request, run_id)
    manager: RunManager = request.app.state.runs
    if not manager.cancel(run_id):
        raise HTTPException(409, detail=f"the run is {row['status']}, nothing to cancel")
    return _view(request, _row(request, run_id))


@router.get("/runs/{run_id}/report", response_class=Response)
def report(request: Request, run_id: str, user: ApiUser) -> Response:
    """The run's XLSX report (the plan report until it is applied)."""

    row = _row(request, run_id)
    return report_file(row, "report" if row["report"] else "plan_report")
