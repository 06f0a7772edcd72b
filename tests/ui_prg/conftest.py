"""The world every Post/Redirect/Get case starts from, and the webhook endpoint it holds."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.ui_prg.prg_harness import World, build_world
from tests.webhooks.conftest import Receiver, receiver  # noqa: F401  (the fixture, shared)


@pytest.fixture
def world(db: Session, receiver: Receiver) -> World:  # noqa: F811  (the fixture above)
    return build_world(db, receiver)
