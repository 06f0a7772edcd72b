"""After every migration (img1's email_images included) the database is exactly what the
models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nurture.db import get_engine
from nurture.models import Base


def test_the_migrated_email_images_table_matches_the_model(db_url: str) -> None:
    with get_engine(db_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
