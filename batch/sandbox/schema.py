"""The shape of a sandbox account file (`sandbox.json`), checked before its values are read.

`check_shape(data)` gives None when every part has the right JSON type, or one line naming the
first part that does not (`users: must be a list, not null`). The values themselves (emails,
license names, sizes, duplicates) are then checked by `account.parse_account`, which needs the
shape to be right to say something useful.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Head(_Part):
    id: str = "sandbox"
    plan: str = "business"
    on_prem_user_type: bool = False


class _User(_Part):
    email: str
    id: str | None = None
    type: str = "Basic"
    status: str = "active"
    first_name: str = ""
    last_name: str = ""
    dept: str = ""
    cost_center: str | None = None
    large_meeting: int | None = None
    webinar: int | None = None
    zoom_events: int | None = None


class _Credentials(_Part):
    account_id: str
    client_id: str
    client_secret: str


class AccountShape(_Part):
    """A sandbox account file: the account, its purchased plans, its users."""

    account: _Head
    plans: dict[str, Any] = {}
    users: list[_User] = []
    credentials: _Credentials | None = None
    limits: dict[str, Any] = {}


_EXPECTED = {"list_type": "a list", "string_type": "text", "dict_type": "an object",
             "model_type": "an object", "model_attributes_type": "an object",
             "bool_type": "true or false", "int_type": "a whole number"}  # fmt: skip
_JSON_NAMES = {"NoneType": "null", "dict": "an object", "list": "a list", "str": "text",
               "int": "a whole number", "bool": "true or false", "float": "a number"}  # fmt: skip


def check_shape(data: object) -> str | None:
    """None when `data` has the shape of an account file, else one line about the first part
    that has not."""
    try:
        AccountShape.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        where = where.lstrip(".") or "the account file"
        if first["type"] == "missing":
            what = "is missing"
        else:
            given = _JSON_NAMES.get(type(first["input"]).__name__, type(first["input"]).__name__)
            expected = _EXPECTED.get(first["type"], first["msg"].lower())
            what = f"must be {expected}, not {given}"
        more = error.error_count() - 1
        others = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        return f"{where}: {what}{others}"
    return None
