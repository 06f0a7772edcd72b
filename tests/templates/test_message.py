"""Messages are built as bytes that the stdlib parser reads back exactly, and DKIM verifies."""

from __future__ import annotations

import base64
import email
import email.policy
import re
from email.message import EmailMessage

import dkim as dkimpy  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from benchmarks.render import bulk_context, compiled_bulk
from templates.dkim import sign
from templates.message import Address, build_message, encode_words, format_address
from templates.render import RenderedEmail, compile_template
from tests.templates.helpers import BASE_URL, SECRET, mjml

SENDER = Address("news@example.net", "Команда «Пример»")
RECIPIENT = Address("anna@example.com", "Анна Иванова-Петрова")


def _rendered(n: int = 1) -> RenderedEmail:
    return compiled_bulk().render(
        bulk_context(n), message_id=n, contact_id=n, base_url=BASE_URL, secret=SECRET
    )


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_message_is_multipart_alternative_with_text_then_html() -> None:
    rendered = _rendered()
    message = _parse(build_message(rendered, sender=SENDER, recipient=RECIPIENT))
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert not part.defects
    assert not message.defects


def test_parts_decode_to_exactly_what_was_rendered() -> None:
    rendered = _rendered(2)
    message = _parse(build_message(rendered, sender=SENDER, recipient=RECIPIENT))
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    assert html_part is not None
    assert text_part is not None
    assert html_part.get_content().replace("\r\n", "\n") == rendered.html
    assert text_part.get_content().replace("\r\n", "\n") == rendered.text


def test_slow_path_parts_also_decode_exactly() -> None:
    compiled = compiled_bulk()
    rendered = compiled.render_slow(
        bulk_context(3), message_id=3, contact_id=3, base_url=BASE_URL, secret=SECRET
    )
    assert rendered.html_qp is None
    message = _parse(build_message(rendered, sender=SENDER, recipient=RECIPIENT))
    html_part = message.get_body(("html",))
    assert html_part is not None
    assert html_part.get_content().replace("\r\n", "\n") == rendered.html


def test_every_line_ends_with_crlf_and_is_at_most_998_bytes() -> None:
    raw = build_message(_rendered(), sender=SENDER, recipient=RECIPIENT)
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    # The bodies are quoted-printable, which keeps to 76.
    head_end = lines.index(b"")
    assert max(len(line) for line in lines[head_end:]) <= 76


def test_message_is_pure_ascii() -> None:
    raw = build_message(_rendered(), sender=SENDER, recipient=RECIPIENT)
    assert raw.isascii()


def test_russian_subject_and_display_names_survive_the_round_trip() -> None:
    context = bulk_context(0)  # a Russian first name
    compiled = compile_template(
        "Привет, {{ contact.first_name }}! Подборка материалов для {{ contact.company.name }}",
        "",
        mjml("<mj-text>Текст письма</mj-text>"),
    )
    rendered = compiled.render(context, message_id=1, base_url=BASE_URL, secret=SECRET)
    raw = build_message(rendered, sender=SENDER, recipient=RECIPIENT)
    message = _parse(raw)
    assert message["Subject"] == rendered.subject
    assert rendered.subject.startswith(f"Привет, {context['contact']['first_name']}!")
    assert message["From"].addresses[0].display_name == "Команда «Пример»"
    assert message["From"].addresses[0].addr_spec == "news@example.net"
    assert message["To"].addresses[0].display_name == "Анна Иванова-Петрова"
    assert "=?utf-8?b?" in raw.decode("ascii")
    text_part = message.get_body(("plain",))
    assert text_part is not None
    assert text_part.get_content().strip() == "Текст письма"


def test_ascii_names_with_specials_are_quoted() -> None:
    assert format_address("a@example.com", 'Smith, John "JJ"') == (
        '"Smith, John \\"JJ\\"" <a@example.com>'
    )
    assert format_address("a@example.com", "Ann Lee") == "Ann Lee <a@example.com>"
    assert format_address("a@example.com") == "a@example.com"


def test_addresses_that_could_inject_headers_are_refused() -> None:
    with pytest.raises(ValueError, match="e-mail address"):
        format_address("a@example.com>\r\nBcc: x@example.com")


def test_long_non_ascii_text_is_split_into_short_encoded_words() -> None:
    words = encode_words("Очень длинная тема " * 10)
    assert all(len(line.strip()) <= 75 for line in words.split("\r\n"))
    assert email.header.make_header(email.header.decode_header(words)).__str__() == (
        "Очень длинная тема " * 10
    )


def test_list_unsubscribe_headers_follow_rfc_8058() -> None:
    rendered = _rendered()
    assert rendered.unsubscribe_url is not None
    raw = build_message(
        rendered, sender=SENDER, recipient=RECIPIENT, unsubscribe_mailto="unsub@example.net"
    )
    message = _parse(raw)
    assert message["List-Unsubscribe"] == (
        f"<{rendered.unsubscribe_url}>, <mailto:unsub@example.net>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_no_list_unsubscribe_without_an_unsubscribe_url() -> None:
    compiled = compile_template("s", "", mjml("<mj-text>internal</mj-text>"))
    rendered = compiled.render({}, message_id=1, base_url=BASE_URL, secret=SECRET)
    message = _parse(build_message(rendered, sender=SENDER, recipient=RECIPIENT))
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None


def test_custom_headers_reply_to_date_and_message_id() -> None:
    raw = build_message(
        _rendered(),
        sender=SENDER,
        recipient=RECIPIENT,
        reply_to=Address("rep@example.net", "Rep"),
        headers={"X-Nurture-Message": "msg-42"},
    )
    message = _parse(raw)
    assert message["X-Nurture-Message"] == "msg-42"
    assert message["Reply-To"] == "Rep <rep@example.net>"
    assert message["Date"].datetime is not None
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.net>", message["Message-ID"])


def test_custom_headers_cannot_replace_the_standard_ones() -> None:
    with pytest.raises(ValueError, match="Subject"):
        build_message(_rendered(), sender=SENDER, recipient=RECIPIENT, headers={"Subject": "x"})
    with pytest.raises(ValueError, match="X-Bad Name"):
        build_message(_rendered(), sender=SENDER, recipient=RECIPIENT, headers={"X-Bad Name": "x"})


def test_message_ids_are_unique() -> None:
    rendered = _rendered()
    ids = {
        _parse(build_message(rendered, sender=SENDER, recipient=RECIPIENT))["Message-ID"]
        for _ in range(200)
    }
    assert len(ids) == 200


def test_dkim_signature_verifies_with_the_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"sel1._domainkey.example.net."
        return record

    raw = build_message(_rendered(), sender=SENDER, recipient=RECIPIENT)
    signed = sign(raw, "sel1", "example.net", pem)
    assert signed.startswith(b"DKIM-Signature: ")
    assert signed.endswith(raw)
    assert b"\n" not in signed.replace(b"\r\n", b"")
    assert dkimpy.verify(signed, dnsfunc=dns)
    tampered = signed.replace(b"Subject: ", b"Subject: Re: ", 1)
    assert not dkimpy.verify(tampered, dnsfunc=dns)
