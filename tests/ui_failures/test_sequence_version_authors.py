"""A sequence's versions say who wrote them: a user's name or "command line", not
"user:2" or "cli"."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from campaigns.sequences import changes
from tests.email.conftest import make_template
from tests.factories import make_user
from tests.ui.helpers import HTML, Client, login


def test_sequence_versions_are_by_a_name_or_the_command_line(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    template_id = make_template(db)
    body = {"steps": [{"key": "intro", "type": "email", "template_id": template_id}]}
    sequence = changes.create(db, actor=f"user:{user.id}", name="Welcome", body=body)
    changes.activate(db, sequence.id, actor=f"user:{user.id}")
    db.commit()
    body["steps"].append({"key": "won", "type": "goal"})
    changes.update_definition(db, sequence.id, actor="cli", body=body)
    db.commit()
    login(client, user)

    page = client.get(f"/sequences/{sequence.id}", headers=HTML).text
    table = re.search(r'<table class="table" id="versions-table">(.*?)</table>', page, re.S)
    assert table
    authors = re.findall(
        r"<span class=\"muted small\" data-author>by ([^<]+)</span>", table.group(1)
    )
    assert authors == ["command line", user.name or user.email]  # newest first
    assert "user:" not in table.group(1)
