"""The root command group and what every command shares."""

from __future__ import annotations

import click

from nurture.config import Settings, SettingsError, get_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
# The installed package's version (pyproject.toml), so it cannot drift from a constant here.
@click.version_option(package_name="nurture", message="nurture %(version)s")
def main() -> None:
    """Nurture: marketing automation and lead nurturing for firms that sell services.

    Settings come from NURTURE_* environment variables (see README.md).
    """


def load_settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
