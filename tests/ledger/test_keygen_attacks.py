"""Issue 18, attacks 1 and 2: a last dealer who picks the election key, and the administrator who
opens in the same block before anyone can complain.

Trustee 3 waits for trustees 1 and 2 to deal, then publishes A30 = g^x - (A10 + A20) (additive
notation), so that the election key A10 + A20 + A30 = g^x is a key it alone knows; or
A30 = -(A10 + A20), so that the election key is the identity. It cannot know log_g A30, so it cannot
prove knowledge of it: the deal is refused. The administrator's open in the same block is refused
too: the complaint window has not passed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election, credential
from tests.ledger.harness import (
    CHAIN_ID,
    COMPLAINT_WINDOW_MS,
    DEAL_DEADLINE_MS,
    WINDOW_START_MS,
    attester,
    code,
)
from votestore import txbuild
from votestore.crypto import group

ROGUE_SECRET = 0x5EC2E7


def _commitments(election: Election, dealer: int) -> list[bytes]:
    deal = election.chain.app.deal(ELECTION, dealer)
    assert deal is not None
    return list(deal.commitments)


def _rogue_key(honest_sum: bytes) -> bytes:
    """g^x - (A10 + A20): the election key becomes g^x, which trustee 3 alone can open."""
    return group.sub(group.base_mult(ROGUE_SECRET), honest_sum)


def _identity_key(honest_sum: bytes) -> bytes:
    """-(A10 + A20): the election key becomes the identity; ballots are sent in clear."""
    return group.sub(group.IDENTITY, honest_sum)


def _rogue_deal(election: Election, constant: Callable[[bytes], bytes]) -> bytes:
    """Trustee 3's honest deal with its constant-term commitment replaced, signed by trustee 3."""
    honest = group.add(_commitments(election, 1)[0], _commitments(election, 2)[0])
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(election.deal(3)).body)
    tx.dkg_deal.commitments[0] = constant(honest)
    return txbuild.signed(CHAIN_ID, election.trustees[2].key, tx)


@pytest.mark.parametrize(
    ("name", "constant"), [("rogue key g^x", _rogue_key), ("identity key", _identity_key)]
)
def test_last_dealer_cannot_choose_the_election_key(name: str, constant: Callable[[bytes], bytes]) -> None:
    election = Election.created(voters=4)
    assert [code(r) for r in election.chain.block([election.deal(1), election.deal(2)])] == ["OK", "OK"]
    rogue = _rogue_deal(election, constant)
    results = election.chain.block([rogue, election.open()])
    record = election.chain.state(ELECTION)
    assert record.election_key not in (group.base_mult(ROGUE_SECRET), group.IDENTITY), name
    assert [code(r) for r in results] == ["BAD_PROOF", "KEYGEN_PENDING"], (name, results)
    assert "proof of knowledge" in results[0].detail
    assert record.phase == election_pb2.KEY_GENERATION
    assert list(record.qualified_dealers) == [1, 2]


def test_identity_key_attack_leaves_a_chain_that_goes_on() -> None:
    """On the old code the identity key was recorded and the next ballot made `execute_block`
    raise DecodeError on every validator (the chain halted); now every transaction gets a result.
    An honest client cannot encrypt to the identity, so the ballot is made under another key."""
    election = Election.created(voters=4)
    election.chain.block([election.deal(1), election.deal(2)])
    election.chain.block([_rogue_deal(election, _identity_key), election.open()])
    other_key = group.base_mult(ROGUE_SECRET)
    ballot = txbuild.ballot(
        CHAIN_ID, ELECTION, election.definition, other_key, credential(0), [[0], []], attester(ELECTION)
    )
    (result,) = election.chain.block([ballot], WINDOW_START_MS)
    assert code(result) == "WRONG_PHASE", result


def test_open_waits_for_the_complaint_window_after_the_last_deal() -> None:
    election = Election.created()
    results = election.chain.block([election.deal(1), election.deal(2), election.deal(3)])
    assert [code(r) for r in results] == ["OK"] * 3
    dealt_at = election.chain.time_ms
    assert election.chain.state(ELECTION).deals_closed_ms == dealt_at
    refused = election.chain.block([election.open()], dealt_at + COMPLAINT_WINDOW_MS - 1)[0]
    assert code(refused) == "KEYGEN_PENDING"
    assert str(dealt_at + COMPLAINT_WINDOW_MS) in refused.detail
    assert election.chain.one(election.open(), dealt_at + COMPLAINT_WINDOW_MS) == "OK"


def test_without_every_deal_open_waits_for_the_deadline_and_late_deals_are_refused() -> None:
    election = Election.created()
    assert [code(r) for r in election.chain.block([election.deal(1), election.deal(2)])] == ["OK", "OK"]
    assert election.chain.one(election.open(), DEAL_DEADLINE_MS + COMPLAINT_WINDOW_MS - 1) == "KEYGEN_PENDING"
    assert election.chain.one(election.deal(3)) == "OUTSIDE_WINDOW"
    assert election.chain.one(election.open()) == "OK"
    assert list(election.chain.state(ELECTION).qualified_dealers) == [1, 2]


def test_a_proven_complaint_in_the_window_keeps_the_cheat_out_of_the_key() -> None:
    """Dealer 3 sends trustee 1 a bad share; trustee 1 complains inside the window; the open that
    follows uses dealers 1 and 2 only."""
    election = Election.created()
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(election.deal(3)).body)
    share = tx.dkg_deal.shares[0]
    share.ciphertext = bytes([share.ciphertext[0] ^ 1]) + share.ciphertext[1:]
    bad = txbuild.signed(CHAIN_ID, election.trustees[2].key, tx)
    assert [code(r) for r in election.chain.block([election.deal(1), election.deal(2), bad])] == ["OK"] * 3
    deal = election.chain.app.deal(ELECTION, 3)
    assert deal is not None
    kit = election.trustees[0]
    complaint = txbuild.complaint(CHAIN_ID, kit.key, election.definition, deal, 1, kit.secrets.enc_secret)
    assert election.chain.one(complaint) == "OK"
    assert election.chain.one(election.open(), WINDOW_START_MS) == "OK"
    record = election.chain.state(ELECTION)
    assert list(record.qualified_dealers) == [1, 2]


def test_deal_with_a_proof_for_another_chain_or_dealer_is_refused() -> None:
    """The proofs are bound to the chain, the election and the dealer: replayed ones fail."""
    election = Election.created()
    kit = election.trustees[0]
    elsewhere = txbuild.deal("other-chain", kit.key, election.definition, 1)
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(elsewhere).body)
    replayed = txbuild.signed(CHAIN_ID, kit.key, tx)
    result = election.chain.block([replayed])[0]
    assert code(result) == "BAD_PROOF" and "proof of knowledge" in result.detail
    stripped = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(election.deal(1)).body)
    del stripped.dkg_deal.commitment_proofs[:]
    assert election.chain.one(txbuild.signed(CHAIN_ID, kit.key, stripped)) == "MALFORMED"
