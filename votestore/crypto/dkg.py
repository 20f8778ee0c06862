"""Distributed key generation among n trustees with threshold t (Pedersen/Feldman, after Gennaro-
Jarecki-Krawczyk-Rabin), with publicly checkable complaints.

Each dealer i draws a random polynomial f_i of degree t-1, publishes Feldman commitments A_ik =
g^(a_ik), each with a Schnorr proof that it knows a_ik (bound to the chain, the election, the dealer
and k, as ElectionGuard does: without it the last dealer could publish A_i0 = g^x - sum of the
others' and fix the election key to one it alone opens), and, for every trustee j (itself included,
so its own share is on the ledger too), f_i(j) encrypted under SecretBox with a key hashed from the
Diffie-Hellman point S = e_i * Y_j of the deal's ephemeral key E_i = g^(e_i) and trustee j's
enc_key. A recipient whose share does not open or does not match the commitments publishes S with a
DLEQ proof (log_g Y_j = log_{E_i} S), which opens that one share and no other;
anyone can then open the share and judge: a proven complaint disqualifies the dealer, a false one is
refused. The election key is the sum of the qualified dealers' A_i0 and trustee j's key share is the
sum of f_i(j). No party ever holds the election's secret key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import nacl.exceptions
import nacl.secret
import nacl.signing
import nacl.utils

from proto.votestore.v1 import election_pb2
from votestore.crypto import group, proofs
from votestore.crypto.errors import ComplaintInvalid, DealInvalid, ShareInvalid
from votestore.crypto.group import L
from votestore.crypto.transcript import derive_key
from votestore.errors import DecodeError

SHARE_KEY_DOMAIN: Final = b"votestore/v1/dkg/share-key/ephemeral"
COMPLAINT_DOMAIN: Final = b"votestore/v1/dkg/complaint"
COMMITMENT_DOMAIN: Final = b"votestore/v1/dkg/commitment-pok"
MAX_TRUSTEES: Final = 64  # bounds a deal's size and the work of checking it
NONCE_BYTES: Final = nacl.secret.SecretBox.NONCE_SIZE
SHARE_CIPHERTEXT_BYTES: Final = group.SCALAR_BYTES + nacl.secret.SecretBox.MACBYTES
SIGN_SEED_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class TrusteeSecrets:
    """What a trustee keeps (sealed at rest): never logged, never put in a record.

    index is the trustee's 1-based place in ElectionCreate.trustees, 0 until it is known.
    """

    index: int
    sign_seed: bytes
    enc_secret: bytes

    def __post_init__(self) -> None:
        assert self.index >= 0
        assert len(self.sign_seed) == SIGN_SEED_BYTES
        assert group.decode_scalar(self.enc_secret) > 0

    def __repr__(self) -> str:
        return f"TrusteeSecrets(index={self.index}, <secret>)"

    def to_bytes(self) -> bytes:
        """Fixed layout for sealing: index (4 bytes big-endian), sign seed, enc secret."""
        return self.index.to_bytes(4, "big") + self.sign_seed + self.enc_secret

    @classmethod
    def from_bytes(cls, data: bytes) -> TrusteeSecrets:
        if len(data) != 4 + SIGN_SEED_BYTES + group.SCALAR_BYTES:
            raise DecodeError("trustee secrets blob has the wrong size")
        return cls(int.from_bytes(data[:4], "big"), data[4:36], data[36:])


def new_trustee(name: str, index: int = 0) -> tuple[TrusteeSecrets, election_pb2.Trustee]:
    """Fresh signing and encryption keys from libsodium's randomness."""
    seed = nacl.utils.random(SIGN_SEED_BYTES)
    enc_secret = group.random_scalar()
    secrets = TrusteeSecrets(index, seed, group.encode_scalar(enc_secret))
    public = election_pb2.Trustee(
        name=name,
        sign_key=bytes(nacl.signing.SigningKey(seed).verify_key),
        enc_key=group.base_mult(enc_secret),
    )
    return secrets, public


def _check_setup(trustees: Sequence[election_pb2.Trustee], threshold: int) -> None:
    if not 1 <= len(trustees) <= MAX_TRUSTEES:
        raise ValueError(f"{len(trustees)} trustees outside 1..{MAX_TRUSTEES}")
    if not 1 <= threshold <= len(trustees):
        raise ValueError(f"threshold {threshold} outside 1..{len(trustees)}")


def _enc_key(trustees: Sequence[election_pb2.Trustee], index: int) -> bytes:
    try:
        return group.decode_point(trustees[index - 1].enc_key)
    except DecodeError as e:
        raise ValueError(f"trustee {index} enc_key: {e}") from e


def _share_box(election_id: str, dealer: int, recipient: int, shared_point: bytes) -> nacl.secret.SecretBox:
    return nacl.secret.SecretBox(derive_key(SHARE_KEY_DOMAIN, election_id, dealer, recipient, shared_point))


def _eval_commitments(commitments: Sequence[bytes], x: int) -> bytes:
    """g^f(x) from the Feldman commitments, by Horner's rule in the exponent."""
    acc = commitments[-1]
    for c in reversed(commitments[:-1]):
        acc = group.add(group.mult(x, acc), c)
    return acc


def _commitment_context(chain_id: str, election_id: str, dealer: int, k: int) -> tuple[str | int, ...]:
    return (chain_id, election_id, dealer, k)


def make_deal(
    chain_id: str,
    election_id: str,
    trustees: Sequence[election_pb2.Trustee],
    threshold: int,
    dealer: int,
) -> election_pb2.DkgDeal:
    """Deal a fresh random polynomial; its coefficients and the deal's ephemeral secret are
    dropped when this returns."""
    _check_setup(trustees, threshold)
    assert 1 <= dealer <= len(trustees)
    ephemeral = group.random_scalar()
    coefficients = [group.random_scalar() for _ in range(threshold)]
    commitments = [group.base_mult(a) for a in coefficients]
    deal = election_pb2.DkgDeal(
        election_id=election_id,
        dealer=dealer,
        commitments=commitments,
        ephemeral_key=group.base_mult(ephemeral),
    )
    for k, (a, commitment) in enumerate(zip(coefficients, commitments, strict=True)):
        proof = proofs.prove_schnorr(
            COMMITMENT_DOMAIN, _commitment_context(chain_id, election_id, dealer, k), commitment, a
        )
        deal.commitment_proofs.add(
            challenge=group.encode_scalar(proof.challenge), response=group.encode_scalar(proof.response)
        )
    for j in range(1, len(trustees) + 1):
        share = 0
        for a in reversed(coefficients):
            share = (share * j + a) % L
        box = _share_box(election_id, dealer, j, group.mult(ephemeral, _enc_key(trustees, j)))
        nonce = nacl.utils.random(NONCE_BYTES)
        deal.shares.add(
            recipient=j, nonce=nonce, ciphertext=box.encrypt(group.encode_scalar(share), nonce).ciphertext
        )
    return deal


def check_deal_form(
    election_id: str, trustees: Sequence[election_pb2.Trustee], threshold: int, deal: election_pb2.DkgDeal
) -> None:
    """Raise DealInvalid unless the deal has t valid commitments, t proofs of canonical scalars,
    and one share for every trustee (1..n in order, the dealer's own included) of the right sizes.
    The proofs themselves are checked by `check_deal_proofs`, which needs the chain id."""
    _check_setup(trustees, threshold)
    n = len(trustees)
    if deal.election_id != election_id:
        raise DealInvalid("deal is for another election")
    if not 1 <= deal.dealer <= n:
        raise DealInvalid(f"dealer {deal.dealer} outside 1..{n}")
    if len(deal.commitments) != threshold:
        raise DealInvalid(f"{len(deal.commitments)} commitments, threshold is {threshold}")
    try:
        for c in deal.commitments:
            group.decode_point(c)
    except DecodeError as e:
        raise DealInvalid(f"commitment: {e}") from e
    try:
        group.decode_point(deal.ephemeral_key)
    except DecodeError as e:
        raise DealInvalid(f"ephemeral key: {e}") from e
    if len(deal.commitment_proofs) != threshold:
        raise DealInvalid(f"{len(deal.commitment_proofs)} commitment proofs, threshold is {threshold}")
    try:
        for p in deal.commitment_proofs:
            group.decode_scalar(p.challenge)
            group.decode_scalar(p.response)
    except DecodeError as e:
        raise DealInvalid(f"commitment proof: {e}") from e
    if [s.recipient for s in deal.shares] != list(range(1, n + 1)):
        raise DealInvalid(f"shares must be for trustees 1..{n} in order")
    for s in deal.shares:
        if len(s.nonce) != NONCE_BYTES or len(s.ciphertext) != SHARE_CIPHERTEXT_BYTES:
            raise DealInvalid(f"share for trustee {s.recipient}: wrong nonce or ciphertext size")


def check_deal_proofs(chain_id: str, deal: election_pb2.DkgDeal) -> None:
    """Raise DealInvalid unless every commitment carries a valid proof that the dealer knows its
    discrete log (the deal's form already checked by `check_deal_form`)."""
    for k, (commitment, pb) in enumerate(zip(deal.commitments, deal.commitment_proofs, strict=True)):
        proof = proofs.Schnorr(group.decode_scalar(pb.challenge), group.decode_scalar(pb.response))
        context = _commitment_context(chain_id, deal.election_id, deal.dealer, k)
        if not proofs.verify_schnorr(COMMITMENT_DOMAIN, context, commitment, proof):
            raise DealInvalid(f"commitment {k}: proof of knowledge fails")


def _open_with_point(
    election_id: str, deal: election_pb2.DkgDeal, recipient: int, shared_point: bytes
) -> int:
    """Decrypt trustee `recipient`'s share and check it against the commitments (form checked)."""
    assert 1 <= recipient <= len(deal.shares)
    enc = deal.shares[recipient - 1]
    assert enc.recipient == recipient
    box = _share_box(election_id, deal.dealer, recipient, shared_point)
    try:
        plain = box.decrypt(enc.ciphertext, enc.nonce)
    except nacl.exceptions.CryptoError as e:
        raise ShareInvalid(f"share from dealer {deal.dealer} to {recipient} does not decrypt") from e
    try:
        share = group.decode_scalar(plain)
    except DecodeError as e:
        raise ShareInvalid(f"share from dealer {deal.dealer} to {recipient} is not a scalar") from e
    if group.base_mult(share) != _eval_commitments(list(deal.commitments), recipient):
        raise ShareInvalid(f"share from dealer {deal.dealer} to {recipient} mismatches the commitments")
    return share


def open_share(
    election_id: str,
    trustees: Sequence[election_pb2.Trustee],
    deal: election_pb2.DkgDeal,
    my_index: int,
    my_enc_secret: bytes,
) -> bytes:
    """My share of this dealer's polynomial, checked; raises ShareInvalid (then complain)."""
    check_deal_form(election_id, trustees, len(deal.commitments), deal)
    secret = group.decode_scalar(my_enc_secret)
    shared = group.mult(secret, deal.ephemeral_key)
    return group.encode_scalar(_open_with_point(election_id, deal, my_index, shared))


def _complaint_context(election_id: str, complainer: int, dealer: int) -> tuple[str | int, ...]:
    return (election_id, complainer, dealer)


def make_complaint(
    election_id: str,
    trustees: Sequence[election_pb2.Trustee],
    deal: election_pb2.DkgDeal,
    my_index: int,
    my_enc_secret: bytes,
) -> election_pb2.DkgComplaint:
    """Reveal S = y_me * E (E the deal's ephemeral key) with a proof that it is the
    Diffie-Hellman point of E and my enc_key.

    E is this deal's alone, so S opens only the disputed share (this dealer's to me) and no other;
    my enc secret stays hidden (DLEQ is zero-knowledge). (With the dealer's static key in place of
    E, S would also open my own deal's share to the dealer: the static point is symmetric.)
    """
    check_deal_form(election_id, trustees, len(deal.commitments), deal)
    secret = group.decode_scalar(my_enc_secret)
    my_key = _enc_key(trustees, my_index)
    assert group.base_mult(secret) == my_key, "enc secret does not match my enc_key"
    shared = group.mult(secret, deal.ephemeral_key)
    proof = proofs.prove_dleq(
        COMPLAINT_DOMAIN,
        _complaint_context(election_id, my_index, deal.dealer),
        deal.ephemeral_key,
        my_key,
        shared,
        secret,
    )
    return election_pb2.DkgComplaint(
        election_id=election_id,
        complainer=my_index,
        dealer=deal.dealer,
        shared_point=shared,
        proof=election_pb2.DleqProof(
            challenge=group.encode_scalar(proof.challenge), response=group.encode_scalar(proof.response)
        ),
    )


def complaint_holds(
    election_id: str,
    trustees: Sequence[election_pb2.Trustee],
    deal: election_pb2.DkgDeal,
    complaint: election_pb2.DkgComplaint,
) -> bool:
    """True: the dealer is guilty (share fails to open or mismatches); False: a false complaint.

    Raises ComplaintInvalid if the complaint is malformed or its proof fails, DealInvalid if the
    deal itself is malformed (it should never have been accepted).
    """
    check_deal_form(election_id, trustees, len(deal.commitments), deal)
    n = len(trustees)
    if complaint.election_id != election_id or deal.election_id != election_id:
        raise ComplaintInvalid("complaint or deal is for another election")
    if complaint.dealer != deal.dealer:
        raise ComplaintInvalid("complaint names another dealer")
    if not 1 <= complaint.complainer <= n or complaint.complainer == complaint.dealer:
        raise ComplaintInvalid(f"complainer {complaint.complainer} invalid")
    try:
        shared = group.decode_point(complaint.shared_point)
        proof = proofs.Dleq(
            group.decode_scalar(complaint.proof.challenge), group.decode_scalar(complaint.proof.response)
        )
    except DecodeError as e:
        raise ComplaintInvalid(f"complaint: {e}") from e
    my_key = _enc_key(trustees, complaint.complainer)
    context = _complaint_context(election_id, complaint.complainer, complaint.dealer)
    if not proofs.verify_dleq(COMPLAINT_DOMAIN, context, deal.ephemeral_key, my_key, shared, proof):
        raise ComplaintInvalid("complaint's Diffie-Hellman proof fails")
    try:
        _open_with_point(election_id, deal, complaint.complainer, shared)
    except ShareInvalid:
        return True
    return False


def election_key(deals: Sequence[election_pb2.DkgDeal]) -> bytes:
    """The election key: the sum of the qualified dealers' A_0 (pass only qualified deals).
    Raises DealInvalid if the sum is the identity (a zero secret: ballots would be in clear),
    which dealers who each proved knowledge of their A_0 reach only with negligible probability."""
    assert deals, "no qualified deal"
    key = group.add_all([group.decode_point(d.commitments[0]) for d in deals])
    if key == group.IDENTITY:
        raise DealInvalid("the qualified deals sum to the identity: no election key")
    return key


def verification_key(deals: Sequence[election_pb2.DkgDeal], trustee_index: int) -> bytes:
    """g^(s_j) for trustee j's key share, from the qualified dealers' commitments alone.

    Commitments are decoded again here: libsodium adds an invalid encoding as if it were zero."""
    assert deals and trustee_index >= 1
    return group.add_all(
        [_eval_commitments([group.decode_point(c) for c in d.commitments], trustee_index) for d in deals]
    )


def secret_share(opened_shares: Sequence[bytes]) -> bytes:
    """Trustee j's key share s_j: the sum of its opened shares from the qualified dealers."""
    assert opened_shares, "no share"
    return group.encode_scalar(sum(group.decode_scalar(s) for s in opened_shares) % L)
