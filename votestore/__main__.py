"""`python -m votestore` is the `votestore` command; the tools start their child processes this way.

The one module in the kernel that reaches into `ops` (an exception the import contracts name)."""

from ops.cli.main import main

main()
