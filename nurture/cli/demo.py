"""`nurture demo`: load the demo consultancy and print the logins."""

from __future__ import annotations

from time import perf_counter

import click

from nurture.cli.progress import Progress
from nurture.cli.root import load_settings, main
from nurture.db import session_scope
from nurture.demo import loader as demo
from nurture.demo.broadcasts import seed_demo_broadcast
from nurture.demo.content import seed_demo_content, seed_demo_library
from nurture.demo.experiments import seed_demo_experiment
from nurture.demo.funnel import seed_demo_funnel
from nurture.demo.history import seed_demo_history
from nurture.demo.reviews import seed_demo_reviews
from nurture.demo.sequences import demo_mailer, seed_demo_sequences
from nurture.models import utcnow


@main.command("demo")
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.01, max=10),
    help="Size: 1 is about 800 companies, 5,000 contacts and 100,000+ events.",
)
def demo_command(scale: float) -> None:
    """Load a realistic consultancy's data; safe to run again (it adds only what is missing)."""
    settings = load_settings()
    # A run with nothing to add finishes before any bar is drawn (delay).
    with Progress(unit="rows", delay=0.5) as shown:

        def progress(stage: str, done: int, total: int) -> None:
            # The events stage counts people whose six months of history are stored.
            unit = "contacts' histories" if stage == "events" else stage
            shown.update("demo:", done, total, unit=unit)

        started = perf_counter()
        # The library first: the events name its webinars and link to its stories.
        with session_scope(settings.database_url) as session:
            seed_demo_library(session)
        with session_scope(settings.database_url) as session:
            result = demo.load_demo(session, scale=scale, on_progress=progress)
    seconds = perf_counter() - started
    if result.changed:
        click.echo(
            f"demo loaded in {seconds:.1f} s: added {result.companies_created:,} companies, "
            f"{result.contacts_created:,} contacts, {result.events_created:,} events, "
            f"{result.users_created} users"
        )
    else:
        click.echo(f"demo already loaded; nothing to add ({seconds:.1f} s)")
    click.echo(
        f"the demo holds {result.companies:,} companies, {result.contacts:,} contacts "
        f"and {result.events:,} events"
    )
    with session_scope(settings.database_url) as session:
        templates, segments = seed_demo_content(session)
    if templates or segments:
        click.echo(f"added {templates} starter e-mail templates and {segments} segments")
    with session_scope(settings.database_url) as session:
        sequences = seed_demo_sequences(session, mailer=demo_mailer(settings))
    if sequences:
        click.echo(f"added {sequences} running sequences, with open tasks for the sales reps")
    # Last: contacts enrolled above qualify after their enrolment.
    with session_scope(settings.database_url) as session:
        changes = seed_demo_history(session)
    if changes:
        click.echo(f"added {changes:,} lifecycle changes over six months, for the reports")
    # After the history: scores read the events, qualification reads stages and scores.
    with session_scope(settings.database_url) as session:
        funnel = seed_demo_funnel(session, mailer=demo_mailer(settings))
    if funnel.rules:
        click.echo(f"added {funnel.rules} scoring rules; {funnel.rescored:,} contacts scored")
    if funnel.model:
        click.echo(f"predictive model {funnel.model}")
    if funnel.handoffs:
        click.echo(
            f"{funnel.handoffs} qualified leads handed to sales (one accepted, one recycled);"
            " see the Sales inbox"
        )
    # Last: the test needs the Legal sequence; the newsletter sends to the scored contacts.
    with session_scope(settings.database_url) as session:
        experiment = seed_demo_experiment(session, now=utcnow())
    if experiment:
        click.echo(
            "added a running A/B test of the Legal sequence's case-study subject line"
            f" (results at {settings.base_url}/experiments/{experiment})"
        )
    with session_scope(settings.database_url) as session:
        broadcast = seed_demo_broadcast(session, mailer=demo_mailer(settings), now=utcnow())
    if broadcast:
        click.echo(
            "added a sent newsletter whose test phase picked one of three subject lines"
            f" ({settings.base_url}/broadcasts/{broadcast})"
        )
    with session_scope(settings.database_url) as session:
        reviews = seed_demo_reviews(session, config=demo_mailer(settings).config, now=utcnow())
    if reviews.projects:
        click.echo(
            f"added {reviews.projects} completed projects, {reviews.answers} NPS answers,"
            f" {reviews.testimonials} approved testimonials and {reviews.referrals} referrals"
            f" ({settings.base_url}/reviews)"
        )
    click.echo(f"\nsign in at {settings.base_url}/login with:")
    for user in result.users:
        click.echo(f"  {user.role.value:<9} {user.email:<24} password: {user.password}")
