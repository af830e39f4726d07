"""The pages: sign-in, upload, preview / run, history. Forms POST with the session's CSRF token.

GET  /signin  POST /signin  POST /signout
GET  /                        the upload form          POST /upload -> /runs/{id}
GET  /runs/{id}               the preview (planned) or the run page (applying, applied, ...)
GET  /runs/{id}/progress      JSON for the progress poll
POST /runs/{id}/apply | /cancel | /resume
GET  /runs/{id}/plan.xlsx     the plan report;  GET /runs/{id}/report.xlsx  the run's report
GET  /history                 every run of the journal
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from batch.web.auth import (
    check_csrf,
    client_address,
    page_admin,
    page_user,
    sign_in,
)
from batch.web.history import history
from batch.web.preview import (
    FILTERS,
    LineQuery,
    filter_choices,
    lines_page,
    problems,
    seat_rows,
    total_removals,
)
from batch.web.runs import RunManager
from batch.web.store import Store, User
from batch.web.uploads import store_upload
from batch.web.views import render

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PageUser = Annotated[User, Depends(page_user)]
PageAdmin = Annotated[User, Depends(page_admin)]
Csrf = Depends(check_csrf)


def _runs(request: Request) -> RunManager:
    manager: RunManager = request.app.state.runs
    return manager


def _run_row(request: Request, run_id: str) -> dict[str, Any]:
    store: Store = request.app.state.store
    row = store.run(run_id)
    if row is None:
        raise HTTPException(404)
    return row


def _safe_next(target: str) -> str:
    """Only a path on this site (never `//host` or a URL)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


# -- sign-in ----------------------------------------------------------------------------------


@router.get("/signin")
def signin_page(request: Request, next: str = "/") -> Response:
    """The sign-in form."""
    return render(request, "signin.html", None, next=_safe_next(next), failed=False)


@router.post("/signin", dependencies=[Csrf])
async def signin(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password (slowed down after failures); a session on success."""
    throttle = request.app.state.throttle
    address = client_address(request)
    await throttle.wait(username, address)
    store: Store = request.app.state.store
    user = await run_in_threadpool(store.check_password, username, password)
    if user is None:
        throttle.failed(username, address)
        return render(request, "signin.html", None, 401, next=_safe_next(next), failed=True)
    throttle.succeeded(username, address)
    sign_in(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signout", dependencies=[Csrf])
def signout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


# -- upload and preview -----------------------------------------------------------------------


@router.get("/")
def upload_page(request: Request, user: PageUser) -> Response:
    """The upload form (admins), a pointer to the history (viewers)."""
    settings = request.app.state.settings
    return render(request, "upload.html", user, settings=settings)


@router.post("/upload", dependencies=[Csrf])
async def upload(request: Request, user: PageAdmin, form: UploadForm) -> Response:
    """Store the file, plan it, show its preview (or its refusal)."""
    run_id = await create_run(request, user, form)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@dataclass(frozen=True)
class RunForm:
    """An upload and its run's options, as the page's form and the API's POST send them."""

    file: UploadFile
    mode: str
    max_removals: str
    all_or_nothing: bool


def run_form(
    file: Annotated[UploadFile, File()],
    mode: Annotated[str, Form()] = "apply",
    max_removals: Annotated[str, Form()] = "",
    all_or_nothing: Annotated[bool, Form()] = False,
) -> RunForm:
    """The form's fields (a dependency of the page's upload and the API's create)."""
    return RunForm(file, mode, max_removals, all_or_nothing)


UploadForm = Annotated[RunForm, Depends(run_form)]


async def create_run(request: Request, user: User, form: RunForm) -> str:
    """Store an upload and plan it (pages and API alike); the run id."""
    if form.mode not in ("apply", "sync"):
        raise HTTPException(422, detail="mode: apply or sync")
    manager = _runs(request)
    path, name, sha256 = await store_upload(form.file, manager.uploads)
    options = {
        "mode": form.mode,
        "max_removals": form.max_removals.strip(),
        "all_or_nothing": form.all_or_nothing,
    }
    return await run_in_threadpool(
        manager.create, path, name, sha256, options, user.name, client_address(request)
    )


@router.get("/runs/{run_id}")
async def run_page(
    request: Request,
    run_id: str,
    user: PageUser,
    outcome: str = "",
    action: str = "",
    license: str = "",
    code: str = "",
    email: str = "",
    sort: str = "",
    page: int = 1,
) -> Response:
    """A run: its preview while planned, else its progress and results."""
    row = _run_row(request, run_id)
    manager = _runs(request)
    query = LineQuery(outcome, action, license, code, email, sort, page)
    context: dict[str, Any] = {"run": row, "query": query, "filters": FILTERS}
    results: pd.DataFrame | None
    if row["status"] == "planned":
        preview = await run_in_threadpool(manager.preview, run_id)
        if preview is None:
            raise HTTPException(404)
        results = preview.plan.results
        settings = request.app.state.settings
        context |= {
            "seats": seat_rows(preview.seats_before, preview.plan.seats_after, settings.prices),
            "currency": settings.currency,
            "changes": len(preview.plan.operations),
            "removals": total_removals(preview.plan),
            "actions": results["action"].astype(str).value_counts().to_dict(),
            "changed": row["message"].startswith("changed\n"),
            "difference": row["message"].split("\n")[1:],
            "mismatch": request.query_params.get("mismatch") == "1",
        }
    else:
        results = manager.results(run_id)
        context |= {
            "progress": manager.progress(run_id),
            "problems": problems(results) if results is not None else [],
        }
    if results is not None:
        rows, matched, pages = lines_page(results, query)
        context |= {
            "rows": rows,
            "matched": matched,
            "pages": pages,
            "choices": filter_choices(results),
        }
    template = "preview.html" if row["status"] in ("planned", "refused") else "run.html"
    return render(request, template, user, **context)


@router.get("/runs/{run_id}/progress")
def run_progress(request: Request, run_id: str, user: PageUser) -> Response:
    """The poll: status, counts and live progress."""
    row = _run_row(request, run_id)
    return JSONResponse(
        {
            "status": row["status"],
            "counts": row["counts"],
            "message": row["message"],
            "progress": _runs(request).progress(run_id),
        }
    )


@router.post("/runs/{run_id}/apply", dependencies=[Csrf])
async def apply(
    request: Request,
    run_id: str,
    user: PageAdmin,
    confirm_removals: Annotated[str, Form()] = "",
) -> Response:
    """Queue the apply; sync removals need their number typed."""
    row = _run_row(request, run_id)
    if row["status"] != "planned":
        raise HTTPException(409, detail="this run is not waiting to be applied")
    manager = _runs(request)
    preview = await run_in_threadpool(manager.preview, run_id)
    if preview is None:
        raise HTTPException(404)
    removals = total_removals(preview.plan)
    if removals and confirm_removals.strip() != str(removals):
        return RedirectResponse(f"/runs/{run_id}?mismatch=1", status_code=303)
    manager.apply(run_id)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.post("/runs/{run_id}/cancel", dependencies=[Csrf])
def cancel(request: Request, run_id: str, user: PageAdmin) -> Response:
    """Stop the apply after the requests in flight."""
    _run_row(request, run_id)
    _runs(request).cancel(run_id)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.post("/runs/{run_id}/resume", dependencies=[Csrf])
def resume(request: Request, run_id: str, user: PageAdmin) -> Response:
    """Go on with a stopped run: what is still missing is planned again and applied."""
    row = _run_row(request, run_id)
    if row["status"] not in ("stopped", "failed"):
        raise HTTPException(409, detail="only a stopped run can be resumed")
    _runs(request).apply(run_id, resume=True)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def report_file(row: dict[str, Any], which: str) -> Response:
    """A run's plan report or final report as an XLSX download."""
    path = row.get(which)
    if not path or not Path(path).exists():
        raise HTTPException(404)
    stem = Path(row["file_name"]).stem
    name = f"{stem}-{'plan' if which == 'plan_report' else 'report'}.xlsx"
    return FileResponse(path, media_type=XLSX, filename=name)


@router.get("/runs/{run_id}/plan.xlsx")
def plan_report(request: Request, run_id: str, user: PageUser) -> Response:
    """The plan report: the same workbook `batch plan` writes."""
    return report_file(_run_row(request, run_id), "plan_report")


@router.get("/runs/{run_id}/report.xlsx")
def run_report(request: Request, run_id: str, user: PageUser) -> Response:
    """The run's report."""
    return report_file(_run_row(request, run_id), "report")


@router.get("/history")
def history_page(request: Request, user: PageUser) -> Response:
    """Every run, newest first, whatever started it."""
    settings = request.app.state.settings
    lines = history(settings.journal_path, request.app.state.store)
    return render(request, "history.html", user, lines=lines)
