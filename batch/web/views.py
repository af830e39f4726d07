"""Rendering a page: the template, the browser's language, the banner and the CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from batch.web.auth import csrf_token
from batch.web.i18n import choose_language, translator
from batch.web.store import User

TEMPLATES: Final = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))


def render(
    request: Request, name: str, user: User | None, status_code: int = 200, **context: Any
) -> Response:
    """A page in the browser's language, with the sandbox banner and the form's CSRF token."""
    language = choose_language(request.headers.get("accept-language"))
    return templates.TemplateResponse(
        request,
        name,
        {
            "t": translator(language),
            "lang": language,
            "user": user,
            "banner": request.app.state.banner,
            "csrf_token": csrf_token(request),
            "status_code": status_code,
            **context,
        },
        status_code=status_code,
    )
