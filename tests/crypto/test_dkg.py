"""Key generation: honest runs agree, a cheating dealer is caught, a false complaint refused."""

from __future__ import annotations

from collections.abc import Callable

import nacl.secret
import nacl.utils
import pytest

from proto.votestore.v1 import election_pb2
from tests.crypto.conftest import CHAIN_ID, ELECTION_ID, KeySetup, key_setup
from votestore.crypto import dkg, group, transcript
from votestore.crypto.errors import ComplaintInvalid, DealInvalid, ShareInvalid
from votestore.crypto.group import L


@pytest.mark.parametrize(("n", "t"), [(3, 2), (5, 3)])
def test_shares_interpolate_to_the_election_key(n: int, t: int) -> None:
    setup = key_setup(n, t)
    for i, s in setup.shares.items():
        assert group.base_mult(group.decode_scalar(s)) == dkg.verification_key(setup.deals, i)
    for d in setup.deals:
        dkg.check_deal_form(ELECTION_ID, setup.trustees, t, d)
    # Lagrange at 0 over the first t shares gives the secret behind the election key.
    from votestore.crypto.decryption import lagrange_at_zero

    lam = lagrange_at_zero(list(range(1, t + 1)))
    secret = sum(lam[i] * group.decode_scalar(setup.shares[i]) for i in lam) % L
    assert group.base_mult(secret) == setup.election_key


def _reencrypt_share(setup: KeySetup, deal: election_pb2.DkgDeal, recipient: int, plain: bytes) -> None:
    """What a cheating dealer does: well-formed share boxes under the key the design fixes
    (docs/crypto.md: SHA-256 framing of S = e * Y_j for the deal's ephemeral key g^e), the one to
    `recipient` holding a wrong value, the others their honest shares."""
    honest = {
        j: dkg._open_with_point(
            ELECTION_ID,
            deal,
            j,
            group.mult(group.decode_scalar(setup.secrets[j - 1].enc_secret), deal.ephemeral_key),
        )
        for j in range(1, len(setup.trustees) + 1)
    }
    e = group.random_scalar()
    deal.ephemeral_key = group.base_mult(e)
    for j, share in honest.items():
        shared = group.mult(e, setup.trustees[j - 1].enc_key)
        key = transcript.derive_key(dkg.SHARE_KEY_DOMAIN, ELECTION_ID, deal.dealer, j, shared)
        nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
        value = plain if j == recipient else group.encode_scalar(share)
        deal.shares[j - 1].nonce = nonce
        deal.shares[j - 1].ciphertext = nacl.secret.SecretBox(key).encrypt(value, nonce).ciphertext


def _cheat_wrong_value(setup: KeySetup, deal: election_pb2.DkgDeal, recipient: int) -> None:
    _reencrypt_share(setup, deal, recipient, group.encode_scalar(12345))


def _cheat_not_a_scalar(setup: KeySetup, deal: election_pb2.DkgDeal, recipient: int) -> None:
    _reencrypt_share(setup, deal, recipient, b"\xff" * 32)


def _cheat_garbage_box(setup: KeySetup, deal: election_pb2.DkgDeal, recipient: int) -> None:
    deal.shares[recipient - 1].ciphertext = bytes(dkg.SHARE_CIPHERTEXT_BYTES)


Cheat = Callable[[KeySetup, election_pb2.DkgDeal, int], None]


@pytest.mark.parametrize(
    ("cheat", "reason"),
    [
        (_cheat_wrong_value, "mismatches the commitments"),
        (_cheat_not_a_scalar, "not a scalar"),
        (_cheat_garbage_box, "does not decrypt"),
    ],
)
@pytest.mark.parametrize(("n", "t"), [(3, 2), (5, 3)])
def test_cheating_dealer_is_caught_by_a_complaint(cheat: Cheat, reason: str, n: int, t: int) -> None:
    setup = key_setup(n, t)
    dealer, victim = 2, n
    deal = election_pb2.DkgDeal()
    deal.CopyFrom(setup.deals[dealer - 1])
    cheat(setup, deal, victim)
    dkg.check_deal_form(ELECTION_ID, setup.trustees, t, deal)  # the form is fine: only the victim sees
    me = setup.secrets[victim - 1]
    with pytest.raises(ShareInvalid, match=reason):
        dkg.open_share(ELECTION_ID, setup.trustees, deal, victim, me.enc_secret)
    complaint = dkg.make_complaint(ELECTION_ID, setup.trustees, deal, victim, me.enc_secret)
    assert dkg.complaint_holds(ELECTION_ID, setup.trustees, deal, complaint) is True
    # Other recipients still open their shares: only the complaint reveals the cheat.
    other = setup.secrets[0]
    dkg.open_share(ELECTION_ID, setup.trustees, deal, other.index, other.enc_secret)


@pytest.mark.parametrize(("n", "t"), [(3, 2), (5, 3)])
def test_false_complaint_is_refused(n: int, t: int) -> None:
    setup = key_setup(n, t)
    me = setup.secrets[0]
    for deal in setup.deals[1:]:
        complaint = dkg.make_complaint(ELECTION_ID, setup.trustees, deal, me.index, me.enc_secret)
        assert dkg.complaint_holds(ELECTION_ID, setup.trustees, deal, complaint) is False


def _forge_point(c: election_pb2.DkgComplaint) -> None:
    c.shared_point = group.base_mult(777)


def _flip_challenge(c: election_pb2.DkgComplaint) -> None:
    c.proof.challenge = group.encode_scalar((group.decode_scalar(c.proof.challenge) + 1) % L)


def _flip_response(c: election_pb2.DkgComplaint) -> None:
    c.proof.response = group.encode_scalar((group.decode_scalar(c.proof.response) + 1) % L)


def _claim_other_complainer(c: election_pb2.DkgComplaint) -> None:
    c.complainer = 3 if c.complainer != 3 else 1


def _self_complaint(c: election_pb2.DkgComplaint) -> None:
    c.complainer = c.dealer


def _identity_point(c: election_pb2.DkgComplaint) -> None:
    c.shared_point = group.IDENTITY


def _other_election(c: election_pb2.DkgComplaint) -> None:
    c.election_id = "other"


@pytest.mark.parametrize(
    "forge",
    [
        _forge_point,
        _flip_challenge,
        _flip_response,
        _claim_other_complainer,
        _self_complaint,
        _identity_point,
        _other_election,
    ],
)
def test_forged_complaint_is_invalid(forge: Callable[[election_pb2.DkgComplaint], None]) -> None:
    setup = key_setup(5, 3)
    me = setup.secrets[4]
    deal = setup.deals[1]
    complaint = dkg.make_complaint(ELECTION_ID, setup.trustees, deal, me.index, me.enc_secret)
    forge(complaint)
    with pytest.raises(ComplaintInvalid):
        dkg.complaint_holds(ELECTION_ID, setup.trustees, deal, complaint)


def _deal_mutations() -> list[tuple[str, Callable[[election_pb2.DkgDeal], None], str]]:
    def drop_commitment(d: election_pb2.DkgDeal) -> None:
        del d.commitments[-1]

    def bad_commitment(d: election_pb2.DkgDeal) -> None:
        d.commitments[0] = b"\xff" * 32

    def identity_commitment(d: election_pb2.DkgDeal) -> None:
        d.commitments[1] = group.IDENTITY

    def drop_share(d: election_pb2.DkgDeal) -> None:
        del d.shares[0]

    def swap_recipients(d: election_pb2.DkgDeal) -> None:
        d.shares[0].recipient, d.shares[1].recipient = d.shares[1].recipient, d.shares[0].recipient

    def short_nonce(d: election_pb2.DkgDeal) -> None:
        d.shares[2].nonce = d.shares[2].nonce[:23]

    def long_ciphertext(d: election_pb2.DkgDeal) -> None:
        d.shares[2].ciphertext += b"\x00"

    def bad_dealer(d: election_pb2.DkgDeal) -> None:
        d.dealer = 6

    def other_election(d: election_pb2.DkgDeal) -> None:
        d.election_id = "other"

    return [
        ("drop commitment", drop_commitment, "commitments"),
        ("bad commitment", bad_commitment, "canonical"),
        ("identity commitment", identity_commitment, "identity"),
        ("drop share", drop_share, "shares must be"),
        ("swap recipients", swap_recipients, "shares must be"),
        ("short nonce", short_nonce, "size"),
        ("long ciphertext", long_ciphertext, "size"),
        ("bad dealer", bad_dealer, "dealer 6"),
        ("other election", other_election, "another election"),
    ]


@pytest.mark.parametrize(
    ("name", "mutate", "reason"), _deal_mutations(), ids=[m[0] for m in _deal_mutations()]
)
def test_deal_form_is_checked(name: str, mutate: Callable[[election_pb2.DkgDeal], None], reason: str) -> None:
    setup = key_setup(5, 3)
    deal = election_pb2.DkgDeal()
    deal.CopyFrom(setup.deals[0])
    mutate(deal)
    with pytest.raises(DealInvalid, match=reason):
        dkg.check_deal_form(ELECTION_ID, setup.trustees, 3, deal)


def test_trustee_secrets_round_trip_and_hide_in_repr() -> None:
    secrets, public = dkg.new_trustee("alice", 2)
    assert dkg.TrusteeSecrets.from_bytes(secrets.to_bytes()) == secrets
    assert secrets.enc_secret.hex() not in repr(secrets) and secrets.sign_seed.hex() not in repr(secrets)
    assert group.base_mult(group.decode_scalar(secrets.enc_secret)) == public.enc_key


def test_a_complaints_point_opens_the_disputed_share_and_no_other() -> None:
    """Issue 18, item 6: trustee 2 complains of dealer 1 and so publishes S. S must not open
    trustee 2's own deal's share to dealer 1 (with static keys, S = y2*Y1 = y1*Y2 did), nor any
    other deal's share."""
    setup = key_setup(3, 2)
    complaint = dkg.make_complaint(
        ELECTION_ID, setup.trustees, setup.deals[0], 2, setup.secrets[1].enc_secret
    )
    assert dkg._open_with_point(ELECTION_ID, setup.deals[0], 2, complaint.shared_point) >= 0  # the disputed
    for deal in setup.deals[1:]:
        for recipient in (1, 2, 3):
            with pytest.raises(ShareInvalid, match="does not decrypt"):
                dkg._open_with_point(ELECTION_ID, deal, recipient, complaint.shared_point)


def test_commitment_proofs_hold_and_are_bound_to_chain_election_dealer_and_index() -> None:
    setup = key_setup(3, 2)
    deal = dkg.make_deal(CHAIN_ID, ELECTION_ID, setup.trustees, 2, 1)
    dkg.check_deal_proofs(CHAIN_ID, deal)
    with pytest.raises(DealInvalid, match="commitment 0: proof of knowledge fails"):
        dkg.check_deal_proofs("another-chain", deal)
    swapped = election_pb2.DkgDeal()
    swapped.CopyFrom(deal)
    swapped.commitment_proofs[0].CopyFrom(deal.commitment_proofs[1])
    swapped.commitment_proofs[1].CopyFrom(deal.commitment_proofs[0])
    with pytest.raises(DealInvalid, match="proof of knowledge fails"):
        dkg.check_deal_proofs(CHAIN_ID, swapped)
    other_dealer = election_pb2.DkgDeal()
    other_dealer.CopyFrom(deal)
    other_dealer.dealer = 2
    with pytest.raises(DealInvalid, match="proof of knowledge fails"):
        dkg.check_deal_proofs(CHAIN_ID, other_dealer)


def test_deals_summing_to_the_identity_give_no_election_key() -> None:
    setup = key_setup(3, 2)
    first = setup.deals[0]
    negated = election_pb2.DkgDeal()
    negated.CopyFrom(setup.deals[1])
    negated.commitments[0] = group.sub(group.IDENTITY, first.commitments[0])
    with pytest.raises(DealInvalid, match="identity"):
        dkg.election_key([first, negated])
