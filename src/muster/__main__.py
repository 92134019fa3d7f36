"""Run the `muster` command as `python -m muster`."""

from muster.cli import main

main()
