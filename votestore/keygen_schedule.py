"""When an election's key generation ends: the one statement of the schedule, read by the ledger's
rules (which enforce it) and by clients (which wait for it instead of being refused).

Deals are accepted until every trustee has dealt or block time reaches the definition's deal
deadline, whichever comes first; complaints are then heard for the definition's complaint window;
only after that may the administrator open the election. Without the window an administrator (or a
dealer with the administrator) could open in the block of the last deal, before an honest trustee
could show that its share does not match the commitments (issue 18, attack 1).
"""

from __future__ import annotations

from typing import Final

from proto.votestore.v1 import election_pb2


def deals_end_ms(record: election_pb2.ElectionState) -> int:
    """Block time at which deals stopped: the block of the last trustee's deal, else the deadline."""
    return record.deals_closed_ms or record.definition.deal_deadline_ms


def deals_accepted(record: election_pb2.ElectionState, block_time_ms: int) -> bool:
    return not record.deals_closed_ms and block_time_ms < record.definition.deal_deadline_ms


def open_allowed_from_ms(record: election_pb2.ElectionState) -> int:
    """The first block time at which `ElectionOpen` may be accepted (the end of the complaints)."""
    return deals_end_ms(record) + record.definition.complaint_window_ms


OPEN_MARGIN_MS: Final = 250
"""What a client adds to the complaint window before it submits an open, for block times that
run a little behind its clock."""


def wait_before_open_s(definition: election_pb2.ElectionCreate) -> float:
    """How long a client that has seen every trustee's deal committed waits before it submits
    `ElectionOpen`: the deals ended no later than now, so the complaint window (and a margin) suffices."""
    return (definition.complaint_window_ms + OPEN_MARGIN_MS) / 1000
