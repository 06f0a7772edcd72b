"""Writing broadcasts: checks that name the field, the small-test warning, schedule and
cancel, and freezing the audience with the test group and due times per zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from campaigns.broadcasts.audience import due_in_zone
from campaigns.broadcasts.definition import SmallTest, VariantInput
from campaigns.broadcasts.progress import progress
from campaigns.broadcasts.sending import start
from campaigns.broadcasts.store import (
    cancel_broadcast,
    create_broadcast,
    experiment_of,
    schedule_broadcast,
    update_broadcast,
    variants_of,
)
from nurture.contacts.zones import zone
from nurture.errors import Conflict, InvalidInput
from nurture.models import (
    AuditEntry,
    BroadcastStatus,
    Contact,
    ExperimentStatus,
    Exposure,
    Segment,
    SegmentKind,
    SegmentMember,
    utcnow,
)
from tests.broadcasts.helpers import contacts, due_times, plain, states, with_test

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, 06:00 UTC


def fields_of(error: InvalidInput) -> set[str]:
    return {p.field for p in error.problems}


def test_bad_input_names_every_field_at_fault(db: Session, template_id: int) -> None:
    ids = contacts(db, 3)
    bad = plain(
        template_id + 999,
        ids,
        segment_id=1,
        send_at=NOW - timedelta(hours=1),
        local_time="25:00",
        quiet_hours={"start": "21:00", "end": "8am"},
        test_percent=70,
        test_hours=0.0,
        variants=(VariantInput("a"), VariantInput("b")),
    )
    with pytest.raises(InvalidInput) as caught:
        create_broadcast(db, bad, actor="m", now=NOW)
    assert {
        "template_id",
        "segment_id",
        "local_time",
        "quiet_hours.end",
        "test_percent",
        "test_hours",
        "variants[1]",
    } <= fields_of(caught.value)


def test_a_lift_the_plan_cannot_reach_is_refused(db: Session, template_id: int) -> None:
    ids = contacts(db, 3)
    # Opens' typical rate is 25 %: a fourfold lift would be 100 %, no plan can size that.
    with pytest.raises(InvalidInput) as caught:
        create_broadcast(db, with_test(template_id, ids, min_effect=3.0), actor="m", now=NOW)
    assert fields_of(caught.value) == {"min_effect"}
    create_broadcast(db, with_test(template_id, ids, min_effect=2.9), actor="m", now=NOW)


def test_a_past_schedule_and_an_empty_audience_are_refused(db: Session, template_id: int) -> None:
    ids = contacts(db, 2)
    with pytest.raises(InvalidInput) as past:
        create_broadcast(
            db, plain(template_id, ids, send_at=NOW - timedelta(minutes=5)), actor="m", now=NOW
        )
    assert fields_of(past.value) == {"send_at"}
    with pytest.raises(InvalidInput) as empty:
        create_broadcast(db, plain(template_id, [max(ids) + 1000]), actor="m", now=NOW)
    assert fields_of(empty.value) == {"contact_ids"}
    assert "empty" in str(empty.value)


def test_a_variant_subject_that_does_not_compile_is_named(db: Session, template_id: int) -> None:
    ids = contacts(db, 4)
    data = with_test(template_id, ids)
    broken = (VariantInput("a"), VariantInput("b", subject="Hi {{ contact.first_name "))
    with pytest.raises(InvalidInput) as caught:
        create_broadcast(
            db, plain(template_id, ids, **_test_fields(data, broken)), actor="m", now=NOW
        )
    assert fields_of(caught.value) == {"variants[1].subject"}


def _test_fields(data: object, variants: tuple[VariantInput, ...]) -> dict[str, object]:
    return {
        "test_percent": 50,
        "test_hours": 4.0,
        "accept_small_test": True,
        "variants": variants,
    }


def test_a_small_test_group_is_a_warning_with_the_percent_needed(
    db: Session, template_id: int
) -> None:
    ids = contacts(db, 40)
    data = with_test(template_id, ids, accept_small_test=False, test_percent=10)
    with pytest.raises(SmallTest) as caught:
        create_broadcast(db, data, actor="m", now=NOW)
    warning = caught.value
    assert fields_of(warning) == {"test_percent"}
    # 40 contacts, 10 %: two per variant, far below the plan (opens 25 % → 30 % needs ~1,250).
    assert warning.per_variant == 2
    assert warning.planned > 1000
    assert warning.needed_percent is None  # even half the audience is not enough
    accepted = create_broadcast(
        db, with_test(template_id, ids, test_percent=10), actor="m", now=NOW
    )
    experiment = experiment_of(db, accepted.id)
    assert experiment is not None
    assert experiment.planned_per_variant == warning.planned
    assert [v.key for v in variants_of(db, accepted.id)] == ["a", "b"]


def test_schedule_freezes_at_send_time_and_cancel_stops_what_is_pending(
    db: Session, template_id: int
) -> None:
    ids = contacts(db, 6)
    segment = Segment(name="Legal", kind=SegmentKind.STATIC.value)
    db.add(segment)
    db.flush()
    db.add_all(SegmentMember(segment_id=segment.id, contact_id=cid) for cid in ids[:4])
    broadcast = create_broadcast(
        db,
        plain(template_id, None, segment_id=segment.id, send_at=NOW + timedelta(hours=1)),
        actor="m",
        now=NOW,
    )
    schedule_broadcast(db, broadcast.id, actor="m", now=NOW)
    with pytest.raises(Conflict):
        schedule_broadcast(db, broadcast.id, actor="m", now=NOW)
    assert broadcast.status == BroadcastStatus.SCHEDULED.value
    # Members change after scheduling: the audience is what the segment holds at send time.
    db.add(SegmentMember(segment_id=segment.id, contact_id=ids[4]))
    db.flush()
    assert start(db, broadcast.id, now=NOW + timedelta(hours=1))
    assert broadcast.total == 5
    assert set(states(db, broadcast.id)) == set(ids[:5])
    assert set(due_times(db, broadcast.id).values()) == {NOW + timedelta(hours=1)}
    with pytest.raises(Conflict):
        update_broadcast(db, broadcast.id, plain(template_id, ids), actor="m", now=NOW)

    cancel_broadcast(db, broadcast.id, actor="m", now=NOW + timedelta(hours=1))
    counts = progress(db, broadcast.id)
    assert (counts.all.cancelled, counts.all.pending, counts.all.total) == (5, 0, 5)
    actions = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "broadcast")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["broadcast.created", "broadcast.scheduled", "broadcast.cancelled"]


def test_the_test_group_is_exactly_its_share_drawn_by_hash_exposed_and_split(
    db: Session, template_id: int
) -> None:
    ids = contacts(db, 200)
    broadcast = create_broadcast(
        db, with_test(template_id, ids, test_percent=20), actor="m", now=NOW
    )
    schedule_broadcast(db, broadcast.id, actor="m", now=NOW)
    assert start(db, broadcast.id, now=NOW)
    rows = states(db, broadcast.id)
    test = {cid: variant for cid, (phase, _, variant) in rows.items() if phase == "test"}
    rest = [variant for phase, _, variant in rows.values() if phase == "rest"]
    assert len(test) == 40  # exactly 20 % of 200
    assert set(test.values()) == {"a", "b"}
    assert set(rest) == {None}  # the rest wait for the decision
    experiment = experiment_of(db, broadcast.id)
    assert experiment is not None
    assert experiment.status == ExperimentStatus.RUNNING.value
    exposed = {
        cid: key
        for cid, key in db.execute(
            select(Exposure.contact_id, Exposure.variant_key).where(
                Exposure.experiment_id == experiment.id
            )
        )
    }
    assert exposed == test
    keys = set(
        db.scalars(select(Exposure.message_key).where(Exposure.experiment_id == experiment.id))
    )
    assert keys == {f"bc:{broadcast.id}:{cid}" for cid in test}
    assert progress(db, broadcast.id).phases["test"].pending == len(test)


def test_local_time_and_quiet_hours_set_each_zone_its_own_due_time(
    db: Session, template_id: int
) -> None:
    tokyo = contacts(db, 2, time_zone="Asia/Tokyo")
    new_york = contacts(db, 2, time_zone="America/New_York")
    nowhere = contacts(db, 1)
    broadcast = create_broadcast(
        db,
        plain(
            template_id,
            tokyo + new_york + nowhere,
            send_at=NOW,
            local_time="09:00",
            quiet_hours={"start": "08:30", "end": "10:00"},
        ),
        actor="m",
        now=NOW,
    )
    schedule_broadcast(db, broadcast.id, actor="m", now=NOW)
    start(db, broadcast.id, now=NOW)
    due = due_times(db, broadcast.id)
    # 09:00 falls in the quiet hours everywhere, so it goes at 10:00 local.
    assert due[tokyo[0]] == datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # Tokyo's next 10:00
    assert due[new_york[0]] == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 EST
    assert due[nowhere[0]] == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert due[tokyo[1]] == due[tokyo[0]]


def test_due_in_zone_crosses_daylight_saving() -> None:
    # 8 March 2026: New York springs forward; 09:00 the day after is 13:00 UTC.
    start_ = datetime(2026, 3, 8, 14, 0, tzinfo=UTC)
    due = due_in_zone(start_, zone("America/New_York"), local_time="09:00", quiet_hours=None)
    assert due == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_a_list_of_35000_contacts_is_frozen_whole(db: Session, template_id: int) -> None:
    now = utcnow()
    db.execute(
        insert(Contact),
        [
            {"email": f"big{n}@example.com", "attributes": {}, "created_at": now, "updated_at": now}
            for n in range(35_000)
        ],
    )
    ids = list(db.scalars(select(Contact.id)))
    broadcast = create_broadcast(db, plain(template_id, ids), actor="m", now=now)
    schedule_broadcast(db, broadcast.id, actor="m", now=now)
    assert start(db, broadcast.id, now=now)
    assert broadcast.total == 35_000
    assert progress(db, broadcast.id).all.pending == 35_000
