"""An election with real trustees and voters on a one-process chain: the crypto side of tests.

Trustee keys come from libsodium's randomness (dkg.new_trustee); voters' credential secrets are
fixed per voter number so a voter's roll key is the same in every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import nacl.signing

from proto.votestore.v1 import election_pb2
from tests.ledger.harness import (
    ADMIN,
    AUTHORITY,
    CHAIN_ID,
    WINDOW_START_MS,
    Chain,
    attester,
    code,
    create,
    definition,
)
from votestore import txbuild
from votestore.crypto import dkg
from votestore.crypto.attestation import Attester
from votestore.crypto.credential import derive_credential_key

ELECTION = "e1"


@dataclass(frozen=True, slots=True)
class TrusteeKit:
    index: int
    secrets: dkg.TrusteeSecrets
    public: election_pb2.Trustee

    @property
    def key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.secrets.sign_seed)


def new_trustees(n: int) -> list[TrusteeKit]:
    kits = []
    for index in range(1, n + 1):
        secrets, public = dkg.new_trustee(f"trustee-{index}", index)
        kits.append(TrusteeKit(index, secrets, public))
    return kits


def credential(voter: int) -> bytes:
    return voter.to_bytes(4, "big").rjust(32, b"\x07")


def voter_key(voter: int, election_id: str = ELECTION) -> bytes:
    return bytes(derive_credential_key(credential(voter), election_id).verify_key)


def group_of(voter: int) -> str:
    return ("north", "south")[voter % 2]


@dataclass
class Election:
    """A chain holding election e1 with its trustees; helpers build each kind of transaction."""

    chain: Chain
    trustees: list[TrusteeKit]
    definition: election_pb2.ElectionCreate

    @classmethod
    def created(cls, n: int = 3, threshold: int = 2, voters: int = 0) -> Election:
        trustees = new_trustees(n)
        election = cls(Chain(), trustees, definition(ELECTION, [t.public for t in trustees], threshold))
        assert election.chain.one(create(election.definition)) == "OK"
        if voters:
            rows = [(voter_key(v), group_of(v)) for v in range(voters)]
            txs = txbuild.roll_batches(CHAIN_ID, AUTHORITY, ELECTION, rows, batch_size=500)
            assert {code(r) for r in election.chain.block(txs)} == {"OK"}
        return election

    def deal(self, dealer: int) -> bytes:
        kit = self.trustees[dealer - 1]
        return txbuild.deal(CHAIN_ID, kit.key, self.definition, dealer)

    def open(self) -> bytes:
        return txbuild.open_election(CHAIN_ID, ADMIN, ELECTION)

    def close(self) -> bytes:
        return txbuild.close_election(CHAIN_ID, ADMIN, ELECTION)

    def opened(self, dealers: Sequence[int] = (1, 2, 3)) -> Election:
        """Deal (by `dealers`), then open once the complaint window has passed, at block time
        WINDOW_START_MS."""
        results = self.chain.block([self.deal(d) for d in dealers])
        assert [code(r) for r in results] == ["OK"] * len(dealers), results
        assert self.chain.one(self.open(), WINDOW_START_MS) == "OK"
        return self

    @property
    def key(self) -> bytes:
        return self.chain.state(ELECTION).election_key

    def ballot(
        self, voter: int, selections: Sequence[Sequence[int]], attest: Attester | None = None
    ) -> bytes:
        """Voter `voter`'s ballot, attested by the election's identity provider unless `attest`."""
        return txbuild.ballot(
            CHAIN_ID,
            ELECTION,
            self.definition,
            self.key,
            credential(voter),
            selections,
            attester(ELECTION) if attest is None else attest,
        )

    def secret_share(self, trustee: int) -> bytes:
        record = self.chain.state(ELECTION)
        kit = self.trustees[trustee - 1]
        opened = []
        for dealer in record.qualified_dealers:
            deal = self.chain.app.deal(ELECTION, dealer)
            assert deal is not None
            opened.append(
                dkg.open_share(ELECTION, record.definition.trustees, deal, trustee, kit.secrets.enc_secret)
            )
        return dkg.secret_share(opened)

    def share(self, trustee: int, tally_height: int | None = None) -> bytes:
        record = self.chain.state(ELECTION)
        height = record.tally_height if tally_height is None else tally_height
        return txbuild.decryption_share(
            CHAIN_ID,
            self.trustees[trustee - 1].key,
            ELECTION,
            trustee,
            self.secret_share(trustee),
            height,
            record.aggregate,
        )
