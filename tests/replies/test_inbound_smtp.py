"""`nurture inbound` as a real process: replies delivered over SMTP stop the sequence."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from nurture.models import EnrolmentState
from tests.cli_helpers import cli_env, run_cli  # noqa: F401  (cli_env is a fixture)
from tests.email.smtpd import free_port
from tests.replies.helpers import REPLY_DOMAIN, Sent, events_of, reply, sent_count
from tests.sequences.helpers import drive, reload

MAX_SIZE = 64 * 1024
START_TIMEOUT = 30.0


@dataclass
class Receiver:
    process: subprocess.Popen[bytes]
    port: int

    def smtp(self) -> smtplib.SMTP:
        return smtplib.SMTP("127.0.0.1", self.port, timeout=30)


@pytest.fixture
def receiver(settings: Settings, tmp_path: Path) -> Iterator[Receiver]:
    """`nurture inbound` on a free loopback port, against the test database."""
    port = free_port()
    env = {
        **os.environ,
        "NURTURE_DATABASE_URL": settings.database_url,
        "NURTURE_DATA_DIR": str(tmp_path / "inbound"),
        "NURTURE_SECRET_KEY": settings.secret_key,
        "NURTURE_REPLY_DOMAIN": REPLY_DOMAIN,
    }
    env.pop("NURTURE_REDIS_URL", None)
    command = [sys.executable, "-m", "nurture.cli", "inbound", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--max-size", str(MAX_SIZE)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(process, port)
        yield Receiver(process, port)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _wait_for_port(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"nurture inbound exited early ({process.returncode}): {output}")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as probe:
                probe.noop()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("nurture inbound did not start listening")


def test_a_reply_over_smtp_stops_the_sequence_and_later_steps_send_nothing(
    receiver: Receiver, db: Session, sent: Sent, mailer: Mailer, now: datetime
) -> None:
    with receiver.smtp() as smtp:
        refused = smtp.sendmail("lead@client.example", [sent.reply_to], reply(sent))

    assert refused == {}
    enrolment = reload(db, sent.enrolment_id)
    assert enrolment.state == EnrolmentState.EXITED
    assert enrolment.exit_reason == "replied"
    [event] = events_of(db, "email.replied")
    assert event.properties["message_id"] == sent.message_id
    drive(db, sent.enrolment_id, now + timedelta(days=3, minutes=1), mailer)
    assert sent_count(db) == 1


def test_the_same_reply_delivered_twice_over_smtp_is_recorded_once(
    receiver: Receiver, db: Session, sent: Sent
) -> None:
    raw = reply(sent)
    with receiver.smtp() as smtp:
        smtp.sendmail("lead@client.example", [sent.reply_to], raw)
        smtp.sendmail("lead@client.example", [sent.reply_to], raw)

    assert len(events_of(db, "email.replied")) == 1


def test_an_automatic_answer_over_smtp_leaves_the_sequence_running(
    receiver: Receiver, db: Session, sent: Sent
) -> None:
    raw = reply(sent, headers={"Auto-Submitted": "auto-replied"})
    with receiver.smtp() as smtp:
        smtp.sendmail("", [sent.reply_to], raw)

    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE
    assert len(events_of(db, "email.auto_replied")) == 1


def test_mail_for_anything_but_a_reply_address_is_refused_with_550(
    receiver: Receiver, db: Session, sent: Sent
) -> None:
    forged = sent.reply_to.replace("reply+", "reply+aaaa", 1)
    with receiver.smtp() as smtp:
        for address in ("info@firm.example", f"sales@{REPLY_DOMAIN}", forged):
            smtp.ehlo()
            smtp.mail("lead@client.example")
            code, _ = smtp.rcpt(address)
            assert code == 550, address
            smtp.rset()

    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE


def test_a_message_over_the_size_limit_is_refused(
    receiver: Receiver, db: Session, sent: Sent
) -> None:
    raw = reply(sent, body="x" * 76 + "\n" * 1 + ("y" * 76 + "\n") * (MAX_SIZE // 77 + 10))
    with receiver.smtp() as smtp, pytest.raises(smtplib.SMTPException) as refused:
        smtp.sendmail("lead@client.example", [sent.reply_to], raw)

    assert "552" in str(refused.value) or getattr(refused.value, "smtp_code", 0) == 552
    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE


def test_sigterm_stops_the_receiver_cleanly(receiver: Receiver) -> None:
    receiver.process.send_signal(signal.SIGTERM)

    assert receiver.process.wait(timeout=20) == 0
    output = receiver.process.stdout.read().decode() if receiver.process.stdout else ""
    assert f"Receiving replies for {REPLY_DOMAIN}" in output
    assert "stopped" in output


@pytest.mark.usefixtures("cli_env")
def test_the_receiver_will_not_start_without_a_reply_domain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NURTURE_REPLY_DOMAIN", raising=False)

    result = run_cli("inbound", "--port", str(free_port()))

    assert result.exit_code == 1
    assert "NURTURE_REPLY_DOMAIN" in result.output
