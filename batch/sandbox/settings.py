"""The emulated settings endpoints: GET and PATCH /users/{userId}/settings (the add-ons).

Where Zoom is silent we chose (docs/zoom-api.md §9):

- GET and PATCH for a pending user -> 400 1000 "You can not access settings of users that are
  still in pending state.".
- `feature`: a held add-on reads `"webinar": true, "webinar_capacity": 500`; one not held reads
  `"webinar": false` with no capacity key. PATCH with `webinar: true` and no capacity keeps the
  held size, else takes the smallest size the account has a plan of. A capacity that is not a
  known size of that add-on -> 400 300 "Validation Failed.". Seat messages (code 200):
  "You can add max N Large 500 users." / "... Webinar 500 users." / "... Zoom Events 500 users."
  (N = purchased seats of that size). No plan of that size (code 300): "The large meeting plan
  you want to assign does not exist." / "The webinar plan ..." / "The events plan ...".
"""

from __future__ import annotations

from typing import Any, Final

from batch.sandbox.account import User
from batch.sandbox.calls import Call, Result, State, ZoomError, invalid_field
from batch.vocabulary import ADDON_SIZES, ADDONS, Kind

NOT_PAID_ERRORS: Final = {
    Kind.LARGE_MEETING: (
        1108,
        "Only Licensed or On-prem users can enable the large meeting feature.",
    ),
    Kind.WEBINAR: (1122, "Webinar feature can only be enabled for Licensed or On-prem users."),
    Kind.ZOOM_EVENTS: (
        1206,
        "You can only enable the Zoom Events feature for Licensed or On-prem users.",
    ),
}
SEAT_NAMES: Final = {
    Kind.LARGE_MEETING: "Large",
    Kind.WEBINAR: "Webinar",
    Kind.ZOOM_EVENTS: "Zoom Events",
}
NO_PLAN_MESSAGES: Final = {
    Kind.LARGE_MEETING: "The large meeting plan you want to assign does not exist.",
    Kind.WEBINAR: "The webinar plan you want to assign does not exist.",
    Kind.ZOOM_EVENTS: "The events plan you want to assign does not exist.",
}
PENDING_SETTINGS: Final = "You can not access settings of users that are still in pending state."


def _settings_user(state: State, user_id: str) -> User:
    """The user whose settings are asked for; Zoom's 400 1000 for a pending one."""
    user = state.find(user_id)
    if user.status == "pending":
        raise ZoomError(400, 1000, PENDING_SETTINGS)
    return user


def get_settings(state: State, call: Call) -> Result:
    """GET /users/{userId}/settings: the settings, with the add-ons in `feature`."""
    user = _settings_user(state, call.params["userId"])
    feature: dict[str, Any] = {
        "meeting_capacity": 300 if user.paid else 100,
    }
    for kind in ADDONS:
        size = user.addon(kind)
        feature[kind.value] = size is not None
        if size is not None:
            feature[f"{kind.value}_capacity"] = size
    feature |= {
        "cn_meeting": False,
        "in_meeting": True,
        "zoom_phone": False,
        "concurrent_meeting": "None",
        "zoom_whiteboard": False,
        "zoom_clips_plus": False,
    }
    return Result(
        200,
        {
            "feature": feature,
            "in_meeting": {"breakout_room": True, "chat": True, "co_host": True},
            "recording": {"local_recording": True, "cloud_recording": user.paid},
            "schedule_meeting": {"host_video": True, "participants_video": True},
        },
    )


def patch_settings(state: State, call: Call) -> Result:
    """PATCH /users/{userId}/settings: assign, resize or remove add-ons via `feature`."""
    user = _settings_user(state, call.params["userId"])
    feature = (call.body or {}).get("feature", {})
    if not isinstance(feature, dict):
        raise invalid_field("feature")
    targets: dict[Kind, int | None] = {}
    for kind in ADDONS:
        flag_key, size_key = kind.value, f"{kind.value}_capacity"
        if flag_key not in feature and size_key not in feature:
            continue
        flag = feature.get(flag_key, True)
        if not isinstance(flag, bool):
            raise invalid_field(f"feature.{flag_key}")
        size = feature.get(size_key)
        if size is not None and (isinstance(size, bool) or size not in ADDON_SIZES[kind]):
            raise invalid_field(f"feature.{size_key}")
        targets[kind] = _target_size(state, user, kind, size) if flag else None
    for kind, size in targets.items():
        if size is None or size == user.addon(kind):
            continue
        if not user.paid:
            raise ZoomError(400, *NOT_PAID_ERRORS[kind])
        if not state.account.owns(kind, size):
            raise ZoomError(400, 300, NO_PLAN_MESSAGES[kind])
        if state.account.free((kind, size)) < 1:
            seats = state.account.purchased[(kind, size)]
            raise ZoomError(400, 200, f"You can add max {seats} {SEAT_NAMES[kind]} {size} users.")
    changes = [
        (user.email, *state.account.set_addon(user, kind, size))
        for kind, size in targets.items()
        if size != user.addon(kind)
    ]
    return Result(204, None, changes)


def _target_size(state: State, user: User, kind: Kind, size: int | None) -> int:
    """The size `feature: {kind: true}` asks for: the one given, the held one, or the smallest
    the account has a plan of."""
    if size is not None:
        return size
    held = user.addon(kind)
    if held is not None:
        return held
    owned = sorted(s for (k, s) in state.account.purchased if k is kind and s is not None)
    if not owned:
        raise ZoomError(400, 300, NO_PLAN_MESSAGES[kind])
    return owned[0]
