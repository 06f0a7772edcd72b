"""Who made a version, in words: a user's name, an API key's name, "command line"."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from campaigns.email.store import update_template
from nurture.web.ui.actors import actor_names
from tests.email.conftest import make_template
from tests.factories import make_api_key, make_user
from tests.ui.helpers import HTML, Client, login


def test_actors_read_as_names(db: Session) -> None:
    user = make_user(db)
    key, _ = make_api_key(db)
    db.commit()
    names = actor_names(db, [f"user:{user.id}", f"apikey:{key.id}", "cli", "user:999999", "x"])
    assert names == {
        f"user:{user.id}": user.name or user.email,
        f"apikey:{key.id}": f"API key “{key.name}”",
        "cli": "command line",
        "user:999999": "a removed user",
        "x": "x",
    }


def test_the_editor_lists_versions_by_who_made_them(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    template_id = make_template(db)
    update_template(db, template_id, actor=f"user:{user.id}", description="second")
    update_template(db, template_id, actor="cli", description="third")
    db.commit()
    login(client, user)

    page = client.get(f"/content/{template_id}", headers=HTML).text
    listed = re.search(r'<ol class="versions">(.*?)</ol>', page, re.S)
    assert listed
    whos = re.findall(r'<span class="muted small">[^<]*· ([^<]*)</span>', listed.group(1))
    assert whos == ["command line", user.name or user.email, "test"]  # newest first
    assert f"user:{user.id}" not in listed.group(1)
