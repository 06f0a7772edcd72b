"""Telling machine opens and clicks from people's, so human metrics count people.

Heuristics, documented so they can be argued with:

- Apple Mail Privacy Protection fetches every remote image of a message through
  Apple's proxies as soon as the message arrives, whether or not anyone reads it.
  Those fetches come with the bare user agent `Mozilla/5.0` and from Apple's own
  network (17.0.0.0/8, which Apple owns outright); either marks the open.
- Link scanners (Microsoft Defender Safe Links, Proofpoint, Mimecast, Barracuda...)
  follow every link of a message within seconds of delivery, and some only ask
  with HEAD. A click within `SCANNER_WINDOW` of the message's sent time, a HEAD
  request, or a user agent naming a scanner, crawler or HTTP library is a machine.
- A request with no user agent at all is no browser.

Flagged events are still stored (with `machine: true` and a `machine_reason`), so
nothing is thrown away; `human_counts` is what metrics read.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

SCANNER_WINDOW = timedelta(seconds=10)
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
_APPLE_PROXY_AGENT = "Mozilla/5.0"
_SCANNER_AGENT = re.compile(
    r"bot\b|crawler|spider|scanner|preview|safelinks|proofpoint|mimecast|barracuda|"
    r"symantec|trendmicro|forcepoint|sophos|fireeye|messagelabs|zscaler|"
    r"python-requests|python-urllib|aiohttp|httpx|curl/|wget/|go-http-client|"
    r"java/|okhttp|libwww|headlesschrome|phantomjs",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Request:
    """What we know about one open or click request."""

    method: str
    user_agent: str
    client_ip: str | None


def open_machine_reason(request: Request) -> str | None:
    """Why an open looks automated (`apple_mpp`, `no_user_agent`, `scanner_agent`), or None."""
    agent = request.user_agent.strip()
    if not agent:
        return "no_user_agent"
    if agent == _APPLE_PROXY_AGENT or _in_apple_network(request.client_ip):
        return "apple_mpp"
    if _SCANNER_AGENT.search(agent):
        return "scanner_agent"
    return None


def click_machine_reason(
    request: Request, *, sent_at: datetime | None, now: datetime
) -> str | None:
    """Why a click looks automated (`head_request`, `no_user_agent`, `scanner_agent`,
    `too_soon_after_delivery`), or None for a person."""
    if request.method.upper() == "HEAD":
        return "head_request"
    agent = request.user_agent.strip()
    if not agent:
        return "no_user_agent"
    if _SCANNER_AGENT.search(agent):
        return "scanner_agent"
    if sent_at is not None and now - sent_at < SCANNER_WINDOW:
        return "too_soon_after_delivery"
    return None


@dataclass(frozen=True, slots=True)
class Counts:
    human: int
    machine: int


def human_counts(events: Iterable[Any], kind: str) -> Counts:
    """Events of type `kind` split into human and machine (by the `machine` property)."""
    human = machine = 0
    for event in events:
        if event.type != kind:
            continue
        if (event.properties or {}).get("machine"):
            machine += 1
        else:
            human += 1
    return Counts(human, machine)


def _in_apple_network(ip: str | None) -> bool:
    if not ip:
        return False
    try:
        return ipaddress.ip_address(ip) in APPLE_NETWORK
    except ValueError:
        return False
