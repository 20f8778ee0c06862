"""The voter page tells Attest's two RESOURCE_EXHAUSTED apart by the message's opening words
(web/src/app/attest_status.js): these must stay the opening words of the Python provider's
failure-limit refusal, and must not open its request-rate refusal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from gateway.attest import FAILED_CHECKS_REFUSAL
from gateway.identity_server import CLIENT_RATE_REFUSAL

MODULE: Final = Path(__file__).resolve().parents[2] / "web" / "src" / "app" / "attest_status.js"


def _mark() -> str:
    found = re.search(r'^export const FAILED_CHECKS_MARK = "([^"\\]+)";$', MODULE.read_text(), re.MULTILINE)
    assert found, f"{MODULE} no longer declares FAILED_CHECKS_MARK as a plain string"
    return found.group(1)


def test_the_page_reads_the_failure_limit_from_the_providers_own_message() -> None:
    mark = _mark()
    assert FAILED_CHECKS_REFUSAL.startswith(mark)
    assert not CLIENT_RATE_REFUSAL.startswith(mark)
    assert not "client over its request rate; retry in 1.0s".startswith(mark)  # the gateway's own
