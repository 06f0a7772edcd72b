"""After every migration (rev1's reviews tables and columns included) the database is
exactly what the models describe: rev1 rebuilds contacts, case_studies and
sequence_tasks on SQLite, which must keep every index and key of those tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nurture.db import get_engine
from nurture.models import Base


def test_migrated_review_tables_match_the_models(db_url: str) -> None:
    with get_engine(db_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
