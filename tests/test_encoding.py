"""Canonical bytes: equal messages give equal bytes, any change changes the hash, and a signature
for one chain or kind does not verify for another."""

from __future__ import annotations

import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proto.votestore.v1 import election_pb2, ledger_pb2
from votestore import encoding
from votestore.errors import DecodeError, SignatureError

KEY = nacl.signing.SigningKey(bytes(range(32)))


def _open(election_id: str) -> election_pb2.Tx:
    return election_pb2.Tx(election_open=election_pb2.ElectionOpen(election_id=election_id))


def _create(title: str, start: int) -> election_pb2.Tx:
    return election_pb2.Tx(
        election_create=election_pb2.ElectionCreate(
            election_id="e1",
            title=title,
            window_start_ms=start,
            window_end_ms=start + 1000,
            threshold=2,
            contests=[
                election_pb2.Contest(
                    id="c", choices=[election_pb2.Choice(id="a"), election_pb2.Choice(id="b")]
                )
            ],
        )
    )


@settings(max_examples=60, deadline=None)
@given(title=st.text(max_size=40), start=st.integers(min_value=0, max_value=2**62))
def test_equal_messages_give_equal_bytes(title: str, start: int) -> None:
    a, b = _create(title, start), _create(title, start)
    assert encoding.canonical(a) == encoding.canonical(b)
    parsed = election_pb2.Tx()
    parsed.ParseFromString(encoding.canonical(a))
    assert encoding.canonical(parsed) == encoding.canonical(a)


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=40), start=st.integers(min_value=0, max_value=2**62), delta=st.integers(1, 1000)
)
def test_a_field_change_changes_the_hash(title: str, start: int, delta: int) -> None:
    base = encoding.sign_tx("chain-a", _create(title, start), KEY).SerializeToString()
    changed = encoding.sign_tx("chain-a", _create(title, start + delta), KEY).SerializeToString()
    assert encoding.tx_hash(base) != encoding.tx_hash(changed)


def test_signed_tx_round_trip_verifies() -> None:
    raw = encoding.sign_tx("chain-a", _open("e1"), KEY).SerializeToString()
    envelope, tx = encoding.decode_signed_tx(raw)
    encoding.verify_signed_tx("chain-a", envelope, tx)
    assert tx.election_open.election_id == "e1"


def test_signature_for_one_chain_fails_on_another() -> None:
    envelope, tx = encoding.decode_signed_tx(
        encoding.sign_tx("chain-a", _open("e1"), KEY).SerializeToString()
    )
    with pytest.raises(SignatureError):
        encoding.verify_signed_tx("chain-b", envelope, tx)


def test_signature_for_one_kind_fails_for_another_kind_with_the_same_body_bytes() -> None:
    open_tx = _open("e1")
    envelope = encoding.sign_tx("chain-a", open_tx, KEY)
    # The same signature presented under another kind's domain must not verify.
    close_message = encoding.tx_signing_bytes("chain-a", "election_close", envelope.body)
    assert not encoding.verify_signature(envelope.signer, close_message, envelope.signature)
    assert len(set(encoding.TX_DOMAINS.values())) == len(encoding.TX_DOMAINS)


def test_tampered_body_fails() -> None:
    envelope = encoding.sign_tx("chain-a", _open("e1"), KEY)
    tampered = election_pb2.SignedTx(
        body=encoding.canonical(_open("e2")), signer=envelope.signer, signature=envelope.signature
    )
    env, tx = encoding.decode_signed_tx(tampered.SerializeToString())
    with pytest.raises(SignatureError):
        encoding.verify_signed_tx("chain-a", env, tx)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xff\xff", "malformed"),
        (
            election_pb2.SignedTx(body=b"", signer=b"\x00" * 32, signature=b"\x00" * 64).SerializeToString(),
            "no body",
        ),
        (
            election_pb2.SignedTx(body=b"", signer=b"\x00" * 31, signature=b"\x00" * 64).SerializeToString(),
            "signer",
        ),
        (
            election_pb2.SignedTx(body=b"", signer=b"\x00" * 32, signature=b"\x00" * 3).SerializeToString(),
            "signature",
        ),
        (b"\x0a" + b"\x00" * (encoding.MAX_TX_BYTES + 1), "exceeds"),
    ],
)
def test_bad_envelopes_raise_decode_error(raw: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        encoding.decode_signed_tx(raw)


def test_non_canonical_body_is_refused() -> None:
    envelope = encoding.sign_tx("chain-a", _open("e1"), KEY)
    # Field 99 is unknown to Tx: it parses, but the body is no longer canonical.
    smuggled = envelope.body + b"\x9a\x06\x05nonce"
    raw = election_pb2.SignedTx(body=smuggled, signer=envelope.signer, signature=envelope.signature)
    with pytest.raises(DecodeError, match="canonical"):
        encoding.decode_signed_tx(raw.SerializeToString())


def test_vote_bytes_separate_type_chain_and_nil() -> None:
    block = b"\x07" * 32
    prevote = encoding.vote_signing_bytes("c", ledger_pb2.PREVOTE, 5, 1, 2, block)
    precommit = encoding.vote_signing_bytes("c", ledger_pb2.PRECOMMIT, 5, 1, 2, block)
    nil = encoding.vote_signing_bytes("c", ledger_pb2.PRECOMMIT, 5, 1, 2, b"")
    other_chain = encoding.vote_signing_bytes("d", ledger_pb2.PRECOMMIT, 5, 1, 2, block)
    assert len({prevote, precommit, nil, other_chain}) == 4
    assert encoding.proposal_signing_bytes("c", 5, 1, -1, 2, block) != prevote
    with pytest.raises(ValueError):
        encoding.vote_signing_bytes("c", ledger_pb2.PREVOTE, 5, 1, 2, b"\x01" * 31)


def test_block_id_commits_to_every_header_field() -> None:
    header = ledger_pb2.BlockHeader(chain_id="c", height=3, time_ms=9, tx_root=b"\x01" * 32)
    base = encoding.block_id(header)
    for field, value in [("height", 4), ("time_ms", 10), ("tx_root", b"\x02" * 32), ("proposer", 1)]:
        changed = ledger_pb2.BlockHeader()
        changed.CopyFrom(header)
        setattr(changed, field, value)
        assert encoding.block_id(changed) != base, field


def test_decoded_tx_holds_what_decode_signed_tx_accepts() -> None:
    raw = encoding.canonical(encoding.sign_tx("c1", _open("e7"), KEY))
    decoded = encoding.DecodedTx.of(raw)
    assert (decoded.envelope, decoded.tx) == encoding.decode_signed_tx(raw)
    assert (decoded.kind, decoded.election_id) == ("election_open", "e7")
    with pytest.raises(DecodeError):
        encoding.DecodedTx.of(raw[:-1])
