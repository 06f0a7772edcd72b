"""/healthz, /readyz and /metrics on the embedded runtime and on Redis."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from nurture.config import Settings
from nurture.web.app import create_app
from tests.test_workers import store_events
from tests.test_workers_redis import redis_url_with_namespace
from workers import actors

METRICS_TOKEN = "ops-test-" + "m" * 30


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with a metrics token, which every scrape below presents."""
    return replace(settings, metrics_token=METRICS_TOKEN)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def running(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


def samples(client: TestClient[Litestar]) -> list[Sample]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(found: list[Sample], name: str, **labels: str) -> float:
    matches = [s.value for s in found if s.name == name and labels.items() <= s.labels.items()]
    assert len(matches) == 1, f"{name}{labels}: {matches}"
    return matches[0]


def test_healthz_answers_without_touching_anything(client: TestClient[Litestar]) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_database_and_embedded_worker_run(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_names_the_database_when_it_is_unreachable(settings: Settings) -> None:
    down = replace(
        settings, database_url=f"postgresql+psycopg://nurture@127.0.0.1:{closed_port()}/nurture"
    )
    with running(down) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("database unreachable")
    assert body["checks"]["broker"] == "ok"


@pytest.mark.redis
def test_readyz_names_the_broker_when_redis_is_unreachable(settings: Settings) -> None:
    with running(replace(settings, redis_url=f"redis://127.0.0.1:{closed_port()}/0")) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "broker unreachable (ConnectionError)",
    }


@pytest.mark.redis
def test_readyz_is_ready_with_redis_and_no_local_workers(settings: Settings) -> None:
    with running(replace(settings, redis_url=redis_url_with_namespace())) as client:
        response = client.get("/readyz")

    assert response.status_code == 200


def test_metrics_count_requests_by_route_template_and_status(
    client: TestClient[Litestar],
) -> None:
    client.get("/healthz")
    client.get("/healthz")
    client.get("/api/v1/contacts/12345")  # unauthenticated: a 401 on a templated route

    found = samples(client)

    assert value(
        found, "nurture_http_requests_total", method="GET", route="/healthz", status="200"
    ) == (2)
    templated = [
        s
        for s in found
        if s.name == "nurture_http_requests_total" and s.labels["route"].startswith("/api/")
    ]
    assert [s.labels["status"] for s in templated] == ["401"]
    assert "12345" not in templated[0].labels["route"]
    assert (
        value(found, "nurture_http_request_duration_seconds_count", method="GET", route="/healthz")
        == 2
    )


def test_metrics_report_events_stored_and_not_yet_processed(
    db_url: str, client: TestClient[Litestar]
) -> None:
    ids = store_events(db_url, count=3)

    found = samples(client)

    assert value(found, "nurture_events_last_id") == max(ids)
    # Nothing enqueued them, and they are too recent for the tick to step in.
    assert value(found, "nurture_events_unprocessed") == 3
    assert value(found, "nurture_metrics_source_up", source="database") == 1
    assert value(found, "nurture_metrics_source_up", source="broker") == 1
    assert value(found, "nurture_queue_messages", queue="events", state="dead") == 0


@pytest.mark.redis
def test_metrics_report_queue_depth_in_redis(settings: Settings) -> None:
    with running(replace(settings, redis_url=redis_url_with_namespace())) as client:
        # The web process only enqueues when Redis is configured, so they wait.
        actors.process_events.send([1])
        actors.process_events.send([2])
        found = samples(client)

    assert value(found, "nurture_queue_messages", queue="events", state="ready") == 2
    assert value(found, "nurture_queue_messages", queue="ticks", state="ready") == 0


def test_metrics_mark_an_unreachable_database_as_down(settings: Settings) -> None:
    down = replace(
        settings, database_url=f"postgresql+psycopg://nurture@127.0.0.1:{closed_port()}/nurture"
    )
    with running(down) as client:
        found = samples(client)

    assert value(found, "nurture_metrics_source_up", source="database") == 0
    assert not [s for s in found if s.name.startswith("nurture_events_")]


def test_each_app_counts_its_own_requests(settings: Settings) -> None:
    with running(settings) as first:
        first.get("/healthz")
        with running(settings) as second:
            in_second = samples(second)
        in_first = samples(first)

    counted = "nurture_http_requests_total"
    assert value(in_first, counted, method="GET", route="/healthz", status="200") == 1
    assert not [s for s in in_second if s.labels.get("route") == "/healthz"]
