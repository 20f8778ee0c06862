"""CheckedCertificates: a certificate is checked in full once; any other bytes are checked again."""

from __future__ import annotations

import pytest

from proto.votestore.v1 import ledger_pb2
from tests.genesis_kit import certificate, four_validators
from votestore import receipts
from votestore.certificate import CertificateInvalid
from votestore.encoding import block_id

CHAIN_ID = "receipts-test"
KEYS, GENESIS = four_validators(CHAIN_ID, seed=1, port=7000)
HEADER = ledger_pb2.BlockHeader(chain_id=CHAIN_ID, height=5, time_ms=10, tx_root=b"\x01" * 32)


def _certificate(signers: tuple[int, ...] = (0, 1, 2)) -> ledger_pb2.CommitCertificate:
    return certificate(KEYS, HEADER, signers)


def test_a_certificate_is_checked_once_and_others_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = receipts.verify_certificate

    def counting(*args: object, **kwargs: object) -> None:
        calls.append(1)
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(receipts, "verify_certificate", counting)
    checked = receipts.CheckedCertificates(GENESIS)
    good = _certificate()
    for _ in range(3):
        checked.verify(good, block_id=block_id(HEADER), height=HEADER.height)
    assert len(calls) == 1

    forged = _certificate()
    forged.signatures[1].signature = bytes(64)
    with pytest.raises(CertificateInvalid):
        checked.verify(forged, block_id=block_id(HEADER), height=HEADER.height)
    with pytest.raises(CertificateInvalid):  # the good bytes, claimed for another height
        checked.verify(good, block_id=block_id(HEADER), height=HEADER.height + 1)
    with pytest.raises(CertificateInvalid):
        checked.verify(_certificate((0, 1)), block_id=block_id(HEADER), height=HEADER.height)
    assert len(calls) == 4
