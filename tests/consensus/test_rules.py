"""Each `upon` rule of Algorithm 1 as a script: events in, exact actions out.

Validator 0 of 4 (f = 1, quorum 3); proposer(h, r) = (h + r) mod 4, so at height 1 the proposers
of rounds 0, 1, 2, 3 are validators 1, 2, 3, 0. Timeouts: propose 300 ms, prevote and precommit
100 ms, plus 50 ms per round.
"""

from __future__ import annotations

import pytest

from tests.consensus.script import Harness

# Validator 0 prevotes A in round 0 and sees a polka for A: it locks A and precommits A.
LOCK_ON_A = """
start
  timeout propose h=1 r=0 300ms
proposal h=1 r=0 vr=-1 from=1 A
  persist prevote h=1 r=0 A
  broadcast prevote h=1 r=0 A
prevote h=1 r=0 from=1 A
prevote h=1 r=0 from=2 A
  timeout prevote h=1 r=0 100ms
  persist precommit h=1 r=0 A lock=0:A valid=0:A proof=3
  broadcast precommit h=1 r=0 A
? state h=1 r=0 step=precommit locked=0:A valid=0:A
"""

# ... then round 0 ends without a decision and round 1 begins (validator 2 proposes).
ROUND_0_FAILS = """
precommit h=1 r=0 from=1 nil
precommit h=1 r=0 from=2 nil
  timeout precommit h=1 r=0 100ms
timeout precommit h=1 r=0
  timeout propose h=1 r=1 350ms
? state h=1 r=1 step=propose locked=0:A valid=0:A
"""

SCRIPTS = {
    "line22_valid_fresh_proposal_gets_prevote": """
start
  timeout propose h=1 r=0 300ms
proposal h=1 r=0 vr=-1 from=1 A
  persist prevote h=1 r=0 A
  broadcast prevote h=1 r=0 A
? state h=1 r=0 step=prevote locked=-1 valid=-1
""",
    "line22_invalid_value_gets_nil": """
start
  timeout propose h=1 r=0 300ms
proposal h=1 r=0 vr=-1 from=1 XA
  persist prevote h=1 r=0 nil
  broadcast prevote h=1 r=0 nil
""",
    "line22_locked_on_other_value_gets_nil": LOCK_ON_A
    + ROUND_0_FAILS
    + """
proposal h=1 r=1 vr=-1 from=2 B
  persist prevote h=1 r=1 nil lock=0:A valid=0:A proof=3
  broadcast prevote h=1 r=1 nil
""",
    "line22_locked_on_same_value_gets_prevote": LOCK_ON_A
    + ROUND_0_FAILS
    + """
proposal h=1 r=1 vr=-1 from=2 A
  persist prevote h=1 r=1 A lock=0:A valid=0:A proof=3
  broadcast prevote h=1 r=1 A
""",
    "line28_polka_in_later_round_unlocks": LOCK_ON_A
    + ROUND_0_FAILS
    + """
prevote h=1 r=1 from=1 B
prevote h=1 r=1 from=2 B
prevote h=1 r=1 from=3 B
timeout propose h=1 r=1
  persist prevote h=1 r=1 nil lock=0:A valid=0:A proof=3
  broadcast prevote h=1 r=1 nil
  timeout prevote h=1 r=1 150ms
timeout prevote h=1 r=1
  persist precommit h=1 r=1 nil lock=0:A valid=0:A proof=3
  broadcast precommit h=1 r=1 nil
precommit h=1 r=1 from=1 nil
precommit h=1 r=1 from=2 nil
  timeout precommit h=1 r=1 150ms
timeout precommit h=1 r=1
  timeout propose h=1 r=2 400ms
proposal h=1 r=2 vr=1 from=3 B
  persist prevote h=1 r=2 B lock=0:A valid=0:A proof=3
  broadcast prevote h=1 r=2 B
""",
    "line28_waits_for_the_polka_of_valid_round": """
start
  timeout propose h=1 r=0 300ms
prevote h=1 r=1 from=1 B
prevote h=1 r=1 from=2 B
  timeout propose h=1 r=1 350ms
proposal h=1 r=1 vr=0 from=2 B
? state h=1 r=1 step=propose
prevote h=1 r=0 from=1 B
prevote h=1 r=0 from=2 B
prevote h=1 r=0 from=3 B
  persist prevote h=1 r=1 B
  broadcast prevote h=1 r=1 B
  timeout prevote h=1 r=1 150ms
  persist precommit h=1 r=1 B lock=1:B valid=1:B proof=3
  broadcast precommit h=1 r=1 B
""",
    "line28_locked_in_later_round_than_valid_round_gets_nil": LOCK_ON_A
    + ROUND_0_FAILS
    + """
prevote h=1 r=0 from=3 B
proposal h=1 r=1 vr=0 from=2 B
? state h=1 r=1 step=propose locked=0:A
""",
    "line34_prevote_quorum_of_mixed_values_sets_timeout_once": """
start
  timeout propose h=1 r=0 300ms
proposal h=1 r=0 vr=-1 from=1 A
  persist prevote h=1 r=0 A
  broadcast prevote h=1 r=0 A
prevote h=1 r=0 from=1 B
prevote h=1 r=0 from=2 nil
  timeout prevote h=1 r=0 100ms
prevote h=1 r=0 from=3 C
timeout prevote h=1 r=0
  persist precommit h=1 r=0 nil
  broadcast precommit h=1 r=0 nil
? state h=1 r=0 step=precommit locked=-1
""",
    "line36_polka_seen_after_precommit_updates_valid_value_only": """
start
  timeout propose h=1 r=0 300ms
proposal h=1 r=0 vr=-1 from=1 A
  persist prevote h=1 r=0 A
  broadcast prevote h=1 r=0 A
prevote h=1 r=0 from=1 nil
prevote h=1 r=0 from=2 A
  timeout prevote h=1 r=0 100ms
timeout prevote h=1 r=0
  persist precommit h=1 r=0 nil
  broadcast precommit h=1 r=0 nil
prevote h=1 r=0 from=3 A
  persist precommit h=1 r=0 nil valid=0:A proof=3
? state h=1 r=0 step=precommit locked=-1 valid=0:A
""",
    "line36_polka_for_invalid_value_does_not_lock": """
start
  timeout propose h=1 r=0 300ms
proposal h=1 r=0 vr=-1 from=1 XA
  persist prevote h=1 r=0 nil
  broadcast prevote h=1 r=0 nil
prevote h=1 r=0 from=1 XA
prevote h=1 r=0 from=2 XA
  timeout prevote h=1 r=0 100ms
prevote h=1 r=0 from=3 XA
? state h=1 r=0 step=prevote locked=-1 valid=-1
""",
    "line44_nil_polka_precommits_nil": """
start
  timeout propose h=1 r=0 300ms
timeout propose h=1 r=0
  persist prevote h=1 r=0 nil
  broadcast prevote h=1 r=0 nil
prevote h=1 r=0 from=1 nil
prevote h=1 r=0 from=2 nil
  timeout prevote h=1 r=0 100ms
  persist precommit h=1 r=0 nil
  broadcast precommit h=1 r=0 nil
""",
    "line47_precommit_quorum_then_timeout_starts_next_round": """
start
  timeout propose h=1 r=0 300ms
precommit h=1 r=0 from=1 nil
precommit h=1 r=0 from=2 A
precommit h=1 r=0 from=3 nil
  timeout precommit h=1 r=0 100ms
timeout precommit h=1 r=0
  timeout propose h=1 r=1 350ms
? state h=1 r=1 step=propose
""",
    "line49_decides_and_starts_next_height": LOCK_ON_A
    + """
precommit h=1 r=0 from=2 A
precommit h=1 r=0 from=1 A
  commit h=1 r=0 A signers=0,1,2
  timeout propose h=2 r=0 300ms
? state h=2 r=0 step=propose locked=-1 valid=-1
""",
    "line49_decides_for_an_earlier_round": """
start
  timeout propose h=1 r=0 300ms
prevote h=1 r=2 from=3 nil
prevote h=1 r=2 from=1 nil
  timeout propose h=1 r=2 400ms
proposal h=1 r=0 vr=-1 from=1 A
precommit h=1 r=0 from=1 A
precommit h=1 r=0 from=2 A
precommit h=1 r=0 from=3 A
  commit h=1 r=0 A signers=1,2,3
  timeout propose h=2 r=0 300ms
""",
    "line49_needs_the_proposal": """
start
  timeout propose h=1 r=0 300ms
precommit h=1 r=0 from=1 A
precommit h=1 r=0 from=2 A
precommit h=1 r=0 from=3 A
  timeout precommit h=1 r=0 100ms
proposal h=1 r=0 vr=-1 from=1 A
  commit h=1 r=0 A signers=1,2,3
  timeout propose h=2 r=0 300ms
""",
    "line55_f_plus_1_from_a_later_round_skips_to_it": """
start
  timeout propose h=1 r=0 300ms
prevote h=1 r=3 from=2 nil
? state h=1 r=0
precommit h=1 r=3 from=1 nil
  request h=1 r=3
  timeout propose h=1 r=3 450ms
value h=1 r=3 C
  persist propose h=1 r=3 C
  broadcast proposal h=1 r=3 vr=-1 C
  persist prevote h=1 r=3 C
  broadcast prevote h=1 r=3 C
""",
    "proposer_with_valid_value_reproposes_it_with_its_polka": LOCK_ON_A
    + """
precommit h=1 r=0 from=1 nil
precommit h=1 r=0 from=2 nil
  timeout precommit h=1 r=0 100ms
prevote h=1 r=3 from=2 nil
prevote h=1 r=3 from=3 nil
  persist propose h=1 r=3 A lock=0:A valid=0:A proof=3
  broadcast proposal h=1 r=3 vr=0 A
  broadcast prevote h=1 r=0 from=1 A
  broadcast prevote h=1 r=0 from=2 A
  timeout propose h=1 r=3 450ms
  persist prevote h=1 r=3 A lock=0:A valid=0:A proof=3
  broadcast prevote h=1 r=3 A
  timeout prevote h=1 r=3 250ms
""",
    "stale_timeouts_and_values_do_nothing": """
start
  timeout propose h=1 r=0 300ms
timeout prevote h=1 r=0
timeout propose h=1 r=5
timeout precommit h=0 r=0
value h=1 r=0 A
? state h=1 r=0 step=propose
? dropped stale_value=1
""",
    "next_height_messages_wait_for_the_decision": LOCK_ON_A
    + """
proposal h=2 r=0 vr=-1 from=2 B
precommit h=1 r=0 from=1 A
precommit h=1 r=0 from=2 A
  commit h=1 r=0 A signers=0,1,2
  timeout propose h=2 r=0 300ms
applied
  persist prevote h=2 r=0 B
  broadcast prevote h=2 r=0 B
""",
    "conflicting_votes_become_evidence_and_both_count": """
start
  timeout propose h=1 r=0 300ms
prevote h=1 r=0 from=2 A
prevote h=1 r=0 from=2 B
  evidence prevote h=1 r=0 from=2 A/B
prevote h=1 r=0 from=2 nil
prevote h=1 r=0 from=2 B
? dropped duplicate=1
""",
    "catch_up_with_a_certificate": """
start
  timeout propose h=1 r=0 300ms
decided h=1 r=4 B signers=1,2
decided h=2 r=0 B signers=1,2,3
decided h=1 r=4 B signers=3,1,2
  commit h=1 r=4 B signers=3,1,2
  timeout propose h=2 r=0 300ms
? dropped bad_certificate=1 future_height=1
""",
    "catch_up_payload_must_be_the_certified_block": """
start
  timeout propose h=1 r=0 300ms
decided h=1 r=0 A signers=1,2,3 payload=B
? dropped bad_payload=1
? state h=1 r=0 step=propose
decided h=1 r=0 A signers=1,2,3
  commit h=1 r=0 A signers=1,2,3
  timeout propose h=2 r=0 300ms
""",
    "next_height_proposal_is_held_to_the_leader_rule_when_replayed": """
start
  timeout propose h=1 r=0 300ms
proposal h=2 r=0 vr=-1 from=3 C
proposal h=2 r=0 vr=-1 from=2 B
decided h=1 r=0 A signers=1,2,3
  commit h=1 r=0 A signers=1,2,3
  timeout propose h=2 r=0 300ms
applied
  persist prevote h=2 r=0 B
  broadcast prevote h=2 r=0 B
? dropped wrong_proposer=1
""",
}


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_upon_rule_script(script: str) -> None:
    Harness().run(script)


# A node at height 2, where validator 2 proposes round 0.
INVALID = {
    "bad_signature": "prevote h=2 r=0 from=2 A sig=bad",
    "not_validator": "prevote h=2 r=0 from=6 A",
    "wrong_proposer": "proposal h=2 r=0 vr=-1 from=1 A",
    "old_height": "prevote h=1 r=0 from=2 A",
    "future_height": "prevote h=4 r=0 from=2 A",
    "round_too_far": "prevote h=2 r=65 from=2 A",
    "malformed": "proposal h=2 r=0 vr=0 from=2 A",
    "duplicate": "precommit h=2 r=0 from=3 nil",
}


@pytest.mark.parametrize(("reason", "line"), INVALID.items(), ids=INVALID.keys())
def test_invalid_message_is_dropped_and_counted(reason: str, line: str) -> None:
    preamble = "start\n  timeout propose h=2 r=0 300ms\n"
    if reason == "duplicate":
        preamble += line + "\n"
    Harness(height=2).run(preamble + line + f"\n? dropped {reason}=1\n? state h=2 r=0 step=propose\n")
