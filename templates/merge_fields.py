"""The personalisation fields a template may print, and the Jinja that prints one safely.

`FIELDS` is what the picker offers. It follows what a send really gives: the
`contact` and `rep` values of `templates.context` (`contact_view`, `rep_view`, filled
by `campaigns.email.recipients`) and the brand (`campaigns.email.brand`). A field a
send may leave empty (no last name, no company) prints its fallback instead.

`unknown_fields` names the `contact.*`, `rep.*` and `brand.*` names a source reads
that no send gives (a typo such as `contact.frist_name` would otherwise print
nothing, or fail for every recipient). Other roots (`case_study`, `webinar`,
`project`...) are given by a sender and checked by `templates.requirements`.
"""

from __future__ import annotations

from dataclasses import dataclass

from templates.requirements import names_read

# The roots whose every key is listed here; other roots are given by senders.
CHECKED_ROOTS: frozenset[str] = frozenset({"contact", "rep", "brand"})
MAX_FALLBACK = 200


@dataclass(frozen=True, slots=True)
class MergeField:
    """One field the picker offers. `group` is who it describes: contact, company, rep
    (the sender who signs) or brand (our firm); `sample` is a made-up value for previews;
    `fallback_en`/`fallback_ru` the suggested words when a contact lacks it ("" for none).
    """

    path: str
    group: str
    label_en: str
    label_ru: str
    sample: str
    fallback_en: str = ""
    fallback_ru: str = ""

    def label(self, locale: str) -> str:
        return self.label_ru if locale.startswith("ru") else self.label_en

    def fallback(self, locale: str) -> str:
        return self.fallback_ru if locale.startswith("ru") else self.fallback_en


FIELDS: tuple[MergeField, ...] = (
    MergeField("contact.first_name", "contact", "First name", "Имя", "Ada", "there", "коллега"),
    MergeField("contact.last_name", "contact", "Last name", "Фамилия", "Lovelace"),
    MergeField(
        "contact.full_name",
        "contact",
        "Full name",
        "Имя и фамилия",
        "Ada Lovelace",
        "there",
        "коллега",
    ),
    MergeField("contact.email", "contact", "E-mail address", "Адрес e-mail", "ada@example.com"),
    MergeField("contact.title", "contact", "Job title", "Должность", "Head of Engineering"),
    MergeField(
        "contact.company.name",
        "company",
        "Company name",
        "Название компании",
        "Analytical Engines Ltd",
        "your company",
        "ваша компания",
    ),
    MergeField(
        "contact.company.industry",
        "company",
        "Industry",
        "Отрасль",
        "manufacturing",
        "your industry",
        "ваша отрасль",
    ),
    MergeField("rep.name", "rep", "Sender's name", "Имя отправителя", "Charles Babbage"),
    MergeField("rep.title", "rep", "Sender's job title", "Должность отправителя", "Partner"),
    MergeField("rep.email", "rep", "Sender's e-mail", "E-mail отправителя", "charles@example.net"),
    MergeField("rep.phone", "rep", "Sender's phone", "Телефон отправителя", "+44 20 7946 0000"),
    MergeField("brand.name", "brand", "Our company's name", "Название нашей компании", "Example"),
    MergeField(
        "brand.address", "brand", "Our postal address", "Наш почтовый адрес", "1 Example St, London"
    ),
)

# The picker's headings for `MergeField.group`, (English, Russian), in its order.
GROUPS: dict[str, tuple[str, str]] = {
    "contact": ("Contact", "Контакт"),
    "company": ("Company", "Компания"),
    "rep": ("Sender", "Отправитель"),
    "brand": ("Our company", "Наша компания"),
}

# Names a send gives that the picker does not offer (layout values, the signature).
_OTHER_KNOWN: frozenset[str] = frozenset(
    {
        # What the renderer reads (the webinar card's local_time), not for the picker.
        "contact.time_zone",
        "rep.signature",
        "brand.logo_url",
        "brand.color",
        "brand.font_family",
        "brand.font_url",
    }
)
# Names under which any key may be read: a contact's own attributes vary by import.
OPEN: frozenset[str] = frozenset({"contact.attributes"})

KNOWN: frozenset[str] = frozenset(f.path for f in FIELDS) | _OTHER_KNOWN | OPEN
_BY_PATH = {f.path: f for f in FIELDS}


def field(path: str) -> MergeField | None:
    """The picker's field at `path`, or None."""
    return _BY_PATH.get(path)


def merge_tag(path: str, fallback: str = "") -> str:
    """Jinja that prints the field at `path`, or `fallback` when the contact lacks it.

    `{{ contact.first_name | default('there', true) }}`: `true` makes an empty or None
    value fall back too. The fallback becomes a Jinja string literal in which every
    character but letters, digits and spaces is written as an escape (`\\x27` for a
    quote), so no fallback can end the literal, the tag, or open Jinja, MJML or HTML;
    the sandbox escapes what it prints. ValueError for a path the picker does not
    offer or a fallback over MAX_FALLBACK characters.
    """
    if path not in _BY_PATH:
        raise ValueError(f"{path!r} is not a personalisation field")
    if len(fallback) > MAX_FALLBACK:
        raise ValueError(f"the fallback is longer than {MAX_FALLBACK} characters")
    if not fallback:
        return "{{ " + path + " }}"
    return "{{ " + path + " | default('" + _literal(fallback) + "', true) }}"


def _literal(text: str) -> str:
    out: list[str] = []
    for char in text:
        if char == " " or (char.isalnum() and char.isprintable()):
            out.append(char)
            continue
        code = ord(char)
        if code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def known(name: str) -> bool:
    """Whether a send gives `name` (or `name` is not one of the checked roots).

    A name is known when it and a known path lie on one line: `contact.company` holds
    known fields, `contact.attributes.plan` sits under an open one, and
    `contact.first_name.upper` reads a method of a known field.
    """
    parts = name.split(".")
    if parts[0] not in CHECKED_ROOTS or len(parts) == 1:
        return True
    for path in KNOWN:
        other = path.split(".")
        shorter = min(len(parts), len(other))
        if parts[:shorter] == other[:shorter]:
            return True
    return False


def unknown_field_uses(source: str) -> list[tuple[int, str]]:
    """(line, name) of each `contact.*`, `rep.*` or `brand.*` name in `source` that no
    send gives, by line then name; [] for a source that does not parse."""
    return sorted((line, name) for name, line in names_read(source).items() if not known(name))


def unknown_fields(source: str) -> list[str]:
    """The `contact.*`, `rep.*` and `brand.*` names `source` reads that no send gives."""
    return sorted({name for _, name in unknown_field_uses(source)})
