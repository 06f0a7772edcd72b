"""The tick asks for the weekly refit once, and a real worker runs it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import FitStatus
from nurture.scoring import predictive
from tests.stub_worker import drain, stub_worker
from workers import actors


def test_the_tick_requests_a_weekly_refit_that_a_worker_runs_once(
    settings: Settings, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stub_worker(settings, monkeypatch) as stub:
        actors.tick.fn()
        drain(stub)
        actors.tick.fn()
        drain(stub)
    fits = predictive.recent_fits(db)
    assert [(f.trigger, f.status) for f in fits] == [("weekly", FitStatus.REFUSED.value)]
    assert fits[0].reason is not None
    assert fits[0].reason.startswith("Not published: 0 contacts in the history")
