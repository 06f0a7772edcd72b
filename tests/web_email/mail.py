"""Helpers: send through the API and read back what arrived over SMTP."""

from __future__ import annotations

import re
from email.message import EmailMessage

from litestar import Litestar
from litestar.testing import TestClient

from tests.email.smtpd import Behaviour

_CLICK = re.compile(r"/t/c/([A-Za-z0-9_-]+)")
_OPEN = re.compile(r"/t/o/([A-Za-z0-9_-]+)")
_UNSUBSCRIBE = re.compile(r"/u/([A-Za-z0-9_-]+)")


def send(
    client: TestClient[Litestar], template_id: int, contact_id: int, headers: dict[str, str]
) -> int:
    answer = client.post(
        f"/api/v1/templates/{template_id}/send", json={"contact_id": contact_id}, headers=headers
    )
    assert answer.status_code == 202, answer.text
    message_id: int = answer.json()["message_id"]
    return message_id


def last_mail(behaviour: Behaviour) -> EmailMessage:
    assert behaviour.received, "nothing arrived at the SMTP server"
    return behaviour.received[-1].parsed()


def html_of(mail: EmailMessage) -> str:
    part = mail.get_body(("html",))
    assert part is not None
    content: str = part.get_content()
    return content


def click_tokens(mail: EmailMessage) -> list[str]:
    return list(dict.fromkeys(_CLICK.findall(html_of(mail))))


def open_token(mail: EmailMessage) -> str:
    found = _OPEN.search(html_of(mail))
    assert found is not None
    return found.group(1)


def unsubscribe_token(mail: EmailMessage) -> str:
    header = str(mail["List-Unsubscribe"])
    found = _UNSUBSCRIBE.search(header)
    assert found is not None, header
    return found.group(1)
