"""The users page: find a user, see what they hold, change their type and add-ons.

A change is written as a one-user file (long layout: Email, License, Action) and goes through
the same upload -> preview -> apply flow as any file, so the planner checks it and the history
lists it. Only the sizes the account owns are offered (pre-selected when there is just one).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from batch.account import open_client
from batch.model import AccountSnapshot
from batch.settings import Settings
from batch.vocabulary import ADDON_NAMES, ADDONS, Kind, UserType
from batch.web.auth import check_csrf, client_address, page_admin, page_user
from batch.web.runs import RunManager
from batch.web.store import User
from batch.web.views import render

router = APIRouter(include_in_schema=False)
MAX_SHOWN: Final = 20


async def _find(settings: Settings, query: str) -> AccountSnapshot:
    """The account, with the add-ons read of the first MAX_SHOWN users matching `query`."""

    def matching(users: Any) -> list[str]:
        return [e for e in sorted(users) if query in e][:MAX_SHOWN]

    async with open_client(settings) as client:
        return await client.snapshot(addons_for=matching)


def _user_rows(snapshot: AccountSnapshot, query: str) -> list[dict[str, Any]]:
    found = [u for e, u in sorted(snapshot.users.items()) if query in e][:MAX_SHOWN]
    return [
        {
            "email": u.email,
            "name": f"{u.first_name} {u.last_name}".strip(),
            "type": str(u.type) if u.type else "",
            "status": u.status,
            "addons": {str(k): u.addon(k) for k in ADDONS},
        }
        for u in found
    ]


@router.get("/users")
async def users_page(
    request: Request, user: Annotated[User, Depends(page_user)], q: str = ""
) -> Response:
    """Search the account's users by email."""
    query = q.strip().lower()
    rows: list[dict[str, Any]] = []
    sizes: dict[str, tuple[int, ...]] = {}
    if query:
        snapshot = await run_in_threadpool(asyncio.run, _find(request.app.state.settings, query))
        rows = _user_rows(snapshot, query)
        sizes = {str(k): snapshot.owned_sizes(k) for k in ADDONS}
    kinds = [(str(k), ADDON_NAMES[k]) for k in ADDONS]
    types = [str(t) for t in UserType]
    return render(
        request, "users.html", user, q=q, rows=rows, sizes=sizes, kinds=kinds, types=types
    )


def change_file(email: str, user_type: str, addons: dict[Kind, str]) -> bytes:
    """The one-user file: its type line, then one line per add-on (a size, or a removal)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Email", "License", "Action"])
    writer.writerow([email, user_type, "assign"])
    for kind, size in addons.items():
        name = ADDON_NAMES[kind]
        writer.writerow([email, f"{name} {size}", "assign"] if size else [email, name, "remove"])
    return out.getvalue().encode("utf-8")


@router.post("/users/change", dependencies=[Depends(check_csrf)])
async def change_user(request: Request, user: Annotated[User, Depends(page_admin)]) -> Response:
    """Plan one user's change as a one-line run; its preview has the Apply button."""
    form = await request.form()
    email = str(form.get("email", "")).strip().lower()
    user_type = str(form.get("user_type", ""))
    if not email or user_type not in {str(t) for t in UserType}:
        raise HTTPException(422, detail="email and user type are needed")
    held = {k: str(form.get(f"held_{k}", "")) for k in ADDONS}
    addons = {}
    for kind in ADDONS:
        wanted = str(form.get(f"addon_{kind}", ""))
        if wanted != held[kind]:  # only what changes: a held add-on is not granted again
            addons[kind] = wanted
    data = change_file(email, user_type, addons)
    manager: RunManager = request.app.state.runs
    sha256 = hashlib.sha256(data).hexdigest()
    folder = manager.uploads / sha256
    folder.mkdir(parents=True, exist_ok=True)
    name = f"user-{email.replace('@', '-at-')}.csv"
    path: Path = folder / name
    path.write_bytes(data)
    options = {"mode": "apply", "max_removals": "", "all_or_nothing": False}
    run_id = await run_in_threadpool(
        manager.create, path, name, sha256, options, user.name, client_address(request)
    )
    return RedirectResponse(f"/runs/{run_id}", status_code=303)
