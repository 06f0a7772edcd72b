"""Who may call what: every route of the app, for every kind of caller, against one table.

`ACCESS` below is the declared access policy. Every route the app answers (read
from its own route table, so nothing is picked by hand) must have an entry, and
every caller must get the answer its entry implies:

- allowed: anything but 401, 403 or a redirect to the login page. A request
  without a body may still be refused as 400/422, and an id with no row is a 404;
- not signed in: 401 on the API, a redirect to the login page on pages;
- signed in with the wrong role: 403.

Requests carry no body. Litestar runs a handler's guards before it reads the
request's parameters and body (`HTTPRoute.handle` calls `authorize_connection`
first), so a refused caller is turned away before its input is looked at; the
answers below show it, since a refused POST gets 401/403 and never 400/422.

The callers: a signed-in user of each role (through the real login form, with
the session cookie and the CSRF token), an API key of each role, and nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from httpx import Response
from litestar.testing import TestClient

from campaigns.sequences import versions
from nurture import accounts
from nurture.config import Settings
from nurture.db import session_scope
from nurture.web.app import create_app
from nurture.web.auth import api_key_cache
from segments import store
from tests.api.routes import Route, api_routes, handled_routes
from tests.conftest import _empty_tables
from tests.email.conftest import make_template
from tests.factories import PASSWORD, make_api_key, make_contact, make_task, make_user
from tests.ui.helpers import Client, csrf_token, post_form

ROLES = ("admin", "marketer", "sales")
CALLERS = (*ROLES, *(f"key:{role}" for role in ROLES), "anonymous")

ANYONE = frozenset(CALLERS)
USERS = frozenset(ROLES)
MARKETING = frozenset({"admin", "marketer"})
SELLING = frozenset({"admin", "sales"})
ADMINS = frozenset({"admin"})
KEYS = frozenset({"key:admin", "key:marketer", "key:sales"})
MARKETING_KEYS = frozenset({"key:admin", "key:marketer"})
ADMIN_KEYS = frozenset({"key:admin"})
SELLING_KEYS = frozenset({"key:admin", "key:sales"})

# (method, path as the app spells it) -> the callers that get through.
ACCESS: dict[Route, frozenset[str]] = {
    # The JSON API: an API key of the right role.
    ("GET", "/api/v1/articles"): KEYS,
    ("GET", "/api/v1/broadcasts"): KEYS,
    ("POST", "/api/v1/broadcasts"): MARKETING_KEYS,
    ("GET", "/api/v1/broadcasts/{broadcast_id:int}"): KEYS,
    ("PUT", "/api/v1/broadcasts/{broadcast_id:int}"): MARKETING_KEYS,
    ("POST", "/api/v1/broadcasts/{broadcast_id:int}/cancel"): MARKETING_KEYS,
    ("POST", "/api/v1/broadcasts/{broadcast_id:int}/schedule"): MARKETING_KEYS,
    ("POST", "/api/v1/articles"): MARKETING_KEYS,
    ("GET", "/api/v1/articles/{item_id:int}"): KEYS,
    ("PATCH", "/api/v1/articles/{item_id:int}"): MARKETING_KEYS,
    ("DELETE", "/api/v1/articles/{item_id:int}"): MARKETING_KEYS,
    ("GET", "/api/v1/case-studies"): KEYS,
    ("POST", "/api/v1/case-studies"): MARKETING_KEYS,
    ("GET", "/api/v1/case-studies/{item_id:int}"): KEYS,
    ("PATCH", "/api/v1/case-studies/{item_id:int}"): MARKETING_KEYS,
    ("DELETE", "/api/v1/case-studies/{item_id:int}"): MARKETING_KEYS,
    ("GET", "/api/v1/contacts"): KEYS,
    ("POST", "/api/v1/contacts"): KEYS,
    ("GET", "/api/v1/contacts/{contact_id:int}"): KEYS,
    ("PATCH", "/api/v1/contacts/{contact_id:int}"): KEYS,
    ("DELETE", "/api/v1/contacts/{contact_id:int}"): MARKETING_KEYS,
    ("GET", "/api/v1/projects"): KEYS,
    ("POST", "/api/v1/projects"): KEYS,
    ("GET", "/api/v1/projects/{project_id:int}"): KEYS,
    ("GET", "/api/v1/contacts/{contact_id:int}/timeline"): KEYS,
    ("POST", "/api/v1/events"): KEYS,
    ("GET", "/api/v1/experiments"): KEYS,
    ("POST", "/api/v1/experiments"): MARKETING_KEYS,
    ("GET", "/api/v1/experiments/{experiment_id:int}"): KEYS,
    ("PATCH", "/api/v1/experiments/{experiment_id:int}"): MARKETING_KEYS,
    ("POST", "/api/v1/experiments/{experiment_id:int}/declare"): MARKETING_KEYS,
    ("POST", "/api/v1/experiments/{experiment_id:int}/start"): MARKETING_KEYS,
    ("POST", "/api/v1/experiments/{experiment_id:int}/stop"): MARKETING_KEYS,
    ("GET", "/api/v1/handoffs"): SELLING_KEYS,
    ("GET", "/api/v1/handoffs/{handoff_id:int}"): SELLING_KEYS,
    ("POST", "/api/v1/handoffs/{handoff_id:int}/accept"): SELLING_KEYS,
    ("POST", "/api/v1/handoffs/{handoff_id:int}/reassign"): SELLING_KEYS,
    ("POST", "/api/v1/handoffs/{handoff_id:int}/reject"): SELLING_KEYS,
    ("GET", "/api/v1/images"): KEYS,
    ("POST", "/api/v1/images"): MARKETING_KEYS,
    ("POST", "/api/v1/inbound/email"): KEYS,
    ("GET", "/api/v1/messages/{message_id:int}"): KEYS,
    ("GET", "/api/v1/reports/content"): KEYS,
    ("GET", "/api/v1/reports/content.csv"): KEYS,
    ("GET", "/api/v1/reports/funnel"): KEYS,
    ("GET", "/api/v1/reports/funnel.csv"): KEYS,
    ("GET", "/api/v1/reports/lifecycle"): KEYS,
    ("GET", "/api/v1/reports/lifecycle.csv"): KEYS,
    ("GET", "/api/v1/reports/sequences"): KEYS,
    ("GET", "/api/v1/reports/sequences.csv"): KEYS,
    ("GET", "/api/v1/reviews/nps"): KEYS,
    ("GET", "/api/v1/reviews/nps.csv"): KEYS,
    ("GET", "/api/v1/scoring/behaviour-rules"): KEYS,
    ("POST", "/api/v1/scoring/behaviour-rules"): MARKETING_KEYS,
    ("GET", "/api/v1/scoring/behaviour-rules/{rule_id:int}"): KEYS,
    ("PATCH", "/api/v1/scoring/behaviour-rules/{rule_id:int}"): MARKETING_KEYS,
    ("DELETE", "/api/v1/scoring/behaviour-rules/{rule_id:int}"): MARKETING_KEYS,
    ("GET", "/api/v1/scoring/contacts/{contact_id:int}"): KEYS,
    ("GET", "/api/v1/scoring/contacts/{contact_id:int}/history"): KEYS,
    ("GET", "/api/v1/scoring/fit-rules"): KEYS,
    ("POST", "/api/v1/scoring/fit-rules"): MARKETING_KEYS,
    ("GET", "/api/v1/scoring/fit-rules/{rule_id:int}"): KEYS,
    ("PATCH", "/api/v1/scoring/fit-rules/{rule_id:int}"): MARKETING_KEYS,
    ("DELETE", "/api/v1/scoring/fit-rules/{rule_id:int}"): MARKETING_KEYS,
    ("POST", "/api/v1/scoring/rescore"): MARKETING_KEYS,
    ("GET", "/api/v1/scoring/settings"): KEYS,
    ("PATCH", "/api/v1/scoring/settings"): MARKETING_KEYS,
    ("GET", "/api/v1/qualification/settings"): KEYS,
    ("PUT", "/api/v1/qualification/settings"): MARKETING_KEYS,
    ("GET", "/api/v1/routing/rules"): KEYS,
    ("POST", "/api/v1/routing/rules"): ADMIN_KEYS,
    ("GET", "/api/v1/routing/rules/{rule_id:int}"): KEYS,
    ("PATCH", "/api/v1/routing/rules/{rule_id:int}"): ADMIN_KEYS,
    ("DELETE", "/api/v1/routing/rules/{rule_id:int}"): ADMIN_KEYS,
    ("GET", "/api/v1/sales/reps"): KEYS,
    ("GET", "/api/v1/sales/reps/{user_id:int}"): KEYS,
    ("PATCH", "/api/v1/sales/reps/{user_id:int}"): ADMIN_KEYS,
    ("GET", "/api/v1/sales/teams"): KEYS,
    ("POST", "/api/v1/sales/teams"): ADMIN_KEYS,
    ("GET", "/api/v1/sales/teams/{team_id:int}"): KEYS,
    ("PATCH", "/api/v1/sales/teams/{team_id:int}"): ADMIN_KEYS,
    ("DELETE", "/api/v1/sales/teams/{team_id:int}"): ADMIN_KEYS,
    ("GET", "/api/v1/scoring/model"): KEYS,
    ("POST", "/api/v1/scoring/model/fit"): MARKETING_KEYS,
    ("GET", "/api/v1/scoring/model/contacts/{contact_id:int}"): KEYS,
    ("GET", "/api/v1/scoring/model/fits/{fit_id:int}"): KEYS,
    ("GET", "/api/v1/segments"): KEYS,
    ("POST", "/api/v1/segments"): MARKETING_KEYS,
    ("GET", "/api/v1/segments/fields"): KEYS,
    ("POST", "/api/v1/segments/preview"): KEYS,
    ("GET", "/api/v1/segments/{segment_id:int}"): KEYS,
    ("PATCH", "/api/v1/segments/{segment_id:int}"): MARKETING_KEYS,
    ("DELETE", "/api/v1/segments/{segment_id:int}"): MARKETING_KEYS,
    ("GET", "/api/v1/segments/{segment_id:int}/contacts"): KEYS,
    ("GET", "/api/v1/segments/{segment_id:int}/contacts.csv"): KEYS,
    ("POST", "/api/v1/segments/{segment_id:int}/duplicate"): MARKETING_KEYS,
    ("POST", "/api/v1/segments/{segment_id:int}/import"): MARKETING_KEYS,
    ("POST", "/api/v1/segments/{segment_id:int}/members"): MARKETING_KEYS,
    ("POST", "/api/v1/segments/{segment_id:int}/members/remove"): MARKETING_KEYS,
    ("POST", "/api/v1/segments/{segment_id:int}/refresh"): MARKETING_KEYS,
    ("GET", "/api/v1/sequences"): KEYS,
    ("POST", "/api/v1/sequences"): MARKETING_KEYS,
    ("GET", "/api/v1/sequences/{sequence_id:int}"): KEYS,
    ("PATCH", "/api/v1/sequences/{sequence_id:int}"): MARKETING_KEYS,
    ("POST", "/api/v1/sequences/{sequence_id:int}/activate"): MARKETING_KEYS,
    ("PUT", "/api/v1/sequences/{sequence_id:int}/definition"): MARKETING_KEYS,
    ("GET", "/api/v1/sequences/{sequence_id:int}/enrolments"): KEYS,
    ("POST", "/api/v1/sequences/{sequence_id:int}/enrolments"): MARKETING_KEYS,
    ("POST", "/api/v1/sequences/{sequence_id:int}/enrolments/import"): MARKETING_KEYS,
    (
        "POST",
        "/api/v1/sequences/{sequence_id:int}/enrolments/{enrolment_id:int}/pause",
    ): MARKETING_KEYS,
    (
        "POST",
        "/api/v1/sequences/{sequence_id:int}/enrolments/{enrolment_id:int}/resume",
    ): MARKETING_KEYS,
    (
        "POST",
        "/api/v1/sequences/{sequence_id:int}/enrolments/{enrolment_id:int}/stop",
    ): MARKETING_KEYS,
    ("POST", "/api/v1/sequences/{sequence_id:int}/mappings"): MARKETING_KEYS,
    ("POST", "/api/v1/sequences/{sequence_id:int}/pause"): MARKETING_KEYS,
    ("POST", "/api/v1/sequences/{sequence_id:int}/resume"): MARKETING_KEYS,
    ("POST", "/api/v1/sequences/{sequence_id:int}/stop"): MARKETING_KEYS,
    ("GET", "/api/v1/services"): KEYS,
    ("POST", "/api/v1/services"): MARKETING_KEYS,
    ("GET", "/api/v1/services/{item_id:int}"): KEYS,
    ("PATCH", "/api/v1/services/{item_id:int}"): MARKETING_KEYS,
    ("DELETE", "/api/v1/services/{item_id:int}"): MARKETING_KEYS,
    ("GET", "/api/v1/tasks"): KEYS,
    ("GET", "/api/v1/testimonials"): KEYS,
    ("GET", "/api/v1/testimonials/{testimonial_id:int}"): KEYS,
    ("POST", "/api/v1/testimonials/{testimonial_id:int}/withdraw"): MARKETING_KEYS,
    ("GET", "/api/v1/referrals"): KEYS,
    ("POST", "/api/v1/referrals/{referral_id:int}/reward"): MARKETING_KEYS,
    ("POST", "/api/v1/tasks/{task_id:int}/outcome"): KEYS,
    ("GET", "/api/v1/templates"): KEYS,
    ("POST", "/api/v1/templates"): MARKETING_KEYS,
    ("GET", "/api/v1/templates/{template_id:int}"): KEYS,
    ("PATCH", "/api/v1/templates/{template_id:int}"): MARKETING_KEYS,
    ("DELETE", "/api/v1/templates/{template_id:int}"): MARKETING_KEYS,
    ("POST", "/api/v1/templates/{template_id:int}/render"): KEYS,
    ("POST", "/api/v1/templates/{template_id:int}/check"): KEYS,
    ("POST", "/api/v1/templates/{template_id:int}/send"): MARKETING_KEYS,
    ("GET", "/api/v1/templates/{template_id:int}/versions"): KEYS,
    ("GET", "/api/v1/templates/{template_id:int}/versions/{number:int}"): KEYS,
    ("GET", "/api/v1/webinars"): KEYS,
    ("POST", "/api/v1/webinars"): MARKETING_KEYS,
    ("GET", "/api/v1/webinars/{item_id:int}"): KEYS,
    ("PATCH", "/api/v1/webinars/{item_id:int}"): MARKETING_KEYS,
    ("DELETE", "/api/v1/webinars/{item_id:int}"): MARKETING_KEYS,
    ("POST", "/api/v1/webinars/{webinar_id:int}/attendance"): MARKETING_KEYS,
    # Outbound webhooks decide where contact data goes: admins only, like API keys.
    ("GET", "/api/v1/webhook-deliveries/{delivery_id:int}"): ADMIN_KEYS,
    ("POST", "/api/v1/webhook-deliveries/{delivery_id:int}/replay"): ADMIN_KEYS,
    ("GET", "/api/v1/webhook-subscriptions"): ADMIN_KEYS,
    ("POST", "/api/v1/webhook-subscriptions"): ADMIN_KEYS,
    ("GET", "/api/v1/webhook-subscriptions/{subscription_id:int}"): ADMIN_KEYS,
    ("PATCH", "/api/v1/webhook-subscriptions/{subscription_id:int}"): ADMIN_KEYS,
    ("DELETE", "/api/v1/webhook-subscriptions/{subscription_id:int}"): ADMIN_KEYS,
    ("GET", "/api/v1/webhook-subscriptions/{subscription_id:int}/deliveries"): ADMIN_KEYS,
    ("POST", "/api/v1/webhook-subscriptions/{subscription_id:int}/rotate-secret"): ADMIN_KEYS,
    # Relays sign their own requests instead: a bad signature is a 400, never acted on.
    ("POST", "/api/v1/webhooks/sendgrid"): ANYONE,
    ("POST", "/api/v1/webhooks/ses"): ANYONE,
    # Pages: a signed-in user of the right role.
    ("GET", "/"): USERS,
    ("GET", "/broadcasts"): MARKETING,
    ("GET", "/broadcasts/new"): MARKETING,
    ("POST", "/broadcasts/new"): MARKETING,
    ("GET", "/broadcasts/rows"): MARKETING,
    ("GET", "/broadcasts/{broadcast_id:int}"): MARKETING,
    ("POST", "/broadcasts/{broadcast_id:int}/cancel"): MARKETING,
    ("GET", "/broadcasts/{broadcast_id:int}/edit"): MARKETING,
    ("POST", "/broadcasts/{broadcast_id:int}/edit"): MARKETING,
    ("GET", "/broadcasts/{broadcast_id:int}/progress"): MARKETING,
    ("POST", "/broadcasts/{broadcast_id:int}/schedule"): MARKETING,
    ("GET", "/contacts"): USERS,
    ("GET", "/contacts/rows"): USERS,
    ("GET", "/contacts/{contact_id:int}"): USERS,
    ("GET", "/contacts/{contact_id:int}/edit"): USERS,
    ("POST", "/contacts/{contact_id:int}/edit"): USERS,
    ("GET", "/contacts/{contact_id:int}/timeline"): USERS,
    ("GET", "/content"): USERS,
    ("POST", "/content/images"): MARKETING,
    ("GET", "/content/library/{key:str}"): USERS,
    ("GET", "/content/library/{key:str}/new"): MARKETING,
    ("POST", "/content/library/{key:str}/new"): MARKETING,
    ("GET", "/content/library/{key:str}/{item_id:int}"): USERS,
    ("POST", "/content/library/{key:str}/{item_id:int}"): MARKETING,
    ("POST", "/content/library/{key:str}/{item_id:int}/delete"): MARKETING,
    ("GET", "/content/new"): MARKETING,
    ("POST", "/content/new"): MARKETING,
    ("GET", "/content/new/blank"): MARKETING,
    ("POST", "/content/new/starter"): MARKETING,
    ("POST", "/content/starters"): MARKETING,
    ("GET", "/content/webinars/{webinar_id:int}/attendance"): USERS,
    ("POST", "/content/webinars/{webinar_id:int}/attendance"): MARKETING,
    ("GET", "/content/{template_id:int}"): USERS,
    ("POST", "/content/{template_id:int}"): MARKETING,
    ("POST", "/content/{template_id:int}/preview"): USERS,
    ("POST", "/content/{template_id:int}/check"): USERS,
    ("POST", "/content/{template_id:int}/test-send"): MARKETING,
    ("GET", "/content/{template_id:int}/blocks"): USERS,
    ("POST", "/content/{template_id:int}/blocks"): MARKETING,
    ("POST", "/content/{template_id:int}/blocks/preview"): USERS,
    ("POST", "/content/{template_id:int}/blocks/check"): USERS,
    ("GET", "/content/blocks/new"): MARKETING,
    ("POST", "/content/new/blocks"): MARKETING,
    ("GET", "/content/merge-picker"): MARKETING,
    ("GET", "/content/merge-tag"): MARKETING,
    ("GET", "/content/{template_id:int}/versions/{number:int}"): USERS,
    ("POST", "/content/{template_id:int}/versions/{number:int}/restore"): MARKETING,
    ("GET", "/experiments/sample-size"): MARKETING,
    ("GET", "/experiments/{experiment_id:int}"): USERS,
    ("POST", "/experiments/{experiment_id:int}/declare"): MARKETING,
    ("GET", "/experiments/{experiment_id:int}/edit"): MARKETING,
    ("POST", "/experiments/{experiment_id:int}/edit"): MARKETING,
    ("POST", "/experiments/{experiment_id:int}/start"): MARKETING,
    ("POST", "/experiments/{experiment_id:int}/stop"): MARKETING,
    ("GET", "/imports"): MARKETING,
    ("POST", "/imports"): MARKETING,
    ("GET", "/imports/{job_id:int}"): MARKETING,
    ("GET", "/imports/{job_id:int}/progress"): MARKETING,
    ("GET", "/imports/{job_id:int}/rejected.csv"): MARKETING,
    ("POST", "/imports/{job_id:int}/start"): MARKETING,
    ("GET", "/inbox"): SELLING,
    ("GET", "/inbox/badge"): SELLING,
    ("GET", "/inbox/{handoff_id:int}"): SELLING,
    ("POST", "/inbox/{handoff_id:int}/accept"): SELLING,
    ("POST", "/inbox/{handoff_id:int}/reassign"): SELLING,
    ("POST", "/inbox/{handoff_id:int}/reject"): SELLING,
    ("GET", "/outbox"): USERS,
    ("GET", "/outbox/{captured_id:int}"): USERS,
    ("GET", "/outbox/messages/{message_id:int}"): USERS,
    ("GET", "/reports"): USERS,
    ("GET", "/reports/content.csv"): USERS,
    ("GET", "/reports/funnel.csv"): USERS,
    ("GET", "/reports/lifecycle.csv"): USERS,
    ("GET", "/reports/sequences.csv"): USERS,
    ("GET", "/reviews"): USERS,
    ("GET", "/reviews/projects"): USERS,
    ("GET", "/reviews/projects/{project_id:int}"): USERS,
    ("POST", "/reviews/projects/survey-sequence"): MARKETING,
    ("GET", "/reviews/comments.csv"): USERS,
    ("GET", "/reviews/nps.csv"): USERS,
    ("GET", "/reviews/testimonials"): USERS,
    ("POST", "/reviews/testimonials/{testimonial_id:int}/hide"): MARKETING,
    ("POST", "/reviews/testimonials/{testimonial_id:int}/show"): MARKETING,
    ("POST", "/reviews/testimonials/{testimonial_id:int}/withdraw"): MARKETING,
    ("POST", "/reviews/testimonials/{testimonial_id:int}/attach"): MARKETING,
    ("GET", "/reviews/referrals"): USERS,
    ("POST", "/reviews/referrals/{referral_id:int}/reward"): MARKETING,
    ("GET", "/reviews/settings"): MARKETING,
    ("POST", "/reviews/settings"): MARKETING,
    ("GET", "/scoring"): MARKETING,
    ("POST", "/scoring/behaviour/new"): MARKETING,
    ("GET", "/scoring/behaviour/new"): MARKETING,
    ("GET", "/scoring/behaviour/{rule_id:int}/edit"): MARKETING,
    ("POST", "/scoring/behaviour/{rule_id:int}/edit"): MARKETING,
    ("POST", "/scoring/behaviour/{rule_id:int}/delete"): MARKETING,
    ("POST", "/scoring/behaviour/{rule_id:int}/active"): MARKETING,
    ("GET", "/scoring/fit/new"): MARKETING,
    ("POST", "/scoring/fit/new"): MARKETING,
    ("GET", "/scoring/fit/{rule_id:int}/edit"): MARKETING,
    ("POST", "/scoring/fit/{rule_id:int}/edit"): MARKETING,
    ("POST", "/scoring/fit/{rule_id:int}/delete"): MARKETING,
    ("POST", "/scoring/fit/{rule_id:int}/active"): MARKETING,
    ("POST", "/scoring/rescore"): MARKETING,
    ("POST", "/scoring/settings"): MARKETING,
    ("GET", "/scoring/model"): USERS,
    ("POST", "/scoring/model/fit"): MARKETING,
    ("GET", "/segments"): MARKETING,
    ("GET", "/segments/new"): MARKETING,
    ("POST", "/segments/new"): MARKETING,
    ("POST", "/segments/preview"): MARKETING,
    ("GET", "/segments/{segment_id:int}"): MARKETING,
    ("POST", "/segments/{segment_id:int}/delete"): MARKETING,
    ("POST", "/segments/{segment_id:int}/duplicate"): MARKETING,
    ("GET", "/segments/{segment_id:int}/edit"): MARKETING,
    ("POST", "/segments/{segment_id:int}/edit"): MARKETING,
    ("POST", "/segments/{segment_id:int}/import"): MARKETING,
    ("GET", "/segments/{segment_id:int}/members.csv"): MARKETING,
    ("POST", "/segments/{segment_id:int}/members/add"): MARKETING,
    ("POST", "/segments/{segment_id:int}/members/{contact_id:int}/remove"): MARKETING,
    ("POST", "/segments/{segment_id:int}/refresh"): MARKETING,
    ("GET", "/sequences"): USERS,
    ("GET", "/sequences/contacts"): MARKETING,
    ("GET", "/sequences/new"): MARKETING,
    ("POST", "/sequences/new"): MARKETING,
    ("GET", "/sequences/preview"): USERS,
    ("GET", "/sequences/{sequence_id:int}"): USERS,
    ("POST", "/sequences/{sequence_id:int}/activate"): MARKETING,
    ("GET", "/sequences/{sequence_id:int}/edit"): MARKETING,
    ("POST", "/sequences/{sequence_id:int}/edit"): MARKETING,
    ("POST", "/sequences/{sequence_id:int}/enrol"): MARKETING,
    ("POST", "/sequences/{sequence_id:int}/enrol/segment"): MARKETING,
    ("GET", "/sequences/{sequence_id:int}/mapping"): MARKETING,
    ("POST", "/sequences/{sequence_id:int}/mapping"): MARKETING,
    ("POST", "/sequences/{sequence_id:int}/pause"): MARKETING,
    ("POST", "/sequences/{sequence_id:int}/resume"): MARKETING,
    ("POST", "/sequences/{sequence_id:int}/stop"): MARKETING,
    ("GET", "/sequences/{sequence_id:int}/steps/{step_key:str}/experiment"): MARKETING,
    ("POST", "/sequences/{sequence_id:int}/steps/{step_key:str}/experiment"): MARKETING,
    ("GET", "/settings"): USERS,
    ("POST", "/settings/password"): USERS,
    ("GET", "/settings/api-keys"): ADMINS,
    ("POST", "/settings/api-keys"): ADMINS,
    ("POST", "/settings/api-keys/{key_id:int}/revoke"): ADMINS,
    ("GET", "/settings/audit"): ADMINS,
    ("GET", "/settings/brand"): MARKETING,
    ("POST", "/settings/brand"): MARKETING,
    ("GET", "/settings/qualification"): MARKETING,
    ("POST", "/settings/qualification"): MARKETING,
    ("GET", "/settings/qualification/routing"): ADMINS,
    ("POST", "/settings/qualification/routing/reps/{user_id:int}"): ADMINS,
    ("POST", "/settings/qualification/routing/rules"): ADMINS,
    ("POST", "/settings/qualification/routing/rules/{rule_id:int}"): ADMINS,
    ("POST", "/settings/qualification/routing/teams"): ADMINS,
    ("POST", "/settings/qualification/routing/teams/{team_id:int}"): ADMINS,
    ("GET", "/settings/users"): ADMINS,
    ("POST", "/settings/users"): ADMINS,
    ("POST", "/settings/users/{user_id:int}/active"): ADMINS,
    ("POST", "/settings/users/{user_id:int}/sessions/revoke"): ADMINS,
    ("GET", "/settings/webhooks"): ADMINS,
    ("POST", "/settings/webhooks"): ADMINS,
    ("GET", "/settings/webhooks/deliveries/{delivery_id:int}"): ADMINS,
    ("POST", "/settings/webhooks/deliveries/{delivery_id:int}/replay"): ADMINS,
    ("GET", "/settings/webhooks/{subscription_id:int}"): ADMINS,
    ("POST", "/settings/webhooks/{subscription_id:int}"): ADMINS,
    ("POST", "/settings/webhooks/{subscription_id:int}/delete"): ADMINS,
    ("POST", "/settings/webhooks/{subscription_id:int}/rotate"): ADMINS,
    ("GET", "/tasks"): USERS,
    ("GET", "/tasks/badge"): USERS,
    ("GET", "/tasks/rows"): USERS,
    ("POST", "/tasks/{task_id:int}/outcome"): USERS,
    ("POST", "/tasks/{task_id:int}/undo"): USERS,
    # Signing in and out.
    ("GET", "/login"): ANYONE,
    ("POST", "/login"): ANYONE,
    ("POST", "/logout"): ANYONE,
    # Signed links in e-mails and public pages: the token is the credential.
    ("GET", "/t/c/{token:str}"): ANYONE,
    ("HEAD", "/t/c/{token:str}"): ANYONE,
    ("GET", "/t/o/{token:str}"): ANYONE,
    ("GET", "/u/{token:str}"): ANYONE,
    ("POST", "/u/{token:str}"): ANYONE,
    ("GET", "/w/{token:str}"): ANYONE,
    ("POST", "/w/{token:str}"): ANYONE,
    ("GET", "/w/{token:str}/invite.ics"): ANYONE,
    # After the project: survey answers, the testimonial form, the referral page.
    ("GET", "/nps/{token:str}/{score:str}"): ANYONE,
    ("POST", "/nps/{token:str}"): ANYONE,
    ("GET", "/nps/{token:str}/follow-up"): ANYONE,
    ("POST", "/nps/{token:str}/follow-up"): ANYONE,
    ("GET", "/nps/{token:str}/thanks"): ANYONE,
    ("GET", "/testimonial/{token:str}"): ANYONE,
    ("POST", "/testimonial/{token:str}"): ANYONE,
    ("GET", "/testimonial/{token:str}/thanks"): ANYONE,
    ("GET", "/testimonial/{token:str}/withdraw"): ANYONE,
    ("POST", "/testimonial/{token:str}/withdraw"): ANYONE,
    ("GET", "/refer/{code:str}"): ANYONE,
    ("POST", "/refer/{code:str}"): ANYONE,
    ("GET", "/refer/{code:str}/thanks"): ANYONE,
    # Images in e-mail: the address is the SHA-256 of the bytes.
    ("GET", "/img/{name:str}"): ANYONE,
    # Style sheets, scripts and fonts, which the login page needs too.
    ("GET", "/static/app/{file_path:path}"): ANYONE,
    ("HEAD", "/static/app/{file_path:path}"): ANYONE,
    ("GET", "/static/vendor/chart/{file_path:path}"): ANYONE,
    ("HEAD", "/static/vendor/chart/{file_path:path}"): ANYONE,
    ("GET", "/static/vendor/htmx/{file_path:path}"): ANYONE,
    ("HEAD", "/static/vendor/htmx/{file_path:path}"): ANYONE,
    ("GET", "/static/vendor/inter/{file_path:path}"): ANYONE,
    ("HEAD", "/static/vendor/inter/{file_path:path}"): ANYONE,
    ("GET", "/static/vendor/swagger/{file_path:path}"): ANYONE,
    ("HEAD", "/static/vendor/swagger/{file_path:path}"): ANYONE,
    ("GET", "/static/vendor/sortable/{file_path:path}"): ANYONE,
    ("HEAD", "/static/vendor/sortable/{file_path:path}"): ANYONE,
    # Probes call these without credentials.
    ("GET", "/healthz"): ANYONE,
    # No session nor key: only the scraper's token or a loopback client (test_hardening.py).
    ("GET", "/metrics"): frozenset(),
    ("GET", "/readyz"): ANYONE,
    # The API's own description and its viewers.
    ("GET", "/schema"): ANYONE,
    ("GET", "/schema/oauth2-redirect.html"): ANYONE,
    ("GET", "/schema/openapi.json"): ANYONE,
    ("GET", "/schema/openapi.yaml"): ANYONE,
    ("GET", "/schema/openapi.yml"): ANYONE,
    ("GET", "/schema/swagger"): ANYONE,
    ("GET", "/schema/{path:str}"): ANYONE,
}

# Path parameters without a row of their own get an id that names nothing: the
# guard has answered before the handler looks the id up, so a 404 still shows
# the caller got through.
NO_SUCH_ID = 999_999
# Read from the browser's CSRF cookie, as the page script does.
CSRF_HEADER = "x-csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD"})
# The classes of answer the table implies.
ALLOWED = "allowed"
UNAUTHENTICATED = "401"
TO_LOGIN = "redirect to the login page"
FORBIDDEN = "403"
_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")


@dataclass(frozen=True, slots=True)
class World:
    """The callers' credentials and the ids that fill path parameters."""

    emails: dict[str, str]
    keys: dict[str, str]
    revoked_key: str
    parameters: dict[str, str]


@pytest.fixture(scope="module")
def matrix_url(database_urls: dict[str, str]) -> Iterator[str]:
    """One database for the whole module, emptied when it is done."""
    url = database_urls["postgresql"]
    yield url
    _empty_tables(url)
    api_key_cache.clear()


@pytest.fixture(scope="module")
def world(matrix_url: str) -> World:
    with session_scope(matrix_url) as db:
        users = {role: make_user(db, role=role) for role in ROLES}
        keys = {role: make_api_key(db, role=role)[1] for role in ROLES}
        # Rows that allowed callers may change or remove without touching the
        # callers' own accounts and keys.
        other_user = make_user(db, role="marketer")
        other_key, _ = make_api_key(db, role="marketer")
        revoked, revoked_secret = make_api_key(db, role="admin")
        accounts.revoke_api_key(db, key_id=revoked.id, actor="test")
        contact = make_contact(db)
        # Sales reps may record outcomes only of their own tasks.
        task = make_task(db, contact, assignee_id=users["sales"].id)
        segment = store.create_segment(db, name="Matrix list", kind="static")
        sequence = versions.create_sequence(
            db, name="Matrix", steps_definition={"steps": [{"key": "t", "type": "task"}]}
        )
        db.flush()
        parameters = {
            "contact_id": str(contact.id),
            "task_id": str(task.id),
            "segment_id": str(segment.id),
            "sequence_id": str(sequence.id),
            "user_id": str(other_user.id),
            "key_id": str(other_key.id),
            "number": "1",
            "key": "services",
            "token": "not-a-signed-token",
            "file_path": "app.css",
            "path": "nothing-here",
        }
        emails = {role: user.email for role, user in users.items()}
    parameters["template_id"] = str(make_template_in(matrix_url))
    return World(emails=emails, keys=keys, revoked_key=revoked_secret, parameters=parameters)


def make_template_in(url: str) -> int:
    with session_scope(url) as db:
        return make_template(db)


@pytest.fixture(scope="module")
def client(matrix_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One app for the module; callers take turns on one client, each with its own cookies."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("matrix"),
        database_url=matrix_url,
        secret_key="test-secret-" + "x" * 40,
        embedded_worker_threads=2,
        tick_seconds=3600.0,
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def test_every_route_has_one_declared_access_rule(client: Client) -> None:
    routes = set(handled_routes(client.app))
    missing = sorted(routes - ACCESS.keys())
    stale = sorted(ACCESS.keys() - routes)
    assert not missing, "routes without an entry in ACCESS:\n" + _lines(missing)
    assert not stale, "entries in ACCESS for routes the app no longer has:\n" + _lines(stale)


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_gets_the_declared_answer_on_every_route(
    client: Client, world: World, caller: str
) -> None:
    _become(client, world, caller)
    mismatches = []
    routes = sorted(
        (route for route in handled_routes(client.app) if route in ACCESS),
        key=_last_if_it_ends_things,
    )
    for method, path in routes:
        expected = _expected(caller, path, ACCESS[method, path])
        answer = _call(client, world, caller, method, path)
        found = _verdict(answer)
        if found != expected:
            mismatches.append(f"{method} {path}: expected {expected}, got {found}")
    assert not mismatches, f"{caller}: {len(mismatches)} answers differ from ACCESS:\n" + "\n".join(
        mismatches
    )


def test_a_missing_malformed_or_revoked_key_is_refused_on_every_guarded_api_route(
    client: Client, world: World
) -> None:
    client.cookies.clear()
    wrong = [
        "",
        "Bearer not-a-real-key",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "nurture_abc",
        f"Bearer {world.revoked_key}",
    ]
    mismatches = []
    for method, path in api_routes(client.app):
        if ACCESS.get((method, path)) == ANYONE:
            continue
        for authorization in wrong:
            answer = client.request(
                method, _fill(path, world), headers={"Authorization": authorization}
            )
            if answer.status_code != 401 or "Bearer" not in answer.json()["error"]["message"]:
                mismatches.append(f"{method} {path} with {authorization!r}: {answer.status_code}")
    assert not mismatches, "\n".join(mismatches)


def _last_if_it_ends_things(route: Route) -> tuple[bool, bool]:
    """Removals after everything else, so the other routes still find their rows;
    signing out last of all, since it ends the caller's session."""
    method, path = route
    return route == ("POST", "/logout"), method == "DELETE" or path.endswith("/delete")


def _become(client: Client, world: World, caller: str) -> None:
    """Start afresh as `caller`: a CSRF cookie for everyone, a session for users."""
    client.cookies.clear()
    csrf_token(client)
    if caller in ROLES:
        signed_in = post_form(
            client, "/login", {"email": world.emails[caller], "password": PASSWORD}
        )
        assert signed_in.status_code == 303, signed_in.text


def _expected(caller: str, path: str, allowed: frozenset[str]) -> str:
    if caller in allowed:
        return ALLOWED
    if path == "/metrics":
        return UNAUTHENTICATED
    # Keys count on the API only, sessions on pages only; elsewhere the caller
    # is nobody and is asked to sign in.
    if path.startswith("/api/"):
        return FORBIDDEN if caller.startswith("key:") else UNAUTHENTICATED
    return FORBIDDEN if caller in ROLES else TO_LOGIN


def _call(client: Client, world: World, caller: str, method: str, path: str) -> Response:
    headers = {}
    if caller.startswith("key:"):
        headers["Authorization"] = f"Bearer {world.keys[caller.removeprefix('key:')]}"
    if not path.startswith("/api/"):
        headers["Accept"] = "text/html"
    if method not in SAFE_METHODS:
        headers[CSRF_HEADER] = csrf_token(client)
    return client.request(method, _fill(path, world), headers=headers, follow_redirects=False)


def _verdict(answer: Response) -> str:
    status = answer.status_code
    location = answer.headers.get("location", "")
    if status == 401:
        return UNAUTHENTICATED
    if 300 <= status < 400 and location.startswith("/login?next="):
        return TO_LOGIN
    if status == 403:
        return FORBIDDEN
    return ALLOWED


def _fill(path: str, world: World) -> str:
    def value(match: re.Match[str]) -> str:
        name, kind = match.groups()
        return world.parameters.get(name, str(NO_SUCH_ID) if kind == "int" else "nothing")

    return _PARAMETER.sub(value, path)


def _lines(routes: list[Route]) -> str:
    return "\n".join(f"    ({method!r}, {path!r}): ...," for method, path in routes)
