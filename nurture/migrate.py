"""Applying Alembic migrations from code (the CLI, tests and `make run` use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from nurture.db import get_engine

_HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database at `database_url` up to `revision` (every head by default).

    "heads" rather than "head": work on separate subjects may add migrations
    on parallel branches until a merge revision joins them.
    """
    command.upgrade(alembic_config(database_url), revision)


def current_revisions(database_url: str) -> tuple[str, ...]:
    """The revisions the database is at (one per branch head); empty before any migration."""
    with get_engine(database_url).connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())
