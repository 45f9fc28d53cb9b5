"""`python -m meso_cli` runs the command line."""

from meso_cli.cli import main

main()
