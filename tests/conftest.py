"""Shared fixtures: a migrated SQLite and PostgreSQL database per run, settings, the app.

Database-facing tests take the `db_url` fixture, which runs them once on each
database. PostgreSQL and Redis come from `make test` (scripts/services.sh);
without them the tests fail rather than skip, so nothing passes by omission.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.db import get_engine, session_scope
from nurture.migrate import upgrade
from nurture.models import Base
from nurture.web.app import create_app
from nurture.web.auth import api_key_cache
from workers import runtime

BACKENDS = ["sqlite", "postgresql"]
# Test files that take minutes on their own. Under `--dist loadfile` a file runs whole on one
# worker, so one of these started last leaves the other worker idle for its length; listed
# here they start first (longest first) and the many short files even out the end.
LONG_FILES = [
    "tests/faults/test_sequence_faults.py",
    "tests/api/test_schemathesis.py",
    "tests/test_serve.py",
    "tests/faults/test_broadcast_faults.py",
    "tests/test_demo_funnel.py",
]
# Every test app stops its in-process Dramatiq worker, whose idle threads notice the stop
# only when they next wake: at the production 100 ms that is about 0.2 s per app, and some
# 1,200 tests start an app. Waking every 10 ms makes the stop take about 0.03 s.
runtime.EMBEDDED_WAKE_MS = 10
# Debian's Chromium (never a browser downloaded by Playwright), quiet on a closed network.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files in the order a worker should take them: the long ones, then the rest by their
    number of tests, most first (what xdist does by itself; the Makefile turns that off,
    since it would put the long files, which hold one or a few tests, at the very end)."""
    counts = Counter(_file_of(item) for item in items)

    def rank(item: pytest.Item) -> tuple[int, int]:
        path = _file_of(item)
        if path in LONG_FILES:
            return (LONG_FILES.index(path), 0)
        return (len(LONG_FILES), -counts[path])

    items.sort(key=rank)


def _file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite with `make test`, which starts the servers")
    return value


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One freshly migrated database of each kind for this test run."""
    admin_url = make_url(_required_env("NURTURE_TEST_PG_URL"))
    name = f"nurture_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    pg_url = admin_url.set(database=name).render_as_string(hide_password=False)
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'nurture.db'}"
    upgrade(pg_url)
    upgrade(sqlite_url)
    yield {"sqlite": sqlite_url, "postgresql": pg_url}
    get_engine(pg_url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> Iterator[str]:
    """The URL of an empty, migrated database; the test runs once per backend."""
    url = database_urls[request.param]
    yield url
    _empty_tables(url)
    api_key_cache.clear()


@pytest.fixture
def sqlite_db_url(database_urls: dict[str, str]) -> Iterator[str]:
    """The SQLite test database alone, for a module whose subject does not depend on the
    database (what a handler answers, a page drawn from static files): such a module
    overrides `db_url` with it, and the time of a second run goes to tests where the
    database matters."""
    url = database_urls["sqlite"]
    yield url
    _empty_tables(url)
    api_key_cache.clear()


@pytest.fixture
def db(db_url: str) -> Iterator[Session]:
    """A session on the test database, committed at the end of the test."""
    with session_scope(db_url) as session:
        yield session


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=db_url,
        secret_key="test-secret-" + "x" * 40,
        embedded_worker_threads=2,
        # No background ticks unless a test asks for them (it runs the tick itself or
        # sets a short interval): they would race the test's own steps.
        tick_seconds=3600.0,
    )


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for the whole run: Playwright's sync API allows one instance per thread."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def server_zygote() -> Iterator[subprocess.Popen[str]]:
    """This worker's one process with the app imported, forking each test's server
    (tests/browser/server_zygote.py says why). Here, not in tests/browser/conftest.py: tests
    elsewhere import `live_server`, and its fixtures must be visible to them."""
    zygote = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.server_zygote"],
        cwd=Path(__file__).resolve().parents[1],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    yield zygote
    assert zygote.stdin is not None
    zygote.stdin.close()
    zygote.wait(timeout=30)


def _empty_tables(url: str) -> None:
    engine = get_engine(url)
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
