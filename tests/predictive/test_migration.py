"""The pred1 migration creates exactly what the models describe, and goes back down."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from nurture.db import get_engine
from nurture.migrate import alembic_config, upgrade
from nurture.models import Base


def test_migrated_tables_match_the_models(db_url: str) -> None:
    with get_engine(db_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    ours = [d for d in differences if "predictive" in repr(d) or "predicted_probability" in repr(d)]
    assert ours == []


def test_pred1_goes_down_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "pred1-1")
    columns = {c["name"] for c in inspect(get_engine(url)).get_columns("contacts")}
    assert "predicted_probability" not in columns
    assert "predictive_models" not in inspect(get_engine(url)).get_table_names()
    upgrade(url)
    columns = {c["name"] for c in inspect(get_engine(url)).get_columns("contacts")}
    assert "predicted_probability" in columns
