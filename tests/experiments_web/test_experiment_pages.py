"""The experiment pages: the sequence page offers a test on its mail and split steps, the
editor creates one or shows each problem next to its field and saves nothing, the live
sample-size line, the results page (table, decision and why, the charts' data, declare
refused with the reason), and Russian labels for a Russian browser."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Experiment, ExperimentVariant
from tests.experiments_web.helpers import build_sequence, running_with_data, step_experiment
from tests.factories import make_user
from tests.ui.helpers import HTML, Client, login, post_form

RUSSIAN = {**HTML, "accept-language": "ru-RU,ru;q=0.9,en;q=0.5"}


def _signed_in(client: Client, db: Session, role: str = "marketer") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _experiments(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Experiment)) or 0)


def test_the_sequence_page_offers_a_test_on_mail_and_split_steps(
    client: Client, db: Session
) -> None:
    built = build_sequence(db)
    _signed_in(client, db)
    page = client.get(f"/sequences/{built.sequence_id}", headers=HTML).text
    base = f"/sequences/{built.sequence_id}/steps"
    assert f'href="{base}/intro/experiment">Add variant</a>' in page
    assert f'href="{base}/fork/experiment">Make this split an experiment</a>' in page
    assert f"{base}/pause/experiment" not in page  # a wait has nothing to test
    experiment_id = step_experiment(db, built)
    page = client.get(f"/sequences/{built.sequence_id}", headers=HTML).text
    assert f'href="/experiments/{experiment_id}" data-experiment="{experiment_id}"' in page
    # A sales rep reads the sequence but is offered no editor.
    client.cookies.clear()
    _signed_in(client, db, role="sales")
    page = client.get(f"/sequences/{built.sequence_id}", headers=HTML).text
    assert "Make this split an experiment" not in page
    assert f'href="/experiments/{experiment_id}"' in page


def test_the_editor_creates_a_draft_with_the_variants_typed(client: Client, db: Session) -> None:
    built = build_sequence(db)
    _signed_in(client, db)
    url = f"/sequences/{built.sequence_id}/steps/intro/experiment"
    form = client.get(url, headers=HTML)
    assert form.status_code == 200
    assert "Test variants of “E-mail: Case study: DORA”" in _text(form.text)
    answer = post_form(
        client,
        url,
        {
            "name": "Subject and sender",
            "v-0-key": "a",
            "v-0-name": "Control",
            "v-0-weight": "40",
            "v-3-key": "",
            "v-3-name": "Question",
            "v-3-subject": "Ready for DORA, {{ contact.first_name }}?",
            "v-3-from_name": "Ada at Firm",
            "v-3-template_id": str(built.other_template_id),
            "v-3-delay": "2",
            "v-3-delay_unit": "hours",
            "v-3-weight": "60",
            "metric": "clicks",
            "window_days": "14",
            "mode": "fixed",
            "bandit_floor": "10",
            "baseline_rate": "4",
            "min_effect": "20",
            "default_variant": "a",
        },
    )
    assert answer.status_code == 303, _text(answer.text)
    db.expire_all()
    experiment = db.scalars(select(Experiment)).one()
    assert answer.headers["location"] == f"/experiments/{experiment.id}?done=created"
    assert (experiment.kind, experiment.status, experiment.step_key) == ("step", "draft", "intro")
    assert experiment.baseline_rate == 0.04
    variants = db.scalars(
        select(ExperimentVariant).where(ExperimentVariant.experiment_id == experiment.id)
    ).all()
    assert [(v.key, v.weight) for v in variants] == [("a", 0.4), ("b", 0.6)]
    assert variants[1].content == {
        "subject": "Ready for DORA, {{ contact.first_name }}?",
        "from_name": "Ada at Firm",
        "template_id": built.other_template_id,
        "delay": {"hours": 2},
    }
    # The step's link now leads to the draft's editor.
    again = client.get(url, headers=HTML, follow_redirects=False)
    assert again.headers["location"] == f"/experiments/{experiment.id}/edit"
    edit = client.get(f"/experiments/{experiment.id}/edit", headers=HTML).text
    assert 'value="Ada at Firm"' in edit


def test_a_refused_form_keeps_what_was_typed_and_names_the_field(
    client: Client, db: Session
) -> None:
    built = build_sequence(db)
    _signed_in(client, db)
    url = f"/sequences/{built.sequence_id}/steps/intro/experiment"
    typed = {
        "name": "Weights",
        "v-0-key": "a",
        "v-0-weight": "70",
        "v-1-key": "b",
        "v-1-subject": "Shorter",
        "v-1-weight": "70",
        "v-2-key": "c",
        "v-2-weight": "abc",
        "metric": "clicks",
        "window_days": "14",
        "mode": "fixed",
        "bandit_floor": "10",
        "min_effect": "20",
        "default_variant": "a",
    }
    answer = post_form(client, url, typed)
    assert answer.status_code == 422
    assert 'id="err-v-2-weight">must be a percentage from 0 to 100<' in answer.text
    assert 'value="Shorter"' in answer.text
    typed["v-2-weight"] = "10"
    answer = post_form(client, url, typed)
    assert answer.status_code == 422
    # The store's problems: the shares do not add up, and c changes nothing.
    text = _text(answer.text)
    assert "the weights add up to 1.5, not 1" in text
    assert 'id="err-v-2-row"' not in answer.text
    assert "a variant must change something" in text
    assert _experiments(db) == 0


def test_a_split_becomes_an_experiment_on_its_paths(client: Client, db: Session) -> None:
    built = build_sequence(db)
    _signed_in(client, db)
    url = f"/sequences/{built.sequence_id}/steps/fork/experiment"
    form = client.get(url, headers=HTML).text
    assert "Make the split “Split 50/50” an experiment" in _text(form)
    assert '<option value="goal" selected>' in form
    assert 'name="v-0-subject"' not in form  # paths have no content to change
    answer = post_form(
        client,
        url,
        {
            "name": "Call or not",
            "v-0-key": "0",
            "v-0-name": "Call",
            "v-0-weight": "50",
            "v-1-key": "1",
            "v-1-name": "No call",
            "v-1-weight": "50",
            "metric": "goal",
            "window_days": "30",
            "mode": "bandit",
            "bandit_floor": "10",
            "min_effect": "20",
            "default_variant": "0",
        },
    )
    assert answer.status_code == 303, _text(answer.text)
    db.expire_all()
    experiment = db.scalars(select(Experiment)).one()
    assert (experiment.kind, experiment.metric, experiment.mode) == ("split", "goal", "bandit")


def test_the_editor_says_how_many_sends_each_variant_needs(client: Client, db: Session) -> None:
    _signed_in(client, db)
    answer = client.get(
        "/experiments/sample-size",
        params={"baseline_rate": "4", "min_effect": "20", "arms": "2"},
        headers=HTML,
    )
    assert answer.status_code == 200
    found = re.search(r"([\d\u202f]+) sends per variant to detect a 20 % lift", answer.text)
    assert found is not None
    needed = int(found.group(1).replace("\u202f", ""))
    more_arms = client.get(
        "/experiments/sample-size",
        params={"baseline_rate": "4", "min_effect": "20", "arms": "3"},
        headers=HTML,
    ).text
    found_three = re.search(r"([\d\u202f]+) sends per variant", more_arms)
    assert found_three is not None
    assert 5000 < needed < int(found_three.group(1).replace("\u202f", ""))
    blank = client.get("/experiments/sample-size", headers=HTML).text
    assert "Give the current rate" in blank
    russian = client.get(
        "/experiments/sample-size",
        params={"baseline_rate": "4", "min_effect": "20"},
        headers=RUSSIAN,
    ).text
    assert "отправок на вариант, чтобы заметить прирост 20 %" in russian


def test_the_results_page_explains_the_decision_and_refuses_an_unsupported_winner(
    client: Client, db: Session
) -> None:
    built = build_sequence(db)
    experiment_id = running_with_data(db, built, control=(40, 4), variant=(40, 5))
    _signed_in(client, db)
    page = client.get(f"/experiments/{experiment_id}", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert "Still collecting data" in text
    assert "678 more sends per variant before a safe decision." in text
    assert "Planned: 718 per variant to detect a 50 % lift." in text
    assert "The data do not support a winner yet." in text
    charts = re.search(
        r'<script type="application/json" id="experiment-chart-data">(.*?)</script>',
        page.text,
        re.S,
    )
    assert charts is not None
    data = json.loads(charts.group(1))
    assert data["rates"]["rates"] == [10.0, 12.5]
    assert [len(s["points"]) for s in data["posterior"]["series"]] == [121, 121]
    assert data["allocation"] is None  # a fixed split has no allocation history

    refused = post_form(client, f"/experiments/{experiment_id}/declare", {"variant_key": "b"})
    assert refused.status_code == 409
    assert "Not declared: 'b' cannot be declared the winner" in _text(refused.text)
    db.expire_all()
    assert db.get(Experiment, experiment_id).status == "running"  # type: ignore[union-attr]


def test_a_supported_winner_is_declared_from_the_page(client: Client, db: Session) -> None:
    built = build_sequence(db)
    experiment_id = running_with_data(db, built, control=(900, 90), variant=(900, 180))
    _signed_in(client, db)
    text = _text(client.get(f"/experiments/{experiment_id}", headers=HTML).text)
    assert "A winner is clear" in text
    assert "The data support declaring: b." in text
    answer = post_form(client, f"/experiments/{experiment_id}/declare", {"variant_key": "b"})
    assert answer.status_code == 303
    page = client.get(answer.headers["location"], headers=HTML).text
    assert "Declared “b” the winner: everyone new gets it." in _text(page)
    assert 'id="declare-form"' not in page  # decided: nothing left to declare


def test_a_russian_browser_reads_the_results_in_russian(client: Client, db: Session) -> None:
    built = build_sequence(db)
    experiment_id = running_with_data(db, built, control=(40, 4), variant=(40, 5))
    _signed_in(client, db, role="sales")
    page = client.get(f"/experiments/{experiment_id}", headers=RUSSIAN).text
    assert '<html lang="ru">' in page
    text = _text(page)
    assert "Решение" in text
    assert "Данные ещё собираются" in text
    assert "Шанс быть лучшим" in text
    assert "Объявить победителя" not in text  # a sales rep reads, does not decide
    english = client.get(f"/experiments/{experiment_id}", headers=HTML).text
    assert '<html lang="en">' in english
    assert "Still collecting data" in _text(english)
