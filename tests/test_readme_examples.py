"""Every request example in README.md, run with curl against a live server, answers the
status the README documents for it (`# answers 201` at the end of the command).

The examples name objects by id (template 3, segment 2, webinar 3, contact 42): the
world below creates them in order on empty tables, so those ids exist.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from nurture.models import utcnow
from segments import store
from tests.browser.conftest import live_server  # noqa: F401  (a fixture)
from tests.email.conftest import make_template
from tests.factories import make_api_key, make_contact, make_user
from tests.webinars.helpers import make_service, make_webinar

README = Path(__file__).resolve().parents[1] / "README.md"
DOCUMENTED = re.compile(r"\s+#\s*answers (\d{3})\b.*$")
# The README's examples talk to a server on the default port.
README_HOSTS = ("http://127.0.0.1:8000", "http://localhost:8000", "localhost:8000")


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    status: int | None


def readme_examples(text: str) -> list[Example]:
    """The curl commands in the README's shell blocks, with the status each documents."""
    examples: list[Example] = []
    in_shell = False
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            in_shell = line.strip() in ("```sh", "```bash")
            continue
        if not in_shell:
            continue
        if not pending:
            start = number
        pending.append(line)
        command = "\n".join(pending)
        if line.rstrip().endswith("\\") or not _complete(command):
            continue
        pending = []
        if not command.lstrip().startswith("curl "):
            continue
        found = DOCUMENTED.search(command)
        examples.append(
            Example(
                start,
                DOCUMENTED.sub("", command) if found else command,
                int(found.group(1)) if found else None,
            )
        )
    return examples


def _complete(command: str) -> bool:
    """False while a quoted string (a JSON body over several lines) is still open."""
    try:
        shlex.split(command)
    except ValueError:
        return False
    return True


EXAMPLES = readme_examples(README.read_text(encoding="utf-8"))


def test_the_readme_has_request_examples_and_each_documents_its_status() -> None:
    assert len(EXAMPLES) >= 10
    undocumented = [f"README.md line {e.line}" for e in EXAMPLES if e.status is None]
    assert not undocumented, "curl examples without '# answers NNN': " + ", ".join(undocumented)


@pytest.fixture
def world(db: Session, tmp_path: Path) -> str:
    """What the examples refer to; yields an admin API key."""
    make_user(db, role="admin", email="admin@firm.example")
    make_user(db, role="sales", email="sales1@demo.nurture")
    make_user(db, role="sales", email="sales2@demo.nurture")
    _, key = make_api_key(db, role="admin")
    for n in range(42):
        make_contact(db, email=f"reader{n}@example.com")
    for name in ("Welcome", "Guide", "December newsletter"):
        make_template(db, name=name)
    everyone = {"version": 1, "rule": {"all": []}}
    for name in ("Nobody yet", "Everyone"):
        store.create_segment(db, name=name, kind="dynamic", rule=everyone)
    soon = utcnow() + timedelta(days=14)
    for n, title in enumerate(("DORA in practice", "AI for lawyers")):
        make_webinar(db, title, soon + timedelta(days=n))
    # Attendance is reported once a webinar has started.
    make_webinar(db, "GDPR for partners", utcnow() - timedelta(days=1))
    make_service(db, "data-platform")
    db.commit()
    (tmp_path / "reply.eml").write_bytes(
        b"From: ann@example.com\r\nTo: reply+nothing@firm.example\r\n"
        b"Subject: Re: your guide\r\n\r\nThanks!\r\n"
    )
    return key


def test_every_readme_request_example_answers_the_status_it_documents(
    live_server: str,  # noqa: F811
    world: str,
    tmp_path: Path,
) -> None:
    wrong = []
    for example in EXAMPLES:
        command = example.command
        for host in README_HOSTS:
            command = command.replace(host, live_server)
        # curl takes options after the URL too: keep the answer aside, print only its status.
        answer = tmp_path / "answer"
        command += f" -s -o {answer} -w '%{{http_code}}'"
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env={**os.environ, "KEY": world},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        status = done.stdout.strip()
        if status != str(example.status):
            wrong.append(
                f"README.md line {example.line}: documents {example.status}, answered {status}"
                f" {done.stderr.strip()} {answer.read_text()[:300] if answer.exists() else ''}"
            )
    assert not wrong, "\n".join(wrong)
