"""Write web/test/vectors/receipts.json: receipts with Python's verdict, which the page's receipt
check (web/src/app/receipt.js) must share.

One genesis of four validators with fixed keys, one block of five transactions with its commit
certificate, the next block certifying their results; then the receipt of the ballot at index 3
as it is and altered in each way `check_receipt` refuses (a forged signature, too few signers, a
signer twice, a stranger, a certificate for another block or height, another chain, a broken
Merkle path, a changed transaction, a result or next header that does not follow). Each case
records Python's verdict: "ok", or the error text.
tests/web/test_web_receipts.py checks the committed file is what this script writes now.

Run: .venv/bin/python -m tests.web.make_receipt_vectors
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import nacl.signing

from proto.votestore.v1 import election_pb2, ledger_pb2
from tests.genesis_kit import certificate, four_validators
from votestore.client.receipts import check_receipt
from votestore.encoding import block_id, canonical, tx_hash
from votestore.errors import VotestoreError
from votestore.genesis import Genesis
from votestore.hashing import merkle_path, merkle_root

ROOT: Final = Path(__file__).resolve().parents[2]
VECTORS: Final = ROOT / "web" / "test" / "vectors" / "receipts.json"
CHAIN_ID: Final = "receipt-vectors"
ELECTION: Final = "e-2026-web"
INDEX: Final = 3


def _ballot_tx(n: int, election: str = ELECTION) -> bytes:
    """A SignedTx holding a Ballot, in canonical form (its signature is not what a receipt checks)."""
    body = canonical(election_pb2.Tx(ballot=election_pb2.Ballot(election_id=election)))
    return canonical(election_pb2.SignedTx(body=body, signer=bytes([n]) * 32, signature=bytes([n]) * 64))


TXS: Final = [_ballot_tx(n) for n in range(5)]


def _certificate(
    keys: list[nacl.signing.SigningKey], header: ledger_pb2.BlockHeader, signers: tuple[int, ...] = (0, 1, 2)
) -> ledger_pb2.CommitCertificate:
    return certificate(keys, header, signers, round_=1)


def genuine(keys: list[nacl.signing.SigningKey]) -> ledger_pb2.Receipt:
    results = [
        canonical(election_pb2.TxResult(code=election_pb2.OK if n != 1 else election_pb2.ALREADY_VOTED))
        for n in range(len(TXS))
    ]
    header = ledger_pb2.BlockHeader(
        chain_id=CHAIN_ID, height=41, time_ms=1_790_000_000_000, prev_block_hash=b"\x07" * 32,
        tx_root=merkle_root(TXS), app_hash=b"\x08" * 32, proposer=2,
    )  # fmt: skip
    following = ledger_pb2.BlockHeader(
        chain_id=CHAIN_ID, height=42, time_ms=1_790_000_001_000, prev_block_hash=block_id(header),
        tx_root=merkle_root([]), app_hash=b"\x09" * 32, results_hash=merkle_root(results), proposer=3,
    )  # fmt: skip
    proof = ledger_pb2.TxProof(
        tx_hash=tx_hash(TXS[INDEX]),
        tx=TXS[INDEX],
        header=header,
        certificate=_certificate(keys, header),
        index=INDEX,
        tx_count=len(TXS),
        merkle_path=merkle_path(TXS, INDEX),
        result=election_pb2.TxResult.FromString(results[INDEX]),
        result_path=merkle_path(results, INDEX),
        next_header=following,
        next_certificate=_certificate(keys, following, (3, 1, 0, 2)),
    )
    return ledger_pb2.Receipt(tracking_code=tx_hash(TXS[INDEX]), election_id=ELECTION, proof=proof)


Change = Callable[[ledger_pb2.Receipt, list[nacl.signing.SigningKey]], None]


def _set(path: str, value: Any) -> Change:
    def change(receipt: ledger_pb2.Receipt, _: list[nacl.signing.SigningKey]) -> None:
        *parents, name = path.split(".")
        target: Any = receipt
        for part in parents:
            target = getattr(target, part)
        setattr(target, name, value)

    return change


def _resign(signers: tuple[int, ...]) -> Change:
    def change(receipt: ledger_pb2.Receipt, keys: list[nacl.signing.SigningKey]) -> None:
        receipt.proof.certificate.CopyFrom(_certificate(keys, receipt.proof.header, signers))

    return change


def _forge_signature(receipt: ledger_pb2.Receipt, _: list[nacl.signing.SigningKey]) -> None:
    signature = bytearray(receipt.proof.certificate.signatures[1].signature)
    signature[5] ^= 1
    receipt.proof.certificate.signatures[1].signature = bytes(signature)


def _stranger(receipt: ledger_pb2.Receipt, _: list[nacl.signing.SigningKey]) -> None:
    receipt.proof.certificate.signatures[0].validator = 7


def _twice(receipt: ledger_pb2.Receipt, _: list[nacl.signing.SigningKey]) -> None:
    receipt.proof.certificate.signatures[2].CopyFrom(receipt.proof.certificate.signatures[0])


def _swap_path(receipt: ledger_pb2.Receipt, _: list[nacl.signing.SigningKey]) -> None:
    path = list(receipt.proof.merkle_path)
    del receipt.proof.merkle_path[:]
    receipt.proof.merkle_path.extend(reversed(path))


def _next_signers(signers: tuple[int, ...]) -> Change:
    def change(receipt: ledger_pb2.Receipt, keys: list[nacl.signing.SigningKey]) -> None:
        receipt.proof.next_certificate.CopyFrom(_certificate(keys, receipt.proof.next_header, signers))

    return change


def _clear(field: str) -> Change:
    def change(receipt: ledger_pb2.Receipt, _: list[nacl.signing.SigningKey]) -> None:
        receipt.proof.ClearField(field)

    return change


def _drop_next(receipt: ledger_pb2.Receipt, _: list[nacl.signing.SigningKey]) -> None:
    receipt.proof.ClearField("next_header")
    receipt.proof.ClearField("next_certificate")
    del receipt.proof.result_path[:]


CHANGES: Final[list[tuple[str, Change | None]]] = [
    ("genuine", None),
    ("genuine without the next block", _drop_next),
    ("a forged precommit signature", _forge_signature),
    ("two signers of four", _resign((0, 1))),
    ("all four signers", _resign((0, 1, 2, 3))),
    ("a signer twice", _twice),
    ("a signer outside genesis", _stranger),
    ("certificate for another height", _set("proof.certificate.height", 40)),
    ("certificate for another block", _set("proof.certificate.block_id", b"\x01" * 32)),
    ("another chain", _set("proof.header.chain_id", "other-chain")),
    ("a changed header", _set("proof.header.time_ms", 1)),
    ("tracking code of another ballot", _set("tracking_code", tx_hash(TXS[0]))),
    ("another transaction", _set("proof.tx", TXS[0])),
    ("the proof's hash changed with it", _set("proof.tx_hash", b"\x02" * 32)),
    ("another index", _set("proof.index", 2)),
    ("a Merkle path out of order", _swap_path),
    ("a changed result", _set("proof.result.code", election_pb2.ALREADY_VOTED)),
    ("a next header that does not follow", _set("proof.next_header.height", 43)),
    ("a next certificate of one signer", _next_signers((3,))),
    ("no block yet", _clear("header")),
    ("a receipt naming another election", _set("election_id", "other-2026")),
]


def _verdict(genesis: Genesis, receipt: ledger_pb2.Receipt) -> str:
    try:
        check_receipt(genesis, receipt)
    except VotestoreError as exc:
        return str(exc)
    return "ok"


def render() -> str:
    keys, genesis = four_validators(CHAIN_ID, seed=11, port=7000)
    cases = []
    for name, change in CHANGES:
        receipt = genuine(keys)
        if change is not None:
            change(receipt, keys)
        verdict = _verdict(genesis, receipt)
        cases.append({"name": name, "receipt": canonical(receipt).hex(), "verdict": verdict})
    document = {"genesis": json.loads(genesis.to_json()), "cases": cases}
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def main() -> None:
    VECTORS.write_text(render(), encoding="utf-8")
    print(f"wrote {VECTORS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
