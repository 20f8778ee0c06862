"""Commit certificates, checkable by anyone with the genesis validator set alone: the one check.

A certificate is more than two thirds of the validators' precommit signatures (⌊2n/3⌋+1, which is
2f+1 when n = 3f+1), from distinct genesis validators, over one block id at one height and round.
`check_precommits` is the only place that judges one: the consensus core (through its injected
`Verifier`), catch-up, the store's chain check, receipts and the verifier all reach it, so a
forged certificate is refused by every one of them for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final

from proto.votestore.v1 import ledger_pb2
from votestore.encoding import BLOCK_ID_BYTES, block_id, verify_signature, vote_signing_bytes
from votestore.errors import VotestoreError
from votestore.genesis import Genesis, quorum

MAX_HEIGHT: Final = 2**64 - 1
MAX_ROUND: Final = 2**31 - 1  # valid_round is a signed 32-bit field and must be able to name any round

SignatureCheck = Callable[[int, bytes, bytes], bool]
"""(validator index, message, signature) -> whether that validator's genesis key signed it; never
raises, False for an index outside the validator set."""


class CertificateInvalid(VotestoreError):
    """A commit certificate that does not prove its block was committed."""


def genesis_signature_check(validator_keys: Sequence[bytes]) -> SignatureCheck:
    """The `SignatureCheck` against the genesis Ed25519 keys, by validator index."""
    keys = tuple(validator_keys)

    def check(validator: int, message: bytes, signature: bytes) -> bool:
        return 0 <= validator < len(keys) and verify_signature(keys[validator], message, signature)

    return check


def precommit_bytes(chain_id: str, height: int, round_: int, validator: int, block_id: bytes) -> bytes:
    """What a certificate's precommit from `validator` signs."""
    return vote_signing_bytes(chain_id, ledger_pb2.PRECOMMIT, height, round_, validator, block_id)


def check_precommits(
    chain_id: str,
    validator_count: int,
    height: int,
    round_: int,
    block_id: bytes,
    signatures: Iterable[tuple[int, bytes]],
    check: SignatureCheck,
) -> None:
    """Raise CertificateInvalid naming the first thing wrong; return if a quorum of distinct
    genesis validators signed PRECOMMIT for `block_id` at (height, round). Every signature must
    verify: one bad entry refuses the whole certificate."""
    if not 1 <= height <= MAX_HEIGHT:
        raise CertificateInvalid(f"certificate height {height} out of range 1..{MAX_HEIGHT}")
    if not 0 <= round_ <= MAX_ROUND:
        raise CertificateInvalid(f"certificate round {round_} out of range 0..{MAX_ROUND}")
    if len(block_id) != BLOCK_ID_BYTES:
        raise CertificateInvalid(f"certificate block id must be {BLOCK_ID_BYTES} bytes")
    signers: set[int] = set()
    for validator, signature in signatures:
        if not 0 <= validator < validator_count:
            raise CertificateInvalid(f"signer {validator} is not a genesis validator")
        if validator in signers:
            raise CertificateInvalid(f"validator {validator} counted twice")
        if not check(validator, precommit_bytes(chain_id, height, round_, validator, block_id), signature):
            raise CertificateInvalid(f"bad precommit signature from validator {validator}")
        signers.add(validator)
    needed = quorum(validator_count)
    if len(signers) < needed:
        raise CertificateInvalid(f"{len(signers)} precommits, {needed} needed")


def verify_certificate(
    chain_id: str,
    validator_keys: Sequence[bytes],
    certificate: ledger_pb2.CommitCertificate,
    *,
    block_id: bytes | None = None,
    height: int | None = None,
) -> None:
    """`check_precommits` for a wire certificate, which must also be for `block_id` and `height`
    when given (the block it is served with, the height it is served as)."""
    if block_id is not None and certificate.block_id != block_id:
        raise CertificateInvalid("certificate is for another block")
    if height is not None and certificate.height != height:
        raise CertificateInvalid(f"certificate is for height {certificate.height}, not {height}")
    check_precommits(
        chain_id,
        len(validator_keys),
        certificate.height,
        certificate.round,
        certificate.block_id,
        ((entry.validator, entry.signature) for entry in certificate.signatures),
        genesis_signature_check(validator_keys),
    )


def genuine_signers(
    chain_id: str, validator_keys: Sequence[bytes], certificate: ledger_pb2.CommitCertificate
) -> frozenset[int]:
    """Validators whose precommit in the certificate verifies, valid certificate or not: the ones
    accountable for it."""
    if len(certificate.block_id) != BLOCK_ID_BYTES:
        return frozenset()
    check = genesis_signature_check(validator_keys)
    return frozenset(
        entry.validator
        for entry in certificate.signatures
        if 0 <= entry.validator < len(validator_keys)
        and check(
            entry.validator,
            precommit_bytes(
                chain_id, certificate.height, certificate.round, entry.validator, certificate.block_id
            ),
            entry.signature,
        )
    )


def certificate_problem(genesis: Genesis, committed: ledger_pb2.CommittedBlock, height: int) -> str | None:
    """What is wrong with a served block's certificate as the one at `height`, or None: how
    catch-up and the verifier judge what a peer serves."""
    try:
        verify_certificate(
            genesis.chain_id,
            genesis.validator_keys(),
            committed.certificate,
            block_id=block_id(committed.block.header),
            height=height,
        )
    except CertificateInvalid as exc:
        return str(exc)
    return None
