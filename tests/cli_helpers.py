"""Running the `nurture` command line in tests against the test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nurture.cli import main
from nurture.config import get_settings


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the command line's settings at the test database (settings are cached)."""
    monkeypatch.setenv("NURTURE_DATABASE_URL", db_url)
    monkeypatch.setenv("NURTURE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NURTURE_SECRET_KEY", "s" * 40)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)
