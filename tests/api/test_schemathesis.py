"""Schemathesis against /schema: no server error, every answer and status code documented.

Cases are generated from the OpenAPI document the app serves and sent through
Litestar's test client (so the app's lifespan, runtime and broker run as in
production) with an admin's API key, on PostgreSQL (whose integer and text
limits are the stricter ones). The budget is bounded per operation so the
whole run stays within a few minutes of `make test`.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from nurture.config import Settings
from nurture.db import session_scope
from nurture.web.app import create_app
from tests.conftest import _empty_tables
from tests.factories import make_api_key, make_contact

BASE_URL = "http://127.0.0.1:8000"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class Target:
    def __init__(self, client: TestClient[Litestar], headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers


@pytest.fixture(scope="module")
def target(
    database_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    url = database_urls["postgresql"]
    with session_scope(url) as db:
        _, secret = make_api_key(db, role="admin")
        # A few rows, so that generated ids sometimes hit something.
        for n in range(3):
            make_contact(db, email=f"fuzz{n}@example.com")
        db.commit()
    app = create_app(
        Settings(
            data_dir=Path(tmp_path_factory.mktemp("schemathesis")),
            database_url=url,
            secret_key="test-secret-" + "x" * 40,
            embedded_worker_threads=2,
            tick_seconds=3600.0,
        )
    )
    with TestClient(app, base_url=BASE_URL) as client:
        yield Target(client, {"Authorization": f"Bearer {secret}"})
    _empty_tables(url)


# Examples per operation and mode (data that fits the schema, and data that does not):
# about 70 operations by 2 modes, about a minute in all.
BUDGET = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_every_operation_answers_as_documented(target: Target) -> None:
    document = target.client.get("/schema/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    for found, mode in product(schema.get_all_operations(), GenerationMode):
        operation = found.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @BUDGET
        def answers_as_documented(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=target.headers)
            response = target.client.request(**_httpx_arguments(kwargs))
            case.validate_response(response, checks=CHECKS)

        try:
            answers_as_documented()
        except Unsatisfiable:
            # The relay webhooks take a raw body with no schema: there is no data that
            # "does not fit" to generate (schemathesis' negative mode has nothing to do).
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (AssertionError, BaseExceptionGroup) as exc:  # every operation runs: report all
            failures.append(f"{operation.label} ({mode} data): {exc}")
    assert not failures, "\n\n".join(failures)


def _httpx_arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
    # Schemathesis speaks `requests`; httpx names a raw body `content`.
    arguments = dict(kwargs)
    if "data" in arguments and isinstance(arguments["data"], bytes | str):
        arguments["content"] = arguments.pop("data")
    if "files" in arguments:
        arguments["files"] = [(name, _part(value)) for name, value in arguments["files"]]
    arguments.pop("timeout", None)
    arguments.pop("allow_redirects", None)
    arguments.pop("verify", None)
    arguments.pop("cookies", None)
    return arguments


def _part(value: Any) -> Any:
    # A multipart part's content: httpx takes text or bytes only, where `requests` (which
    # schemathesis speaks) writes a number as its text; a generated `width` is a number.
    if isinstance(value, tuple) and len(value) >= 2 and not isinstance(value[1], str | bytes):
        return (value[0], str(value[1]), *value[2:])
    return value
