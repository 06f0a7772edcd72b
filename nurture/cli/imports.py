"""`nurture import contacts FILE`: CSV import with progress and a report."""

from __future__ import annotations

from pathlib import Path

import click

from nurture.cli.progress import Progress
from nurture.cli.root import load_settings, main
from nurture.csv_cells import csv_writer
from nurture.db import session_scope
from nurture.errors import DomainError
from nurture.imports.csv_file import TARGETS
from nurture.imports.importer import ImportReport, RejectedLine, import_contacts

SHOWN_REJECTS = 20


@main.group("import")
def import_group() -> None:
    """Bring data in from files."""


def _parse_maps(values: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        header, sep, target = value.rpartition("=")
        if not sep or not header.strip():
            raise click.BadParameter(f"{value!r}: write it as 'Header=field'", param_hint="--map")
        mapping[header.strip()] = target.strip()
    return mapping


@import_group.command("contacts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="HEADER=FIELD",
    help=(
        "Map a column to a field (repeatable): "
        f"{', '.join(TARGETS)}, attributes.<name>, or - to skip it. "
        "Other columns map by name; unknown ones become attributes."
    ),
)
@click.option("--dry-run", is_flag=True, help="Check every row and count; write nothing.")
@click.option(
    "--rejected-out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write every rejected line (line, reason) to this CSV file.",
)
def import_contacts_command(
    file: Path, maps: tuple[str, ...], dry_run: bool, rejected_out: Path | None
) -> None:
    """Create or update contacts from a CSV file (UTF-8; the header is line 1).

    Rows are matched by e-mail; empty cells leave stored values alone; when an
    e-mail appears twice the later row wins. Bad rows are reported and skipped.
    """
    mapping = _parse_maps(maps)
    settings = load_settings()
    out = rejected_out.open("w", newline="", encoding="utf-8") if rejected_out else None
    writer = csv_writer(out) if out else None
    if writer:
        writer.writerow(["line", "reason"])

    def keep(rejected: RejectedLine) -> None:
        if writer:
            writer.writerow([rejected.line, rejected.reason])

    shown = Progress(unit="rows")
    # A dry run writes nothing: its progress says what it has checked.
    verb = "checked" if dry_run else "imported"

    def progress(report: ImportReport, total: int) -> None:
        shown.update(f"{file.name}: {verb}", report.rows, total)

    try:
        with session_scope(settings.database_url) as session:
            report = import_contacts(
                session,
                file,
                actor="cli",
                mapping=mapping,
                dry_run=dry_run,
                on_progress=progress,
                on_rejected=keep,
            )
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        shown.close()
        if out:
            out.close()
    _print_report(file, report, rejected_out)


def _print_report(file: Path, report: ImportReport, rejected_out: Path | None) -> None:
    if report.dry_run:
        click.echo("dry run: nothing was written; this is what the import would do")
    click.echo(
        f"{file.name}: {report.rows:,} rows in {report.seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s)"
    )
    for label, count in (
        ("created", report.created),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("rejected", report.rejected_count),
    ):
        click.echo(f"  {label:<10} {count:>9,}")
    if report.rejected:
        shown = report.rejected[:SHOWN_REJECTS]
        click.echo(f"rejected lines (first {len(shown)} of {report.rejected_count:,}):")
        for rejected in shown:
            click.echo(f"  {rejected.describe()}")
    if rejected_out is None:
        return
    if report.rejected_count:
        lines = "line" if report.rejected_count == 1 else "lines"
        click.echo(f"all {report.rejected_count:,} rejected {lines} written to {rejected_out}")
    else:
        click.echo(f"no rejected lines; {rejected_out} holds only its header")
