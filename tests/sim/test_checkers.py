"""The checkers on hand-made histories: each one flags exactly what it is for."""

from __future__ import annotations

from node.consensus import Certificate, Proposal, ValidatorSet, Vote, VoteType, vote_signing_bytes
from node.sim.blocks import CHAIN_ID, Committed, make_value
from node.sim.checkers import check_agreement, check_liveness, check_no_double_sign, check_validity
from node.sim.keys import fake_keys

ID_A, PAYLOAD_A = make_value(1, 0, 1, 1)
ID_B, PAYLOAD_B = make_value(1, 0, 2, 2)
SIGNERS, VERIFIER = fake_keys(9, 4)


def certificate(block: bytes, signers: tuple[int, ...] = (0, 1, 2)) -> Certificate:
    sigs = tuple(
        (v, SIGNERS[v].sign(vote_signing_bytes(CHAIN_ID, VoteType.PRECOMMIT, 1, 0, v, block)))
        for v in signers
    )
    return Certificate(1, 0, block, sigs)


def committed(block: bytes, payload: bytes, signers: tuple[int, ...] = (0, 1, 2)) -> Committed:
    return Committed(1, block, payload, certificate(block, signers), proposer=1)


PROPOSALS: list[tuple[int, Proposal | Vote]] = [
    (1, Proposal(1, 0, -1, ID_A, 1, b"", PAYLOAD_A)),
    (2, Proposal(1, 0, -1, ID_B, 1, b"", PAYLOAD_B)),
]


def test_agreement() -> None:
    assert check_agreement({0: [committed(ID_A, PAYLOAD_A)], 1: [committed(ID_A, PAYLOAD_A)]}) == []
    found = check_agreement({0: [committed(ID_A, PAYLOAD_A)], 3: [committed(ID_B, PAYLOAD_B)]})
    assert [v.kind for v in found] == ["agreement"] and "height 1" in found[0].detail


def test_validity() -> None:
    validators = ValidatorSet(4)
    good = {0: [committed(ID_A, PAYLOAD_A)]}
    assert check_validity(good, PROPOSALS, validators, VERIFIER) == []
    unproposed = {0: [committed(ID_A, PAYLOAD_A)]}
    assert [v.kind for v in check_validity(unproposed, PROPOSALS[1:], validators, VERIFIER)] == ["validity"]
    short_certificate = {0: [committed(ID_A, PAYLOAD_A, signers=(0, 1))]}
    assert "does not verify" in check_validity(short_certificate, PROPOSALS, validators, VERIFIER)[0].detail
    wrong_payload = {0: [Committed(1, ID_A, PAYLOAD_B, certificate(ID_A), proposer=1)]}
    assert "invalid block" in check_validity(wrong_payload, PROPOSALS, validators, VERIFIER)[0].detail


def test_double_sign_counts_only_an_honest_instances_own_signatures() -> None:
    prevote_a = Vote(VoteType.PREVOTE, 1, 0, ID_A, 2, b"")
    prevote_b = Vote(VoteType.PREVOTE, 1, 0, ID_B, 2, b"")
    honest = {0: 0, 2: 2}
    assert check_no_double_sign([(2, prevote_a), (2, prevote_a)], honest) == []
    assert check_no_double_sign([(0, prevote_a), (0, prevote_b)], honest) == []  # relayed, not own
    assert check_no_double_sign([(1, prevote_a), (1, prevote_b)], honest) == []  # Byzantine instance
    assert [v.kind for v in check_no_double_sign([(2, prevote_a), (2, prevote_b)], honest)] == ["double_sign"]
    precommit_nil = Vote(VoteType.PRECOMMIT, 1, 0, None, 2, b"")
    assert check_no_double_sign([(2, prevote_a), (2, precommit_nil)], honest) == []


def test_liveness() -> None:
    assert check_liveness({0: []}, 1, True, 10) == []
    assert [v.kind for v in check_liveness({0: [committed(ID_A, PAYLOAD_A)], 1: []}, 1, False, 10)] == [
        "liveness"
    ]
