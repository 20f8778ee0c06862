"""The node's public API: transaction intake and reads, for the gateway, the verifier, anyone.

Every answer is a proper gRPC status with a message; nothing a client sends can crash the node.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

import grpc

from node.admission import Resources, SubmitOutcome
from node.ledger.store import Store
from node.rpc.quota import MAX_WATCH_STREAMS, MAX_WATCH_STREAMS_PER_CLIENT, StreamQuota, client_of
from node.shell import NodeShell
from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from votestore import version as build
from votestore.encoding import MAX_TX_BYTES, block_id, canonical, tx_hash
from votestore.errors import StoreCorrupted
from votestore.grpc_service import drain
from votestore.hashing import HASH_BYTES, merkle_paths
from votestore.ids import id_problem
from votestore.limits import MAX_SUBMIT_BATCH_BYTES as MAX_SUBMIT_BATCH_BYTES

MAX_STREAM_TXS: Final = 100_000
MAX_SUBMIT_BATCH_TXS: Final = 512
"""Transactions in one SubmitTxBatch call (a gateway sends a few milliseconds' worth)."""
MAX_BLOCKS_PER_CALL: Final = 10_000
MAX_GET_TX_BATCH: Final = 1024
"""Hashes in one GetTxBatch call (a gateway asks for the ballots of one block it is waiting on)."""
PROOF_CACHE_HEIGHTS: Final = 32
"""Committed heights kept parsed for GetTx (receipts are asked for within a few blocks)."""

Context = grpc.aio.ServicerContext[object, object]


def _answer(outcome: SubmitOutcome) -> node_pb2.SubmitTxResponse:
    return node_pb2.SubmitTxResponse(
        tx_hash=outcome.tx_hash,
        code=outcome.code,  # type: ignore[arg-type]
        detail=outcome.detail,
        committed=outcome.committed,
    )


@dataclass(frozen=True, slots=True)
class ProvedHeight:
    """A committed height parsed once, with the Merkle path of every transaction and result."""

    block: ledger_pb2.Block
    txs: list[bytes]
    results: list[election_pb2.TxResult]
    certificate: ledger_pb2.CommitCertificate
    tx_paths: list[list[bytes]]
    result_paths: list[list[bytes]]


class ProofCache:
    """The last PROOF_CACHE_HEIGHTS committed heights as GetTx needs them. A receipt waiter asks
    every validator at every new height until its proof is final, so without this each call
    parsed two blocks and hashed every transaction of the block again. Committed heights never
    change, so nothing here goes stale."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._heights: OrderedDict[int, ProvedHeight] = OrderedDict()

    def height(self, height: int) -> ProvedHeight:
        cached = self._heights.get(height)
        if cached is not None:
            self._heights.move_to_end(height)
            return cached
        block = self._store.block(height)
        txs = list(block.txs)
        results = self._store.results(height)
        proved = ProvedHeight(
            block,
            txs,
            results,
            self._store.certificate(height),
            merkle_paths(txs),
            merkle_paths([canonical(r) for r in results]),
        )
        self._heights[height] = proved
        while len(self._heights) > PROOF_CACHE_HEIGHTS:
            self._heights.popitem(last=False)
        return proved


class NodeService(node_pb2_grpc.NodeServicer):
    def __init__(self, shell: NodeShell) -> None:
        self._shell = shell
        self._proofs = ProofCache(shell.store)
        self._watchers = StreamQuota(MAX_WATCH_STREAMS, MAX_WATCH_STREAMS_PER_CLIENT)

    async def _submit(self, raw: bytes, context: Context) -> node_pb2.SubmitTxResponse:
        if len(raw) > MAX_TX_BYTES:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"transaction of {len(raw)} bytes exceeds {MAX_TX_BYTES}"
            )
        try:
            return _answer(await self._shell.admission.submit(raw))
        except Resources as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        raise AssertionError("abort returns only by raising")

    async def SubmitTx(
        self, request: node_pb2.SubmitTxRequest, context: Context
    ) -> node_pb2.SubmitTxResponse:
        return await self._submit(request.tx, context)

    async def SubmitTxBatch(
        self, request: node_pb2.SubmitTxBatchRequest, context: Context
    ) -> node_pb2.SubmitTxBatchReply:
        """SubmitTx for each transaction, all at once: they join the same verify batches on the
        pool, and the caller pays one call instead of one per transaction. A transaction too
        large is answered MALFORMED in its place (the others still count); a full mempool fails
        the whole call, as it fails SubmitTx."""
        txs = request.txs
        if len(txs) > MAX_SUBMIT_BATCH_TXS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"batch of {len(txs)} transactions exceeds {MAX_SUBMIT_BATCH_TXS}",
            )
        size = sum(len(raw) for raw in txs)
        if size > MAX_SUBMIT_BATCH_BYTES:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"batch of {size} bytes exceeds {MAX_SUBMIT_BATCH_BYTES}"
            )
        results = []
        for outcome in await self._shell.admission.submit_many(txs):
            if isinstance(outcome, Resources):
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(outcome))
            assert isinstance(outcome, SubmitOutcome)
            results.append(_answer(outcome))
        return node_pb2.SubmitTxBatchReply(results=results)

    async def SubmitTxStream(
        self, request_iterator: AsyncIterator[node_pb2.SubmitTxRequest], context: Context
    ) -> node_pb2.SubmitTxBatchResponse:
        """SubmitTx for each message. A transaction too large is answered MALFORMED in its place
        (the shell's stateless check), not by ending the stream; when the stream must end early
        (too many messages, a full mempool, a message that does not decode) the rest of what the
        client sends is drained first, so the status reaches it instead of INTERNAL."""
        accepted = 0
        refused: list[node_pb2.SubmitTxResponse] = []
        count = 0
        async for request in request_iterator:
            count += 1
            if count > MAX_STREAM_TXS:
                await drain(request_iterator)
                await context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED, f"more than {MAX_STREAM_TXS} per stream"
                )
            try:
                answer = _answer(await self._shell.admission.submit(request.tx))
            except Resources as exc:
                await drain(request_iterator)
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
            if answer.code == election_pb2.OK:
                accepted += 1
            else:
                refused.append(answer)
        return node_pb2.SubmitTxBatchResponse(accepted=accepted, refused=refused)

    async def GetStatus(
        self, request: node_pb2.GetStatusRequest, context: Context
    ) -> node_pb2.GetStatusResponse:
        shell = self._shell
        tip = shell.store.tip
        heights, connected = shell.peers.heights, shell.peers.connected
        return node_pb2.GetStatusResponse(
            chain_id=shell.genesis.chain_id,
            validator=shell.index,
            height=tip.height,
            last_block_hash=tip.block_id,
            app_hash=tip.app_hash,
            round=shell.consensus.round,
            step=shell.consensus.current_step.name.lower(),
            peers_connected=len(shell.peers.connected),
            mempool_txs=len(shell.pending),
            catching_up=shell.catching_up,
            signing=shell.signing.guard.state.name.lower(),
            genesis_hash=shell.genesis.hash(),
            version=build.version(),
            commit=build.commit(),
            protocol_version=build.PROTOCOL_VERSION,
            peers=[
                node_pb2.PeerState(validator=v, height=heights.get(v, 0), connected=v in connected)
                for v in range(shell.genesis.n)
                if v != shell.index
            ],
        )

    async def GetBlocks(
        self, request: node_pb2.GetBlocksRequest, context: Context
    ) -> AsyncIterator[ledger_pb2.CommittedBlock]:
        store = self._shell.store
        first = max(request.from_height, 1)
        last = store.height if request.to_height == 0 else min(request.to_height, store.height)
        if last - first + 1 > MAX_BLOCKS_PER_CALL:
            last = first + MAX_BLOCKS_PER_CALL - 1
        for height in range(first, last + 1):
            yield store.committed_block(height)

    async def GetTx(self, request: node_pb2.GetTxRequest, context: Context) -> ledger_pb2.TxProof:
        if len(request.tx_hash) != HASH_BYTES:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"tx_hash must be {HASH_BYTES} bytes")
        proof = self._proof(request.tx_hash)
        if proof is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such transaction committed or pending")
        assert proof is not None
        return proof

    async def GetTxBatch(
        self, request: node_pb2.GetTxBatchRequest, context: Context
    ) -> node_pb2.GetTxBatchReply:
        """GetTx for each hash; one call where a gateway made one per ballot, at every block."""
        hashes = request.tx_hashes
        if len(hashes) > MAX_GET_TX_BATCH:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"{len(hashes)} hashes exceed {MAX_GET_TX_BATCH}"
            )
        if any(len(h) != HASH_BYTES for h in hashes):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"every tx_hash must be {HASH_BYTES} bytes")
        return node_pb2.GetTxBatchReply(
            proofs=[self._proof(h) or ledger_pb2.TxProof(tx_hash=h) for h in hashes]
        )

    def _proof(self, h: bytes) -> ledger_pb2.TxProof | None:
        """The transaction with its inclusion proof (and its result's, once the next block
        certifies it), the bare pending transaction, or None if this node knows neither."""
        shell = self._shell
        location = shell.store.locate(h)
        if location is None:
            pending = shell.pending.get(h)
            return None if pending is None else ledger_pb2.TxProof(tx_hash=h, tx=pending)
        at = self._proofs.height(location.height)
        i = location.index
        if i >= len(at.txs) or tx_hash(at.txs[i]) != h:
            held = (
                "holds another transaction" if i < len(at.txs) else f"is past its {len(at.txs)} transactions"
            )
            raise StoreCorrupted(
                location.height,
                f"the tx index entry for {h.hex()[:16]} names position {i} of the block, which {held}",
            )
        proof = ledger_pb2.TxProof(
            tx_hash=h,
            tx=at.txs[i],
            header=at.block.header,
            certificate=at.certificate,
            index=i,
            tx_count=len(at.txs),
            merkle_path=at.tx_paths[i],
            result=at.results[i],
        )
        if shell.store.height > location.height:
            following = self._proofs.height(location.height + 1)
            proof.next_header.CopyFrom(following.block.header)
            proof.next_certificate.CopyFrom(following.certificate)
            proof.result_path.extend(at.result_paths[i])
        return proof

    async def WatchCommits(
        self, request: node_pb2.WatchCommitsRequest, context: Context
    ) -> AsyncIterator[node_pb2.CommitEvent]:
        shell = self._shell
        client = client_of(context.peer())
        why = self._watchers.acquire(client)
        if why is not None:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, why)
        try:
            height = max(request.from_height, 1)
            while True:
                while height <= shell.store.height:
                    block = shell.store.block(height)
                    yield node_pb2.CommitEvent(
                        height=height,
                        block_hash=block_id(block.header),
                        tx_hashes=[tx_hash(raw) for raw in block.txs],
                        results=shell.store.results(height),
                        time_ms=block.header.time_ms,
                    )
                    height += 1
                await shell.committer.wait_for_height(height)
        finally:
            self._watchers.release(client)

    async def GetElection(
        self, request: node_pb2.GetElectionRequest, context: Context
    ) -> election_pb2.ElectionState:
        await _check_election_id(request.election_id, context)
        state = self._shell.app.election_state(request.election_id)
        if state is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no election {request.election_id!r}")
        assert state is not None
        return state

    async def GetKeyMaterial(
        self, request: node_pb2.GetKeyMaterialRequest, context: Context
    ) -> node_pb2.KeyMaterial:
        await _check_election_id(request.election_id, context)
        app = self._shell.app
        state = app.election_state(request.election_id)
        if state is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no election {request.election_id!r}")
        assert state is not None
        material = node_pb2.KeyMaterial()
        for index in range(1, len(state.definition.trustees) + 1):
            deal = app.deal(request.election_id, index)
            if deal is not None:
                material.deals.append(deal)
            if app.is_disqualified(request.election_id, index):
                material.disqualified.append(index)
            key = app.verification_key(request.election_id, index)
            if key is not None:
                material.verification_keys[index] = key
            share = app.decryption_share(request.election_id, index)
            if share is not None:
                material.shares.append(share)
        return material

    async def ListElections(
        self, request: node_pb2.ListElectionsRequest, context: Context
    ) -> node_pb2.ListElectionsResponse:
        return node_pb2.ListElectionsResponse(election_ids=self._shell.app.list_elections())


async def _check_election_id(election_id: str, context: Context) -> None:
    """An id no election can have (votestore/ids.py) is a bad request, not an unknown election."""
    problem = id_problem("election", election_id)
    if problem is not None:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
