"""Where blocks come from: a node's public gRPC API, or a ledger file exported from one.

Both answer the same two questions — what do you report (`info`), and give me your blocks in a
height range (`blocks`) — so every check runs the same on a live network and offline.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final, Protocol

import grpc

from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from tools.verify.ledger_file import LedgerReader
from tools.verify.snapshot import NodeInfo, Published, Reach
from votestore.channels import ValidatorDialer
from votestore.errors import VotestoreError
from votestore.genesis import Genesis
from votestore.limits import NODE_MESSAGE_BYTES, message_options

RPC_TIMEOUT_S: Final = 10.0
"""A unary read that takes longer marks the node down for this round."""
STREAM_TIMEOUT_S: Final = 300.0
"""Whole GetBlocks stream of one chunk."""
STATE_READ_ATTEMPTS: Final = 3
"""Tries to read all election states between two equal heights before giving up on them."""


class SourceDown(VotestoreError):
    """The node stopped answering mid-read."""


class Source(Protocol):
    name: str

    def info(self, genesis: Genesis) -> NodeInfo: ...

    def blocks(self, first: int, last: int) -> Iterator[ledger_pb2.CommittedBlock]: ...

    def close(self) -> None: ...


class FileSource:
    """A ledger export; blocks must be asked for in increasing ranges (the file is read once)."""

    def __init__(self, path: Path) -> None:
        self._reader = LedgerReader(path)
        self.name = self._reader.header.node or path.name
        self._stream = self._reader.blocks()
        self._peeked: ledger_pb2.CommittedBlock | None = None

    def info(self, genesis: Genesis) -> NodeInfo:
        return self._reader.info(genesis.chain_id, genesis.hash())

    def blocks(self, first: int, last: int) -> Iterator[ledger_pb2.CommittedBlock]:
        while True:
            block = self._peeked if self._peeked is not None else next(self._stream, None)
            self._peeked = None
            if block is None:
                return
            if block.block.header.height > last:
                self._peeked = block
                return
            yield block

    def close(self) -> None:
        self._reader.close()


def node_sources(genesis: Genesis, nodes: Sequence[str], dialer: ValidatorDialer) -> list[NodeSource]:
    """A source per node; each is "HOST:PORT" (a genesis validator's address) or "INDEX=HOST:PORT".

    Over TLS every node must be a known validator: the channel accepts only that validator's
    genesis-bound certificate.
    """
    sources = []
    for node in nodes:
        index, address = dialer.locate(genesis, node)
        name = genesis.validators[index].name if "=" in node else node_name(genesis, address)
        sources.append(NodeSource(address, name, dialer, index))
    return sources


def node_name(genesis: Genesis, address: str) -> str:
    """The validator's genesis name when the address is one of genesis's, else the address."""
    return next((v.name for v in genesis.validators if address in (v.public_address, v.address)), address)


class NodeSource:
    """A node's public `votestore.v1.Node` API: no secret, nothing trusted."""

    def __init__(
        self, address: str, name: str, dialer: ValidatorDialer | None = None, index: int = 0
    ) -> None:
        """`dialer` None: plaintext (the caller checked it may be); otherwise through `dialer` to
        validator `index`, which must be the validator at `address`."""
        self.name = name
        self.address = address
        options = message_options(receive=NODE_MESSAGE_BYTES)
        self._channel = (dialer or ValidatorDialer(None)).sync(index, address, options)
        self._stub = node_pb2_grpc.NodeStub(self._channel)

    def info(self, genesis: Genesis) -> NodeInfo:
        try:
            status = self._stub.GetStatus(node_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S)
            if status.chain_id != genesis.chain_id or (
                status.genesis_hash and status.genesis_hash != genesis.hash()
            ):
                detail = f"serves chain {status.chain_id!r} with genesis {status.genesis_hash.hex()[:16]}"
                return NodeInfo(self.name, self.address, Reach.WRONG_CHAIN, status.height, detail=detail)
            published = None
            for _ in range(STATE_READ_ATTEMPTS):
                elections = self._elections()
                after = self._stub.GetStatus(node_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S)
                if after.height == status.height:
                    published = Published(status.height, elections)
                    break
                status = after
        except grpc.RpcError as exc:
            return NodeInfo(self.name, self.address, Reach.DOWN, 0, detail=_why(exc))
        detail = "" if published is not None else "election states changed while read; not compared"
        return NodeInfo(self.name, self.address, Reach.UP, status.height, published, detail)

    def _elections(self) -> tuple[election_pb2.ElectionState, ...]:
        listed = self._stub.ListElections(node_pb2.ListElectionsRequest(), timeout=RPC_TIMEOUT_S)
        return tuple(
            self._stub.GetElection(node_pb2.GetElectionRequest(election_id=i), timeout=RPC_TIMEOUT_S)
            for i in listed.election_ids
        )

    def blocks(self, first: int, last: int) -> Iterator[ledger_pb2.CommittedBlock]:
        assert 1 <= first <= last, (first, last)
        request = node_pb2.GetBlocksRequest(from_height=first, to_height=last)
        try:
            yield from self._stub.GetBlocks(request, timeout=STREAM_TIMEOUT_S)
        except grpc.RpcError as exc:
            raise SourceDown(f"{self.name}: {_why(exc)}") from None

    def status(self) -> node_pb2.GetStatusResponse:
        try:
            return self._stub.GetStatus(node_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S)
        except grpc.RpcError as exc:
            raise SourceDown(f"{self.name}: {_why(exc)}") from None

    def close(self) -> None:
        self._channel.close()


def _why(exc: grpc.RpcError) -> str:
    code = exc.code() if isinstance(exc, grpc.Call) else None
    details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
    return f"{code.name if code else 'error'}: {details}"
