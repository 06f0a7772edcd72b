"""`nurture db ...`: schema migrations."""

from __future__ import annotations

import click

from nurture import migrate
from nurture.cli.root import load_settings, main


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.option("--revision", default="heads", show_default=True, help="Alembic revision to reach.")
def upgrade(revision: str) -> None:
    """Apply migrations (safe to run again)."""
    settings = load_settings()
    migrate.upgrade(settings.database_url, revision)
    click.echo(
        f"database at revision {', '.join(migrate.current_revisions(settings.database_url))}"
    )


@db.command()
def current() -> None:
    """Print the revision the database is at."""
    revisions = migrate.current_revisions(load_settings().database_url)
    click.echo(", ".join(revisions) or "empty (no migrations applied)")
