"""The ledger export format: one node's committed blocks and published election states in a file.

    magic "VSLEDGR1", then frames: kind (1 byte) | length (4 bytes, big-endian) | payload
    H  JSON header: format, chain_id, node, address, genesis_hash (hex), height, state_height
    E  ElectionState as the node served it at state_height (zero or more)
    S  a state record as the node's store holds it at state_height: key length (4 bytes,
       big-endian) | key | value (zero or more; only from a stopped node's store)
    B  CommittedBlock, heights 1, 2, ... in order (the last is `height`)

Blocks are read lazily so a file larger than memory can be checked.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from google.protobuf.message import DecodeError as ProtobufDecodeError

from proto.votestore.v1 import election_pb2, ledger_pb2
from tools.verify.snapshot import NodeInfo, Published, Reach
from votestore.encoding import canonical
from votestore.errors import DecodeError

MAGIC: Final = b"VSLEDGR1"
FORMAT_VERSION: Final = 1
MAX_FRAME_BYTES: Final = 64 * 1024 * 1024
_FRAME = struct.Struct(">cI")
HEADER: Final = b"H"
ELECTION: Final = b"E"
STATE: Final = b"S"
_KEY_LENGTH = struct.Struct(">I")
BLOCK: Final = b"B"


@dataclass(frozen=True, slots=True)
class LedgerHeader:
    chain_id: str
    node: str
    address: str
    genesis_hash: bytes
    height: int
    state_height: int | None
    """The height the election states were read at; None when they could not be read at one."""

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT_VERSION,
                "chain_id": self.chain_id,
                "node": self.node,
                "address": self.address,
                "genesis_hash": self.genesis_hash.hex(),
                "height": self.height,
                "state_height": self.state_height,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes, where: str) -> LedgerHeader:
        try:
            doc: Any = json.loads(raw)
            if doc["format"] != FORMAT_VERSION:
                raise DecodeError(f"{where}: ledger format {doc['format']}, expected {FORMAT_VERSION}")
            return cls(
                chain_id=str(doc["chain_id"]),
                node=str(doc["node"]),
                address=str(doc["address"]),
                genesis_hash=bytes.fromhex(doc["genesis_hash"]),
                height=int(doc["height"]),
                state_height=None if doc["state_height"] is None else int(doc["state_height"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DecodeError(f"{where}: bad ledger header: {exc}") from None


def _frame(kind: bytes, payload: bytes) -> bytes:
    assert len(payload) <= MAX_FRAME_BYTES, len(payload)
    return _FRAME.pack(kind, len(payload)) + payload


def write_ledger(
    out: IO[bytes],
    header: LedgerHeader,
    elections: Iterable[election_pb2.ElectionState],
    blocks: Iterable[ledger_pb2.CommittedBlock],
    records: Iterable[tuple[bytes, bytes]] = (),
) -> int:
    """Write a whole export as served; returns the number of blocks written."""
    out.write(MAGIC)
    out.write(_frame(HEADER, header.to_json()))
    for record in elections:
        out.write(_frame(ELECTION, canonical(record)))
    for key, value in records:
        out.write(_frame(STATE, _KEY_LENGTH.pack(len(key)) + key + value))
    written = 0
    for block in blocks:
        written += 1
        out.write(_frame(BLOCK, canonical(block)))
    return written


class LedgerReader:
    """An open ledger file: header and elections read at once, blocks on demand, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = path.open("rb")
        if self._handle.read(len(MAGIC)) != MAGIC:
            self._handle.close()
            raise DecodeError(f"{path}: not a votestore ledger file")
        first = self._next_frame()
        if first is None or first[0] != HEADER:
            raise DecodeError(f"{path}: ledger file must start with its header")
        self.header = LedgerHeader.from_json(first[1], str(path))
        self.elections: list[election_pb2.ElectionState] = []
        self.records: list[tuple[bytes, bytes]] | None = None
        self._pending: bytes | None = None
        while (frame := self._next_frame()) is not None:
            kind, payload = frame
            if kind == STATE:
                self._state_record(payload)
                continue
            if kind != ELECTION:
                self._pending = payload if kind == BLOCK else self._unknown(kind)
                break
            record = election_pb2.ElectionState()
            self._parse(record, payload, "election state")
            self.elections.append(record)

    def _state_record(self, payload: bytes) -> None:
        if len(payload) < _KEY_LENGTH.size:
            raise DecodeError(f"{self.path}: truncated state record")
        (size,) = _KEY_LENGTH.unpack_from(payload)
        if _KEY_LENGTH.size + size > len(payload):
            raise DecodeError(f"{self.path}: state record key overruns its frame")
        key = payload[_KEY_LENGTH.size : _KEY_LENGTH.size + size]
        if self.records is None:
            self.records = []
        self.records.append((key, payload[_KEY_LENGTH.size + size :]))

    def _unknown(self, kind: bytes) -> bytes:
        raise DecodeError(f"{self.path}: unexpected frame kind {kind!r}")

    def _next_frame(self) -> tuple[bytes, bytes] | None:
        head = self._handle.read(_FRAME.size)
        if not head:
            return None
        if len(head) != _FRAME.size:
            raise DecodeError(f"{self.path}: truncated frame header")
        kind, size = _FRAME.unpack(head)
        if size > MAX_FRAME_BYTES:
            raise DecodeError(f"{self.path}: frame of {size} bytes exceeds {MAX_FRAME_BYTES}")
        payload = self._handle.read(size)
        if len(payload) != size:
            raise DecodeError(f"{self.path}: truncated frame")
        return kind, payload

    def _parse(self, message: Any, payload: bytes, what: str) -> None:
        try:
            message.ParseFromString(payload)
        except ProtobufDecodeError as exc:
            raise DecodeError(f"{self.path}: bad {what}: {exc}") from None

    def blocks(self) -> Iterator[ledger_pb2.CommittedBlock]:
        """Every block in file order. Heights are whatever the file says: the verifier judges them."""
        while True:
            if self._pending is not None:
                payload, self._pending = self._pending, None
            else:
                frame = self._next_frame()
                if frame is None:
                    return
                kind, payload = frame
                if kind != BLOCK:
                    self._unknown(kind)
            block = ledger_pb2.CommittedBlock()
            self._parse(block, payload, "block")
            yield block

    def info(self, expected_chain_id: str, expected_genesis_hash: bytes) -> NodeInfo:
        header = self.header
        name = header.node or self.path.name
        if header.chain_id != expected_chain_id or header.genesis_hash != expected_genesis_hash:
            return NodeInfo(
                name, header.address, Reach.WRONG_CHAIN, header.height, detail="chain id or genesis differs"
            )
        records = None if self.records is None else tuple(self.records)
        published = (
            None
            if header.state_height is None
            else Published(header.state_height, tuple(self.elections), records)
        )
        return NodeInfo(name, header.address, Reach.UP, header.height, published)

    def close(self) -> None:
        self._handle.close()
