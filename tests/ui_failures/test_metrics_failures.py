"""/metrics counts the messages that failed for good, by kind."""

from __future__ import annotations

from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import MessageStatus
from nurture.web.app import create_app
from tests.factories import make_contact
from tests.test_ops import METRICS_TOKEN, samples, value
from tests.ui_failures.helpers import failed_message


@pytest.fixture
def metrics_client(settings: Settings) -> TestClient[Litestar]:
    app = create_app(replace(settings, metrics_token=METRICS_TOKEN))
    return TestClient(app, base_url="http://127.0.0.1:8000")


def test_metrics_count_failed_messages_by_kind(
    db: Session, metrics_client: TestClient[Litestar]
) -> None:
    contact = make_contact(db)
    for n in range(2):
        failed_message(db, contact_id=contact.id, template_id=None, key=f"failed-{n}")
    bounced = failed_message(db, contact_id=contact.id, template_id=None, key="bounced")
    bounced.status = MessageStatus.BOUNCED.value
    test_send = failed_message(db, contact_id=None, template_id=None, key="test-send")
    test_send.kind = "test"
    db.commit()

    with metrics_client as client:
        found = samples(client)

    assert value(found, "nurture_email_failed_total", kind="marketing") == 2
    assert value(found, "nurture_email_failed_total", kind="test") == 1
    assert not [s for s in found if s.name == "nurture_email_failed_total" and s.value == 0]
