"""An experiment variant's overrides through the pipeline, to a real SMTP server."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.smtp import SmtpPool
from campaigns.delivery.smtp_url import parse_smtp_url
from campaigns.delivery.transport import Delivery, Envelope
from campaigns.email.compiled import compiled_variant
from campaigns.email.mailconfig import MailConfig
from campaigns.email.overrides import Overrides, problems
from campaigns.email.pipeline import send_keyed, send_test, send_to_contact
from campaigns.email.retry import recover_interrupted, resume_queued
from campaigns.email.store import VariantInput, get_version, update_template
from nurture.errors import InvalidInput, NotFound
from nurture.models import EmailMessage, MessageStatus, utcnow
from templates.message import Address
from tests.email.conftest import BODY, make_template
from tests.email.smtpd import Behaviour
from tests.factories import make_contact

VARIANT_B = Overrides(
    subject="Last chance, {{ contact.first_name }}",
    preheader="Seats are going fast",
    from_name="Ada from Firm",
)


def pool(port: int) -> SmtpPool:
    return SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=2)


class _DiesMidSend:
    """A transport whose process dies while the relay has the message."""

    size = 1

    def send(self, envelope: Envelope) -> Delivery:
        raise ConnectionAbortedError("the worker died")

    def close(self) -> None:
        pass


def test_stored_form_keeps_only_what_is_set_and_reads_back() -> None:
    assert Overrides().as_json() is None
    assert Overrides.from_json(None) is None
    assert Overrides.from_json({}) is None
    stored = Overrides(subject="Hi", version=3).as_json()
    assert stored == {"subject": "Hi", "version": 3}
    assert Overrides.from_json(stored) == Overrides(subject="Hi", version=3)
    # A row written by a newer release, or a hand-edited one, still builds.
    assert Overrides.from_json({"subject": "Hi", "colour": "red", "version": True}) == Overrides(
        subject="Hi"
    )
    # An experiment variant's content reads as it is.
    content = {"template_id": 4, "version": 2, "from_name": "Ada", "delay": {"hours": 2}}
    assert Overrides.from_json(content) == Overrides(from_name="Ada", version=2)


def test_problems_name_each_field_under_where(db: Session) -> None:
    template_id = make_template(db)
    bad = Overrides(
        subject="Hi {{ contact.first_name",
        preheader="{{ secret_key }}",
        from_name="Ada\r\nBcc: all@example.com",
        version=7,
    )

    found = problems(db, template_id, bad, "variants[1]")

    by_field = {p.field: p.message for p in found}
    assert set(by_field) == {
        "variants[1].subject",
        "variants[1].preheader",
        "variants[1].from_name",
        "variants[1].version",
    }
    assert "line 1" in by_field["variants[1].subject"]
    assert "secret_key" in by_field["variants[1].preheader"]
    assert "line breaks" in by_field["variants[1].from_name"]
    assert "no version 7" in by_field["variants[1].version"]
    assert problems(db, template_id, None, "v") == []
    assert problems(db, template_id, replace(VARIANT_B, version=1), "v") == []
    too_long = Overrides(subject="x" * 1001, preheader="y" * 1001, from_name="z" * 201)
    assert [p.field for p in problems(db, template_id, too_long, "v")] == [
        "v.subject",
        "v.preheader",
        "v.from_name",
    ]
    assert [p.field for p in problems(db, template_id, Overrides(subject="  "), "v")] == [
        "v.subject"
    ]
    assert [p.field for p in problems(db, None, Overrides(version=1), "v")] == ["v.version"]


def test_overridden_subject_preheader_and_sender_name_reach_the_smtp_server(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="ada@client.example", first_name="Ada")
    template_id = make_template(db)
    config = replace(mail_config, reply_domain="reply.firm.example")
    transport = pool(port)
    message = send_to_contact(
        db,
        template_id,
        contact.id,
        idempotency_key="variant-b",
        transport=transport,
        config=config,
        overrides=VARIANT_B,
    )
    transport.close()

    (received,) = server.received
    mail = received.parsed()
    assert received.mail_from == "news@firm.example"
    assert mail["Subject"] == "Last chance, Ada"
    assert mail["From"] == "Ada from Firm <news@firm.example>"
    assert str(mail["Reply-To"]).startswith("Ada from Firm <reply+")
    html = mail.get_body(("html",))
    assert html is not None
    assert "Seats are going fast" in html.get_content()
    assert message.subject == "Last chance, Ada"
    assert message.overrides == VARIANT_B.as_json()


def test_variants_sent_one_after_another_do_not_share_a_compiled_template(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    ada = make_contact(db, email="ada@client.example", first_name="Ada")
    bob = make_contact(db, email="bob@client.example", first_name="Bob")
    cy = make_contact(db, email="cy@client.example", first_name="Cy")
    template_id = make_template(db)
    transport = pool(port)
    for key, contact_id, overrides in [
        ("a", ada.id, None),
        ("b", bob.id, VARIANT_B),
        ("c", cy.id, Overrides(subject="Third try for {{ contact.first_name }}")),
    ]:
        send_keyed(
            db,
            template_id,
            [(key, contact_id)],
            transport=transport,
            config=mail_config,
            overrides=overrides,
        )
    transport.close()

    got = {r.rcpt_tos[0]: (r.parsed()["Subject"], r.parsed()["From"]) for r in server.received}
    assert got == {
        "ada@client.example": ("Your guide, Ada", "Firm News <news@firm.example>"),
        "bob@client.example": ("Last chance, Bob", "Ada from Firm <news@firm.example>"),
        "cy@client.example": ("Third try for Cy", "Firm News <news@firm.example>"),
    }
    version = get_version(db, template_id)
    variant = version.variants[0]
    plain = compiled_variant(variant, tracking=version.tracking)
    assert compiled_variant(variant, tracking=version.tracking, overrides=VARIANT_B) is not plain
    # The sender name changes no compiled text: it shares the variant's compiled template.
    same_texts = replace(VARIANT_B, from_name="Someone else")
    assert compiled_variant(
        variant, tracking=version.tracking, overrides=same_texts
    ) is compiled_variant(variant, tracking=version.tracking, overrides=VARIANT_B)


def test_a_pinned_version_is_sent_while_the_template_moved_on(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    old = make_contact(db, email="old@client.example", first_name="Ann")
    new = make_contact(db, email="new@client.example", first_name="Ben")
    template_id = make_template(db)
    second = update_template(
        db,
        template_id,
        actor="test",
        variants={"en": VariantInput("Version two for {{ contact.first_name }}", BODY)},
    )
    db.commit()
    transport = pool(port)
    pinned = send_keyed(
        db,
        template_id,
        [("pin:old", old.id)],
        transport=transport,
        config=mail_config,
        overrides=Overrides(version=1),
    )
    current = send_keyed(
        db, template_id, [("pin:new", new.id)], transport=transport, config=mail_config
    )
    transport.close()

    subjects = {r.rcpt_tos[0]: r.parsed()["Subject"] for r in server.received}
    assert subjects == {
        "old@client.example": "Your guide, Ann",
        "new@client.example": "Version two for Ben",
    }
    rows = {
        m.idempotency_key: m
        for m in db.scalars(
            select(EmailMessage).where(EmailMessage.idempotency_key.in_(["pin:old", "pin:new"]))
        )
    }
    assert rows["pin:old"].template_version_id != second.id
    assert rows["pin:new"].template_version_id == second.id
    assert rows["pin:old"].overrides == {"version": 1}
    assert rows["pin:new"].overrides is None
    assert pinned["pin:old"][1] == current["pin:new"][1] == MessageStatus.SENT.value


def test_a_resumed_message_is_built_again_as_the_variant_first_chosen(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="lee@client.example", first_name="Lee")
    template_id = make_template(db)
    with pytest.raises(ConnectionAbortedError):
        send_to_contact(
            db,
            template_id,
            contact.id,
            idempotency_key="seq:1:mail",
            transport=_DiesMidSend(),
            config=mail_config,
            overrides=VARIANT_B,
        )
    db.rollback()
    # Meanwhile the template changes: the message keeps the version it was recorded with.
    update_template(
        db,
        template_id,
        actor="test",
        variants={"en": VariantInput("Changed {{ contact.first_name }}", BODY, "Changed")},
    )
    db.commit()
    put_back = recover_interrupted(db, lease=timedelta(0), now=utcnow() + timedelta(seconds=1))
    db.commit()
    transport = pool(port)
    resumed = resume_queued(
        db, transport=transport, config=mail_config, now=utcnow() + timedelta(seconds=2)
    )
    transport.close()

    message = db.scalars(
        select(EmailMessage).where(EmailMessage.idempotency_key == "seq:1:mail")
    ).one()
    assert put_back == resumed == [message.id]
    assert message.status == MessageStatus.SENT.value
    (received,) = server.received
    resent = received.parsed()
    assert resent["Subject"] == "Last chance, Lee"
    assert resent["From"] == "Ada from Firm <news@firm.example>"
    assert resent["Message-ID"] == message.message_id_header
    html = resent.get_body(("html",))
    assert html is not None
    assert "Seats are going fast" in html.get_content()


def test_a_queued_message_keeps_its_overrides_when_sent_again_with_others(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="kim@client.example", first_name="Kim")
    template_id = make_template(db)
    with pytest.raises(ConnectionAbortedError):
        send_keyed(
            db,
            template_id,
            [("bc:1:kim", contact.id)],
            transport=_DiesMidSend(),
            config=mail_config,
            overrides=VARIANT_B,
        )
    db.rollback()
    recover_interrupted(db, lease=timedelta(0), now=utcnow() + timedelta(seconds=1))
    db.commit()
    transport = pool(port)
    answer = send_keyed(
        db,
        template_id,
        [("bc:1:kim", contact.id)],
        transport=transport,
        config=mail_config,
        overrides=Overrides(subject="Not the first choice"),
    )
    transport.close()

    assert answer["bc:1:kim"][1] == MessageStatus.SENT.value
    (received,) = server.received
    assert received.parsed()["Subject"] == "Last chance, Kim"
    assert received.parsed()["From"] == "Ada from Firm <news@firm.example>"


def test_many_keyed_messages_store_their_overrides_and_plain_ones_none(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contacts = [make_contact(db, email=f"p{i}@client.example") for i in range(30)]
    template_id = make_template(db)
    transport = pool(port)
    send_keyed(
        db,
        template_id,
        [(f"b:{c.id}", c.id) for c in contacts[:20]],
        transport=transport,
        config=mail_config,
        overrides=VARIANT_B,
    )
    send_keyed(
        db,
        template_id,
        [(f"a:{c.id}", c.id) for c in contacts[20:]],
        transport=transport,
        config=mail_config,
    )
    transport.close()

    with_overrides = db.scalars(
        select(EmailMessage.idempotency_key).where(EmailMessage.overrides.is_not(None))
    ).all()
    assert sorted(with_overrides) == sorted(f"b:{c.id}" for c in contacts[:20])
    stored = db.scalars(select(EmailMessage.overrides).where(EmailMessage.overrides.is_not(None)))
    assert {Overrides.from_json(s) for s in stored} == {VARIANT_B}
    senders = [r.parsed()["From"] for r in server.received]
    assert senders.count("Ada from Firm <news@firm.example>") == 20
    assert senders.count("Firm News <news@firm.example>") == 10


def test_a_test_send_shows_the_variant(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="ada@client.example", first_name="Ada")
    template_id = make_template(db)
    transport = pool(port)
    message = send_test(
        db,
        template_id,
        contact.id,
        to=Address("marketer@firm.example", "Mo"),
        idempotency_key="test:variant-b",
        transport=transport,
        config=mail_config,
        overrides=VARIANT_B,
    ).message
    transport.close()

    (received,) = server.received
    assert received.rcpt_tos == ["marketer@firm.example"]
    assert received.parsed()["Subject"] == "Last chance, Ada"
    assert received.parsed()["From"] == "Ada from Firm <news@firm.example>"
    assert message.overrides == VARIANT_B.as_json()


def test_a_variant_that_cannot_compile_records_nothing(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="ada@client.example", first_name="Ada")
    template_id = make_template(db)
    transport = pool(port)
    with pytest.raises(InvalidInput) as raised:
        send_keyed(
            db,
            template_id,
            [("broken", contact.id)],
            transport=transport,
            config=mail_config,
            overrides=Overrides(subject="Hi {% include 'x' %}"),
        )
    with pytest.raises(NotFound):
        send_to_contact(
            db,
            template_id,
            contact.id,
            idempotency_key="no-such-version",
            transport=transport,
            config=mail_config,
            overrides=Overrides(version=5),
        )
    transport.close()

    assert [p.field for p in raised.value.problems] == ["overrides.subject"]
    assert db.scalars(select(EmailMessage.id)).all() == []
    assert server.received == []


def test_a_sender_name_in_any_language_is_encoded_in_the_from_header(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="anna@client.example", first_name="Анна", locale="ru")
    template_id = make_template(db)
    transport = pool(port)
    send_keyed(
        db,
        template_id,
        [("ru", contact.id)],
        transport=transport,
        config=mail_config,
        overrides=Overrides(from_name="Анна из «Фирмы»"),
    )
    transport.close()

    (received,) = server.received
    assert b"\xd0" not in received.content.split(b"\r\n\r\n", 1)[0]
    mail = received.parsed()
    assert mail["From"].addresses[0].display_name == "Анна из «Фирмы»"
    assert mail["From"].addresses[0].addr_spec == "news@firm.example"
    # Only the sender name was overridden: the Russian variant's own subject stays.
    assert mail["Subject"] == "Ваше руководство, Анна"
