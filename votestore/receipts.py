"""Offline checks of a transaction proof (a ballot receipt) with the genesis file alone."""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from proto.votestore.v1 import ledger_pb2
from votestore.certificate import CertificateInvalid, verify_certificate
from votestore.encoding import block_id, canonical, tx_hash
from votestore.errors import VotestoreError
from votestore.genesis import Genesis
from votestore.hashing import sha256, verify_merkle_path

CHECKED_CERTIFICATES_KEPT: Final = 1024


class ProofInvalid(VotestoreError):
    """A receipt or transaction proof that does not prove what it claims."""


class CheckedCertificates:
    """Certificates already found valid, for one genesis: a gateway checks the receipts of every
    ballot of a block, each carrying the same two certificates (2f+1 signatures apiece). Keyed by
    the block id, the height and the certificate's exact bytes, so any other certificate for the
    same block is still checked in full."""

    def __init__(self, genesis: Genesis) -> None:
        self._genesis = genesis
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    def verify(self, certificate: ledger_pb2.CommitCertificate, *, block_id: bytes, height: int) -> None:
        """As verify_certificate (raises CertificateInvalid), once per distinct certificate."""
        key = sha256(block_id + height.to_bytes(8, "big") + canonical(certificate))
        if key in self._seen:
            self._seen.move_to_end(key)
            return
        genesis = self._genesis
        verify_certificate(
            genesis.chain_id, genesis.validator_keys(), certificate, block_id=block_id, height=height
        )
        self._seen[key] = None
        if len(self._seen) > CHECKED_CERTIFICATES_KEPT:
            self._seen.popitem(last=False)


def verify_tx_proof(
    genesis: Genesis,
    proof: ledger_pb2.TxProof,
    *,
    require_result: bool = False,
    checked: CheckedCertificates | None = None,
) -> None:
    """Raise ProofInvalid unless the transaction is in a block certified by 2f+1 genesis validators
    (and, when the next block is included or required, unless its result is certified too).
    `checked` (for this genesis) skips certificates it has already found valid."""
    certificates = checked or CheckedCertificates(genesis)
    if tx_hash(proof.tx) != proof.tx_hash:
        raise ProofInvalid("tracking code does not match the transaction bytes")
    header = proof.header
    if header.chain_id != genesis.chain_id:
        raise ProofInvalid(f"proof is for chain {header.chain_id!r}, not {genesis.chain_id!r}")
    if not verify_merkle_path(proof.tx, proof.index, proof.tx_count, list(proof.merkle_path), header.tx_root):
        raise ProofInvalid("transaction is not in the block's Merkle tree")
    header_id = block_id(header)
    try:
        certificates.verify(proof.certificate, block_id=header_id, height=header.height)
    except CertificateInvalid as exc:
        raise ProofInvalid(f"block certificate: {exc}") from None
    if not proof.HasField("next_header"):
        if require_result:
            raise ProofInvalid("no next block yet: the result is not certified")
        return
    following = proof.next_header
    if following.height != header.height + 1 or following.prev_block_hash != header_id:
        raise ProofInvalid("next header does not follow the transaction's block")
    if not verify_merkle_path(
        canonical(proof.result), proof.index, proof.tx_count, list(proof.result_path), following.results_hash
    ):
        raise ProofInvalid("result is not in the next header's results root")
    try:
        certificates.verify(proof.next_certificate, block_id=block_id(following), height=following.height)
    except CertificateInvalid as exc:
        raise ProofInvalid(f"next block certificate: {exc}") from None
