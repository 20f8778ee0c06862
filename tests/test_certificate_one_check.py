"""One certificate check: a certificate forged in each way is refused by the consensus core, by
catch-up, by receipts and by the verifier, for the very same reason (`votestore.certificate`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from node import catchup
from node.consensus import (
    Commit,
    Consensus,
    Decided,
    Start,
    TimeoutConfig,
    ValidatorSet,
    Verifier,
)
from node.consensus import verify_certificate as core_verify_certificate
from node.signing import GenesisVerifier, LocalSigner
from node.wire import certificate_from_wire
from proto.votestore.v1 import ledger_pb2
from tests.genesis_kit import four_validators
from tools.verify import chain
from votestore.blocks import evidence_root, tx_root
from votestore.certificate import CertificateInvalid, verify_certificate
from votestore.encoding import block_id, canonical, tx_hash, vote_signing_bytes
from votestore.receipts import ProofInvalid, verify_tx_proof

CHAIN_ID = "one-check"
HEIGHT = 5
KEYS, GENESIS = four_validators(CHAIN_ID, seed=7, port=7100)
TX = b"a signed transaction"
BLOCK = ledger_pb2.Block(
    header=ledger_pb2.BlockHeader(
        chain_id=CHAIN_ID,
        height=HEIGHT,
        time_ms=10,
        tx_root=tx_root([TX]),
        evidence_hash=evidence_root([]),
        proposer=1,
    ),
    txs=[TX],
)
BLOCK_ID = block_id(BLOCK.header)
OTHER_ID = block_id(ledger_pb2.BlockHeader(chain_id=CHAIN_ID, height=HEIGHT, time_ms=11))


def _precommit(signer: int, height: int, block: bytes, as_validator: int | None = None) -> bytes:
    validator = signer if as_validator is None else as_validator
    message = vote_signing_bytes(CHAIN_ID, ledger_pb2.PRECOMMIT, height, 0, validator, block)
    return KEYS[signer].sign(message).signature


def _certificate(
    signers: tuple[int, ...] = (0, 1, 2), *, height: int = HEIGHT, block: bytes = BLOCK_ID
) -> ledger_pb2.CommitCertificate:
    certificate = ledger_pb2.CommitCertificate(height=height, round=0, block_id=block)
    for i in signers:
        certificate.signatures.add(validator=i, signature=_precommit(i, height, block))
    return certificate


def _bad_signature() -> ledger_pb2.CommitCertificate:
    certificate = _certificate()
    certificate.signatures[1].signature = _precommit(1, HEIGHT, OTHER_ID)
    return certificate


def _unknown_validator() -> ledger_pb2.CommitCertificate:
    certificate = _certificate((0, 1))
    certificate.signatures.add(validator=4, signature=_precommit(2, HEIGHT, BLOCK_ID, as_validator=4))
    return certificate


FORGERIES: dict[str, tuple[Callable[[], ledger_pb2.CommitCertificate], str]] = {
    "bad signature": (_bad_signature, "bad precommit signature from validator 1"),
    "duplicate signer": (lambda: _certificate((0, 1, 1)), "validator 1 counted twice"),
    "under quorum": (lambda: _certificate((0, 1)), "2 precommits, 3 needed"),
    "wrong height": (lambda: _certificate(height=HEIGHT + 1), f"certificate is for height {HEIGHT + 1}"),
    "wrong block id": (lambda: _certificate(block=OTHER_ID), "certificate is for another block"),
    "unknown validator": (_unknown_validator, "signer 4 is not a genesis validator"),
}


def _core(verifier: Verifier | None = None) -> Consensus:
    def built_by(identity: bytes, payload: bytes) -> int | None:
        block = ledger_pb2.Block.FromString(payload)
        return block.header.proposer if block_id(block.header) == identity else None

    core = Consensus(
        chain_id=CHAIN_ID,
        validators=ValidatorSet(4),
        index=3,
        signer=LocalSigner(KEYS[3]),
        verifier=verifier or GenesisVerifier(GENESIS.validator_keys()),
        valid=lambda _h, _b, identity, payload: built_by(identity, payload) is not None,
        built_by=built_by,
        timeouts=TimeoutConfig(),
        height=HEIGHT,
    )
    core.step(Start())
    return core


def _core_commits(certificate: ledger_pb2.CommitCertificate) -> bool:
    """The node's core, fed the block as a catch-up decision from the network (unchecked)."""
    actions = _core().step(Decided(certificate_from_wire(certificate), canonical(BLOCK)))
    return any(isinstance(action, Commit) for action in actions)


def _receipt_problem(certificate: ledger_pb2.CommitCertificate) -> str | None:
    proof = ledger_pb2.TxProof(
        tx_hash=tx_hash(TX), tx=TX, header=BLOCK.header, certificate=certificate, index=0, tx_count=1
    )
    try:
        verify_tx_proof(GENESIS, proof)
    except ProofInvalid as exc:
        return str(exc)
    return None


def test_the_genuine_certificate_passes_every_check() -> None:
    good = _certificate()
    committed = ledger_pb2.CommittedBlock(block=BLOCK, certificate=good)
    verify_certificate(CHAIN_ID, GENESIS.validator_keys(), good, block_id=BLOCK_ID, height=HEIGHT)
    assert _core_commits(good)
    assert catchup.certificate_problem(GENESIS, committed, HEIGHT) is None
    assert chain.certificate_problem(GENESIS, committed, HEIGHT) is None
    assert _receipt_problem(good) is None
    assert chain.genuine_signers(GENESIS, good) == {0, 1, 2}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_certificate_is_refused_alike_everywhere(forgery: str) -> None:
    make, why = FORGERIES[forgery]
    forged = make()
    committed = ledger_pb2.CommittedBlock(block=BLOCK, certificate=forged)
    with pytest.raises(CertificateInvalid) as kernel:
        verify_certificate(CHAIN_ID, GENESIS.validator_keys(), forged, block_id=BLOCK_ID, height=HEIGHT)
    assert str(kernel.value).startswith(why)
    assert not _core_commits(forged)
    assert catchup.certificate_problem(GENESIS, committed, HEIGHT) == str(kernel.value)
    assert chain.certificate_problem(GENESIS, committed, HEIGHT) == str(kernel.value)
    assert _receipt_problem(forged) == f"block certificate: {kernel.value}"


@pytest.mark.parametrize(
    "forgery", ["bad signature", "duplicate signer", "under quorum", "unknown validator"]
)
def test_the_core_view_of_a_forged_certificate_is_the_kernel_verdict(forgery: str) -> None:
    forged = FORGERIES[forgery][0]()
    assert not core_verify_certificate(
        certificate_from_wire(forged), CHAIN_ID, ValidatorSet(4), GenesisVerifier(GENESIS.validator_keys())
    )


def test_catch_up_and_the_verifier_call_the_kernel_check_itself() -> None:
    """One implementation, not copies that agree today: both names are the kernel's function."""
    from votestore import certificate

    assert catchup.certificate_problem is certificate.certificate_problem
    assert chain.certificate_problem is certificate.certificate_problem


def test_a_block_catch_up_checked_is_not_verified_again_by_the_core() -> None:
    """Catch-up runs the one check per block; the core trusts its shell's verdict, not twice."""
    calls: list[int] = []
    genesis_verifier = GenesisVerifier(GENESIS.validator_keys())

    class Counting:
        def verify(self, validator: int, message: bytes, signature: bytes) -> bool:
            calls.append(validator)
            return genesis_verifier.verify(validator, message, signature)

    core = _core(Counting())
    good = certificate_from_wire(_certificate())
    actions = core.step(Decided(good, canonical(BLOCK), certificate_checked=True))
    assert any(isinstance(action, Commit) for action in actions)
    assert calls == []
    unchecked = _core(Counting())
    assert any(isinstance(a, Commit) for a in unchecked.step(Decided(good, canonical(BLOCK))))
    assert calls == [0, 1, 2]
