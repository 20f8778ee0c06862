"""An election on a live cluster, driven as its administrator and trustees would: create, roll,
deal, open before the load; close, decryption shares and the result after it.

Voters are numbered; a voter's credential secret and choice follow from the number alone, so the
expected count of any set of accepted ballots can be recomputed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import nacl.signing

from ops.roles import ElectionRoles
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.ballot import credential_public_key
from votestore.client.node import NodeClient
from votestore.crypto import dkg
from votestore.keygen_schedule import wait_before_open_s

ELECTION_ID: Final = "chaos-2026"
CONTEST: Final = "c1"
CHOICES: Final = ("a", "b", "c", "d")
TRUSTEES: Final = 3
THRESHOLD: Final = 2
ROLL_BATCH: Final = 500
SETUP_COMMIT_S: Final = 60.0
WINDOW_MS: Final = 24 * 3600 * 1000
KEYGEN_DEADLINE_MS: Final = 600_000
COMPLAINT_WINDOW_MS: Final = 1_000


def credential(voter: int) -> bytes:
    assert 0 <= voter < 2**32, voter
    return voter.to_bytes(4, "big").rjust(32, b"\x0c")


def choice(voter: int) -> int:
    return voter * 7 % len(CHOICES)


@dataclass(frozen=True, slots=True)
class Trustee:
    secrets: dkg.TrusteeSecrets
    public: election_pb2.Trustee

    @property
    def key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.secrets.sign_seed)


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


def _commit_all(node: NodeClient, txs: Sequence[bytes]) -> None:
    for raw in txs:
        node.submit_and_wait(raw, SETUP_COMMIT_S)


def open_election(node: NodeClient, admin: nacl.signing.SigningKey, voters: int) -> LiveElection:
    """Create the election with a roll of `voters`, run key generation, open it."""
    chain_id = node.chain_id()
    trustees = tuple(Trustee(*dkg.new_trustee(f"trustee-{i}", i)) for i in range(1, TRUSTEES + 1))
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
    _commit_all(node, [txbuild.election_create(chain_id, admin, definition)])
    rows = [(credential_public_key(credential(v), ELECTION_ID), "") for v in range(voters)]
    _commit_all(node, txbuild.roll_batches(chain_id, roles.authority, ELECTION_ID, rows, ROLL_BATCH))
    _commit_all(
        node,
        [txbuild.deal(chain_id, t.key, definition, t.secrets.index) for t in trustees],
    )
    time.sleep(wait_before_open_s(definition))
    node.commit_when_due(txbuild.open_election(chain_id, admin, ELECTION_ID), SETUP_COMMIT_S)
    return LiveElection(chain_id, admin, definition, trustees, voters, roles)


def close_and_count(node: NodeClient, election: LiveElection) -> election_pb2.ElectionResult:
    """Close, have THRESHOLD trustees decrypt the recorded aggregate, and return the result."""
    _commit_all(node, [txbuild.close_election(election.chain_id, election.admin, election.election_id)])
    state = node.election(election.election_id)
    deals = {d.dealer: d for d in node.key_material(election.election_id).deals}
    shares = []
    for trustee in election.trustees[:THRESHOLD]:
        index = trustee.secrets.index
        opened = [
            dkg.open_share(
                election.election_id,
                election.definition.trustees,
                deals[dealer],
                index,
                trustee.secrets.enc_secret,
            )
            for dealer in state.qualified_dealers
        ]
        shares.append(
            txbuild.decryption_share(
                election.chain_id,
                trustee.key,
                election.election_id,
                index,
                dkg.secret_share(opened),
                state.tally_height,
                state.aggregate,
            )
        )
    _commit_all(node, shares)
    result: election_pb2.ElectionResult = node.election(election.election_id).result
    return result


def expected_counts(voters: Iterable[int]) -> list[int]:
    counts = [0] * len(CHOICES)
    for voter in voters:
        counts[choice(voter)] += 1
    return counts
