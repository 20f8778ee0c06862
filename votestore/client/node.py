"""A small synchronous client of the Node API for the admin and trustee commands (and the demo).

It holds the addresses of one or more validators and talks to one at a time; a node that does not
answer (down, paused, overloaded) is skipped for the next. A transaction refused at intake or
rejected in its block raises `TxRefused` with the reason code's name and the node's detail, so the
CLI prints one line that a person can act on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Final, TypeVar

import grpc

from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from votestore.encoding import tx_hash
from votestore.errors import Rejected, VotestoreError

CALL_TIMEOUT_S: Final = 10.0
"""Deadline of one unary call; a paused node costs this much before the next one is tried."""
COMMIT_TIMEOUT_S: Final = 60.0
"""Default wait for a submitted transaction to be committed (a few rounds with growing timeouts)."""
POLL_INTERVAL_S: Final = 0.1
"""Between two GetTx polls while a transaction is pending."""
MAX_NODES: Final = 64
BLOCKS_STREAM_TIMEOUT_S: Final = 300.0
"""Deadline of one GetBlocks stream (a node serves a bounded run of blocks per call)."""

_NEXT_NODE: Final = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)
"""Statuses that say this node cannot serve now (not that the request is wrong): try the next."""

Request = TypeVar("Request")
Response = TypeVar("Response")


class NodeError(VotestoreError):
    """A node answered with an error status, or no node answered at all."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
        self.message = message


class NotFound(NodeError):
    """The node has no such election or transaction."""

    def __init__(self, message: str) -> None:
        super().__init__("", message)


class TxRefused(Rejected):
    """A transaction refused at the node's intake (`stage` "intake") or rejected in its block
    (`stage` "block"); the message names the reason code and the node's detail."""

    def __init__(self, code: int, detail: str, stage: str) -> None:
        assert stage in ("intake", "block"), stage
        super().__init__(code, detail)
        self.stage = stage
        self.code_name = election_pb2.ResultCode.Name(code)  # type: ignore[arg-type]

    def __str__(self) -> str:
        where = "refused at intake" if self.stage == "intake" else "rejected in its block"
        return f"{where}: {self.code_name}: {self.detail}"


class CommitTimeout(VotestoreError):
    """A submitted transaction was not seen committed within the wait."""


class NodeClient:
    """`with NodeClient(["host:port", ...]) as node: ...`: sync calls with failover in list order."""

    def __init__(
        self,
        addresses: Sequence[str],
        *,
        call_timeout_s: float = CALL_TIMEOUT_S,
        connect: Callable[[str], grpc.Channel] = grpc.insecure_channel,
    ) -> None:
        """`connect` makes the channel to an address (votestore.cli.nodecall.node_client passes a
        TLS one); plaintext by default, for callers that checked the addresses are local."""
        if not addresses:
            raise VotestoreError("no node address given (use --node HOST:PORT)")
        if len(addresses) > MAX_NODES:
            raise VotestoreError(f"more than {MAX_NODES} node addresses")
        assert call_timeout_s > 0
        self._addresses = list(addresses)
        self._call_timeout_s = call_timeout_s
        self._connect = connect
        self._channels: dict[str, grpc.Channel] = {}
        self._current = 0

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def _stub(self, address: str) -> node_pb2_grpc.NodeStub:
        channel = self._channels.get(address)
        if channel is None:
            channel = self._connect(address)
            self._channels[address] = channel
        return node_pb2_grpc.NodeStub(channel)

    def _call(
        self, method: Callable[[node_pb2_grpc.NodeStub], Callable[..., Response]], request: object
    ) -> Response:
        """Ask the current node; on a can't-serve status move to the next, each node once."""
        failures: list[str] = []
        for attempt in range(len(self._addresses)):
            at = (self._current + attempt) % len(self._addresses)
            address = self._addresses[at]
            try:
                response = method(self._stub(address))(request, timeout=self._call_timeout_s)
            except grpc.RpcError as exc:
                code: grpc.StatusCode = exc.code()
                details: str = exc.details() or ""
                if code in _NEXT_NODE:
                    failures.append(f"{address} {code.name}")
                    continue
                if code == grpc.StatusCode.NOT_FOUND:
                    raise NotFound(details) from None
                raise NodeError(code.name, f"{details} (node {address})") from None
            self._current = at
            return response
        raise NodeError("UNAVAILABLE", "no node answered: " + ", ".join(failures))

    def status(self) -> node_pb2.GetStatusResponse:
        return self._call(lambda s: s.GetStatus, node_pb2.GetStatusRequest())

    def chain_id(self) -> str:
        return self.status().chain_id

    def election(self, election_id: str) -> election_pb2.ElectionState:
        return self._call(lambda s: s.GetElection, node_pb2.GetElectionRequest(election_id=election_id))

    def list_elections(self) -> list[str]:
        return list(self._call(lambda s: s.ListElections, node_pb2.ListElectionsRequest()).election_ids)

    def key_material(self, election_id: str) -> node_pb2.KeyMaterial:
        request = node_pb2.GetKeyMaterialRequest(election_id=election_id)
        return self._call(lambda s: s.GetKeyMaterial, request)

    def get_tx(self, hash_: bytes) -> ledger_pb2.TxProof:
        """The proof of a committed transaction; a pending one has no header; NotFound otherwise."""
        return self._call(lambda s: s.GetTx, node_pb2.GetTxRequest(tx_hash=hash_))

    def blocks(self, first: int, last: int) -> Iterator[ledger_pb2.CommittedBlock]:
        """Committed blocks from `first` up to `last` (or fewer: a node caps one stream; callers
        continue from the height after the last block they got), from the current node."""
        assert 1 <= first <= last, (first, last)
        address = self._addresses[self._current]
        request = node_pb2.GetBlocksRequest(from_height=first, to_height=last)
        try:
            yield from self._stub(address).GetBlocks(request, timeout=BLOCKS_STREAM_TIMEOUT_S)
        except grpc.RpcError as exc:
            raise NodeError(exc.code().name, f"{exc.details() or ''} (node {address})") from None

    def submit(self, raw: bytes) -> node_pb2.SubmitTxResponse:
        """Hand a signed transaction to a node; the answer says whether its intake took it."""
        return self._call(lambda s: s.SubmitTx, node_pb2.SubmitTxRequest(tx=raw))

    def wait_committed(self, hash_: bytes, timeout_s: float = COMMIT_TIMEOUT_S) -> ledger_pb2.TxProof:
        """Poll GetTx until the transaction is in a committed block (bounded by `timeout_s`).

        NOT_FOUND is tolerated: after a failover the next node may not have the transaction yet."""
        assert timeout_s > 0
        deadline = time.monotonic() + timeout_s
        last = "never seen"
        while True:
            try:
                proof = self.get_tx(hash_)
            except NotFound:
                last = "not found"
            else:
                if proof.HasField("header"):
                    return proof
                last = "pending"
            if time.monotonic() + POLL_INTERVAL_S > deadline:
                raise CommitTimeout(
                    f"transaction {hash_.hex()} not committed within {timeout_s:.0f} s ({last}); "
                    "look it up later by this hash"
                )
            time.sleep(POLL_INTERVAL_S)

    def commit(self, raw: bytes, timeout_s: float = COMMIT_TIMEOUT_S) -> ledger_pb2.TxProof:
        """Submit, wait for the commit, and return the proof of an accepted transaction.

        Raises TxRefused if the intake refuses it or its block rejects it."""
        answer = self.submit(raw)
        if answer.code != election_pb2.OK:
            raise TxRefused(answer.code, answer.detail, "intake")
        proof = self.wait_committed(tx_hash(raw), timeout_s)
        if proof.result.code != election_pb2.OK:
            raise TxRefused(proof.result.code, proof.result.detail, "block")
        return proof

    def commit_when_due(self, raw: bytes, timeout_s: float = COMMIT_TIMEOUT_S) -> ledger_pb2.TxProof:
        """`commit` of a transaction whose time has come by this client's clock but maybe not yet
        by the chain's: a node judges intake at its last block's time, which trails the clock by
        up to an empty-block interval (an `ElectionOpen` just after the complaint window is refused
        KEYGEN_PENDING until the next block). Submits again while so refused, within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            answer = self.submit(raw)
            if answer.code != election_pb2.KEYGEN_PENDING or time.monotonic() + POLL_INTERVAL_S > deadline:
                break
            time.sleep(POLL_INTERVAL_S)
        if answer.code != election_pb2.OK:
            raise TxRefused(answer.code, answer.detail, "intake")
        proof = self.wait_committed(tx_hash(raw), max(deadline - time.monotonic(), POLL_INTERVAL_S))
        if proof.result.code != election_pb2.OK:
            raise TxRefused(proof.result.code, proof.result.detail, "block")
        return proof

    def submit_and_wait(self, raw: bytes, timeout_s: float = COMMIT_TIMEOUT_S) -> election_pb2.TxResult:
        """`commit` for callers that need only the (OK) result."""
        return self.commit(raw, timeout_s).result
