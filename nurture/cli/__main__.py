"""`python -m nurture.cli` runs the command line, like the `nurture` script."""

from nurture.cli import main

main()
