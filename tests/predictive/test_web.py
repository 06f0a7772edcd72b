"""The predictive model over the API and on its page: reading, refitting through the
worker, a contact's factors, bad input answered 4xx naming the field, the page by role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import AuditEntry, Contact, PredictiveModel
from nurture.scoring import predictive
from tests.api.conftest import Headers
from tests.factories import make_user
from tests.predictive.synthetic import NOW, history
from tests.ui.helpers import HTML, Client, login, post_form


def _join_fits(client: Client) -> None:
    """Wait until the app's in-process worker has run every queued fit."""
    client.app.state.runtime.broker.join("predictive", timeout=60_000, fail_fast=True)


def test_without_any_fit_the_model_is_empty(client: Client, headers: Headers) -> None:
    answer = client.get("/api/v1/scoring/model", headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    assert body["published"] is None
    assert body["latest"] is None
    assert body["auc_floor"] == predictive.AUC_FLOOR
    assert body["min_positives"] == predictive.MIN_POSITIVES


def test_a_refit_through_the_api_is_fitted_by_the_worker_and_published(
    client: Client, db: Session, headers: Headers
) -> None:
    made = history(db, rows=500, signal=True, seed=31)
    db.commit()
    answer = client.post("/api/v1/scoring/model/fit", json={"l2": 2}, headers=headers)
    assert answer.status_code == 202, answer.text
    requested = answer.json()
    assert requested["status"] == "pending"
    assert requested["l2"] == 2
    _join_fits(client)
    fit = client.get(f"/api/v1/scoring/model/fits/{requested['id']}", headers=headers).json()
    assert fit["status"] == "published", fit["reason"]
    model = client.get("/api/v1/scoring/model", headers=headers).json()
    assert model["published"]["id"] == requested["id"]
    assert model["published"]["auc"] > 0.75
    assert len(model["published"]["calibration"]) == 10
    assert {c["feature"] for c in model["published"]["coefficients"]} >= {"industry=legal"}
    explained = client.get(
        f"/api/v1/scoring/model/contacts/{made.contact_ids[0]}", headers=headers
    ).json()
    assert explained["model_id"] == requested["id"]
    assert 0 < explained["probability"] < 1
    assert len(explained["factors"]) == predictive.TOP_FACTORS
    db.expire_all()
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "predictive.fit_requested"))
    assert entry.one().entity_id == str(requested["id"])


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"l2": 0}, 422, "l2"),
        ({"l2": -3}, 422, "l2"),
        ({"l2": "much"}, 422, "l2"),
        ({"l2": 1e12}, 422, "l2"),
        ({"penalty": 1}, 422, "penalty"),
        ([1, 2], 422, None),
    ],
)
def test_a_bad_refit_body_is_refused_naming_the_field_and_records_nothing(
    client: Client, db: Session, headers: Headers, body: object, status: int, field: str | None
) -> None:
    answer = client.post("/api/v1/scoring/model/fit", json=body, headers=headers)
    assert answer.status_code == status, answer.text
    if field is not None:
        assert field in answer.text
    assert db.scalar(select(func.count()).select_from(PredictiveModel)) == 0


def test_malformed_json_and_unknown_ids_are_4xx(client: Client, headers: Headers) -> None:
    answer = client.post(
        "/api/v1/scoring/model/fit",
        content=b"{not json",
        headers={**headers, "content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert client.get("/api/v1/scoring/model/fits/999999", headers=headers).status_code == 404
    assert client.get("/api/v1/scoring/model/contacts/999999", headers=headers).status_code == 404
    assert client.get("/api/v1/scoring/model/fits/0", headers=headers).status_code == 400


def test_a_sales_key_may_read_but_not_refit(
    client: Client, headers_for: Callable[[str], Headers]
) -> None:
    sales = headers_for("sales")
    assert client.get("/api/v1/scoring/model", headers=sales).status_code == 200
    assert client.post("/api/v1/scoring/model/fit", json={}, headers=sales).status_code == 403


def test_the_page_shows_the_published_model_with_its_calibration(
    client: Client, db: Session
) -> None:
    history(db, rows=500, signal=True, seed=32)
    fit = predictive.fit_model(db, now=NOW, requested_by="test")
    marketer = make_user(db, role="marketer")
    db.commit()
    login(client, marketer)
    page = client.get("/scoring/model", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert 'id="calibration-table"' in html
    assert 'id="calibration-chart-data"' in html
    assert f"{fit.metrics['auc']:.2f}" in html
    assert "Refit now" in html
    assert "/static/app/predictive.js" in html


def test_the_page_says_why_a_fit_was_not_published(client: Client, db: Session) -> None:
    history(db, rows=600, signal=False, seed=13)
    refused = predictive.fit_model(db, now=NOW, requested_by="test")
    sales = make_user(db, role="sales")
    db.commit()
    login(client, sales)
    html = client.get("/scoring/model", headers=HTML).text
    assert f"Not published: held-out AUC {refused.metrics['auc']:.2f} is under 0.65" in html
    assert "No model published yet" in html
    # Reps read the page; refitting is for marketers.
    assert "Refit now" not in html
    assert post_form(client, "/scoring/model/fit").status_code == 403


def test_the_refit_button_queues_a_fit_and_a_bad_penalty_is_shown(
    client: Client, db: Session
) -> None:
    marketer = make_user(db, role="marketer")
    db.commit()
    login(client, marketer)
    bad = post_form(client, "/scoring/model/fit", {"l2": "lots"})
    assert bad.status_code == 422
    assert "l2: must be a number above 0" in bad.text
    done = post_form(client, "/scoring/model/fit", {"l2": ""})
    assert done.status_code == 303
    _join_fits(client)
    db.expire_all()
    fits = predictive.recent_fits(db)
    assert [f.trigger for f in fits] == ["manual"]
    assert fits[0].status == "refused"
    assert done.headers["location"] == f"/scoring/model?requested={fits[0].id}"
    page = client.get(done.headers["location"], headers=HTML).text
    assert "Not published: 0 contacts in the history" in page


def test_a_contact_page_shows_the_probability_and_its_top_factors(
    client: Client, db: Session
) -> None:
    history(db, rows=500, signal=True, seed=33)
    fit = predictive.fit_model(db, now=NOW, requested_by="test")
    assert fit.status == "published"
    contact_id = db.scalar(
        select(Contact.id).where(Contact.predicted_probability.is_not(None)).order_by(Contact.id)
    )
    assert contact_id is not None
    why = predictive.explain_prediction(db, contact_id)
    assert why is not None
    marketer = make_user(db, role="marketer")
    db.commit()
    login(client, marketer)

    html = client.get(f"/contacts/{contact_id}", headers=HTML).text

    assert f'data-probability="{why.probability}"' in html
    assert 'id="prediction-factors"' in html
    for factor in why.factors:
        assert factor.label in html


def test_without_a_published_model_the_contact_page_shows_no_prediction(
    client: Client, db: Session
) -> None:
    history(db, rows=100, signal=False, seed=34)
    contact_id = db.scalar(select(Contact.id).order_by(Contact.id))
    marketer = make_user(db, role="marketer")
    db.commit()
    login(client, marketer)

    html = client.get(f"/contacts/{contact_id}", headers=HTML).text

    assert 'id="score"' in html
    assert 'id="prediction-factors"' not in html
