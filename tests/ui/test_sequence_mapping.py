"""The mapping page: moving people from an older sequence version onto the current one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences import versions
from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from nurture.models import AuditEntry, Enrolment, utcnow
from tests.factories import make_contact, make_user
from tests.sequences.helpers import drive, enrol, make_sequence
from tests.ui.helpers import HTML, Client, login, post_form

CALL = {"key": "call", "type": "task", "kind": "call"}


def wait(key: str, days: int = 1) -> dict[str, Any]:
    return {"key": key, "type": "wait", "duration": {"days": days}}


@dataclass(frozen=True, slots=True)
class Setup:
    sequence_id: int
    v1: int
    v2: int
    at_first: list[int]
    at_second: int


@pytest.fixture
def mailer(settings: Settings) -> Mailer:
    return Mailer(transport_for(settings), MailConfig.from_settings(settings))


def publish(db: Session, sequence_id: int, steps: list[dict[str, Any]]) -> int:
    version = versions.edit_sequence(db, sequence_id, steps_definition={"steps": steps})
    db.commit()
    return version.id


def current_id(db: Session, sequence_id: int) -> int:
    sequence = versions.get_sequence(db, sequence_id)
    assert sequence.current_version_id is not None
    return sequence.current_version_id


def two_versions(db: Session, mailer: Mailer) -> Setup:
    """v1 first → second → call, two people at `first` and one at `second`; v2 has no
    `second` but a new step, so only `first` has a same-key default."""
    start = utcnow()
    sequence_id = make_sequence(db, [wait("first"), wait("second"), CALL])
    v1 = current_id(db, sequence_id)
    at_first = [enrol(db, sequence_id, make_contact(db).id, start) for _ in range(2)]
    at_second = enrol(db, sequence_id, make_contact(db).id, start)
    drive(db, at_second, start, mailer)
    drive(db, at_second, start + timedelta(days=1), mailer)
    v2 = publish(db, sequence_id, [wait("first"), CALL, wait("extra", 2)])
    return Setup(sequence_id, v1, v2, at_first, at_second)


def signed_in(client: Client, db: Session, role: str = "marketer") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def placed(db: Session, enrolment_ids: list[int]) -> list[tuple[int, str | None]]:
    db.expire_all()
    rows = db.scalars(select(Enrolment).where(Enrolment.id.in_(enrolment_ids)))
    by_id = {row.id: (row.version_id, row.step_key) for row in rows}
    return [by_id[i] for i in enrolment_ids]


def row(html: str, step: str, table: str = "mapping-table") -> str:
    found = re.search(
        rf'<table class="table" id="{table}">.*?<tr data-step="{step}">(.*?)</tr>', html, re.S
    )
    assert found, f"no row for {step!r} in #{table}"
    return found.group(1)


def selected(cell: str) -> str:
    chosen = re.findall(r'<option value="([^"]*)" selected>', cell)
    assert len(chosen) <= 1, cell
    return chosen[0] if chosen else ""


def mapped_entries(db: Session, sequence_id: int) -> list[AuditEntry]:
    return list(
        db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "sequence.mapped", AuditEntry.entity_id == str(sequence_id)
            )
        )
    )


def test_the_page_lists_the_old_steps_with_their_people_and_defaults(
    client: Client, db: Session, mailer: Mailer
) -> None:
    setup = two_versions(db, mailer)
    signed_in(client, db)

    detail = client.get(f"/sequences/{setup.sequence_id}", headers=HTML)
    page = client.get(f"/sequences/{setup.sequence_id}/mapping", headers=HTML)

    assert f'href="/sequences/{setup.sequence_id}/mapping"' in detail.text
    assert page.status_code == 200
    older = re.search(rf'<tr data-version="{setup.v1}">(.*?)</tr>', page.text, re.S)
    assert older
    assert re.search(r'data-count="live">3<', older.group(1))
    first, second = row(page.text, "first"), row(page.text, "second")
    assert re.search(r'data-count="live">2<', first)
    assert re.search(r'data-count="live">1<', second)
    assert 'data-step="call"' not in page.text.split('id="mapping-table"')[1]  # nobody there
    # The same key where v2 has it; otherwise "leave on the old version".
    assert selected(first) == "first"
    assert selected(second) == ""
    assert "Leave on v1" in second
    for key in ("first", "call", "extra"):
        assert f'<option value="{key}"' in second
    assert "call · Task for a rep" in second
    assert f'name="from_version_id" value="{setup.v1}"' in page.text


def test_posting_moves_the_people_and_records_it(
    client: Client, db: Session, mailer: Mailer
) -> None:
    setup = two_versions(db, mailer)
    signed_in(client, db)

    response = post_form(
        client,
        f"/sequences/{setup.sequence_id}/mapping?from={setup.v1}",
        {"from_version_id": str(setup.v1), "step.first": "first", "step.second": "call"},
    )

    assert response.status_code == 303, response.text
    response = client.get(response.headers["location"], headers=HTML)
    assert placed(db, [*setup.at_first, setup.at_second]) == [
        (setup.v2, "first"),
        (setup.v2, "first"),
        (setup.v2, "call"),
    ]
    assert re.search(r'data-count="moved">2<', row(response.text, "first", "result-table"))
    assert re.search(r'data-count="moved">1<', row(response.text, "second", "result-table"))
    assert re.search(r'data-count="kept">0<', row(response.text, "second", "result-table"))
    assert "Moved 3 people from v1 to v2" in response.text
    assert "Everyone is on the current version" in response.text
    [entry] = mapped_entries(db, setup.sequence_id)
    assert entry.actor.startswith("user:")
    assert entry.changes["step_map"] == {"first": "first", "second": "call"}
    assert entry.changes["moved"] == {"first": 2, "second": 1}
    assert entry.changes["from_version_id"] == setup.v1
    assert entry.changes["to_version_id"] == setup.v2


def test_an_empty_choice_leaves_those_people_on_their_version(
    client: Client, db: Session, mailer: Mailer
) -> None:
    setup = two_versions(db, mailer)
    signed_in(client, db)

    response = post_form(
        client,
        f"/sequences/{setup.sequence_id}/mapping?from={setup.v1}",
        {"from_version_id": str(setup.v1), "step.first": "", "step.second": "extra"},
    )

    assert response.status_code == 303, response.text
    response = client.get(response.headers["location"], headers=HTML)
    assert placed(db, [*setup.at_first, setup.at_second]) == [
        (setup.v1, "first"),
        (setup.v1, "first"),
        (setup.v2, "extra"),
    ]
    # Those left behind are still offered for mapping.
    assert re.search(r'data-count="live">2<', row(response.text, "first"))
    assert 'data-step="second"' not in response.text.split('id="mapping-table"')[1]


def test_a_step_missing_from_the_new_version_is_named_at_its_row_and_moves_nobody(
    client: Client, db: Session, mailer: Mailer
) -> None:
    setup = two_versions(db, mailer)
    signed_in(client, db)

    response = post_form(
        client,
        f"/sequences/{setup.sequence_id}/mapping?from={setup.v1}",
        {"from_version_id": str(setup.v1), "step.first": "first", "step.second": "nope"},
    )

    assert response.status_code == 422
    second = row(response.text, "second")
    assert "has-error" in second
    assert re.search(r'class="field-error"[^>]*>version 2 has no step &#39;nope&#39;<', second)
    assert "field-error" not in row(response.text, "first")
    assert selected(second) == "nope"  # the choice is kept for correcting
    assert "Nobody was moved." in response.text
    assert placed(db, [*setup.at_first, setup.at_second]) == [
        (setup.v1, "first"),
        (setup.v1, "first"),
        (setup.v1, "second"),
    ]
    assert mapped_entries(db, setup.sequence_id) == []


def test_choosing_nothing_moves_nobody(client: Client, db: Session, mailer: Mailer) -> None:
    setup = two_versions(db, mailer)
    signed_in(client, db)

    response = post_form(
        client,
        f"/sequences/{setup.sequence_id}/mapping?from={setup.v1}",
        {"from_version_id": str(setup.v1), "step.first": "", "step.second": ""},
    )

    assert response.status_code == 422
    assert "choose a step of the current version for at least one step" in response.text
    assert placed(db, setup.at_first) == [(setup.v1, "first"), (setup.v1, "first")]
    assert mapped_entries(db, setup.sequence_id) == []


def test_the_query_picks_among_several_older_versions(
    client: Client, db: Session, mailer: Mailer
) -> None:
    start = utcnow()
    sequence_id = make_sequence(db, [wait("first"), CALL])
    v1 = current_id(db, sequence_id)
    enrol(db, sequence_id, make_contact(db).id, start)
    v2 = publish(db, sequence_id, [wait("opening"), CALL])
    enrol(db, sequence_id, make_contact(db).id, start)
    v3 = publish(db, sequence_id, [CALL])
    signed_in(client, db)

    newest = client.get(f"/sequences/{sequence_id}/mapping", headers=HTML)
    oldest = client.get(f"/sequences/{sequence_id}/mapping?from={v1}", headers=HTML)
    current = client.get(f"/sequences/{sequence_id}/mapping?from={v3}", headers=HTML)

    assert f'name="from_version_id" value="{v2}"' in newest.text  # newest older version
    assert 'data-step="opening"' in newest.text
    assert f'name="from_version_id" value="{v1}"' in oldest.text
    assert 'data-step="first"' in oldest.text
    assert 'data-step="opening"' not in oldest.text
    # Nobody to map on the current version: say so and offer the newest older one.
    assert "That version has nobody left to map" in current.text
    assert f'name="from_version_id" value="{v2}"' in current.text


def test_a_sales_rep_may_not_map(client: Client, db: Session, mailer: Mailer) -> None:
    setup = two_versions(db, mailer)
    signed_in(client, db, "sales")

    detail = client.get(f"/sequences/{setup.sequence_id}", headers=HTML)
    page = client.get(f"/sequences/{setup.sequence_id}/mapping", headers=HTML)
    posted = post_form(
        client,
        f"/sequences/{setup.sequence_id}/mapping?from={setup.v1}",
        {"from_version_id": str(setup.v1), "step.first": "first"},
    )

    assert detail.status_code == 200
    assert f"/sequences/{setup.sequence_id}/mapping" not in detail.text
    assert page.status_code == 403
    assert posted.status_code == 403
    assert placed(db, setup.at_first) == [(setup.v1, "first"), (setup.v1, "first")]


def test_with_everyone_on_the_current_version_the_page_says_so(client: Client, db: Session) -> None:
    sequence_id = make_sequence(db, [wait("first"), CALL])
    publish(db, sequence_id, [wait("first"), wait("second"), CALL])
    enrol(db, sequence_id, make_contact(db).id, utcnow())  # joins v2, the current one
    signed_in(client, db)

    detail = client.get(f"/sequences/{sequence_id}", headers=HTML)
    page = client.get(f"/sequences/{sequence_id}/mapping", headers=HTML)

    assert 'id="versions-table"' in detail.text
    assert f"/sequences/{sequence_id}/mapping" not in detail.text
    assert page.status_code == 200
    assert "Everyone is on the current version" in page.text
    assert 'id="mapping-form"' not in page.text
