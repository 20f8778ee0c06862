"""Hostile input for the public gRPC services: seeded random messages, random bytes and mutations,
sent through generic calls (bytes in, bytes out) so nothing on the client side can refuse them first.

Every answer must be a gRPC status the service chose: UNKNOWN (the handler raised) or a transport
failure counts as a finding, as does a process that died. Streams are bounded on our side: a server
stream is read for at most MAX_STREAM_READ messages, a client stream sends at most MAX_STREAM_SEND.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import grpc
import grpc.aio
from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from votestore.limits import FUZZ_SEND_BYTES, NODE_MESSAGE_BYTES, message_options

MAX_DEPTH: Final = 3
MAX_REPEATED: Final = 4
MAX_RANDOM_BYTES: Final = 2048
BIG_FIELD_BYTES: Final = 300_000
"""Above every transaction limit, far below every message limit: the handler must refuse it."""
MAX_STREAM_READ: Final = 3
MAX_STREAM_SEND: Final = 4
CALL_DEADLINE_S: Final = 2.0
IMPROPER: Final = frozenset({"UNKNOWN", "INTERNAL"})
"""UNKNOWN is what grpc answers when a handler raised instead of choosing a status; INTERNAL what
a client got when a stream was answered while it was still sending (votestore.grpc_service.drain)."""
ALIVE_EVERY: Final = 500
INT_EDGES: Final = (0, 1, -1, 2**31 - 1, -(2**31), 2**32 - 1, 2**63 - 1, -(2**63), 2**64 - 1)
TEXT_EDGES: Final = ("", "chaos-2026", "a" * 65, "../../etc", "é\u202e\x00", "x" * 5000)


@dataclass(frozen=True, slots=True)
class Method:
    path: str
    """`/package.Service/Method`"""
    input: Descriptor
    client_streaming: bool
    server_streaming: bool


def methods(service: ServiceDescriptor) -> list[Method]:
    return [
        Method(f"/{service.full_name}/{m.name}", m.input_type, m.client_streaming, m.server_streaming)
        for m in service.methods
    ]


def _same(data: bytes) -> bytes:
    return data


class Inputs:
    """Seeded payloads: a third random bytes, a third random well-formed messages, a third those
    messages mutated (bit flips, cuts, splices)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def payload(self, method: Method) -> bytes:
        style = self._rng.randrange(3)
        if style == 0:
            return self._bytes()
        encoded = self.message(method.input).SerializeToString()
        return encoded if style == 1 else self._mutate(encoded)

    def _bytes(self) -> bytes:
        size = self._rng.choice((0, 1, 2, 5, 16, 64, self._rng.randrange(MAX_RANDOM_BYTES)))
        return self._rng.randbytes(size)

    def _mutate(self, data: bytes) -> bytes:
        buffer = bytearray(data or b"\x00")
        for _ in range(self._rng.randint(1, 4)):
            at = self._rng.randrange(len(buffer))
            match self._rng.randrange(4):
                case 0:
                    buffer[at] ^= 1 << self._rng.randrange(8)
                case 1:
                    del buffer[at:]
                case 2:
                    buffer[at:at] = self._rng.randbytes(self._rng.randint(1, 8))
                case _:
                    buffer[at] = self._rng.choice((0x00, 0x7F, 0x80, 0xFF))
            buffer = buffer or bytearray(b"\x00")
        return bytes(buffer)

    def message(self, descriptor: Descriptor, depth: int = 0) -> Message:
        message = GetMessageClass(descriptor)()
        for f in descriptor.fields:
            if self._rng.random() < 0.3:
                continue
            if f.message_type is not None and f.message_type.GetOptions().map_entry:
                self._map(message, f, depth)
            elif f.is_repeated:
                for _ in range(self._rng.randint(0, MAX_REPEATED)):
                    self._add(message, f, depth)
            elif f.message_type is not None:
                if depth < MAX_DEPTH:
                    getattr(message, f.name).CopyFrom(self.message(f.message_type, depth + 1))
            else:
                setattr(message, f.name, self._scalar(f))
        return message

    def _add(self, message: Message, f: FieldDescriptor, depth: int) -> None:
        container = getattr(message, f.name)
        if f.message_type is None:
            container.append(self._scalar(f))
        elif depth < MAX_DEPTH:
            container.add().CopyFrom(self.message(f.message_type, depth + 1))

    def _map(self, message: Message, f: FieldDescriptor, depth: int) -> None:
        entry = f.message_type
        assert entry is not None, f.full_name
        key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
        container = getattr(message, f.name)
        for _ in range(self._rng.randint(0, MAX_REPEATED)):
            key = self._scalar(key_field)
            if value_field.message_type is None:
                container[key] = self._scalar(value_field)
            elif depth < MAX_DEPTH:
                container[key].CopyFrom(self.message(value_field.message_type, depth + 1))

    def _scalar(self, f: FieldDescriptor) -> object:
        rng = self._rng
        match f.cpp_type:
            case FieldDescriptor.CPPTYPE_BOOL:
                return rng.random() < 0.5
            case FieldDescriptor.CPPTYPE_ENUM:
                assert f.enum_type is not None, f.full_name
                return rng.choice([v.number for v in f.enum_type.values])
            case FieldDescriptor.CPPTYPE_DOUBLE | FieldDescriptor.CPPTYPE_FLOAT:
                return rng.choice((0.0, -1.0, 1e30, rng.random()))
            case FieldDescriptor.CPPTYPE_STRING if f.type == FieldDescriptor.TYPE_BYTES:
                size = rng.choice((0, 16, 32, 64, rng.randrange(MAX_RANDOM_BYTES), BIG_FIELD_BYTES))
                return rng.randbytes(size)
            case FieldDescriptor.CPPTYPE_STRING:
                return rng.choice((*TEXT_EDGES, "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(12))))
        bits = {FieldDescriptor.CPPTYPE_INT32: 32, FieldDescriptor.CPPTYPE_UINT32: 32}.get(f.cpp_type, 64)
        signed = f.cpp_type in (FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_INT64)
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        edge = rng.choice(INT_EDGES)
        return edge if low <= edge <= high else rng.randint(low, high)


async def call(channel: grpc.aio.Channel, method: Method, payloads: Sequence[bytes]) -> str:
    """One call with `payloads` (the first for a unary request); the status name it ended with."""
    assert payloads
    try:
        if method.client_streaming:
            requests = list(payloads[:MAX_STREAM_SEND])
            sender = channel.stream_unary(method.path, request_serializer=_same, response_deserializer=_same)
            await sender(iter(requests), timeout=CALL_DEADLINE_S)
        elif method.server_streaming:
            reader = channel.unary_stream(method.path, request_serializer=_same, response_deserializer=_same)
            stream = reader(payloads[0], timeout=CALL_DEADLINE_S)
            read = 0
            async for _ in stream:
                read += 1
                if read >= MAX_STREAM_READ:
                    stream.cancel()
                    break
        else:
            unary = channel.unary_unary(method.path, request_serializer=_same, response_deserializer=_same)
            await unary(payloads[0], timeout=CALL_DEADLINE_S)
    except grpc.aio.AioRpcError as exc:
        return str(exc.code().name)
    return "OK"


@dataclass
class FuzzStats:
    inputs: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    by_method: Counter[tuple[str, str]] = field(default_factory=Counter)
    undecodable_unknown: int = 0
    """UNKNOWN answers to bytes that are not a message of the method's type: grpc's own answer when
    the request cannot be parsed (it also logs a traceback for each); counted, reported apart."""
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def decodes(method: Method, payloads: Sequence[bytes]) -> bool:
    """Whether every payload parses as the method's request type."""
    kind = GetMessageClass(method.input)
    try:
        for payload in payloads:
            kind.FromString(payload)
    except DecodeError:
        return False
    return True


async def campaign(
    target: str,
    targets: Sequence[Method],
    inputs: Inputs,
    count: int,
    alive: Callable[[], bool],
    concurrency: int = 32,
) -> FuzzStats:
    """`count` calls spread over `targets` in turn, `concurrency` at a time; `alive()` is asked
    every ALIVE_EVERY inputs and at the end. UNKNOWN to a well-formed request is a finding (the
    handler raised); so is a dead process."""
    assert count > 0 and targets and concurrency > 0
    stats = FuzzStats()
    started = time.monotonic()
    options = message_options(receive=NODE_MESSAGE_BYTES, send=FUZZ_SEND_BYTES)
    next_index = iter(range(count))
    dead = asyncio.Event()
    async with grpc.aio.insecure_channel(target, options=options) as channel:

        async def worker() -> None:
            for index in next_index:
                if dead.is_set():
                    return
                method = targets[index % len(targets)]
                sends = MAX_STREAM_SEND if method.client_streaming else 1
                payloads = [inputs.payload(method) for _ in range(sends)]
                status = await call(channel, method, payloads)
                stats.inputs += 1
                stats.statuses[status] += 1
                stats.by_method[(method.path, status)] += 1
                if status in IMPROPER:
                    if not decodes(method, payloads):
                        stats.undecodable_unknown += 1
                    elif sum(1 for f in stats.findings if method.path in f) == 0:
                        stats.findings.append(f"{method.path} answered {status} to {payloads[0][:48].hex()}…")
                if stats.inputs % ALIVE_EVERY == 0 and not alive():
                    dead.set()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if dead.is_set() or not alive():
        stats.findings.append(f"a process died (after {stats.inputs} inputs)")
    stats.seconds = time.monotonic() - started
    return stats
