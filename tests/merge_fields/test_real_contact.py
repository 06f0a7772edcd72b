"""The registry matches what a send really gives: every field renders for a real contact,
and every key a send gives under contact, rep and brand is registered."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from campaigns.email.mailconfig import MailConfig
from campaigns.email.recipients import contact_recipient, load_recipients
from nurture.config import Settings
from templates.merge_fields import FIELDS, KNOWN, OPEN, known, merge_tag
from templates.sandbox import environment
from tests.factories import make_contact, make_user


def _leaves(value: dict[str, Any], prefix: str) -> set[str]:
    found: set[str] = set()
    for key, item in value.items():
        path = f"{prefix}.{key}"
        if isinstance(item, dict) and path not in OPEN:
            found |= _leaves(item, path)
        else:
            found.add(path)
    return found


def _lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        assert isinstance(value, dict), f"{path}: {part} is not under a mapping"
        assert part in value, f"a send does not give {path}"
        value = value[part]
    return value


def test_the_registry_is_exactly_what_a_send_gives(db: Session, settings: Settings) -> None:
    owner = make_user(db)
    person = make_contact(
        db,
        first_name="Ada",
        last_name="Lovelace",
        title="Head of Engineering",
        company={"name": "Analytical Engines", "industry": "manufacturing"},
        owner_id=owner.id,
        attributes={"plan": "gold"},
    )
    bare = make_contact(db, first_name=None)
    db.commit()
    config = MailConfig.from_settings(settings)
    found = load_recipients(db, [person.id, bare.id], config)
    for recipient in (*found.values(), contact_recipient(person, config)):
        given = {
            leaf
            for root in ("contact", "rep", "brand")
            for leaf in _leaves(recipient.context[root], root)
        }
        assert given == set(KNOWN)
        assert all(known(path) for path in given)

    env = environment(html=True)
    full = found[person.id].context
    for f in FIELDS:
        printed = env.from_string(merge_tag(f.path, "FALLBACK")).render(full)
        expected = _lookup(full, f.path)
        assert printed == (str(expected) if expected else "FALLBACK"), f.path
    assert env.from_string(merge_tag("contact.company.name", "x")).render(full) == (
        "Analytical Engines"
    )
    assert env.from_string(merge_tag("rep.name", "x")).render(full) == owner.name

    empty = found[bare.id].context
    for path in ("contact.first_name", "contact.full_name", "contact.company.name"):
        assert env.from_string(merge_tag(path, "there")).render(empty) == "there"
