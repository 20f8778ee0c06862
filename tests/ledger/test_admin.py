"""Admin transactions and the envelope: roll batches, authorisation, signatures, decoding."""

from __future__ import annotations

import pytest

from election.policy import MAX_ROLL_BATCH_ENTRIES
from proto.votestore.v1 import election_pb2
from tests.ledger.harness import ADMIN, AUTHORITY, CHAIN_ID, Chain, code, create, definition, seeded_key
from votestore import txbuild


def voter(n: int) -> bytes:
    return bytes(seeded_key(f"voter{n}").verify_key)


def roll(batch: int, rows: list[tuple[bytes, str]], key: object = AUTHORITY) -> bytes:
    assert key is AUTHORITY or hasattr(key, "verify_key")
    return txbuild.roll_append(CHAIN_ID, key, "e1", batch, rows)  # type: ignore[arg-type]


@pytest.fixture
def chain() -> Chain:
    chain = Chain()
    assert chain.one(create(definition())) == "OK"
    return chain


def test_roll_batches_in_order_count_per_group(chain: Chain) -> None:
    results = chain.block(
        [
            roll(0, [(voter(1), "north"), (voter(2), "south")]),
            roll(1, [(voter(3), "north")]),
        ]
    )
    assert [code(r) for r in results] == ["OK", "OK"]
    record = chain.state("e1")
    assert (record.roll_size, record.roll_batches) == (3, 2)
    assert [(t.group, t.roll_size, t.ballots) for t in record.turnout] == [("north", 2, 0), ("south", 1, 0)]
    assert chain.app.roll_group("e1", voter(2)) == "south"
    assert chain.app.in_roll("e1", voter(3))
    assert not chain.app.in_roll("e1", voter(4))


def test_roll_batches_helper_numbers_batches(chain: Chain) -> None:
    rows = [(voter(n), "north") for n in range(7)]
    txs = txbuild.roll_batches(CHAIN_ID, AUTHORITY, "e1", rows, batch_size=3)
    assert [code(r) for r in chain.block(txs)] == ["OK"] * 3
    assert chain.state("e1").roll_size == 7


ROLL_REFUSALS = [
    ("batch skipped", lambda: roll(2, [(voter(9), "north")]), "OUT_OF_ORDER"),
    ("batch replayed", lambda: roll(0, [(voter(9), "north")]), "OUT_OF_ORDER"),
    ("credential already in roll", lambda: roll(1, [(voter(1), "south")]), "DUPLICATE"),
    ("credential twice in batch", lambda: roll(1, [(voter(8), "north"), (voter(8), "north")]), "DUPLICATE"),
    ("undeclared group", lambda: roll(1, [(voter(9), "east")]), "BAD_DEFINITION"),
    ("short credential", lambda: roll(1, [(b"\x01" * 31, "north")]), "MALFORMED"),
    ("empty batch", lambda: roll(1, []), "MALFORMED"),
    (
        "oversize batch",
        lambda: roll(1, [(voter(n), "north") for n in range(10, 11 + MAX_ROLL_BATCH_ENTRIES)]),
        "MALFORMED",
    ),
    (
        "signed by a stranger",
        lambda: roll(1, [(voter(9), "north")], seeded_key("mallory")),
        "NOT_AUTHORIZED",
    ),
    (
        # issue 18, attack 5: the administrator appends a key of its own for an abstainer.
        "signed by the administrator",
        lambda: roll(1, [(voter(9), "north")], ADMIN),
        "NOT_AUTHORIZED",
    ),
    (
        "unknown election",
        lambda: txbuild.roll_append(CHAIN_ID, AUTHORITY, "nope", 0, [(voter(9), "north")]),
        "UNKNOWN_ELECTION",
    ),
    (
        "signed for another chain",
        lambda: txbuild.roll_append("other-chain", AUTHORITY, "e1", 1, [(voter(9), "north")]),
        "BAD_SIGNATURE",
    ),
]


@pytest.mark.parametrize(("why", "build", "expected"), ROLL_REFUSALS, ids=[r[0] for r in ROLL_REFUSALS])
def test_roll_refusals_change_nothing(chain: Chain, why: str, build: object, expected: str) -> None:
    assert chain.one(roll(0, [(voter(1), "north")])) == "OK"
    before = chain.kv.snapshot()
    tx = build()  # type: ignore[operator]
    assert chain.app.check_tx(tx).code == election_pb2.ResultCode.Value(expected), why
    assert chain.one(tx) == expected, why
    after = chain.kv.snapshot()
    changed = {k for k in after if after[k] != before.get(k)}
    assert all(k.startswith(b"m/") for k in changed), changed


def _tamper_signature(raw: bytes) -> bytes:
    envelope = election_pb2.SignedTx()
    envelope.ParseFromString(raw)
    envelope.signature = bytes([envelope.signature[0] ^ 1]) + envelope.signature[1:]
    return envelope.SerializeToString()


ENVELOPE_REFUSALS = [
    ("not protobuf", b"\xff\xff\xff", "MALFORMED"),
    (
        "empty body",
        election_pb2.SignedTx(signer=b"\x01" * 32, signature=b"\x02" * 64).SerializeToString(),
        "MALFORMED",
    ),
    (
        "short signature",
        election_pb2.SignedTx(signer=b"\x01" * 32, signature=b"\x02").SerializeToString(),
        "MALFORMED",
    ),
    ("tampered signature", _tamper_signature(create(definition("e2"))), "BAD_SIGNATURE"),
    (
        "create by non-admin",
        txbuild.election_create(CHAIN_ID, seeded_key("mallory"), definition("e2")),
        "NOT_AUTHORIZED",
    ),
]


@pytest.mark.parametrize(("why", "raw", "expected"), ENVELOPE_REFUSALS, ids=[r[0] for r in ENVELOPE_REFUSALS])
def test_envelope_refusals(chain: Chain, why: str, raw: bytes, expected: str) -> None:
    assert chain.one(raw) == expected, why
    assert chain.app.list_elections() == ["e1"]


def test_close_needs_open_phase(chain: Chain) -> None:
    assert chain.one(txbuild.close_election(CHAIN_ID, ADMIN, "e1")) == "WRONG_PHASE"


def test_close_by_non_admin_refused(chain: Chain) -> None:
    assert chain.one(txbuild.close_election(CHAIN_ID, seeded_key("mallory"), "e1")) == "NOT_AUTHORIZED"
