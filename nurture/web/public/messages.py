"""What the redirector and the pixel need to know about a message, cached in process.

A message's tracked links are written once, when it is sent, and never change; its
contact, kind and sent time do not change after that either. So a small LRU cache
keyed by message id answers almost every click without a database round trip; a
miss costs one indexed primary-key read, done off the event loop.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from nurture.db import session_scope
from nurture.models import EmailMessage

CACHE_SIZE = 50_000


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
        with session_scope(self._url) as session:
            row = session.execute(
                select(
                    EmailMessage.contact_id,
                    EmailMessage.kind,
                    EmailMessage.template_id,
                    EmailMessage.sent_at,
                    EmailMessage.links,
                ).where(EmailMessage.id == message_id)
            ).first()
        if row is None:
            return None
        contact_id, kind, template_id, sent_at, links = row
        info = MessageInfo(message_id, contact_id, kind, template_id, sent_at, tuple(links or ()))
        if info.links or sent_at is not None:
            with self._lock:
                self._items[message_id] = info
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return info

    def forget(self, message_id: int) -> None:
        with self._lock:
            self._items.pop(message_id, None)
