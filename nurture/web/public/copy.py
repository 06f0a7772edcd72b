"""The words of the public pages, in the languages the starter library speaks."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

_EN: Final = {
    "title": "E-mail preferences",
    "intro": "Choose what {brand} may send to {email}.",
    "topics": "Topics",
    "save": "Save preferences",
    "saved": "Your preferences are saved.",
    "all_title": "Unsubscribe from everything",
    "all_text": "You will get no more marketing e-mail from {brand}.",
    "all_button": "Unsubscribe from all",
    "unsubscribed": "You are unsubscribed from all e-mails from {brand}.",
    "unsubscribed_note": "Changed your mind? You can subscribe again at any time.",
    "resubscribe": "Subscribe again",
    "resubscribed": "Welcome back: you are subscribed again.",
    "done_title": "You are unsubscribed",
    "done_text": "{brand} will send no more marketing e-mail to this address.",
    "manage": "Manage preferences",
    "test_title": "This link came from a test e-mail",
    "test_text": "Test sends carry a link that belongs to nobody, so there is nothing to change.",
}
_RU: Final = {
    "title": "Настройки рассылки",
    "intro": "Выберите, какие письма {brand} может отправлять на {email}.",
    "topics": "Темы",
    "save": "Сохранить",
    "saved": "Настройки сохранены.",
    "all_title": "Отписаться от всего",
    "all_text": "Вы больше не будете получать маркетинговые письма от {brand}.",
    "all_button": "Отписаться от всех писем",
    "unsubscribed": "Вы отписаны от всех писем {brand}.",
    "unsubscribed_note": "Передумали? Подписаться снова можно в любой момент.",
    "resubscribe": "Подписаться снова",
    "resubscribed": "С возвращением: вы снова подписаны.",  # noqa: RUF001
    "done_title": "Вы отписаны",
    "done_text": "{brand} больше не будет отправлять маркетинговые письма на этот адрес.",
    "manage": "Настроить рассылку",
    "test_title": "Эта ссылка из тестового письма",
    "test_text": "В тестовых письмах ссылка ни к кому не привязана, менять нечего.",  # noqa: RUF001
}
_BY_LOCALE = {"en": MappingProxyType(_EN), "ru": MappingProxyType(_RU)}


def texts(locale: str | None) -> MappingProxyType[str, str]:
    """The page texts for `locale` (its language part), English when we have no translation."""
    return _BY_LOCALE.get((locale or "en")[:2].lower(), _BY_LOCALE["en"])
