"""The `nurture` command line. Each command group lives in its own module.

Composition root: it may import every floor; nothing below imports it.
"""

from __future__ import annotations

from nurture.cli import accounts as _accounts
from nurture.cli import database as _database
from nurture.cli import demo as _demo  # noqa: F401  (registers demo)
from nurture.cli import imports as _imports  # noqa: F401  (registers import contacts)
from nurture.cli import inbound as _inbound  # noqa: F401  (registers inbound)
from nurture.cli import serve as _serve  # noqa: F401  (registers serve, worker)
from nurture.cli.root import main

# Importing registers the groups' commands on `main`.
__all__ = ["_accounts", "_database", "main"]
