"""Rate limits for forms anyone can post (sign-in now; the survey and referral pages next).

The counting is nurture.ratelimit's; this module only names the caller and shapes the 429.
"""

from __future__ import annotations

import math
from typing import Any

from litestar.connection import ASGIConnection

from nurture.ratelimit import Decision, Limit, limiter_for
from nurture.web.state import settings_of


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The peer address of this request (what a reverse proxy in front must pass through)."""
    client = connection.client
    return client.host if client is not None and client.host else "unknown"


def hit(connection: ASGIConnection[Any, Any, Any, Any], limit: Limit, key: str) -> Decision:
    """Count one attempt of `key` against `limit` in the deployment's shared counters."""
    return limiter_for(settings_of(connection.app)).hit(limit, key)


def reset(connection: ASGIConnection[Any, Any, Any, Any], limit: Limit, key: str) -> None:
    limiter_for(settings_of(connection.app)).reset(limit, key)


def retry_headers(decision: Decision) -> dict[str, str]:
    return {"Retry-After": str(decision.retry_after)}


def wait_phrase(seconds: int) -> str:
    """'1 minute', '15 minutes': how long a refused caller should wait, for people."""
    if seconds < 60:
        return "a minute"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
