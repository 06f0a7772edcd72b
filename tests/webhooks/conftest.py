"""A real HTTP endpoint on loopback that answers as a test scripts it, and helpers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Event, WebhookSubscription, utcnow
from nurture.webhooks import subscriptions
from tests.factories import make_api_key, make_contact
from tests.stub_worker import stub_worker
from workers import context


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next scripted status (the last one repeats)."""

    url: str
    statuses: list[int] = field(default_factory=lambda: [200])
    answer: bytes = b"ok"
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            index = min(len(self.requests), len(self.statuses) - 1)
            return self.statuses[index]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            target = holder[0]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = target.next_status()
            with target.lock:
                target.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            self.send_response(status)
            self.send_header("content-length", str(len(target.answer)))
            self.end_headers()
            self.wfile.write(target.answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(Receiver(f"http://127.0.0.1:{server.server_port}/hooks"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def actor_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Actors and `workers.webhooks` open their sessions on the test database."""
    monkeypatch.setattr(context, "_settings", settings)
    return settings


@pytest.fixture
def key_headers(db: Session) -> Callable[[str], dict[str, str]]:
    """Authorization headers for a new (committed) API key of the given role."""

    def make(role: str) -> dict[str, str]:
        _, secret = make_api_key(db, role=role)
        db.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def worker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubBroker]:
    with stub_worker(settings, monkeypatch) as stub:
        yield stub


def subscribe(db: Session, url: str, *types: str) -> tuple[WebhookSubscription, str]:
    return subscriptions.create_subscription(
        db, url=url, event_types=list(types) or ["lead.qualified"], actor="test"
    )


def store_event(
    db: Session,
    event_type: str = "lead.qualified",
    contact_id: int | None = None,
    **properties: object,
) -> Event:
    if contact_id is None:
        contact_id = make_contact(db).id
    event = Event(
        contact_id=contact_id, type=event_type, occurred_at=utcnow(), properties=dict(properties)
    )
    db.add(event)
    db.flush()
    return event


def dead_url() -> str:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"
