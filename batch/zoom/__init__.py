"""The Zoom client: OAuth, paced and retried requests, typed errors, the account snapshot.

from batch.zoom import ZoomClient, ClientConfig
async with ZoomClient(ClientConfig(api_url, oauth_url, credentials)) as zoom:
    snapshot = await zoom.snapshot(addons_for=emails)
"""

from batch.zoom.client import ClientConfig, ZoomClient
from batch.zoom.errors import (
    AccessDenied,
    AccountUnreachable,
    CredentialsRefused,
    DailyLimitReached,
    RateLimited,
    RequestTimeout,
    ZoomApiError,
    classify,
)
from batch.zoom.sender import ClientStats

__all__ = [
    "AccessDenied",
    "AccountUnreachable",
    "ClientConfig",
    "ClientStats",
    "CredentialsRefused",
    "DailyLimitReached",
    "RateLimited",
    "RequestTimeout",
    "ZoomApiError",
    "ZoomClient",
    "classify",
]
