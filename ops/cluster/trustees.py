"""The trustees' part: fresh keys, one deal each, and later a decryption share of the closed tally
computed only from what the ledger holds (the deals and the aggregate bound to the close height)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import nacl.signing

from proto.votestore.v1 import election_pb2, node_pb2
from votestore import txbuild
from votestore.crypto import dkg
from votestore.crypto.errors import DealInvalid, ShareInvalid
from votestore.errors import VotestoreError


class TrusteeError(VotestoreError):
    """A trustee cannot take its part; the message says which trustee and why."""


@dataclass(frozen=True, slots=True)
class Trustee:
    """One key holder: its secrets stay in this process and are never written or logged."""

    secrets: dkg.TrusteeSecrets
    public: election_pb2.Trustee

    @property
    def index(self) -> int:
        return self.secrets.index

    @property
    def key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.secrets.sign_seed)


def new_trustees(count: int) -> list[Trustee]:
    """Trustees 1..count with fresh keys from libsodium."""
    assert count >= 1, count
    return [Trustee(*dkg.new_trustee(f"trustee-{index}", index)) for index in range(1, count + 1)]


def deal_tx(chain_id: str, trustee: Trustee, election: election_pb2.ElectionCreate) -> bytes:
    return txbuild.deal(chain_id, trustee.key, election, trustee.index)


def decryption_share_tx(
    chain_id: str, trustee: Trustee, state: election_pb2.ElectionState, material: node_pb2.KeyMaterial
) -> bytes:
    """Open this trustee's shares of every qualified dealer's recorded deal (each checked against
    its commitments), sum them into the key share, and partially decrypt the recorded aggregate."""
    election = state.definition
    if state.phase != election_pb2.CLOSED or not state.tally_height:
        raise TrusteeError(f"trustee {trustee.index}: election {election.election_id} is not closed")
    deals = {deal.dealer: deal for deal in material.deals}
    missing = sorted(set(state.qualified_dealers) - set(deals))
    if missing:
        raise TrusteeError(f"trustee {trustee.index}: the node serves no deal from dealers {missing}")
    try:
        opened = [
            dkg.open_share(
                election.election_id,
                election.trustees,
                deals[dealer],
                trustee.index,
                trustee.secrets.enc_secret,
            )
            for dealer in state.qualified_dealers
        ]
    except (DealInvalid, ShareInvalid) as exc:
        raise TrusteeError(f"trustee {trustee.index}: {exc}") from None
    return txbuild.decryption_share(
        chain_id,
        trustee.key,
        election.election_id,
        trustee.index,
        dkg.secret_share(opened),
        state.tally_height,
        state.aggregate,
    )


def present(trustees: Sequence[Trustee], absent: int) -> list[Trustee]:
    return [t for t in trustees if t.index != absent]
