"""A real SMTP server on loopback (aiosmtpd) whose answers tests choose per address."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    connection: int

    def parsed(self) -> EmailMessage:
        message = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class Behaviour:
    """Addresses refused for good (5xx), refused for now N times (4xx), and what came in."""

    refuse: set[str] = field(default_factory=set)
    defer: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    connections: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        b = self.behaviour
        with b.lock:
            if address in b.refuse:
                return "550 5.1.1 No such user here"
            if b.defer.get(address, 0) > 0:
                b.defer[address] -= 1
                return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.behaviour.lock:
            self.behaviour.connections.add(id(session))
            self.behaviour.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, id(session))
            )
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server(
    *,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    users: dict[str, str] | None = None,
) -> Iterator[tuple[int, Behaviour]]:
    """Start aiosmtpd on a free loopback port; yields (port, behaviour)."""
    behaviour = Behaviour()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    if users is not None:
        kwargs.update(authenticator=_authenticator(users), auth_require_tls=True)
    controller = Controller(
        Handler(behaviour),
        hostname="127.0.0.1",
        port=port,
        ssl_context=implicit_tls,
        server_hostname="localhost",
        **kwargs,
    )
    controller.start()
    try:
        yield port, behaviour
    finally:
        controller.stop()


def _authenticator(users: dict[str, str]) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            if users.get(login) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return check


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, written as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
