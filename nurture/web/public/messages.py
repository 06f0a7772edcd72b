"""What the redirector and the pixel need to know about a message, cached in process.

A message's tracked links are written once, when it is sent, and never change; its
contact, kind and sent time do not change after that either. So an LRU cache keyed
by message id answers almost every click without a database round trip. Most clicks
come in the days after a send, so at start-up the cache is filled with the most
recently sent messages (one query, in the background); a miss costs one indexed
primary-key read through SQLAlchemy Core, done off the event loop.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from nurture.db import get_engine
from nurture.models import EmailMessage, utcnow

# About 1 KB a message (a few links): some 20 MB at most.
CACHE_SIZE = 20_000
PREFILL_DAYS = 14
_COLUMNS = (
    EmailMessage.id,
    EmailMessage.contact_id,
    EmailMessage.kind,
    EmailMessage.template_id,
    EmailMessage.sent_at,
    EmailMessage.links,
)


@dataclass(frozen=True, slots=True)
class MessageInfo:
    message_id: int
    contact_id: int | None
    kind: str
    template_id: int | None
    sent_at: datetime | None
    links: tuple[str, ...]

    @property
    def records_events(self) -> bool:
        """Test sends and internal mail name no contact to record events on."""
        return self.contact_id is not None and self.kind != "test"


class MessageCache:
    """Thread-safe LRU of `MessageInfo` for messages that have been sent (links known)."""

    def __init__(self, database_url: str, size: int = CACHE_SIZE) -> None:
        self._url = database_url
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[int, MessageInfo] = OrderedDict()

    def cached(self, message_id: int) -> MessageInfo | None:
        """The cached entry, or None (then call `load`, off the event loop)."""
        with self._lock:
            info = self._items.get(message_id)
            if info is not None:
                self._items.move_to_end(message_id)
            return info

    def load(self, message_id: int) -> MessageInfo | None:
        """Read the message from the database (None: no such message) and cache it once
        its links are stored."""
        if message_id < 1:
            return None  # previews and test renders use message id 0: there is no row
        with get_engine(self._url).connect() as conn:
            row = conn.execute(select(*_COLUMNS).where(EmailMessage.id == message_id)).first()
        if row is None:
            return None
        info = _info(row)
        if info.links or info.sent_at is not None:
            self._keep([info])
        return info

    def prefill(self, *, days: int = PREFILL_DAYS) -> int:
        """Cache the most recently sent messages (up to the cache size); answers how many."""
        since = utcnow() - timedelta(days=days)
        stmt = (
            select(*_COLUMNS)
            .where(EmailMessage.sent_at >= since)
            .order_by(EmailMessage.sent_at.desc())
            .limit(self._size)
        )
        with get_engine(self._url).connect() as conn:
            found = [_info(row) for row in conn.execute(stmt)]
        # Oldest first, so the newest end up the most recently used.
        self._keep(list(reversed(found)), only_new=True)
        return len(found)

    def _keep(self, infos: Sequence[MessageInfo], *, only_new: bool = False) -> None:
        with self._lock:
            for info in infos:
                if only_new and info.message_id in self._items:
                    continue
                self._items[info.message_id] = info
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def forget(self, message_id: int) -> None:
        with self._lock:
            self._items.pop(message_id, None)


def _info(row: Any) -> MessageInfo:
    message_id, contact_id, kind, template_id, sent_at, links = row
    return MessageInfo(message_id, contact_id, kind, template_id, sent_at, tuple(links or ()))
