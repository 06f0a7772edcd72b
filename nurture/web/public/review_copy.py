# ruff: noqa: RUF001  (Russian words: their Cyrillic letters are meant)
"""The words of the answer pages (NPS survey, testimonial form, referral page) in
English and Russian, and which of the two a page speaks.

Keys are shared by both languages; a key Russian lacks falls back to English. Texts
with `{name}` holes are filled with str.format by the templates. The consent texts
are stored with what the person agreed to, so changing one changes only what later
approvals record.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from nurture.web.ui.language import LANGUAGES, Language, from_header

_EN: Final = {
    # Any page
    "invalid_title": "This link does not work",
    "invalid_text": "It may have expired, or part of it was lost on the way. "
    "If you still want to answer, reply to the e-mail {brand} sent you.",
    "unknown_title": "This page does not exist",
    "unknown_text": "Please check the link, or ask the person who sent it for a new one.",
    "throttled_title": "Too many attempts",
    "throttled_text": "Please wait {minutes} min and try again.",
    "errors_title": "Please check the fields marked below.",
    "optional": "optional",
    # NPS: the confirm page
    "nps_title": "Your score",
    "nps_question": "How likely are you to recommend {brand} to a friend or colleague?",
    "nps_about": "About: {project}",
    "nps_chosen": "You chose {score} out of 10.",
    "nps_button": "Send my score: {score}",
    "nps_sending": "Sending your score…",
    "nps_press": "To be sure a person answered, please press the button.",
    "nps_bad_score": "Scores go from 0 to 10.",
    # NPS: the follow-up page
    "follow_title_named": "Thank you, {name}!",
    "follow_title": "Thank you!",
    "follow_saved": "Your score is saved: {score} out of 10.",
    "follow_unanswered": "Choose a score from 0 to 10.",
    "score_legend": "Your score",
    "score_hint": "0 = not at all likely, 10 = extremely likely",
    "question_promoter": "What did you value most in working with us?",
    "question_passive": "What would have made it a 10?",
    "question_detractor": "What went wrong? We want to put it right.",
    "question_none": "What is the main reason for your score?",
    "comment_label": "Anything else you would like to tell us?",
    "follow_send": "Send my answer",
    "too_long": "Please keep this under {max} characters.",
    "score_required": "Please choose a score.",
    # NPS: thanks
    "nps_thanks_title": "Thank you for your answer",
    "nps_thanks_text": "Everyone at {brand} who worked with you will read it.",
    "nps_change": "Change my answer",
    # Testimonial
    "t_title": "Your testimonial",
    "t_intro": "Thank you for your kind words{about}. Edit them as you like: "
    "we publish exactly what you approve, and nothing before you do.",
    "t_about": " about {project}",
    "t_quote_label": "Your words",
    "t_quote_hint": "Between {min} and {max} characters.",
    "t_attr_legend": "How should we name you?",
    "attr_name_company": "Name and company",
    "attr_title_only": "Job title only",
    "attr_anonymous": "Anonymously",
    "t_reads": "It will read: {signature}",
    "t_consent": "I agree that {brand} may publish these words, signed as I chose above, "
    "on its website and in its marketing. I can withdraw this consent at any time.",
    "t_submit": "Approve my testimonial",
    "t_thanks_title": "Thank you!",
    "t_approved_title": "Your testimonial",
    "t_approved_text": "You approved these words; {brand} may publish them as shown.",
    "t_withdraw_intro": "Changed your mind? You can withdraw your consent at any time, "
    "and we stop using your words everywhere.",
    "t_withdraw_link": "Withdraw my consent",
    "t_withdraw_title": "Withdraw your consent?",
    "t_withdraw_text": "{brand} will remove your testimonial from everywhere it is used. "
    "We keep only a note that you gave and then withdrew your consent.",
    "t_withdraw_button": "Yes, withdraw my consent",
    "t_keep": "Keep my testimonial",
    "t_withdrawn_title": "Your consent is withdrawn",
    "t_withdrawn_text": "{brand} no longer uses your testimonial. Thank you for letting us know.",
    "err_quote": "Your testimonial needs between {min} and {max} characters.",
    "err_attribution": "Please choose how we should name you.",
    "err_consent": "Please tick the box to agree, or simply leave this page.",
    # Referral
    "r_title": "{name} thinks we could help you",
    "r_intro": "{name}{company} works with {brand} and shared this page with you. "
    "Leave your details and we will get in touch.",
    "r_company": " from {company}",
    "r_first_name": "First name",
    "r_last_name": "Last name",
    "r_email": "Work e-mail",
    "r_company_label": "Company",
    "r_note": "Anything we should know?",
    "r_consent": "I agree that {brand} may contact me about its services. "
    "My details are used for nothing else.",
    "r_submit": "Send my details",
    "r_thanks_title": "Thank you!",
    "r_thanks_text": "We have your details and will be in touch soon.",
    "r_own_title": "This is your own link",
    "r_own_text": "Share it with colleagues who might need {brand}: "
    "when they leave their details here, we know they came from you.",
    "err_first_name": "Please enter your first name.",
    "err_last_name": "Please check your last name.",
    "err_email": "Please enter a valid work e-mail address.",
    "err_company": "Please check the company name.",
    "err_note": "Please keep this under {max} characters.",
    "err_other": "Please check this field.",
    "err_r_consent": "Please tick the box so that we may contact you.",
}
_RU: Final = {
    "invalid_title": "Эта ссылка не работает",
    "invalid_text": "Возможно, её срок истёк или часть ссылки потерялась по дороге. "
    "Если вы хотите ответить, ответьте на письмо, которое прислала {brand}.",
    "unknown_title": "Такой страницы нет",
    "unknown_text": "Проверьте ссылку или попросите того, кто её прислал, о новой.",
    "throttled_title": "Слишком много попыток",
    "throttled_text": "Подождите {minutes} мин. и попробуйте снова.",
    "errors_title": "Проверьте отмеченные ниже поля.",
    "optional": "необязательно",
    "nps_title": "Ваша оценка",
    "nps_question": "Насколько вероятно, что вы порекомендуете {brand} другу или коллеге?",
    "nps_about": "Проект: {project}",
    "nps_chosen": "Вы выбрали {score} из 10.",
    "nps_button": "Отправить оценку: {score}",
    "nps_sending": "Отправляем вашу оценку…",
    "nps_press": "Чтобы мы знали, что ответил человек, нажмите, пожалуйста, кнопку.",
    "nps_bad_score": "Оценка — число от 0 до 10.",
    "follow_title_named": "Спасибо, {name}!",
    "follow_title": "Спасибо!",
    "follow_saved": "Ваша оценка сохранена: {score} из 10.",
    "follow_unanswered": "Выберите оценку от 0 до 10.",
    "score_legend": "Ваша оценка",
    "score_hint": "0 — точно не порекомендую, 10 — обязательно порекомендую",
    "question_promoter": "Что вы больше всего цените в работе с нами?",
    "question_passive": "Что нам нужно было сделать, чтобы вы поставили 10?",
    "question_detractor": "Что пошло не так? Мы хотим это исправить.",
    "question_none": "Почему вы поставили такую оценку?",
    "comment_label": "Хотите добавить что-нибудь ещё?",
    "follow_send": "Отправить ответ",
    "too_long": "Пожалуйста, не больше {max} символов.",
    "score_required": "Выберите оценку.",
    "nps_thanks_title": "Спасибо за ответ",
    "nps_thanks_text": "Его прочитают все в {brand}, кто работал с вами.",
    "nps_change": "Изменить ответ",
    "t_title": "Ваш отзыв",
    "t_intro": "Спасибо за добрые слова{about}. Отредактируйте их, как хотите: "
    "мы публикуем только то, что вы одобрили, и не раньше.",
    "t_about": " о проекте «{project}»",
    "t_quote_label": "Ваш отзыв",
    "t_quote_hint": "От {min} до {max} символов.",
    "t_attr_legend": "Как вас подписать?",
    "attr_name_company": "Имя и компания",
    "attr_title_only": "Только должность",
    "attr_anonymous": "Анонимно",
    "t_reads": "Подпись будет такой: {signature}",
    "t_consent": "Я согласен(на), что {brand} может публиковать этот отзыв с выбранной "
    "выше подписью на своём сайте и в маркетинговых материалах. Я могу отозвать "
    "согласие в любой момент.",
    "t_submit": "Одобрить отзыв",
    "t_thanks_title": "Спасибо!",
    "t_approved_title": "Ваш отзыв",
    "t_approved_text": "Вы одобрили этот текст; {brand} может публиковать его в таком виде.",
    "t_withdraw_intro": "Передумали? Согласие можно отозвать в любой момент, "
    "и мы перестанем везде использовать ваш отзыв.",
    "t_withdraw_link": "Отозвать согласие",
    "t_withdraw_title": "Отозвать согласие?",
    "t_withdraw_text": "{brand} уберёт ваш отзыв отовсюду, где он используется. "
    "Мы сохраним только отметку о том, что вы дали и отозвали согласие.",
    "t_withdraw_button": "Да, отозвать согласие",
    "t_keep": "Оставить отзыв",
    "t_withdrawn_title": "Согласие отозвано",
    "t_withdrawn_text": "{brand} больше не использует ваш отзыв. Спасибо, что сообщили.",
    "err_quote": "В отзыве должно быть от {min} до {max} символов.",
    "err_attribution": "Выберите, как вас подписать.",
    "err_consent": "Отметьте согласие или просто закройте страницу.",
    "r_title": "{name} считает, что мы можем вам помочь",
    "r_intro": "{name}{company} работает с {brand} и поделился(ась) с вами этой страницей. "
    "Оставьте свои контакты, и мы с вами свяжемся.",
    "r_company": " из компании {company}",
    "r_first_name": "Имя",
    "r_last_name": "Фамилия",
    "r_email": "Рабочий e-mail",
    "r_company_label": "Компания",
    "r_note": "Что нам стоит знать?",
    "r_consent": "Я согласен(на), что {brand} может связаться со мной по поводу своих услуг. "
    "Мои данные не используются ни для чего другого.",
    "r_submit": "Отправить контакты",
    "r_thanks_title": "Спасибо!",
    "r_thanks_text": "Мы получили ваши контакты и скоро свяжемся с вами.",
    "r_own_title": "Это ваша собственная ссылка",
    "r_own_text": "Поделитесь ею с коллегами, которым может помочь {brand}: когда они "
    "оставят здесь контакты, мы будем знать, что они пришли от вас.",
    "err_first_name": "Введите имя.",
    "err_last_name": "Проверьте фамилию.",
    "err_email": "Введите правильный рабочий e-mail.",
    "err_company": "Проверьте название компании.",
    "err_note": "Пожалуйста, не больше {max} символов.",
    "err_other": "Проверьте это поле.",
    "err_r_consent": "Отметьте согласие, чтобы мы могли с вами связаться.",
}
_BY_LANGUAGE: Final[Mapping[Language, Mapping[str, str]]] = {
    "en": MappingProxyType(_EN),
    "ru": MappingProxyType({**_EN, **_RU}),
}


def language_of(locale: str | None) -> Language:
    """Our language for a stored locale ("ru-RU" → "ru"); English when we have none."""
    primary = (locale or "").split("-")[0].split("_")[0].strip().lower()
    return "ru" if primary == "ru" else "en"


def texts(language: Language) -> Mapping[str, str]:
    return _BY_LANGUAGE[language]


def visitor_language(accept_language: str | None, fallback: str | None) -> Language:
    """The language a stranger's browser asks for when it names one we speak, else the
    fallback's (the referral page: the advocate's locale)."""
    for item in (accept_language or "").split(",")[:32]:
        tag, *parameters = item.split(";")
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and not _refused(parameters):
            return from_header(accept_language)
    return language_of(fallback)


def _refused(parameters: list[str]) -> bool:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value) <= 0.0
            except ValueError:
                return True
    return False
