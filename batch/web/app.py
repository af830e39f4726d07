"""The app factory: settings in, a FastAPI app out (pages, API, static files, error pages).

    app = create_app(settings)      # then uvicorn.run(app, host=..., port=...)

Everything but the sign-in page and /static needs a signed-in user; an unknown route is a 404
page, a refused request a short page or JSON line, and an unexpected error a page that says so
with no traceback (the traceback goes to the server log).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Final
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from batch import __version__
from batch.account import account_announcement
from batch.settings import Settings
from batch.web import api, pages, users_page
from batch.web.auth import SignedOut, Throttle, session_user
from batch.web.runs import RunManager
from batch.web.store import STORE_FILE_NAME, Store
from batch.web.uploads import FORM_OVERHEAD_BYTES, BodyLimit
from batch.web.views import render

logger = logging.getLogger(__name__)

HERE: Final = Path(__file__).parent
SECRET_FILE_NAME: Final = "web-secret"
ERROR_TEXTS: Final = {403: "forbidden", 404: "not_found", 409: "conflict", 422: "bad_request"}


def state_dir(settings: Settings) -> Path:
    """Where the web app keeps its files: beside the journal (`.batch/` by default)."""
    return settings.journal_path.parent


def session_secret(settings: Settings) -> str:
    """The cookie-signing key: from the config, else one made once and kept in .batch/."""
    if settings.web.secret_key is not None:
        return settings.web.secret_key.reveal()
    path = state_dir(settings) / SECRET_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(settings: Settings, *, signin_delay_s: float = 0.25) -> FastAPI:
    """The web app for one account's settings."""
    app = FastAPI(
        title="batch web",
        version=__version__,
        description="Upload a license spreadsheet, preview its plan, apply it, get the report.",
        docs_url=None,  # Swagger UI would load its scripts from the internet
        redoc_url=None,
        openapi_url=None,  # served by api.py to signed-in users and tokens only
    )
    store = Store(state_dir(settings) / STORE_FILE_NAME)
    app.state.settings = settings
    app.state.store = store
    app.state.runs = RunManager(settings, store, state_dir(settings) / "uploads")
    app.state.throttle = Throttle(signin_delay_s)
    app.state.idle_timeout_s = settings.web.idle_timeout_minutes * 60
    app.state.banner = account_announcement(settings) if settings.uses_sandbox else ""
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="batch_session",
        same_site="lax",
        https_only=settings.web.secure_cookies,
        max_age=None,  # a browser session; the idle timeout is checked on every request
    )
    app.add_middleware(BodyLimit, max_bytes=settings.limits.max_file_bytes + FORM_OVERHEAD_BYTES)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(users_page.router)
    _error_pages(app)
    app.router.on_shutdown.append(app.state.runs.close)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignedOut)
    async def signed_out(request: Request, _: SignedOut) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": error.detail}, status_code=error.status_code, headers=error.headers
            )
        key = "csrf" if error.detail == "csrf" else ERROR_TEXTS.get(error.status_code, "error")
        if error.status_code == 404 and session_user(request) is None:
            return await signed_out(request, SignedOut())  # no route list for strangers
        return render(
            request,
            "error.html",
            session_user(request),
            error.status_code,
            message_key=key,
            detail=error.detail if error.status_code in (409, 413, 422) else "",
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": _first_problem(error)}, status_code=422)
        if error.errors() and "csrf_token" in str(error.errors()[0].get("loc", "")):
            return render(request, "error.html", session_user(request), 403, message_key="csrf")
        return render(
            request,
            "error.html",
            session_user(request),
            400,
            message_key="bad_request",
            detail=_first_problem(error),
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> Response:
        logger.error("unexpected error on %s", request.url.path, exc_info=error)
        if _is_api(request):
            return JSONResponse({"detail": "internal error (see the server log)"}, 500)
        return render(request, "error.html", None, 500, message_key="error")


def _first_problem(error: RequestValidationError) -> str:
    problems = error.errors()
    if not problems:
        return "bad request"
    first = problems[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
    return f"{where}: {first.get('msg', 'invalid')}"
