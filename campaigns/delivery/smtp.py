"""SMTP delivery over a pool of persistent connections, shared by threads.

Each `send` borrows an idle connection (or opens one, up to `size`), speaks
MAIL/RCPT/DATA on it and gives it back, so a bulk send pays the TCP, TLS and
AUTH handshakes once per connection rather than once per message. A connection
the server closed while it sat idle is noticed on use and replaced once.
"""

from __future__ import annotations

import contextlib
import queue
import smtplib
import ssl
import threading

from campaigns.delivery.ratelimit import DomainRateLimiter
from campaigns.delivery.smtp_url import SmtpServer
from campaigns.delivery.transport import Delivery, Envelope, Outcome, classify


class SmtpPool:
    """A thread-safe Transport that keeps up to `size` SMTP connections open."""

    def __init__(
        self,
        server: SmtpServer,
        *,
        size: int = 4,
        rate_per_domain: float = 0.0,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        pipelining: bool | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("the pool needs at least one connection")
        self.server = server
        self.size = size
        self._limiter = DomainRateLimiter(rate_per_domain)
        self._local_hostname = local_hostname
        # None: use PIPELINING (RFC 2920) when the server offers it.
        self._pipelining = pipelining
        self._context = ssl_context or _context(server)
        self._idle: queue.LifoQueue[smtplib.SMTP] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._closed = False
        # How many connections this pool opened in its life (tests and metrics read it).
        self.connections_opened = 0

    def send(self, envelope: Envelope) -> Delivery:
        """Send one envelope; 4xx and connection trouble come back TEMPORARY, 5xx PERMANENT."""
        if not envelope.recipients:
            return Delivery(Outcome.PERMANENT, None, "no recipients")
        self._limiter.acquire(envelope.recipients[0].rpartition("@")[2].lower())
        with self._slots:
            for fresh_only in (False, True):
                try:
                    connection, reused = self._take(fresh_only)
                except (OSError, smtplib.SMTPException) as exc:
                    return _connect_failure(exc)
                try:
                    if self._pipelining or (
                        self._pipelining is None and connection.has_extn("pipelining")
                    ):
                        delivery = _pipelined(connection, envelope)
                    else:
                        delivery = _transact(connection, envelope)
                except (smtplib.SMTPServerDisconnected, OSError) as exc:
                    _discard(connection)
                    if reused:
                        continue  # the server dropped an idle connection: once more, fresh
                    return Delivery(Outcome.TEMPORARY, None, f"connection lost: {exc}")
                except smtplib.SMTPResponseException as exc:
                    # An answer outside the transaction's rules: the session state is unknown.
                    _discard(connection)
                    return classify(exc.smtp_code, _text(exc.smtp_error))
                self._give_back(connection)
                return delivery
        return Delivery(Outcome.TEMPORARY, None, "connection lost twice")

    def close(self) -> None:
        """Say QUIT on every idle connection; the pool opens new ones if used again."""
        while True:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                return
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                _discard(connection)

    def _take(self, fresh_only: bool) -> tuple[smtplib.SMTP, bool]:
        if not fresh_only:
            try:
                return self._idle.get_nowait(), True
            except queue.Empty:
                pass
        return self._connect(), False

    def _give_back(self, connection: smtplib.SMTP) -> None:
        self._idle.put(connection)

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        connection: smtplib.SMTP
        if server.implicit_tls:
            connection = smtplib.SMTP_SSL(
                server.host,
                server.port,
                local_hostname=self._local_hostname,
                timeout=server.timeout,
                context=self._context,
            )
        else:
            connection = smtplib.SMTP(
                server.host,
                server.port,
                local_hostname=self._local_hostname,
                timeout=server.timeout,
            )
        try:
            connection.ehlo()
            if server.starttls:
                connection.starttls(context=self._context)
                connection.ehlo()
            if server.username is not None:
                connection.login(server.username, server.password or "")
        except BaseException:
            _discard(connection)
            raise
        with self._lock:
            self.connections_opened += 1
        return connection


def _transact(connection: smtplib.SMTP, envelope: Envelope) -> Delivery:
    try:
        refused = connection.sendmail(envelope.sender, list(envelope.recipients), envelope.raw)
    except smtplib.SMTPRecipientsRefused as exc:
        code, detail = next(iter(exc.recipients.values()))
        return classify(code, _text(detail))
    except smtplib.SMTPSenderRefused as exc:
        return classify(exc.smtp_code, _text(exc.smtp_error))
    except smtplib.SMTPDataError as exc:
        return classify(exc.smtp_code, _text(exc.smtp_error))
    if refused:
        # Some of several recipients refused; the message went to the others.
        address, (code, detail) = next(iter(refused.items()))
        return Delivery(Outcome.SENT, 250, f"refused for {address}: {code} {_text(detail)}")
    return Delivery(Outcome.SENT, 250, "accepted")


def _pipelined(connection: smtplib.SMTP, envelope: Envelope) -> Delivery:
    """MAIL, RCPT and DATA in one write, then the body: two round trips, not four.

    Only for ASCII addresses and a message that is all ASCII already (ours are: headers
    RFC 2047, parts quoted-printable); anything else takes smtplib's path.
    """
    addresses = (envelope.sender, *envelope.recipients)
    if not all(a.isascii() and "\r" not in a and "\n" not in a for a in addresses):
        return _transact(connection, envelope)
    commands = [f"MAIL FROM:<{envelope.sender}>"]
    commands += [f"RCPT TO:<{r}>" for r in envelope.recipients]
    commands.append("DATA")
    connection.send(("\r\n".join(commands) + "\r\n").encode("ascii"))
    mail_code, mail_text = connection.getreply()
    rcpt = [connection.getreply() for _ in envelope.recipients]
    data_code, data_text = connection.getreply()
    accepted = [reply for reply in rcpt if reply[0] in (250, 251)]
    if data_code == 354 and (mail_code != 250 or not accepted):
        # The server took DATA although nothing can be delivered: end it empty.
        connection.send(b".\r\n")
        connection.getreply()
        data_code = 503
    if data_code != 354 or mail_code != 250 or not accepted:
        connection.rset()
        if mail_code != 250:
            return classify(mail_code, _text(mail_text))
        if not accepted:
            return classify(rcpt[0][0], _text(rcpt[0][1]))
        return classify(data_code, _text(data_text))
    body = envelope.raw
    # Dot-stuffing (RFC 5321 4.5.2): a line that starts with "." gets another one.
    body = body.replace(b"\r\n.", b"\r\n..")
    if body.startswith(b"."):
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    connection.send(body + b".\r\n")
    code, text = connection.getreply()
    if code != 250:
        return classify(code, _text(text))
    return Delivery(Outcome.SENT, code, "accepted")


def _connect_failure(exc: BaseException) -> Delivery:
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        detail = _text(exc.smtp_error)
        # A refused login or a 5xx greeting is our configuration, not the recipient:
        # never let it turn into a hard bounce of the address.
        return Delivery(Outcome.TEMPORARY, code, f"could not open a session: {code} {detail}")
    return Delivery(Outcome.TEMPORARY, None, f"could not connect: {exc}")


def _discard(connection: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        connection.close()


def _text(detail: bytes | str) -> str:
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)


def _context(server: SmtpServer) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not server.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
