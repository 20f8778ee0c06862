"""Robustness: a transaction whose fields hold anything, correctly signed, never crashes the state
machine (a crash would halt every node at once) and a refused one changes nothing.

Valid transactions of every kind are mutated field by field through the protobuf descriptors —
out-of-range indices, wrong-size keys, odd strings, dropped repeated elements — re-signed by their
rightful signer so the deeper rules run, and executed against states in each phase.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import nacl.signing
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import event, given, settings
from hypothesis import strategies as st

from election.kv import MemoryKV
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election, credential
from tests.ledger.harness import ADMIN, AUTHORITY, CHAIN_ID, Chain, code, create, definition
from votestore import txbuild
from votestore.crypto.credential import derive_credential_key

INTS = st.sampled_from([0, 1, 2, 3, 4, 9, 2**31 - 1, 2**32 - 1])
BLOBS = st.one_of(st.binary(max_size=40), st.sampled_from([bytes(32), b"\xff" * 32, bytes(64)]))
TEXTS = st.sampled_from(["", "e1", "e2", "a/b", "north", "x" * 70, "mayor", "\x00"])


@dataclass(frozen=True)
class Phase:
    name: str
    snapshot: dict[bytes, bytes]
    time_ms: int


@dataclass(frozen=True)
class Corpus:
    phases: list[Phase]
    txs: list[tuple[bytes, nacl.signing.SigningKey]]


@functools.cache
def corpus() -> Corpus:
    """States in KEY_GENERATION, OPEN and CLOSED, and one valid transaction of every kind."""
    election = Election.created(voters=3)
    phases = []
    deal = election.deal(1)
    election.chain.block([deal, election.deal(2)])
    phases.append(Phase("keygen", election.chain.kv.snapshot(), election.chain.time_ms))
    election.opened(dealers=(3,))
    ballot = election.ballot(0, ((1,), (2,)))
    election.chain.block([ballot])
    phases.append(Phase("open", election.chain.kv.snapshot(), election.chain.time_ms))
    election.chain.block([election.close()])
    phases.append(Phase("closed", election.chain.kv.snapshot(), election.chain.time_ms))
    deal_body = election.chain.app.deal(ELECTION, 1)
    assert deal_body is not None
    trustee = election.trustees[1]
    complaint = txbuild.complaint(
        CHAIN_ID, trustee.key, election.definition, deal_body, 2, trustee.secrets.enc_secret
    )
    voter = derive_credential_key(credential(1), ELECTION)
    txs = [
        (create(definition("e2")), ADMIN),
        (txbuild.roll_append(CHAIN_ID, AUTHORITY, ELECTION, 1, [(bytes(range(32)), "north")]), AUTHORITY),
        (deal, election.trustees[0].key),
        (complaint, trustee.key),
        (election.open(), ADMIN),
        (election.close(), ADMIN),
        (election.ballot(1, ((0,), (0, 1))), voter),
        (election.share(1), election.trustees[0].key),
        (
            txbuild.audited_ballot(
                CHAIN_ID, ELECTION, election.definition, election.key, credential(2), ((0,), (1,))
            )[0],
            derive_credential_key(credential(2), ELECTION),
        ),
    ]
    return Corpus(phases, txs)


def _leaves(message: Message) -> list[tuple[Message, Any]]:
    out: list[tuple[Message, Any]] = []
    for field in message.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                out.append((message, field))
                for child in getattr(message, field.name):
                    out.extend(_leaves(child))
            elif message.HasField(field.name):
                out.extend(_leaves(getattr(message, field.name)))
        else:
            out.append((message, field))
    return out


def _mutate(data: st.DataObject, message: Message, field: Any) -> None:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        items = getattr(message, field.name)
        if len(items):
            del items[data.draw(st.integers(0, len(items) - 1))]
        return
    value: object
    if field.type == FieldDescriptor.TYPE_BYTES:
        value = data.draw(BLOBS)
    elif field.type == FieldDescriptor.TYPE_STRING:
        value = data.draw(TEXTS)
    elif field.type == FieldDescriptor.TYPE_INT64:
        value = data.draw(st.integers(-(2**40), 2**40))
    else:
        value = data.draw(INTS)
    if field.is_repeated:
        items = getattr(message, field.name)
        if len(items):
            items[data.draw(st.integers(0, len(items) - 1))] = value
        else:
            items.append(value)
    else:
        setattr(message, field.name, value)


@settings(deadline=None, max_examples=300)
@given(data=st.data())
def test_mutated_signed_transactions_never_crash(data: st.DataObject) -> None:
    bundle = corpus()
    raw, key = data.draw(st.sampled_from(bundle.txs))
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(raw).body)
    for _ in range(data.draw(st.integers(1, 3))):
        leaves = _leaves(tx)
        message, field = leaves[data.draw(st.integers(0, len(leaves) - 1))]
        _mutate(data, message, field)
    mutated = txbuild.signed(CHAIN_ID, key, tx)
    phase = data.draw(st.sampled_from(bundle.phases))
    chain = Chain(kv=MemoryKV(phase.snapshot), time_ms=phase.time_ms)
    assert code(chain.app.check_tx(mutated)) != "RESULT_CODE_UNSPECIFIED"
    results = chain.block([mutated])
    event(f"{phase.name} {tx.WhichOneof('kind')} {code(results[0])}")
    if results[0].code != election_pb2.OK:
        changed = {k for k, v in chain.kv.snapshot().items() if phase.snapshot.get(k) != v}
        assert all(k.startswith(b"m/") for k in changed), (code(results[0]), changed)
