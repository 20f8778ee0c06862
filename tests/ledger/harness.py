"""A chain in one process: the election app over a MemoryKV, blocks driven by hand.

Keys come from fixed seeds so every run signs the same bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import nacl.signing
import rbcl

from election.app import BlockOutcome, ElectionApp
from election.kv import MemoryKV
from election.policy import BlockContext, ChainPolicy
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.crypto.attestation import Attester, local_attester

CHAIN_ID = "test-chain"
T0_MS = 1_700_000_000_000
BLOCK_MS = 1_000
WINDOW_START_MS = T0_MS + 60_000
WINDOW_END_MS = WINDOW_START_MS + 24 * 3600 * 1000
DEAL_DEADLINE_MS = T0_MS + 30_000
COMPLAINT_WINDOW_MS = 10_000
"""Deals end by T0 + 30 s, complaints 10 s later: an election may open at WINDOW_START_MS."""


def seeded_key(label: str) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(label.encode().ljust(32, b"\x00")[:32])


ADMIN = seeded_key("admin")
AUTHORITY = seeded_key("credential-authority")
"""The credential authority the test definitions name: the one key that may append to the roll."""
PROVIDER = seeded_key("identity-provider")
"""The identity provider the test definitions name: every ballot carries its attestation."""
POLICY = ChainPolicy(CHAIN_ID, frozenset({bytes(ADMIN.verify_key)}))


def seeded_point(label: str) -> bytes:
    scalar = rbcl.crypto_core_ristretto255_scalar_reduce(label.encode().ljust(64, b"\x01")[:64])
    return bytes(rbcl.crypto_scalarmult_ristretto255_base(scalar))


def code(result: election_pb2.TxResult) -> str:
    return election_pb2.ResultCode.Name(result.code)


@dataclass
class Chain:
    """Blocks one second apart, each executed, applied to the KV and committed."""

    policy: ChainPolicy = POLICY
    kv: MemoryKV = field(default_factory=MemoryKV)
    time_ms: int = T0_MS
    outcomes: list[BlockOutcome] = field(default_factory=list)
    blocks: list[tuple[BlockContext, list[bytes]]] = field(default_factory=list)
    """Every executed block, so a fresh replica can replay the chain."""

    def __post_init__(self) -> None:
        self.app = ElectionApp(self.policy, self.kv)

    def block(
        self, txs: Sequence[bytes], time_ms: int | None = None, verified: Collection[bytes] = ()
    ) -> list[election_pb2.TxResult]:
        self.time_ms = self.time_ms + BLOCK_MS if time_ms is None else time_ms
        ctx = BlockContext(self.app.height + 1, self.time_ms)
        outcome = self.app.execute_block(ctx, txs, verified)
        self.blocks.append((ctx, list(txs)))
        self.kv.apply(outcome.writes)
        self.app.commit(outcome)
        self.outcomes.append(outcome)
        return list(outcome.results)

    def replay(self) -> Chain:
        """A fresh replica fed the same blocks, as the verifier does."""
        replica = Chain(self.policy)
        for ctx, txs in self.blocks:
            replica.block(txs, ctx.time_ms)
        return replica

    def one(self, tx: bytes, time_ms: int | None = None) -> str:
        """Run `tx` alone in a block; its result code's name."""
        return code(self.block([tx], time_ms)[0])

    def state(self, election_id: str) -> election_pb2.ElectionState:
        record = self.app.election_state(election_id)
        assert record is not None
        return record


def definition(
    election_id: str = "e1",
    trustees: Sequence[election_pb2.Trustee] = (),
    threshold: int = 1,
    groups: Sequence[str] = ("north", "south"),
    window: tuple[int, int] = (WINDOW_START_MS, WINDOW_END_MS),
) -> election_pb2.ElectionCreate:
    """Two contests: pick 1 of 4, and up to 2 of 5."""
    if not trustees:
        trustees = [
            election_pb2.Trustee(
                name=f"t{i}", sign_key=bytes(seeded_key(f"t{i}").verify_key), enc_key=seeded_point(f"t{i}")
            )
            for i in (1, 2, 3)
        ]
    return election_pb2.ElectionCreate(
        election_id=election_id,
        title="Test election",
        contests=[
            txbuild.contest("mayor", ["a", "b", "c", "d"], 1, 1),
            txbuild.contest("council", ["p", "q", "r", "s", "t"], 0, 2),
        ],
        window_start_ms=window[0],
        window_end_ms=window[1],
        trustees=trustees,
        threshold=threshold,
        groups=groups,
        deal_deadline_ms=DEAL_DEADLINE_MS,
        complaint_window_ms=COMPLAINT_WINDOW_MS,
        credential_authority=bytes(AUTHORITY.verify_key),
        identity_provider=bytes(PROVIDER.verify_key),
    )


def attester(election_id: str, key: nacl.signing.SigningKey = PROVIDER) -> Attester:
    """The test identity provider attesting every ask (its identity check is the gateway's to test)."""
    return local_attester(key, CHAIN_ID, election_id)


def create(election: election_pb2.ElectionCreate) -> bytes:
    return txbuild.election_create(CHAIN_ID, ADMIN, election)
