"""The contact domain: checking input, storing contacts and companies, erasure, suppression.

The public functions are re-exported here, so callers write
`from nurture.contacts import upsert_contact` whatever module holds them.
"""

from nurture.contacts.erasure import erase_contact, is_suppressed, suppress
from nurture.contacts.input import (
    COMPANY_FIELDS,
    CONTACT_FIELDS,
    MAX_ATTRIBUTES,
    TEXT_FIELDS,
    check_contact_input,
)
from nurture.contacts.store import (
    MAX_PAGE_SIZE,
    ContactFilter,
    Page,
    count_contacts,
    get_contact,
    industries,
    list_contacts,
    preview_contacts,
    timeline,
    update_contact,
    upsert_company,
    upsert_contact,
)

__all__ = [
    "COMPANY_FIELDS",
    "CONTACT_FIELDS",
    "MAX_ATTRIBUTES",
    "MAX_PAGE_SIZE",
    "TEXT_FIELDS",
    "ContactFilter",
    "Page",
    "check_contact_input",
    "count_contacts",
    "erase_contact",
    "get_contact",
    "industries",
    "is_suppressed",
    "list_contacts",
    "preview_contacts",
    "suppress",
    "timeline",
    "update_contact",
    "upsert_company",
    "upsert_contact",
]
