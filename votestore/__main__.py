"""`python -m votestore` is the `votestore` command."""

from votestore.cli.main import main

main()
