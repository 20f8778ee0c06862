"""A real election on a one-process chain with real commit certificates, for the verifier's tests.

Blocks are executed by the node's own state machine (ElectionApp over MemoryKV) and certified with
the precommit signatures of seeded validator keys, exactly as a network of honest nodes would
certify them. Tampering helpers then change what one node serves, or what a colluding quorum
certified, so each test can check that the verifier names the node, the height and the record.

Validator, admin and voter keys come from fixed seeds; trustee keys and ballot nonces come from
libsodium (the crypto exposes no seed), so ciphertext bytes differ between runs but no test
depends on them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nacl.signing

from election.app import ElectionApp
from election.kv import MemoryKV
from election.policy import BlockContext, ChainPolicy
from proto.votestore.v1 import election_pb2, ledger_pb2
from tools.verify.ledger_file import LedgerHeader, write_ledger
from votestore import txbuild
from votestore.blocks import GENESIS_RESULTS_ROOT, evidence_root, results_root, tx_root
from votestore.crypto import dkg
from votestore.crypto.attestation import Attester, local_attester
from votestore.crypto.credential import derive_credential_key
from votestore.encoding import block_id, vote_signing_bytes
from votestore.genesis import Genesis, Validator

CHAIN_ID = "verify-test"
T0_MS = 1_700_000_000_000
BLOCK_MS = 1_000
WINDOW_START_MS = T0_MS + 60_000
WINDOW_END_MS = WINDOW_START_MS + 3600 * 1000
ELECTION = "e1"
VOTERS = 6


def seeded_key(label: str) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(label.encode().ljust(32, b"\x00")[:32])


VALIDATOR_KEYS = [seeded_key(f"validator-{i}") for i in range(4)]
OUTSIDER = seeded_key("not-a-validator")
ADMIN = seeded_key("admin")
AUTHORITY = seeded_key("credential-authority")
PROVIDER = seeded_key("identity-provider")
GENESIS = Genesis(
    chain_id=CHAIN_ID,
    genesis_time_ms=T0_MS,
    validators=tuple(
        Validator(i, f"node{i}", bytes(k.verify_key), f"127.0.0.1:{7100 + i}")
        for i, k in enumerate(VALIDATOR_KEYS)
    ),
    admins=(bytes(ADMIN.verify_key),),
)
QUORUM_SIGNERS = (0, 1, 2)


def credential(voter: int) -> bytes:
    return voter.to_bytes(4, "big").rjust(32, b"\x07")


def voter_key(voter: int) -> nacl.signing.SigningKey:
    return derive_credential_key(credential(voter), ELECTION)


def certify(
    header: ledger_pb2.BlockHeader, signers: Sequence[int] = QUORUM_SIGNERS, round_: int = 0
) -> ledger_pb2.CommitCertificate:
    bid = block_id(header)
    cert = ledger_pb2.CommitCertificate(height=header.height, round=round_, block_id=bid)
    for v in signers:
        message = vote_signing_bytes(CHAIN_ID, ledger_pb2.PRECOMMIT, header.height, round_, v, bid)
        cert.signatures.add(validator=v, signature=VALIDATOR_KEYS[v].sign(message).signature)
    return cert


@dataclass
class Chain:
    """Honest nodes' common chain: each block executed, its header filled in, certified."""

    kv: MemoryKV = field(default_factory=MemoryKV)
    blocks: list[ledger_pb2.CommittedBlock] = field(default_factory=list)
    states: list[list[election_pb2.ElectionState]] = field(default_factory=list)
    """The election states after each block (index height - 1), as a node would serve them."""
    time_ms: int = T0_MS

    def __post_init__(self) -> None:
        self.app = ElectionApp(ChainPolicy.from_genesis(GENESIS), self.kv)

    def block(
        self, txs: Sequence[bytes], time_ms: int | None = None, verified: Collection[bytes] = ()
    ) -> list[election_pb2.TxResult]:
        self.time_ms = self.time_ms + BLOCK_MS if time_ms is None else time_ms
        height = self.app.height + 1
        header = ledger_pb2.BlockHeader(
            chain_id=CHAIN_ID,
            height=height,
            time_ms=self.time_ms,
            prev_block_hash=block_id(self.blocks[-1].block.header) if self.blocks else b"",
            tx_root=tx_root(txs),
            app_hash=self.app.app_hash,
            results_hash=results_root(self.blocks[-1].results) if self.blocks else GENESIS_RESULTS_ROOT,
            proposer=height % len(VALIDATOR_KEYS),
            evidence_hash=evidence_root([]),
        )
        outcome = self.app.execute_block(BlockContext(height, self.time_ms), txs, verified)
        self.kv.apply(outcome.writes)
        self.app.commit(outcome)
        block = ledger_pb2.Block(header=header, txs=txs)
        self.blocks.append(
            ledger_pb2.CommittedBlock(block=block, certificate=certify(header), results=outcome.results)
        )
        self.states.append(self.elections())
        return list(outcome.results)

    def elections(self) -> list[election_pb2.ElectionState]:
        records = [self.app.election_state(i) for i in self.app.list_elections()]
        return [r for r in records if r is not None]


def ok(results: Sequence[election_pb2.TxResult]) -> bool:
    return all(r.code == election_pb2.OK for r in results)


@dataclass
class Election:
    """Election e1 with 3 trustees (threshold 2) and VOTERS voters on `chain`."""

    chain: Chain
    trustees: list[tuple[dkg.TrusteeSecrets, election_pb2.Trustee]]
    definition: election_pb2.ElectionCreate

    @classmethod
    def created(cls) -> Election:
        """Height 1: the election recorded, in key generation."""
        trustees = [dkg.new_trustee(f"trustee-{i}", i) for i in (1, 2, 3)]
        definition = election_pb2.ElectionCreate(
            election_id=ELECTION,
            title="Verifier test election",
            contests=[
                txbuild.contest("mayor", ["a", "b", "c"], 1, 1),
                txbuild.contest("council", ["p", "q", "r"], 0, 2),
            ],
            window_start_ms=WINDOW_START_MS,
            window_end_ms=WINDOW_END_MS,
            trustees=[t[1] for t in trustees],
            threshold=2,
            groups=["north", "south"],
            deal_deadline_ms=WINDOW_START_MS - 20_000,
            complaint_window_ms=10_000,
            credential_authority=bytes(AUTHORITY.verify_key),
            identity_provider=bytes(PROVIDER.verify_key),
        )
        election = cls(Chain(), trustees, definition)
        assert ok(election.chain.block([txbuild.election_create(CHAIN_ID, ADMIN, definition)]))
        return election

    @classmethod
    def opened(cls, voters: int = VOTERS, roll_batch: int = 4) -> Election:
        """Heights 1 create, 2 roll and deals, 3 open (at WINDOW_START_MS)."""
        election = cls.created()
        chain = election.chain
        rows = [(bytes(voter_key(v).verify_key), ("north", "south")[v % 2]) for v in range(voters)]
        deals = [election.deal(i) for i in (1, 2, 3)]
        roll = txbuild.roll_batches(CHAIN_ID, AUTHORITY, ELECTION, rows, batch_size=roll_batch)
        assert ok(chain.block([*roll, *deals]))
        assert ok(chain.block([txbuild.open_election(CHAIN_ID, ADMIN, ELECTION)], WINDOW_START_MS))
        return election

    def deal(self, dealer: int) -> bytes:
        secrets, _ = self.trustees[dealer - 1]
        key = nacl.signing.SigningKey(secrets.sign_seed)
        return txbuild.deal(CHAIN_ID, key, self.definition, dealer)

    def state(self) -> election_pb2.ElectionState:
        record = self.chain.app.election_state(ELECTION)
        assert record is not None
        return record

    def ballot(
        self, voter: int, selections: Sequence[Sequence[int]], attest: Attester | None = None
    ) -> bytes:
        """Attested by the election's identity provider unless `attest` says otherwise."""
        return txbuild.ballot(
            CHAIN_ID,
            ELECTION,
            self.definition,
            self.state().election_key,
            credential(voter),
            selections,
            local_attester(PROVIDER, CHAIN_ID, ELECTION) if attest is None else attest,
        )

    def share(self, trustee: int) -> bytes:
        record = self.state()
        secrets, _ = self.trustees[trustee - 1]
        opened = []
        for dealer in record.qualified_dealers:
            deal = self.chain.app.deal(ELECTION, dealer)
            assert deal is not None
            opened.append(
                dkg.open_share(ELECTION, record.definition.trustees, deal, trustee, secrets.enc_secret)
            )
        return txbuild.decryption_share(
            CHAIN_ID,
            nacl.signing.SigningKey(secrets.sign_seed),
            ELECTION,
            trustee,
            dkg.secret_share(opened),
            record.tally_height,
            record.aggregate,
        )

    def count(self) -> None:
        self.chain.block([txbuild.close_election(CHAIN_ID, ADMIN, ELECTION)])
        assert ok(self.chain.block([self.share(1), self.share(2)]))
        assert self.state().phase == election_pb2.COUNTED


SELECTIONS = [[[0], [0, 1]], [[1], []], [[0], [2]], [[2], [1, 2]], [[0], [0]]]
"""Voters 0..4's choices (contest indices per contest); voter 5 abstains."""
EXPECTED_COUNTS = {"mayor": [3, 1, 1], "council": [2, 2, 2]}


def clean_election() -> Election:
    """Created, rolled, keyed, opened; five ballots in two blocks (plus a refused second ballot);
    closed, two shares, counted."""
    election = Election.opened()
    ballots = [election.ballot(v, s) for v, s in enumerate(SELECTIONS)]
    assert ok(election.chain.block(ballots[:3]))
    results = election.chain.block([*ballots[3:], election.ballot(0, [[1], []])])
    assert [r.code for r in results] == [election_pb2.OK, election_pb2.OK, election_pb2.ALREADY_VOTED]
    election.count()
    return election


def recertify(blocks: list[ledger_pb2.CommittedBlock], from_height: int) -> list[ledger_pb2.CommittedBlock]:
    """What a colluding quorum would serve after changing blocks: from `from_height` on, every header
    recomputed (tx root, results root of the previous stored results, parent link) and re-signed."""
    out = [copy(b) for b in blocks]
    for at in range(from_height - 1, len(out)):
        header = out[at].block.header
        header.tx_root = tx_root(out[at].block.txs)
        if at > 0:
            header.prev_block_hash = block_id(out[at - 1].block.header)
            header.results_hash = results_root(out[at - 1].results)
        out[at].certificate.CopyFrom(certify(header))
    return out


def copy(block: ledger_pb2.CommittedBlock) -> ledger_pb2.CommittedBlock:
    out = ledger_pb2.CommittedBlock()
    out.CopyFrom(block)
    return out


Tamper = Callable[[list[ledger_pb2.CommittedBlock], list[election_pb2.ElectionState]], None]


def export(
    directory: Path,
    chain: Chain,
    *,
    tamper: dict[int, Tamper] | None = None,
    blocks: list[ledger_pb2.CommittedBlock] | None = None,
) -> list[Path]:
    """One ledger file per validator, as each would export it; `tamper[i]` changes node i's copy."""
    paths = []
    for validator in GENESIS.validators:
        mine = [copy(b) for b in (blocks if blocks is not None else chain.blocks)]
        states = [election_pb2.ElectionState.FromString(r.SerializeToString()) for r in chain.elections()]
        if tamper and validator.index in tamper:
            tamper[validator.index](mine, states)
        path = directory / f"{validator.name}.ledger"
        height = max((b.block.header.height for b in mine), default=0)
        header = LedgerHeader(
            CHAIN_ID, validator.name, validator.address, GENESIS.hash(), height, height if states else None
        )
        with path.open("wb") as out:
            write_ledger(out, header, states, mine)
        paths.append(path)
    return paths
