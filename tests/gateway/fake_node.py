"""An in-process stand-in for four validators' `Node` services, for the gateway's unit tests.

A fake, so it judges ballots with a few plain rules (signature, election, phase, roll, first
ballot counts, proofs) and "commits" when a test says so, with real certificates signed by the
seeded validator keys so receipts check offline exactly as real ones. Each validator can be told
to be down, to answer a fixed refusal, or to lie about proofs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
import nacl.signing

from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from votestore import txbuild
from votestore.crypto import attestation, group
from votestore.crypto.ballot import verify_ballot
from votestore.crypto.credential import derive_credential_key
from votestore.crypto.errors import BallotInvalid
from votestore.encoding import (
    block_id,
    canonical,
    decode_signed_tx,
    tx_hash,
    verify_signed_tx,
    vote_signing_bytes,
)
from votestore.errors import DecodeError, SignatureError
from votestore.genesis import Genesis, Validator
from votestore.hashing import merkle_path, merkle_root

CHAIN_ID = "gateway-test"
T0_MS = 1_700_000_000_000
ELECTION = "e1"
ELECTION_SECRET = 0x1234567


def seeded_key(label: str) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(label.encode().ljust(32, b"\x00")[:32])


def credential(n: int) -> bytes:
    return f"voter-{n}".encode().ljust(32, b"\x00")


VALIDATOR_KEYS = [seeded_key(f"validator-{i}") for i in range(4)]
ADMIN = seeded_key("admin")
AUTHORITY = seeded_key("credential-authority")
PROVIDER = seeded_key("identity-provider")


def definition(election_id: str = ELECTION) -> election_pb2.ElectionCreate:
    return election_pb2.ElectionCreate(
        election_id=election_id,
        title="Test",
        contests=[
            txbuild.contest("mayor", ["a", "b", "c"], 1, 1),
            txbuild.contest("council", ["p", "q", "r"], 0, 2),
        ],
        window_start_ms=T0_MS,
        window_end_ms=T0_MS + 3600_000,
        groups=["north", "south"],
        credential_authority=bytes(AUTHORITY.verify_key),
        identity_provider=bytes(PROVIDER.verify_key),
    )


def election_state(election_id: str = ELECTION, phase: int = election_pb2.OPEN) -> election_pb2.ElectionState:
    return election_pb2.ElectionState(
        definition=definition(election_id),
        phase=phase,  # type: ignore[arg-type]
        election_key=group.base_mult(ELECTION_SECRET),
        roll_size=4,
    )


def result(code: int, detail: str = "") -> election_pb2.TxResult:
    return election_pb2.TxResult(code=code, detail=detail)  # type: ignore[arg-type]


@dataclass
class Block:
    header: ledger_pb2.BlockHeader
    txs: list[bytes]
    certificate: ledger_pb2.CommitCertificate
    results: list[election_pb2.TxResult]


@dataclass
class Ledger:
    """The shared 'agreed' state all fake validators read."""

    elections: dict[str, election_pb2.ElectionState] = field(default_factory=dict)
    roll: dict[str, set[bytes]] = field(default_factory=dict)
    voted: dict[tuple[str, bytes], bytes] = field(default_factory=dict)
    mempool: dict[bytes, bytes] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    index: dict[bytes, tuple[int, int]] = field(default_factory=dict)
    committed_event: asyncio.Condition = field(default_factory=asyncio.Condition)
    admitted: asyncio.Event = field(default_factory=asyncio.Event)

    def add_election(self, state: election_pb2.ElectionState, voters: range) -> None:
        election_id = state.definition.election_id
        self.elections[election_id] = state
        self.roll[election_id] = {
            bytes(derive_credential_key(credential(n), election_id).verify_key) for n in voters
        }
        state.roll_size = len(voters)

    def judge(self, raw: bytes) -> election_pb2.TxResult:
        try:
            envelope, tx = decode_signed_tx(raw)
            verify_signed_tx(CHAIN_ID, envelope, tx)
        except DecodeError as exc:
            return result(election_pb2.MALFORMED, str(exc))
        except SignatureError as exc:
            return result(election_pb2.BAD_SIGNATURE, str(exc))
        if not tx.HasField("ballot"):
            return result(election_pb2.NOT_AUTHORIZED, "fake takes ballots only")
        election_id = tx.ballot.election_id
        state = self.elections.get(election_id)
        if state is None:
            return result(election_pb2.UNKNOWN_ELECTION, "no such election")
        if state.phase != election_pb2.OPEN:
            return result(election_pb2.WRONG_PHASE, "election not open")
        if envelope.signer not in self.roll[election_id]:
            return result(election_pb2.NOT_IN_ROLL, "signer not in the roll")
        earlier = self.voted.get((election_id, envelope.signer))
        if earlier is not None and earlier != tx_hash(raw):
            return result(election_pb2.ALREADY_VOTED, "first ballot counts")
        why = attestation.problem(state.definition.identity_provider, CHAIN_ID, envelope.signer, tx.ballot)
        if why is not None:
            return result(election_pb2.BAD_ATTESTATION, why)
        try:
            verify_ballot(election_id, state.definition, state.election_key, tx.ballot, voter=envelope.signer)
        except BallotInvalid as exc:
            return result(election_pb2.BAD_PROOF, exc.reason)
        return result(election_pb2.OK)

    def admit(self, raw: bytes) -> None:
        envelope, tx = decode_signed_tx(raw)
        self.voted[(tx.ballot.election_id, envelope.signer)] = tx_hash(raw)
        self.mempool[tx_hash(raw)] = raw
        self.admitted.set()

    async def commit(self, signers: tuple[int, ...] = (0, 1, 2)) -> Block:
        """Everything in the mempool becomes the next block, certified by `signers`."""
        txs = list(self.mempool.values())
        self.mempool.clear()
        height = len(self.blocks) + 1
        previous = self.blocks[-1] if self.blocks else None
        header = ledger_pb2.BlockHeader(
            chain_id=CHAIN_ID,
            height=height,
            time_ms=T0_MS + height * 1000,
            prev_block_hash=block_id(previous.header) if previous else b"",
            tx_root=merkle_root(txs),
            results_hash=merkle_root([canonical(r) for r in previous.results]) if previous else b"",
        )
        identity = block_id(header)
        certificate = ledger_pb2.CommitCertificate(height=height, round=0, block_id=identity)
        for i in signers:
            message = vote_signing_bytes(CHAIN_ID, ledger_pb2.PRECOMMIT, height, 0, i, identity)
            certificate.signatures.add(validator=i, signature=VALIDATOR_KEYS[i].sign(message).signature)
        results = [result(election_pb2.OK) for _ in txs]
        block = Block(header, txs, certificate, results)
        self.blocks.append(block)
        for position, raw in enumerate(txs):
            self.index[tx_hash(raw)] = (height, position)
            _, tx = decode_signed_tx(raw)
            self.elections[tx.ballot.election_id].ballots += 1
        async with self.committed_event:
            self.committed_event.notify_all()
        return block

    def proof(self, code: bytes) -> ledger_pb2.TxProof | None:
        if code in self.mempool:
            return ledger_pb2.TxProof(tx_hash=code, tx=self.mempool[code])
        if code not in self.index:
            return None
        height, position = self.index[code]
        block = self.blocks[height - 1]
        proof = ledger_pb2.TxProof(
            tx_hash=code,
            tx=block.txs[position],
            header=block.header,
            certificate=block.certificate,
            index=position,
            tx_count=len(block.txs),
            merkle_path=merkle_path(block.txs, position),
            result=block.results[position],
        )
        if height < len(self.blocks):
            following = self.blocks[height]
            proof.next_header.CopyFrom(following.header)
            proof.next_certificate.CopyFrom(following.certificate)
            proof.result_path.extend(merkle_path([canonical(r) for r in block.results], position))
        return proof


@dataclass
class Behaviour:
    down: bool = False
    refuse: int | None = None
    forge_proofs: bool = False
    hold_batches: asyncio.Event | None = None  # SubmitTxBatch answers once this is set
    drop_last_answer: bool = False  # SubmitTxBatch answers one transaction fewer than it got


class FakeNode(node_pb2_grpc.NodeServicer):
    def __init__(self, index: int, ledger: Ledger) -> None:
        self.index = index
        self.ledger = ledger
        self.behaviour = Behaviour()
        self.submitted = 0
        self.batches = 0
        self.proofs_asked = 0
        self.proof_batches = 0

    async def _gate(self, context: Any) -> None:
        if self.behaviour.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "validator down")

    def _take(self, raw: bytes) -> node_pb2.SubmitTxResponse:
        self.submitted += 1
        code = tx_hash(raw)
        if code in self.ledger.index:
            return node_pb2.SubmitTxResponse(tx_hash=code, code=election_pb2.OK, committed=True)
        if self.behaviour.refuse is not None:
            return node_pb2.SubmitTxResponse(tx_hash=code, code=self.behaviour.refuse, detail="told to")  # type: ignore[arg-type]
        judged = self.ledger.judge(raw)
        if judged.code == election_pb2.OK:
            self.ledger.admit(raw)
        return node_pb2.SubmitTxResponse(tx_hash=code, code=judged.code, detail=judged.detail)

    async def SubmitTx(self, request: Any, context: Any) -> node_pb2.SubmitTxResponse:
        await self._gate(context)
        return self._take(request.tx)

    async def SubmitTxBatch(self, request: Any, context: Any) -> node_pb2.SubmitTxBatchReply:
        await self._gate(context)
        self.batches += 1
        if self.behaviour.hold_batches is not None:
            await self.behaviour.hold_batches.wait()
        results = [self._take(raw) for raw in request.txs]
        if self.behaviour.drop_last_answer:
            results.pop()
        return node_pb2.SubmitTxBatchReply(results=results)

    async def GetTx(self, request: Any, context: Any) -> ledger_pb2.TxProof:
        await self._gate(context)
        self.proofs_asked += 1
        proof = self.ledger.proof(request.tx_hash)
        if proof is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown transaction")
        assert proof is not None
        if self.behaviour.forge_proofs and proof.HasField("header"):
            proof.header.time_ms += 1
        return proof

    async def GetTxBatch(self, request: Any, context: Any) -> node_pb2.GetTxBatchReply:
        await self._gate(context)
        self.proof_batches += 1
        proofs = []
        for code in request.tx_hashes:
            proof = self.ledger.proof(code) or ledger_pb2.TxProof(tx_hash=code)
            if self.behaviour.forge_proofs and proof.HasField("header"):
                proof.header.time_ms += 1
            proofs.append(proof)
        return node_pb2.GetTxBatchReply(proofs=proofs)

    async def GetStatus(self, request: Any, context: Any) -> node_pb2.GetStatusResponse:
        await self._gate(context)
        return node_pb2.GetStatusResponse(
            chain_id=CHAIN_ID, validator=self.index, height=len(self.ledger.blocks)
        )

    async def GetElection(self, request: Any, context: Any) -> election_pb2.ElectionState:
        await self._gate(context)
        state = self.ledger.elections.get(request.election_id)
        if state is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown election")
        assert state is not None
        if self.behaviour.forge_proofs:
            forged = election_pb2.ElectionState()
            forged.CopyFrom(state)
            forged.election_key = group.base_mult(ELECTION_SECRET + 1)
            return forged
        return state

    async def WatchCommits(self, request: Any, context: Any) -> AsyncIterator[node_pb2.CommitEvent]:
        await self._gate(context)
        height = max(1, request.from_height)
        while True:
            async with self.ledger.committed_event:
                await self.ledger.committed_event.wait_for(lambda h=height: len(self.ledger.blocks) >= h)
            block = self.ledger.blocks[height - 1]
            yield node_pb2.CommitEvent(
                height=height,
                block_hash=block_id(block.header),
                tx_hashes=[tx_hash(t) for t in block.txs],
                results=block.results,
            )
            height += 1


@dataclass
class FakeCluster:
    ledger: Ledger
    nodes: list[FakeNode]
    servers: list[Any]
    genesis: Genesis

    async def stop(self) -> None:
        await asyncio.gather(*(server.stop(None) for server in self.servers))


def default_ledger() -> Ledger:
    """The tests' ledger: an open election and one still in key generation, four voters each."""
    ledger = Ledger()
    ledger.add_election(election_state(), range(4))
    ledger.add_election(election_state("e-keygen", election_pb2.KEY_GENERATION), range(4))
    return ledger


async def start_fake_cluster(
    ledger: Ledger | None = None, node: Callable[[int, Ledger], FakeNode] = FakeNode
) -> FakeCluster:
    """Four fake validators on free ports; bench.gateway_loop brings its own ledger and nodes."""
    ledger = ledger if ledger is not None else default_ledger()
    nodes = [node(i, ledger) for i in range(4)]
    servers = []
    validators = []
    for i, node in enumerate(nodes):
        server = grpc.aio.server()
        node_pb2_grpc.add_NodeServicer_to_server(node, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        servers.append(server)
        validators.append(Validator(i, f"v{i}", bytes(VALIDATOR_KEYS[i].verify_key), f"127.0.0.1:{port}"))
    genesis = Genesis(
        chain_id=CHAIN_ID,
        genesis_time_ms=T0_MS,
        validators=tuple(validators),
        admins=(bytes(ADMIN.verify_key),),
    )
    return FakeCluster(ledger, nodes, servers, genesis)
