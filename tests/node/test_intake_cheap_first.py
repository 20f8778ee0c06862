"""Issue 18, attack 3: cheap checks first. A ballot from a key that is not on the roll, or from a
voter who voted, or too large for its election, is refused by microsecond checks without its
proofs being verified — at the node's intake, at `check_tx` and in execution.

Verification is counted: `verify_ballot` as the stateless checks call it is wrapped with a counter
(the in-loop intake, no pool, so the count is in this process).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from election import stateless
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election, credential
from tests.ledger.harness import CHAIN_ID, code
from tests.node.shell_kit import intake_shell
from votestore import txbuild
from votestore.crypto.credential import derive_credential_key

VOTERS = 4
CHOICE = ((1,), (0,))


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a ballot's proofs were verified (one entry per call)."""
    calls: list[int] = []
    real: Callable[..., Any] = stateless.verify_ballot

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(stateless, "verify_ballot", counted)
    return calls


def _bloated(election: Election, voter: int) -> bytes:
    """Voter's valid ballot with 1,000 extra sum-proof branches, re-signed: over the election's cap."""
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(election.ballot(voter, CHOICE)).body)
    proof = tx.ballot.contests[0].sum_proof
    proof.challenges.extend([bytes(32)] * 1000)
    proof.responses.extend([bytes(32)] * 1000)
    return txbuild.signed(CHAIN_ID, derive_credential_key(credential(voter), ELECTION), tx)


def test_not_in_roll_at_intake_without_proof_verification(tmp_path: Path, verifications: list[int]) -> None:
    election = Election.created(voters=VOTERS).opened()
    stranger = election.ballot(VOTERS + 5, CHOICE)  # a fresh key: not on the roll
    voter = election.ballot(0, CHOICE)

    async def run() -> None:
        shell = intake_shell(tmp_path, election.chain.app, None)
        try:
            (refused,) = await shell.admission.submit_many([stranger])
            assert refused.code == election_pb2.NOT_IN_ROLL  # type: ignore[union-attr]
            assert verifications == []
            (kept,) = await shell.admission.submit_many([voter])
            assert kept.code == election_pb2.OK  # type: ignore[union-attr]
            assert verifications == [1]
        finally:
            shell.store.close()

    asyncio.run(run())


def test_state_machine_refuses_cheaply_at_check_tx_and_in_execution(verifications: list[int]) -> None:
    election = Election.created(voters=VOTERS).opened()
    stranger = election.ballot(VOTERS + 5, CHOICE)
    assert code(election.chain.app.check_tx(stranger)) == "NOT_IN_ROLL"
    assert election.chain.one(stranger) == "NOT_IN_ROLL"
    assert election.chain.one(election.ballot(1, CHOICE)) == "OK"
    del verifications[:]
    again = election.ballot(1, ((2,), ()))
    assert code(election.chain.app.check_tx(again)) == "ALREADY_VOTED"
    assert election.chain.one(again) == "ALREADY_VOTED"
    assert verifications == []


def test_ballot_over_the_elections_cap_is_refused_before_its_proofs(verifications: list[int]) -> None:
    election = Election.created(voters=VOTERS).opened()
    bloated = _bloated(election, 2)
    result = election.chain.app.check_tx(bloated)
    assert code(result) == "MALFORMED" and "exceeds" in result.detail
    assert election.chain.one(bloated) == "MALFORMED"
    assert verifications == []
    assert election.chain.one(election.ballot(2, CHOICE)) == "OK"
