"""`python -m streams` is the `basin` command."""

from streams.cli import main

main(prog_name="basin")
