"""What a template needs, read from its syntax tree, and the plain words for it."""

from __future__ import annotations

from templates import requirements
from templates.requirements import missing, needs, say, variant_needs


def test_a_name_a_template_reads_is_needed_with_its_dotted_path() -> None:
    assert needs([("{{ project.name }} {{ nps_links[3] }}", False)]) == {
        "project.name",
        "nps_links",
    }


def test_what_every_send_gives_is_not_needed() -> None:
    source = "{{ contact.first_name }} {{ rep.name }} {{ brand.color }} {{ unsubscribe_url }}"
    assert needs([(source, True)]) == frozenset()


def test_loop_and_set_names_are_local_and_number_indexes_end_the_path() -> None:
    source = (
        "{% for m in case_study.metrics %}{{ m.value }}{% endfor %}"
        "{% set x = 1 %}{{ x }}{{ case_study.metrics[0].label }}{{ webinar['title'] }}"
    )
    assert needs([(source, True)]) == {"case_study.metrics", "webinar.title"}


def test_default_spares_the_last_part_only() -> None:
    assert needs([("{{ project.name | default('our project') }}", False)]) == {"project"}
    assert needs([("{{ project | default('') }}", False)]) == frozenset()
    # A test on a missing value fails in the strict sandbox: it is needed.
    assert needs([("{% if referral.reward_text %}x{% endif %}", False)]) == {"referral.reward_text"}


def test_a_parent_that_is_given_gives_its_children() -> None:
    assert missing({"webinar.join_url", "project.name"}, {"webinar"}) == ("project.name",)
    assert missing({"webinar.join_url"}, {"webinar.title"}) == ("webinar.join_url",)


def test_missing_names_are_said_in_plain_words_once_each() -> None:
    assert say(["project.name", "nps_links"]) == "the eleven survey links and the project's name"
    assert say(["webinar.calendar.ics_url", "webinar.calendar.google_url"]) == (
        "the add-to-calendar links"
    )
    assert requirements.label("article.url") == "the article"


def test_a_variant_needs_what_any_of_its_parts_reads() -> None:
    found = variant_needs(
        "{{ case_study.title }}", "{{ webinar.title }}", "<mjml/>", "{{ task.due }}"
    )
    assert found == {"case_study.title", "webinar.title", "task.due"}
