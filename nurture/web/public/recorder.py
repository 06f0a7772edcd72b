"""Recording opens and clicks without making the person wait: buffered, batched writes.

The redirector answers as soon as the event is appended to an in-process buffer; a
background thread writes the buffer every `interval` seconds (sooner when
`batch` items are waiting) with one `nurture.events.store_known` call, that is one
multi-row insert, and then enqueues the stored events for processing.

Every event carries an idempotency key made when it was recorded, so a flush that
is retried after an error (the insert may have committed before the connection
died) stores nothing twice. A failed flush puts its items back and is retried with
backoff; nothing is dropped while the process lives.

The machinery (buffer, writer thread, retries, spool) is `BatchRecorder`; the NPS
answer page's recorder (`answer_recorder.py`) is the other kind of item it writes.

Failure window, honestly: on a graceful stop (SIGTERM, the app's shutdown) the
buffer is flushed; if the database cannot be reached then, the remaining events
are appended to a spool file in the data folder, which the next start replays.
A hard kill (SIGKILL, power loss, OOM) loses what was buffered and not yet
written: at most `interval` seconds of events (100 ms by default), or more while
the database is unreachable.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Generic, Self, TypeVar

from nurture.db import session_scope
from nurture.events import EventInput, store_known

log = logging.getLogger(__name__)

Enqueue = Callable[[list[int]], None]
SOURCE = "tracking"
MAX_BACKOFF = 5.0
Item = TypeVar("Item")


class BatchRecorder(Generic[Item]):
    """A buffer of items written in batches by one background thread.

    A kind of item says how a batch is written (`_write`, which answers the ids of
    the events it stored, to enqueue) and how an item is kept in the spool. Writing
    a batch twice must store nothing twice: a retry may follow a commit whose answer
    was lost.
    """

    # Names the items in the log and the writer thread.
    what = "items"

    def __init__(
        self,
        database_url: str,
        *,
        spool: Path | None = None,
        interval: float = 0.1,
        batch: int = 2000,
        enqueue: Enqueue | None = None,
    ) -> None:
        self._url = database_url
        self._spool = spool
        self._interval = interval
        self._batch = batch
        self._enqueue = enqueue
        self._buffer: deque[Item] = deque()
        # The batch being written: out of the buffer, not yet in the database.
        self._writing: list[Item] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        # Items leave the buffer only under this lock, and go back before it is released.
        self._flushing = threading.Lock()
        # Held while items move between the buffer and the batch being written, so
        # `unwritten` never sees an item in neither.
        self._moving = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stored = 0
        self.failures = 0

    def record(self, item: Item) -> None:
        """Queue one item; never blocks on the database."""
        self._buffer.append(item)
        if len(self._buffer) >= self._batch:
            self._wake.set()

    @property
    def idle(self) -> bool:
        """Nothing buffered and no write in progress."""
        return not self._buffer and not self._flushing.locked()

    def unwritten(self) -> list[Item]:
        """What is recorded and not yet written (buffered or being written), oldest first."""
        with self._moving:
            return [*self._writing, *self._buffer]

    def start(self) -> Self:
        """Replay a spool left by an earlier stop, and start the writer thread."""
        self._replay_spool()
        self._thread = threading.Thread(target=self._run, name=f"{self.what}-recorder", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is buffered; whatever cannot be written in `timeout` goes to the spool."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        deadline = time.monotonic() + timeout
        while self._buffer and time.monotonic() < deadline:
            if not self.flush():
                time.sleep(0.2)
        if self._buffer:
            self._write_spool()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until everything recorded so far is written; True if it was in time."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while not self.idle:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def drain(self) -> bool:
        """Write everything recorded so far, in the calling thread (after a write in
        progress ends); False when a write failed (the items stay queued)."""
        while True:
            with self._flushing:
                done = not self._buffer
            if done:
                return True
            if not self.flush():
                return False

    def flush(self) -> bool:
        """Write up to one batch now; False when the write failed (the items stay queued)."""
        with self._flushing:
            items: list[Item] = []
            with self._moving:
                while self._buffer and len(items) < self._batch:
                    items.append(self._buffer.popleft())
                self._writing = items
            if not items:
                return True
            try:
                stored = self._write(items)
            except Exception:
                self.failures += 1
                log.exception("writing %d %s failed; will retry", len(items), self.what)
                with self._moving:
                    self._buffer.extendleft(reversed(items))
                    self._writing = []
                return False
            # Written and committed: whoever asks now finds the items in the database.
            self._writing = []
        self.stored += len(stored)
        if stored and self._enqueue is not None:
            try:
                self._enqueue(stored)
            except Exception:
                # Stored is what matters; the periodic tick finds unprocessed events.
                log.exception("could not enqueue %d events of %s", len(stored), self.what)
        return True

    def _write(self, items: Sequence[Item]) -> list[int]:
        """Store one batch in one transaction; the ids of the events it stored."""
        raise NotImplementedError

    def _to_json(self, item: Item) -> dict[str, object]:
        raise NotImplementedError

    def _from_json(self, raw: dict[str, object]) -> Item:
        raise NotImplementedError

    def _run(self) -> None:
        backoff = self._interval
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            while self._buffer and not self._stop.is_set():
                if self.flush():
                    backoff = self._interval
                    if len(self._buffer) < self._batch:
                        break
                else:
                    self._stop.wait(backoff)
                    backoff = min(MAX_BACKOFF, backoff * 2)

    def _write_spool(self) -> None:
        if self._spool is None:
            log.error("%d %s could not be written and are lost", len(self._buffer), self.what)
            return
        count = len(self._buffer)
        with self._spool.open("a", encoding="utf-8") as handle:
            while self._buffer:
                handle.write(json.dumps(self._to_json(self._buffer.popleft())) + "\n")
        log.error("%d %s could not be written; kept in %s", count, self.what, self._spool)

    def _replay_spool(self) -> None:
        if self._spool is None or not self._spool.exists():
            return
        taken = self._spool.with_suffix(f".replay-{time.time_ns()}")
        self._spool.rename(taken)
        count = 0
        for line in taken.read_text(encoding="utf-8").splitlines():
            if line.strip():
                self._buffer.append(self._from_json(json.loads(line)))
                count += 1
        taken.unlink()
        log.warning("replaying %d %s from the spool", count, self.what)


class EventRecorder(BatchRecorder[EventInput]):
    """Opens and clicks, each with its idempotency key, stored with `events.store_known`."""

    what = "tracking events"

    def _write(self, items: Sequence[EventInput]) -> list[int]:
        with session_scope(self._url) as session:
            return store_known(session, items, source=SOURCE)

    def _to_json(self, item: EventInput) -> dict[str, object]:
        return _to_json(item)

    def _from_json(self, raw: dict[str, object]) -> EventInput:
        return _from_json(raw)


def _to_json(event: EventInput) -> dict[str, object]:
    return {
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "properties": event.properties,
        "idempotency_key": event.idempotency_key,
        "contact_id": event.contact_id,
    }


def _from_json(raw: dict[str, object]) -> EventInput:
    properties = raw.get("properties")
    contact_id = raw.get("contact_id")
    key = raw.get("idempotency_key")
    return EventInput(
        type=str(raw["type"]),
        occurred_at=datetime.fromisoformat(str(raw["occurred_at"])),
        properties=dict(properties) if isinstance(properties, dict) else {},
        idempotency_key=str(key) if key is not None else None,
        contact_id=int(contact_id) if isinstance(contact_id, int) else None,
    )
