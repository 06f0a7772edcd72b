"""Engines and sessions: one engine per database URL, sessions opened by helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker


@cache
def get_engine(url: str) -> Engine:
    """The engine for `url`, created once per process."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web threads read while a worker thread writes; without
    # foreign_keys SQLite would silently ignore ON DELETE rules.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is a deadlock or serialization failure, worth one more try."""
    if not isinstance(exc, DBAPIError):
        return False
    return getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES


# PostgreSQL: serialization_failure, deadlock_detected.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})


@cache
def _factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


def session_factory(url: str) -> sessionmaker[Session]:
    """A sessionmaker bound to the engine of `url`."""
    return _factory(url)


@contextmanager
def session_scope(url: str, *, write: bool = False) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise.

    `write=True` is for a block that reads and then writes while other threads may
    write the same SQLite file (web threads beside the embedded runtime's workers, a
    background recorder): its transaction takes SQLite's write lock at once. A deferred
    one reads a snapshot and asks for the lock at its first write; if another thread
    committed in between, SQLite cannot upgrade it and answers "database is locked" at
    once instead of waiting out the busy timeout. Taking the lock first makes the block
    wait its turn. Other databases are unaffected.
    """
    session = _factory(url)()
    try:
        if write and session.get_bind().dialect.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE"))
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
