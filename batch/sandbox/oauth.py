"""The emulated OAuth: POST /oauth/token (Server-to-Server) and the bearer check of API calls.

Where Zoom is silent we chose (docs/zoom-api.md §9): `expires_in` always says 3600; a fault's
`token_ttl_s` makes the real life shorter (to force expiry mid-run). Unknown bearer -> 401 124
"Invalid access token.", expired -> 401 124 "Access token is expired.". Token parameters may
come in the form body or the query string. Wrong account_id (when the account JSON has
credentials) -> 400 {"reason": "Invalid account_id", "error": "invalid_request"}.
"""

from __future__ import annotations

import base64
import secrets
from typing import Final
from urllib.parse import parse_qsl

import httpx

from batch.sandbox.calls import State, ZoomError, json_response

TOKEN_URL_PATH: Final = "/oauth/token"
TOKEN_TTL_S: Final = 3600
SCOPES: Final = (
    "user:read:list_users:admin user:read:user:admin user:update:user:admin "
    "user:read:settings:admin user:update:settings:admin user:write:feature:admin "
    "user:read:summary:admin billing:read:plan_usage:admin"
)
INVALID_CLIENT: Final = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
EXPIRED: Final = "Access token is expired."


def issue_token(state: State, request: httpx.Request, ttl_s: float | None) -> httpx.Response:
    """POST /oauth/token: a new access token living `ttl_s` (None: the hour it claims)."""
    params = dict(request.url.params)
    content_type = request.headers.get("content-type", "")
    if request.content and "x-www-form-urlencoded" in content_type:
        params |= dict(parse_qsl(request.content.decode("utf-8", "replace")))
    client = _basic_credentials(request)
    if client is None:
        return json_response(400, INVALID_CLIENT)
    if params.get("grant_type") != "account_credentials":
        return json_response(
            400, {"reason": "unsupported grant type", "error": "unsupported_grant_type"}
        )
    expected: dict[str, str] | None = state.account.credentials
    if expected is not None:
        if client != (expected["client_id"], expected["client_secret"]):
            return json_response(400, INVALID_CLIENT)
        if params.get("account_id") != expected["account_id"]:
            return json_response(400, {"reason": "Invalid account_id", "error": "invalid_request"})
    token = secrets.token_urlsafe(32)
    now = state.clock()
    state.tokens = {t: expiry for t, expiry in state.tokens.items() if expiry > now}
    state.tokens[token] = now + (ttl_s or TOKEN_TTL_S)
    return json_response(
        200,
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": TOKEN_TTL_S,
            "scope": SCOPES,
            "api_url": f"{request.url.scheme}://{request.url.netloc.decode()}",
        },
    )


def _basic_credentials(request: httpx.Request) -> tuple[str, str] | None:
    """(client_id, client_secret) from a Basic Authorization header, or None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep and client_id else None


def authenticate(state: State, request: httpx.Request) -> ZoomError | None:
    """Zoom's 401 for a request without a valid, unexpired bearer token; None when it has one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expires_at = state.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
    if expires_at is None:
        return ZoomError(401, 124, "Invalid access token.")
    if state.clock() >= expires_at:
        return ZoomError(401, 124, EXPIRED)
    return None
