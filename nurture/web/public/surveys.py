"""The NPS answer pages clients reach from the survey e-mail: public, no login.

`GET /nps/{token}/{score}` (each of the e-mail's eleven links) shows a confirm page and
records nothing, so a link scanner or prefetcher that follows every link never votes.
The page's form POSTs the score to `/nps/{token}`; /static/app/nps-confirm.js submits
it at once with `auto=1`, so one click in the mail is enough, and without JavaScript
the visitor presses the button (a POST without `auto`). An `auto` POST that looks like
a machine (campaigns.email.machines: a scanner's user agent, headless Chrome included,
no user agent, or within seconds of the survey e-mail going out) records nothing and
shows the page again, asking for the button.

The answer POST reads no database and makes no round trip: its per-address limit is
counted in-process (local_limits.py), and the signed token names survey and contact, so
it is checked in memory (a bad, expired or wrong-purpose token answers at once a
short page that says the link does not work), and the score goes to the app's
`AnswerRecorder`, which writes batches in the background (answer_recorder.py).
Only an `auto` post that passed the user-agent checks reads the survey's sending
time. A token signed for a survey and another contact than its own (which the app
never makes) is dropped by the writer, and its follow-up page refuses it.

A taken score goes on to `/nps/{token}/follow-up`: the follow-up question of the
score's category (the score still in the recorder's buffer counts: the visitor sees
what they just gave), an optional comment and the score again (to change it), then
`/nps/{token}/thanks`. The follow-up post first writes what this process's recorder
holds, so an older buffered score never lands after the newer one. Another web
process's buffer is not flushed by it (at most ~100 ms old); should its older score
land later, `record_scores` drops it as stale by its time.
"""

from __future__ import annotations

import contextlib
import math
from datetime import date, datetime
from typing import Any

import anyio
from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email import machines
from nurture.db import session_scope
from nurture.errors import DomainError, InvalidInput, NotFound
from nurture.models import NpsSurvey, utcnow
from nurture.ratelimit import Limit
from nurture.reviews import answers
from nurture.web import throttle
from nurture.web.mail import mail_config
from nurture.web.public import review_pages
from nurture.web.public.review_copy import language_of
from nurture.web.public.state import tracking_of
from nurture.web.state import settings_of
from nurture.web.ui.language import Language
from templates.tokens import ReviewRef, TokenError, TokenExpired
from workers.actors import hand_over

SCORES = range(11)
# Generous: a person answers once or twice; this only stops one address hammering
# the answer endpoint (every survey's, so it is per address, not per token).
ANSWERS_PER_ADDRESS = Limit("nps-answer-address", 120, 60)


def _score(raw: object) -> int | None:
    """A 0-10 score as sent in a path or form, or None."""
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 2 and int(raw) in SCORES:
        return int(raw)
    return None


def _confirm(
    request: Request[Any, Any, Any],
    view: answers.SurveyView,
    token: str,
    score: int,
    *,
    press: bool,
    status_code: int = 200,
) -> Template:
    return review_pages.page(
        request,
        "nps_confirm.html",
        language=language_of(view.locale),
        status_code=status_code,
        view=view,
        token=token,
        score=score,
        press=press,
    )


@get("/nps/{token:str}/{score:str}", sync_to_thread=True, name="nps-confirm")
def confirm_page(
    request: Request[Any, Any, Any], token: FromPath[str], score: FromPath[str]
) -> Template:
    """The confirm page of one score link; a GET records nothing."""
    signer = mail_config(request.app).signer
    try:
        with session_scope(settings_of(request.app).database_url) as session:
            view = answers.survey_page(session, token, signer=signer, today=utcnow().date())
    except (TokenError, NotFound) as error:
        return _refused(request, token, error)
    chosen = _score(score)
    if chosen is None:
        return review_pages.page(
            request,
            "review_message.html",
            language=language_of(view.locale),
            status_code=404,
            kind="unknown",
        )
    return _confirm(request, view, token, chosen, press=False)


def _last_sent(session: Session, survey_id: int) -> datetime | None:
    """When the survey e-mail (or its reminder) last went out: the scanner window's start."""
    row = session.execute(
        select(NpsSurvey.sent_at, NpsSurvey.reminded_at).where(NpsSurvey.id == survey_id)
    ).first()
    if row is None:
        return None
    times = [moment for moment in row if moment is not None]
    return max(times) if times else None


def _machine(
    request: Request[Any, Any, Any], token: str, ref: ReviewRef, now: datetime
) -> answers.SurveyView | None:
    """For an automatic post: what the confirm page needs to ask for the button when
    the post looks like a machine's, else None. Reads the sending time only when the
    user agent passed (a scanner's is refused without a database read)."""
    facts = review_pages.request_facts(request)
    reason = machines.click_machine_reason(facts, sent_at=None, now=now)
    with session_scope(settings_of(request.app).database_url) as session:
        if reason is None:
            sent = _last_sent(session, ref.item_id)
            reason = machines.click_machine_reason(facts, sent_at=sent, now=now)
        if reason is None:
            return None
        signer = mail_config(request.app).signer
        return answers.survey_page(session, token, signer=signer, today=now.date())


@post("/nps/{token:str}", status_code=303, name="nps-answer")
async def answer(request: Request[Any, Any, Any], token: FromPath[str]) -> Redirect | Template:
    """Take the score (written once by the recorder; a new score is a change), then
    on to the follow-up."""
    form = await request.form()
    language = review_pages.browser_language(request)
    tracking = tracking_of(request.app)
    # Counted in-process and added to the shared counters in the background: the
    # limit's round trip would cost more than the rest of the answer.
    decision = tracking.limits.hit(ANSWERS_PER_ADDRESS, throttle.client_address(request))
    if not decision.allowed:
        return review_pages.page(
            request,
            "review_message.html",
            language=language,
            status_code=429,
            headers=throttle.retry_headers(decision),
            kind="throttled",
            minutes=max(1, math.ceil(decision.retry_after / 60)),
        )
    score = _score(form.get("score"))
    if score is None:
        return review_pages.page(
            request, "review_message.html", language=language, status_code=422, kind="invalid"
        )
    now = utcnow()
    try:
        ref = tracking.signer.verify_survey(token, today=now.date())
    except TokenError as error:
        return await anyio.to_thread.run_sync(_refused, request, token, error)
    if form.get("auto") == "1":
        try:
            ask_again = await anyio.to_thread.run_sync(_machine, request, token, ref, now)
        except (TokenError, NotFound) as error:
            return await anyio.to_thread.run_sync(_refused, request, token, error)
        if ask_again is not None:
            return _confirm(request, ask_again, token, score, press=True)
    tracking.answers.take(ref.item_id, ref.contact_id, score, now)
    return Redirect(f"/nps/{token}/follow-up", status_code=303)


def _follow_up_page(
    request: Request[Any, Any, Any],
    view: answers.SurveyView,
    token: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Template:
    language = language_of(view.locale)
    values = typed or {
        "score": "" if view.score is None else str(view.score),
        "follow_up": view.follow_up or "",
        "comment": view.comment or "",
    }
    return review_pages.page(
        request,
        "nps_follow_up.html",
        language=language,
        status_code=422 if errors else 200,
        view=view,
        token=token,
        values=values,
        errors=errors or {},
        scores=list(SCORES),
        max_text=answers.MAX_TEXT,
    )


@get("/nps/{token:str}/follow-up", sync_to_thread=True, name="nps-follow-up")
def follow_up_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    """The follow-up question, an optional comment, and the score to change."""
    try:
        view = _view(request, token)
    except (TokenError, NotFound) as error:
        return _refused(request, token, error)
    return _follow_up_page(request, view, token)


def _view(
    request: Request[Any, Any, Any], token: str, *, today: date | None = None
) -> answers.SurveyView:
    """What the pages show: the stored survey, with a score still in the recorder's
    buffer as the current one (the visitor sees the score they just gave)."""
    signer = mail_config(request.app).signer
    today = today or utcnow().date()
    # Asked before the database is read: a score written in between is then either
    # still pending here or already in what the read finds.
    pending = tracking_of(request.app).answers.pending(
        signer.verify_survey(token, today=today).item_id
    )
    with session_scope(settings_of(request.app).database_url) as session:
        view = answers.survey_page(session, token, signer=signer, today=today)
    return view if pending is None else answers.with_score(view, pending)


def _refused(request: Request[Any, Any, Any], token: str, error: DomainError) -> Template:
    """The refusal page; an expired link is still ours, so it speaks its contact's language."""
    language = review_pages.browser_language(request)
    if isinstance(error, TokenExpired):
        with contextlib.suppress(DomainError):
            language = language_of(_view(request, token, today=date.min).locale)
    return review_pages.refused(request, error, language)


def _store_follow_up(
    request: Request[Any, Any, Any], token: str, typed: dict[str, str]
) -> tuple[answers.SurveyView, dict[str, str]]:
    """Store what the follow-up form sent; the problems by field (nothing stored then)."""
    signer = mail_config(request.app).signer
    # This process's buffered scores first: the score written below must be the last.
    if not tracking_of(request.app).answers.drain():
        raise RuntimeError("the buffered scores could not be written")
    now = utcnow()
    with session_scope(settings_of(request.app).database_url, write=True) as session:
        view = answers.survey_page(session, token, signer=signer, today=now.date())
        score = _score(typed["score"])
        if score is None and (typed["score"] or view.score is None):
            return view, {"score": "score_required"}
        follow_up, comment = typed["follow_up"] or None, typed["comment"] or None
        try:
            if (follow_up, comment) != (view.follow_up, view.comment):
                answers.record_follow_up(
                    session, token, signer=signer, follow_up=follow_up, comment=comment, now=now
                )
            if score is not None and score != view.score:
                answered = answers.record_score(session, token, score, signer=signer, now=now)
                if answered.event_id is not None:
                    hand_over(session, [answered.event_id])
        except InvalidInput as invalid:
            session.rollback()
            return view, {
                p.field if p.field in ("follow_up", "comment") else "follow_up": (
                    "too_long" if "at most" in p.message else "err_other"
                )
                for p in invalid.problems
            }
    return view, {}


@post("/nps/{token:str}/follow-up", status_code=303, name="nps-follow-up-post")
async def follow_up_post(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Redirect | Template:
    """Store the follow-up answer, the comment and a changed score; then the thanks."""
    form: FormMultiDict = await request.form()
    language: Language = review_pages.browser_language(request)
    limits = [(ANSWERS_PER_ADDRESS, throttle.client_address(request))]
    refusal = await anyio.to_thread.run_sync(review_pages.throttled, request, limits, language)
    if refusal is not None:
        return refusal
    typed = {name: review_pages.field(form, name) for name in ("score", "follow_up", "comment")}
    try:
        view, errors = await anyio.to_thread.run_sync(_store_follow_up, request, token, typed)
    except (TokenError, NotFound) as error:
        return await anyio.to_thread.run_sync(_refused, request, token, error)
    if errors:
        return _follow_up_page(request, view, token, errors=errors, typed=typed)
    return Redirect(f"/nps/{token}/thanks", status_code=303)


@get("/nps/{token:str}/thanks", sync_to_thread=True, name="nps-thanks")
def thanks_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    try:
        view = _view(request, token)
    except (TokenError, NotFound) as error:
        return _refused(request, token, error)
    return review_pages.page(
        request, "nps_thanks.html", language=language_of(view.locale), view=view, token=token
    )


handlers = [confirm_page, answer, follow_up_page, follow_up_post, thanks_page]
