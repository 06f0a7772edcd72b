"""An SMTP sink on loopback that records what it accepts and can defer some messages for a while.

Fault tests point `nurture worker` processes at it. Every accepted message is
recorded by its Message-ID and its `X-Nurture-Message` header (the id of the
pipeline's message row, which carries the idempotency key), so a test can tell
a message delivered twice from two different messages.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

_HEADER = re.compile(rb"^([A-Za-z-]+):[ \t]*(.*?)\r?$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: str
    nurture_id: str
    recipients: tuple[str, ...]
    subject: str


@dataclass
class Sink:
    """What the sink accepted and deferred; `defer_every(n)` answers 451 to every n-th message."""

    port: int
    accepted: list[Accepted] = field(default_factory=list)
    deferred: int = 0
    _every: int = 0
    _seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def defer_every(self, nth: int) -> None:
        """From now on answer `451` to every `nth` message (0 stops deferring)."""
        with self._lock:
            self._every = nth

    def snapshot(self) -> list[Accepted]:
        with self._lock:
            return list(self.accepted)

    def count(self) -> int:
        with self._lock:
            return len(self.accepted)

    def take(self, content: bytes, recipients: list[str]) -> str:
        """Decide on one message at the end of DATA: accept and record it, or defer it."""
        with self._lock:
            self._seen += 1
            if self._every and self._seen % self._every == 0:
                self.deferred += 1
                return "451 4.3.0 Try again later"
            headers = _headers(content)
            self.accepted.append(
                Accepted(
                    message_id=headers.get("message-id", ""),
                    nurture_id=headers.get("x-nurture-message", ""),
                    recipients=tuple(recipients),
                    subject=headers.get("subject", ""),
                )
            )
        return "250 2.0.0 Accepted"


def _headers(content: bytes) -> dict[str, str]:
    head = content.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found: dict[str, str] = {}
    for match in _HEADER.finditer(head):
        name = match.group(1).decode().lower()
        found.setdefault(name, match.group(2).decode(errors="replace").strip())
    return found


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        return self.sink.take(bytes(raw), list(envelope.rcpt_tos))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_sink() -> Iterator[Sink]:
    """Run a sink on a free loopback port (in a thread of this process) until the block ends."""
    sink = Sink(port=_free_port())
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
