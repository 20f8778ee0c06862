"""Checks of one served block that need nothing but the genesis file: its header's own roots and
fields, its commit certificate, and which validators' precommits in a certificate are genuine.

Links (previous hash, time, app hash, results root) are judged against the agreed chain in
`verifier.py`, not against the node's own previous block, so one bad block is named once.
"""

from __future__ import annotations

from proto.votestore.v1 import ledger_pb2
from votestore.blocks import BlockInvalid, check_header
from votestore.certificate import certificate_problem as certificate_problem
from votestore.certificate import genuine_signers as certificate_signers
from votestore.encoding import canonical
from votestore.genesis import Genesis
from votestore.hashing import sha256


def content_digest(block: ledger_pb2.Block) -> bytes:
    """Identifies the whole block (header, transactions, evidence), where block_id covers the header."""
    return sha256(canonical(block))


def header_problem(genesis: Genesis, block: ledger_pb2.Block, height: int) -> str | None:
    """What is wrong with the block on its own (`votestore.blocks.check_header`), or None."""
    try:
        check_header(genesis.chain_id, block, height=height, validator_count=genesis.n)
    except BlockInvalid as exc:
        return str(exc)
    return None


def genuine_signers(genesis: Genesis, certificate: ledger_pb2.CommitCertificate) -> frozenset[int]:
    """Validators whose precommit in the certificate verifies: the ones accountable for it."""
    return certificate_signers(genesis.chain_id, genesis.validator_keys(), certificate)


def first_differing_tx(served: ledger_pb2.Block, agreed: ledger_pb2.Block) -> int | None:
    """Index of the first transaction that differs (or is missing/extra), or None if all match."""
    for index in range(max(len(served.txs), len(agreed.txs))):
        if index >= len(served.txs) or index >= len(agreed.txs) or served.txs[index] != agreed.txs[index]:
            return index
    return None
