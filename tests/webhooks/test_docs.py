"""The verification snippets in docs/webhooks.md and the README accept our requests and
refuse tampered ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from nurture.models import utcnow
from nurture.webhooks.signing import new_secret, signed_headers

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "webhooks.md", ROOT / "README.md")
Verify = Callable[[bytes, dict[str, str], str], Any]


def _snippets() -> list[Any]:
    return [
        pytest.param(block, id=f"{doc.name}-{'package' if 'standardwebhooks' in block else 'hmac'}")
        for doc in DOCS
        for block in re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.DOTALL)
        if "def verify" in block
    ]


def _verifier(source: str) -> Verify:
    namespace: dict[str, Any] = {}
    exec(compile(source, "snippet", "exec"), namespace)  # noqa: S102 - our own documentation
    verify: Verify = namespace["verify"]
    return verify


@pytest.mark.parametrize("source", _snippets())
def test_the_documented_verifier_accepts_a_signed_request_and_refuses_a_changed_one(
    source: str,
) -> None:
    verify = _verifier(source)
    old, new = new_secret(), new_secret()
    body = b'{"type":"lead.qualified","data":{"event_id":1}}'
    headers = signed_headers([new, old], message_id="msg_a_1", sent_at=utcnow(), body=body)

    assert verify(body, headers, new) == {"type": "lead.qualified", "data": {"event_id": 1}}
    assert verify(body, headers, old)["type"] == "lead.qualified"
    with pytest.raises(Exception, match=r"(?i)signature"):
        verify(body.replace(b"1", b"2"), headers, new)
    with pytest.raises(Exception, match=r"(?i)signature"):
        verify(body, headers, new_secret())


@pytest.mark.parametrize("source", _snippets())
def test_the_documented_verifier_refuses_a_request_signed_long_ago(source: str) -> None:
    verify = _verifier(source)
    secret = new_secret()
    body = b"{}"
    stale = utcnow() - timedelta(minutes=10)
    headers = signed_headers([secret], message_id="msg_a_1", sent_at=stale, body=body)

    with pytest.raises(Exception, match=r"(?i)too old"):
        verify(body, headers, secret)
