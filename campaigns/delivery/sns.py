"""Amazon SES notifications delivered by Amazon SNS over HTTPS: verified, then parsed.

SNS signs every POST: the signature covers a fixed list of the message's fields
("Name\\nvalue\\n" each, in order), with SHA1 (SignatureVersion 1) or SHA256 (2) and
RSA, by the key in the certificate at SigningCertURL. We accept a certificate URL
only over https from an `sns.<region>.amazonaws.com` host (fetching it is the
caller's business: `CertificateCache` wraps any fetcher and keeps what it fetched).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from campaigns.delivery.notices import Notice, NoticeKind, WebhookRejected
from nurture.validation import parse_id

_CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_TYPES = {"Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"}

CertificateFetcher = Callable[[str], bytes]
# A certificate URL that failed is refused without fetching for this long.
FAILED_FETCH_SECONDS = 300.0
# Forged requests may name endless URLs; the memory of failures stays bounded.
MAX_REMEMBERED_FAILURES = 1000


@dataclass(frozen=True, slots=True)
class SnsMessage:
    """A verified SNS message. For a SubscriptionConfirmation, GET `subscribe_url` (an SNS
    https URL, checked) to confirm; for a Notification, `notices` holds what SES reported."""

    type: str
    topic_arn: str
    message_id: str
    subscribe_url: str | None
    notices: list[Notice]


class CertificateCache:
    """Fetches signing certificates through `fetch` once per URL and keeps them (SNS
    rotates them rarely). A URL that could not be fetched is not tried again for
    `retry_after` seconds: otherwise every forged request would make us fetch. Thread-safe."""

    def __init__(
        self, fetch: CertificateFetcher | None = None, *, retry_after: float = FAILED_FETCH_SECONDS
    ) -> None:
        self._fetch = fetch or _fetch_https
        self._retry_after = retry_after
        self._lock = threading.Lock()
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._failed: dict[str, float] = {}

    def public_key(self, url: str) -> rsa.RSAPublicKey:
        check_certificate_url(url)
        with self._lock:
            key = self._keys.get(url)
            failed_at = self._failed.get(url)
        if key is not None:
            return key
        if failed_at is not None and time.monotonic() - failed_at < self._retry_after:
            raise WebhookRejected("the signing certificate could not be fetched (recently)")
        try:
            certificate = x509.load_pem_x509_certificate(self._fetch(url))
        except OSError as exc:
            # URLError, timeouts, refused connections: the sender's problem, not a 500.
            self._remember_failure(url)
            raise WebhookRejected(
                f"the signing certificate could not be fetched ({type(exc).__name__})"
            ) from None
        except ValueError:
            self._remember_failure(url)
            raise WebhookRejected("the signing certificate is not a PEM certificate") from None
        public = certificate.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise WebhookRejected("the signing certificate does not hold an RSA key")
        with self._lock:
            self._keys[url] = public
        return public

    def _remember_failure(self, url: str) -> None:
        with self._lock:
            if len(self._failed) >= MAX_REMEMBERED_FAILURES:
                self._failed.clear()
            self._failed[url] = time.monotonic()


def check_certificate_url(url: str) -> None:
    """WebhookRejected unless `url` is https on an sns.<region>.amazonaws.com host."""
    parts = urlsplit(url)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or not _CERT_HOST.match(parts.hostname)
        or parts.port not in (None, 443)
        or parts.username
        or not parts.path.endswith(".pem")
    ):
        raise WebhookRejected("SigningCertURL is not an Amazon SNS certificate URL")


def verify_sns(
    body: bytes | str,
    *,
    certificates: CertificateCache,
    allowed_topic_arns: tuple[str, ...] = (),
) -> SnsMessage:
    """Check an SNS POST body's signature and parse it; WebhookRejected when anything is
    off. With `allowed_topic_arns`, messages from other topics are refused too."""
    message = _decode(body)
    kind = message.get("Type")
    if kind not in _TYPES:
        raise WebhookRejected(f"unknown SNS message type {kind!r}")
    fields = _NOTIFICATION_FIELDS if kind == "Notification" else _CONFIRMATION_FIELDS
    text = "".join(
        f"{name}\n{message[name]}\n"
        for name in fields
        if name in message and not (name == "Subject" and message[name] is None)
    )
    for required in fields:
        if required != "Subject" and not isinstance(message.get(required), str):
            raise WebhookRejected(f"the SNS message has no {required}")
    algorithm: hashes.HashAlgorithm
    version = str(message.get("SignatureVersion"))
    if version == "1":
        algorithm = hashes.SHA1()  # noqa: S303 - SNS's SignatureVersion 1 is SHA1 by design
    elif version == "2":
        algorithm = hashes.SHA256()
    else:
        raise WebhookRejected(f"unknown SignatureVersion {version!r}")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejected("the SNS signature is not base64") from None
    key = certificates.public_key(str(message.get("SigningCertURL", "")))
    try:
        key.verify(signature, text.encode("utf-8"), padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise WebhookRejected("the SNS signature does not match") from None
    topic = str(message["TopicArn"])
    if allowed_topic_arns and topic not in allowed_topic_arns:
        raise WebhookRejected("the SNS topic is not one we subscribed to")
    subscribe_url = message.get("SubscribeURL") if kind != "Notification" else None
    if subscribe_url is not None:
        host = urlsplit(str(subscribe_url)).hostname or ""
        if not str(subscribe_url).startswith("https://") or not _CERT_HOST.match(host):
            raise WebhookRejected("SubscribeURL is not an Amazon SNS URL")
    notices = ses_notices(_decode(str(message["Message"]))) if kind == "Notification" else []
    return SnsMessage(
        type=str(kind),
        topic_arn=topic,
        message_id=str(message["MessageId"]),
        subscribe_url=str(subscribe_url) if subscribe_url else None,
        notices=notices,
    )


def ses_notices(notification: Mapping[str, Any]) -> list[Notice]:
    """What an SES notification (the SNS Message, decoded) says about each recipient."""
    kind = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail") or {}
    headers = {
        str(h.get("name", "")).lower(): str(h.get("value", ""))
        for h in mail.get("headers") or []
        if isinstance(h, Mapping)
    }
    ours = headers.get("x-nurture-message", "").strip()
    message_id = parse_id(ours)
    header_id = headers.get("message-id") or (mail.get("commonHeaders") or {}).get("messageId")
    provider_id = str(mail.get("messageId", ""))
    notices: list[Notice] = []
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        permanent = bounce.get("bounceType") == "Permanent"
        for item in bounce.get("bouncedRecipients") or []:
            notices.append(
                Notice(
                    NoticeKind.HARD_BOUNCE if permanent else NoticeKind.SOFT_BOUNCE,
                    str(item.get("emailAddress", "")),
                    "ses",
                    provider_id,
                    str(item.get("diagnosticCode") or bounce.get("bounceSubType") or "")[:500],
                    message_id,
                    header_id,
                )
            )
    elif kind == "Complaint":
        complaint = notification.get("complaint") or {}
        for item in complaint.get("complainedRecipients") or []:
            notices.append(
                Notice(
                    NoticeKind.COMPLAINT,
                    str(item.get("emailAddress", "")),
                    "ses",
                    provider_id,
                    str(complaint.get("complaintFeedbackType") or "complaint"),
                    message_id,
                    header_id,
                )
            )
    elif kind == "Delivery":
        for address in (notification.get("delivery") or {}).get("recipients") or []:
            notices.append(
                Notice(
                    NoticeKind.DELIVERED,
                    str(address),
                    "ses",
                    provider_id,
                    "",
                    message_id,
                    header_id,
                )
            )
    return [n for n in notices if "@" in n.email]


def _decode(body: bytes | str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("the body is not JSON") from None
    if not isinstance(value, dict):
        raise WebhookRejected("the body is not a JSON object")
    return value


def _fetch_https(url: str) -> bytes:
    check_certificate_url(url)
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - https checked above
        data: bytes = answer.read(65536)
        return data
