"""The preference topics a contact can opt out of, one by one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    labels: dict[str, str]

    def label(self, locale: str | None) -> str:
        return self.labels.get((locale or "en")[:2], self.labels["en"])


TOPICS: tuple[Topic, ...] = (
    Topic("newsletters", {"en": "Newsletters and insights", "ru": "Рассылка и статьи"}),
    Topic("case_studies", {"en": "Case studies", "ru": "Кейсы клиентов"}),
    Topic("webinars", {"en": "Webinars and events", "ru": "Вебинары и мероприятия"}),
    Topic("feedback", {"en": "Surveys and feedback requests", "ru": "Опросы и отзывы"}),
    Topic("product_updates", {"en": "Service updates", "ru": "Новости об услугах"}),  # noqa: RUF001
)
TOPIC_SLUGS: frozenset[str] = frozenset(t.slug for t in TOPICS)


def topic(slug: str) -> Topic | None:
    """The topic called `slug`, or None."""
    for item in TOPICS:
        if item.slug == slug:
            return item
    return None
