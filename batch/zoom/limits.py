"""Zoom's rate limits: the categories and the numbers, for the client's pacers and the sandbox.

Zoom limits requests per account, per category (Light, Medium, Heavy) and plan: so many a
second, and on some plans so many a day (docs/zoom-api.md §7). The client paces itself by
`plan_limits`; the sandbox refuses by the same tables. Business, Education and Enterprise
share the Business+ column; a plan name we do not know is treated as Business+.
"""

from __future__ import annotations

import enum
from typing import Final


class Category(enum.StrEnum):
    """Zoom's rate-limit labels (as in the X-RateLimit-Category header), plus the token's."""

    LIGHT = "Light"
    MEDIUM = "Medium"
    HEAVY = "Heavy"
    TOKEN = "Token"  # the OAuth endpoint: no documented limit, not paced


# The categories an API endpoint belongs to (the token endpoint is in none of them).
CATEGORIES: Final = (Category.LIGHT, Category.MEDIUM, Category.HEAVY)

# Requests per second per category and plan tier (docs/zoom-api.md §7).
PER_SECOND: Final[dict[str, dict[Category, int]]] = {
    "free": {Category.LIGHT: 4, Category.MEDIUM: 2, Category.HEAVY: 1},
    "pro": {Category.LIGHT: 30, Category.MEDIUM: 20, Category.HEAVY: 10},
    "business": {Category.LIGHT: 80, Category.MEDIUM: 60, Category.HEAVY: 40},
}
# Requests per day per category and plan tier; a category not named has no daily cap. For Pro
# and Business+ the Heavy cap is the combined Heavy + Resource-intensive cap (no endpoint we use
# is Resource-intensive, so it is Heavy's alone).
DAILY: Final[dict[str, dict[Category, int]]] = {
    "free": {Category.LIGHT: 6000, Category.MEDIUM: 2000, Category.HEAVY: 1000},
    "pro": {Category.HEAVY: 30000},
    "business": {Category.HEAVY: 60000},
}

QPS_MESSAGE: Final = (
    "You have reached the maximum per-second rate limit for this API. Try again later."
)
DAILY_MESSAGE: Final = (
    "You have reached the maximum daily rate limit for this API. "
    "Refer to the response header for details on when you can make another request."
)


def plan_tier(plan: str) -> str:
    """The rate-limit column of a plan name: free, pro or business (Business+ and unknown)."""
    plan = plan.lower()
    return plan if plan in ("free", "pro") else "business"


def plan_limits(plan: str) -> dict[Category, float]:
    """Requests per second per category for a plan; unknown plans (enterprise, ...) as business."""
    return {category: float(n) for category, n in PER_SECOND[plan_tier(plan)].items()}
