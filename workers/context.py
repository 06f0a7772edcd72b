"""What actors run against: the settings and database of this process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from nurture.config import Settings, get_settings
from nurture.db import session_scope

_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Point actors at these settings (the web app and tests call this)."""
    global _settings
    _settings = settings


def settings() -> Settings:
    return _settings or get_settings()


@contextmanager
def session() -> Iterator[Session]:
    """The one way actors open a database session: commit on success, roll back on error."""
    with session_scope(settings().database_url) as db:
        yield db
