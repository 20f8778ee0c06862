"""The `votestore` console entry."""

from __future__ import annotations

import sys

from votestore.errors import VotestoreError


def main() -> None:
    """Errors we raise on purpose become one line and a non-zero exit; that includes a missing
    libdecaf, found while the commands' modules are imported, hence the import in here."""
    try:
        from ops.cli.app import app

        app()
    except VotestoreError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
