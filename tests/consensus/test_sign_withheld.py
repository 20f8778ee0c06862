"""Signing held back, then allowed (issue 19): a validator whose amnesia guard kept it from signing
casts its votes in silence; when the guard lets it sign at the current height, `SignWithheld`
has it sign and send the current round's. Found in a real 4-process run (test_catchup_liar):
three validators up, one of them lying about its height, so the other two signed only after its
first prevote — by then they had left the prevote step in silence, no validator ever held the
2f+1 prevotes that start timeoutPrevote, and height 1 stalled for good."""

from __future__ import annotations

from node.consensus import VoteType
from node.signing_gate import NEVER
from tests.consensus.script import Harness


def _silent(index: int = 3) -> Harness:
    harness = Harness(index=index)
    harness.core.sign_from(NEVER)
    return harness


def test_the_prevote_cast_in_silence_is_signed_and_sent_when_signing_is_allowed() -> None:
    harness = _silent()
    harness.run(
        """
start
  timeout propose h=1 r=0 300ms
timeout propose h=1 r=0
? state h=1 r=0 step=prevote
prevote h=1 r=0 from=1 nil
"""
    )
    harness.core.sign_from(1)
    harness.run(
        """
sign_withheld
  persist prevote h=1 r=0 nil
  broadcast prevote h=1 r=0 from=3 nil
prevote h=1 r=0 from=2 nil
  timeout prevote h=1 r=0 100ms
  persist precommit h=1 r=0 nil
  broadcast precommit h=1 r=0 from=3 nil
"""
    )
    assert harness.core.refused_signatures == 0


def test_a_silent_precommit_goes_out_after_its_prevote_and_keeps_its_lock() -> None:
    harness = _silent()
    harness.run(
        """
start
  timeout propose h=1 r=0 300ms
proposal h=1 r=0 vr=-1 from=1 A
prevote h=1 r=0 from=0 A
prevote h=1 r=0 from=1 A
prevote h=1 r=0 from=2 A
  timeout prevote h=1 r=0 100ms
? state h=1 r=0 step=precommit locked=0:A
"""
    )
    harness.core.sign_from(1)
    harness.run(
        """
sign_withheld
  persist prevote h=1 r=0 A lock=0:A valid=0:A proof=3
  broadcast prevote h=1 r=0 from=3 A
  persist precommit h=1 r=0 A lock=0:A valid=0:A proof=4
  broadcast precommit h=1 r=0 from=3 A
"""
    )


def test_nothing_is_signed_while_the_guard_holds_or_for_an_earlier_round() -> None:
    harness = _silent()
    harness.run(
        """
start
  timeout propose h=1 r=0 300ms
timeout propose h=1 r=0
sign_withheld
prevote h=1 r=1 from=1 nil
prevote h=1 r=1 from=2 nil
  timeout propose h=1 r=1 350ms
"""
    )
    harness.core.sign_from(1)
    harness.run("sign_withheld")  # round 0's prevote is history: round 1 has cast nothing yet
    assert VoteType.PREVOTE not in {v.type for v in harness.core.held_votes() if v.validator == 3}


def test_a_proposal_made_in_silence_goes_out_late_with_the_valid_round_it_had() -> None:
    """A fresh cluster's first proposer is always still waiting when it proposes: without this,
    height 1's round 0 was lost to timeoutPropose whenever the guard let it sign a moment late."""
    harness = _silent(index=1)
    harness.run(
        """
start
  request h=1 r=0
  timeout propose h=1 r=0 300ms
value h=1 r=0 A
"""
    )
    harness.core.sign_from(1)
    harness.run(
        """
sign_withheld
  persist propose h=1 r=0 A
  broadcast proposal h=1 r=0 vr=-1 A
  persist prevote h=1 r=0 A
  broadcast prevote h=1 r=0 from=1 A
"""
    )
