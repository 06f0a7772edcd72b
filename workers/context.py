"""What actors run against: the settings and database of this process."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from campaigns.email.mailconfig import MailConfig
from nurture.config import Settings, get_settings
from nurture.db import session_scope

_settings: Settings | None = None
# Built once per settings object: building reads the DKIM key file from disk.
_mail_config: tuple[Settings, MailConfig] | None = None


def configure(settings: Settings) -> None:
    """Point actors at these settings (the web app and tests call this)."""
    global _settings
    _settings = settings


def settings() -> Settings:
    return _settings or get_settings()


def mail_config() -> MailConfig:
    """The mail configuration of the current settings."""
    global _mail_config
    current = settings()
    cached = _mail_config
    if cached is not None and cached[0] is current:
        return cached[1]
    config = MailConfig.from_settings(current)
    _mail_config = (current, config)
    return config


@contextmanager
def session() -> Iterator[Session]:
    """The one way actors open a database session: commit on success, roll back on error.

    On SQLite (the embedded runtime, where worker threads share one file) the
    transaction takes the write lock at once (`session_scope(write=True)`), so actors
    wait their turn instead of failing on a snapshot another thread moved past.
    """
    with session_scope(settings().database_url, write=True) as db:
        yield db


def after_commit(
    name: str, send: Callable[[list[int]], None]
) -> Callable[[Session, Iterable[int]], None]:
    """A function that keeps ids on a session and hands them to `send` once that
    session commits (never before: a worker must find the rows it is sent), and drops
    them when it rolls back. How actors are enqueued for rows a transaction writes;
    `send` logs a broker outage rather than raising (the commit is already done)."""
    key = f"nurture.after_commit.{name}"

    @event.listens_for(Session, "after_commit")
    def _send(session: Session) -> None:
        pending = session.info.pop(key, None)
        if pending:
            send(pending)

    @event.listens_for(Session, "after_rollback")
    def _drop(session: Session) -> None:
        session.info.pop(key, None)

    def keep(session: Session, ids: Iterable[int]) -> None:
        session.info.setdefault(key, []).extend(ids)

    return keep
