"""The chaos run's election on a live cluster, driven through ops.cluster.election as its
administrator and trustees would: create, roll, deal, open before the load; close, decryption
shares and the result after it.

Voters are numbered; a voter's credential secret and choice follow from the number alone, so the
expected count of any set of accepted ballots can be recomputed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import nacl.signing

from ops.cluster import election
from ops.cluster.trustees import Trustee, new_trustees
from ops.roles import ElectionRoles
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.ballot import credential_public_key
from votestore.client.node import NodeClient

ELECTION_ID: Final = "chaos-2026"
CONTEST: Final = "c1"
CHOICES: Final = ("a", "b", "c", "d")
TRUSTEES: Final = 3
THRESHOLD: Final = 2
ROLL_BATCH: Final = 500
WINDOW_MS: Final = 24 * 3600 * 1000
KEYGEN_DEADLINE_MS: Final = 600_000
COMPLAINT_WINDOW_MS: Final = 1_000


def credential(voter: int) -> bytes:
    assert 0 <= voter < 2**32, voter
    return voter.to_bytes(4, "big").rjust(32, b"\x0c")


def choice(voter: int) -> int:
    return voter * 7 % len(CHOICES)


@dataclass(frozen=True, slots=True)
class LiveElection:
    chain_id: str
    admin: nacl.signing.SigningKey
    definition: election_pb2.ElectionCreate
    trustees: tuple[Trustee, ...]
    voters: int
    roles: ElectionRoles

    @property
    def election_id(self) -> str:
        return self.definition.election_id


def open_election(node: NodeClient, admin: nacl.signing.SigningKey, voters: int) -> LiveElection:
    """Create the election with a roll of `voters`, run key generation, open it."""
    chain_id = node.chain_id()
    trustees = tuple(new_trustees(TRUSTEES))
    now = int(time.time() * 1000)
    definition = election_pb2.ElectionCreate(
        election_id=ELECTION_ID,
        title="chaos run",
        contests=[txbuild.contest(CONTEST, list(CHOICES), 1, 1)],
        window_start_ms=now - 1000,
        window_end_ms=now + WINDOW_MS,
        trustees=[t.public for t in trustees],
        threshold=THRESHOLD,
        deal_deadline_ms=now + KEYGEN_DEADLINE_MS,
        complaint_window_ms=COMPLAINT_WINDOW_MS,
    )
    roles = ElectionRoles.fresh()
    roles.name_in(definition)
    rows = [(credential_public_key(credential(v), ELECTION_ID), "") for v in range(voters)]
    election.set_up(node, chain_id, admin, roles.authority, trustees, definition, rows, ROLL_BATCH)
    return LiveElection(chain_id, admin, definition, trustees, voters, roles)


def close_and_count(node: NodeClient, live: LiveElection) -> election_pb2.ElectionResult:
    """Close, have THRESHOLD trustees decrypt the recorded aggregate, and return the result."""
    election.close(node, live.chain_id, live.admin, live.election_id)
    state, _ = election.tally(node, live.chain_id, live.trustees[:THRESHOLD], live.election_id)
    return state.result


def expected_counts(voters: Iterable[int]) -> list[int]:
    counts = [0] * len(CHOICES)
    for voter in voters:
        counts[choice(voter)] += 1
    return counts
