"""In Chromium on a phone-size screen: a client answers the survey from the e-mail link,
approves (and withdraws) a testimonial, and a colleague leaves their details on a
referral page. Every page must name each control, declare its language and fit the
screen."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Contact, NpsAnswer, NpsSurvey, Referral
from nurture.models import Testimonial as Quote
from nurture.reviews import referrals, surveys, testimonials
from templates.tokens import TokenSigner
from tests.reviews_web.helpers import HUMAN_AGENT, make_code, make_survey, make_testimonial

SCREENSHOTS = "/tmp/nurture-browser"
# The secret tests/browser/conftest.py gives the live server.
SECRET = "browser-test-secret-" + "x" * 40
WIDTH = 375
pytestmark = pytest.mark.browser

# Every visible control and what names it, the way assistive technology finds a name:
# aria-labelledby, aria-label, a label[for], a wrapping label, a button's own text.
UNNAMED_CONTROLS = """() => {
  const named = (el) => {
    const by = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    if (by.some((id) => (document.getElementById(id)?.textContent || "").trim())) return true;
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    if (el.id && [...document.querySelectorAll("label")].some(
      (l) => l.htmlFor === el.id && l.textContent.trim())) return true;
    const wrapping = el.closest("label");
    if (wrapping && wrapping.textContent.trim()) return true;
    if (el.tagName === "BUTTON" && el.textContent.trim()) return true;
    if (el.tagName === "INPUT" && ["submit", "button"].includes(el.type) && el.value.trim())
      return true;
    return false;
  };
  const controls = document.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button, [role=button], a[href]");
  return [...controls].filter((el) => {
    if (el.tagName === "A") return !el.textContent.trim() && !el.getAttribute("aria-label");
    return !named(el);
  }).map((el) => el.outerHTML.slice(0, 120));
}"""


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    # A real phone's Safari: the page's automatic post must count as a person's.
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=HUMAN_AGENT,
    )
    yield context
    context.close()


@pytest.fixture
def no_script_phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 812},
        is_mobile=True,
        has_touch=True,
        user_agent=HUMAN_AGENT,
        java_script_enabled=False,
    )
    yield context
    context.close()


def check_page(page: Page, name: str) -> None:
    """Labelled controls, a language, nothing wider than the phone; a screenshot to look at."""
    assert page.evaluate("document.documentElement.lang") in ("en", "ru"), name
    assert page.evaluate(UNNAMED_CONTROLS) == [], name
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, name
    page.screenshot(path=f"{SCREENSHOTS}-{name}.png", full_page=True)


def _count(db: Session, model: type[NpsAnswer | Referral]) -> int:
    db.expire_all()
    found = db.scalar(select(func.count()).select_from(model)) or 0
    db.rollback()
    return found


def _answers_soon(db: Session, expected: int) -> int:
    """The stored answers once the server's answer recorder (which writes scores in
    the background, every 100 ms) has written `expected` of them, or what is there
    after a few seconds."""
    deadline = time.monotonic() + 5
    found = _count(db, NpsAnswer)
    while found < expected and time.monotonic() < deadline:
        time.sleep(0.05)
        found = _count(db, NpsAnswer)
    return found


def test_a_client_answers_the_survey_from_the_email_link(
    phone: BrowserContext, live_server: str, db: Session
) -> None:
    survey = make_survey(db, first_name="Emma")
    link = surveys.score_links(TokenSigner(SECRET), live_server, survey)[9]
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # One tap in the e-mail: the confirm page sends itself and the follow-up opens.
    page.goto(link)
    expect(page.get_by_role("heading", name="Thank you, Emma!")).to_be_visible()
    expect(page.get_by_text("Your score is saved: 9 out of 10.")).to_be_visible()
    assert _answers_soon(db, 1) == 1
    check_page(page, "nps-follow-up-phone")

    page.get_by_label("What did you value most in working with us?").fill(
        "Clear reports, and a team that listened."
    )
    page.get_by_label("Anything else you would like to tell us?").fill("Keep it up.")
    page.get_by_label("10", exact=True).check()
    page.get_by_role("button", name="Send my answer").tap()

    expect(page.get_by_role("heading", name="Thank you for your answer")).to_be_visible()
    check_page(page, "nps-thanks-phone")
    db.expire_all()
    stored = db.get(NpsSurvey, survey.id)
    assert stored is not None
    assert (stored.score, stored.follow_up, stored.comment) == (
        10,
        "Clear reports, and a team that listened.",
        "Keep it up.",
    )
    assert _count(db, NpsAnswer) == 2
    assert errors == []


def test_without_javascript_the_button_records_the_score(
    no_script_phone: BrowserContext, live_server: str, db: Session
) -> None:
    survey = make_survey(db, locale="ru", first_name="Анна")
    link = surveys.score_links(TokenSigner(SECRET), live_server, survey)[4]
    page = no_script_phone.new_page()

    page.goto(link)
    expect(page.get_by_text("Вы выбрали 4 из 10.")).to_be_visible()
    assert _count(db, NpsAnswer) == 0
    check_page(page, "nps-confirm-phone")
    button = page.get_by_role("button", name="Отправить оценку: 4")
    box = button.bounding_box()
    assert box is not None
    assert box["height"] >= 44
    button.tap()

    expect(page.get_by_role("heading", name="Спасибо, Анна!")).to_be_visible()
    expect(page.get_by_label("Что пошло не так? Мы хотим это исправить.")).to_be_visible()
    assert _answers_soon(db, 1) == 1


def test_a_scanner_running_the_page_script_records_nothing(
    browser: Browser, live_server: str, db: Session
) -> None:
    # Playwright's own user agent names HeadlessChrome, as scanners that run scripts do.
    context = browser.new_context(viewport={"width": WIDTH, "height": 812})
    survey = make_survey(db)
    page = context.new_page()
    assert "HeadlessChrome" in page.evaluate("navigator.userAgent")

    page.goto(surveys.score_links(TokenSigner(SECRET), live_server, survey)[10])

    expect(page.get_by_text("please press the button")).to_be_visible()
    assert _count(db, NpsAnswer) == 0
    check_page(page, "nps-press-the-button")
    # Whoever presses the button is answered: that is a deliberate act.
    page.get_by_role("button", name="Send my score: 10").click()
    expect(page.get_by_text("Your score is saved: 10 out of 10.")).to_be_visible()
    assert _answers_soon(db, 1) == 1
    context.close()


def test_a_promoter_approves_and_then_withdraws_a_testimonial(
    phone: BrowserContext, live_server: str, db: Session
) -> None:
    testimonial = make_testimonial(db)
    url = testimonials.form_url(TokenSigner(SECRET), live_server, testimonial)
    page = phone.new_page()
    page.goto(url)

    expect(page.get_by_role("heading", name="Your testimonial")).to_be_visible()
    check_page(page, "testimonial-form-phone")
    words = page.get_by_label("Your words")
    expect(words).to_have_value("The audit found savings we had missed for years.")
    words.fill("The audit found savings we had missed for years. Worth every hour.")
    page.get_by_label("Job title only").check()
    expect(page.get_by_text("It will read: — Head of Operations")).to_be_visible()
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Approve my testimonial").tap()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.get_by_text("Worth every hour.")).to_be_visible()
    check_page(page, "testimonial-thanks-phone")
    db.expire_all()
    stored = db.get(Quote, testimonial.id)
    assert stored is not None
    assert (stored.status, stored.attribution) == ("approved", "title_only")

    page.get_by_role("link", name="Withdraw my consent").tap()
    expect(page.get_by_role("heading", name="Withdraw your consent?")).to_be_visible()
    check_page(page, "testimonial-withdraw-phone")
    page.get_by_role("button", name="Yes, withdraw my consent").tap()
    expect(page.get_by_role("heading", name="Your consent is withdrawn")).to_be_visible()
    check_page(page, "testimonial-withdrawn-phone")
    db.expire_all()
    stored = db.get(Quote, testimonial.id)
    assert stored is not None
    assert (stored.status, stored.quote) == ("withdrawn", "")


def test_a_colleague_submits_the_referral_form(
    phone: BrowserContext, live_server: str, db: Session
) -> None:
    code = make_code(db, first_name="Emma")
    page = phone.new_page()
    page.goto(referrals.referral_url(live_server, code))

    expect(page.get_by_role("heading", name="Emma thinks we could help you")).to_be_visible()
    check_page(page, "referral-form-phone")

    # Sent empty: every problem named at its field, nothing stored.
    page.get_by_role("button", name="Send my details").tap()
    expect(page.get_by_text("Please enter your first name.")).to_be_visible()
    expect(page.get_by_text("Please tick the box so that we may contact you.")).to_be_visible()
    check_page(page, "referral-errors-phone")
    assert _count(db, Referral) == 0

    page.get_by_label("First name").fill("Noah")
    page.get_by_label("Last name").fill("Berg")
    page.get_by_label("Work e-mail").fill("noah@berg.example")
    page.get_by_label("Company").fill("Berg Shipping")
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send my details").tap()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    check_page(page, "referral-thanks-phone")
    db.expire_all()
    lead = db.scalar(select(Contact).where(Contact.email == "noah@berg.example"))
    assert lead is not None
    assert lead.referred_by_id == code.contact_id

    # A link that does not work says so, and no more.
    page.goto(f"{live_server}/nps/not-a-real-token-at-all-0123456789/9")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    check_page(page, "link-refused-phone")
