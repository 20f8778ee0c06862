"""The one rule for identifiers in election definitions (election, contest, choice and group
ids): 1..MAX_ID_BYTES characters of [A-Za-z0-9._-], starting with a letter or digit. The
election rules refuse a definition that breaks it; the node's and gateway's read APIs refuse a
request naming such an id as INVALID_ARGUMENT (it can name no election), before any lookup."""

from __future__ import annotations

import re
from typing import Final

MAX_ID_BYTES: Final = 64
ID_PATTERN: Final = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_ID_BYTES - 1}}}")
ID_RULE: Final = f"1..{MAX_ID_BYTES} of [A-Za-z0-9._-], starting with a letter or digit"


def valid_id(ident: str) -> bool:
    return ID_PATTERN.fullmatch(ident) is not None


def id_problem(what: str, ident: str) -> str | None:
    """None for a valid id, else a one-line reason that quotes at most MAX_ID_BYTES of it
    (repr, so a NUL or a newline shows as an escape, never breaks a log line)."""
    if valid_id(ident):
        return None
    return f"{what} id {ident[:MAX_ID_BYTES]!r} is not {ID_RULE}"
