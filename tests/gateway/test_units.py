"""The gateway's pure parts: the status table, token buckets, the identity store, f+1 decisions,
metric children, the audit line of taken ballots, the collector's settings."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.answers import Accepted, BroadcastOutcome, Refused, Unreachable, decided
from gateway.identity import (
    HEADER,
    MINIMUM_COST,
    IdentityStore,
    normalise_second_factor,
    read_identity_entries,
    verify_second_factor,
    write_identity_store,
)
from gateway.limits import KeyedLimiter, Rate
from gateway.metrics import GatewayMetrics
from gateway.receipts import election_of
from gateway.server import GC_YOUNG_OBJECTS, tune_gc
from gateway.service import TakenLog
from gateway.status import STATUS_OF_RESULT, UNEXPECTED_RESULT_STATUS, refusal_of, status_for
from proto.votestore.v1 import election_pb2
from votestore.errors import ConfigError


def test_every_result_code_but_unspecified_has_a_status() -> None:
    codes = set(election_pb2.ResultCode.values()) - {election_pb2.RESULT_CODE_UNSPECIFIED}
    assert set(STATUS_OF_RESULT) == codes
    assert status_for(election_pb2.RESULT_CODE_UNSPECIFIED) == UNEXPECTED_RESULT_STATUS
    assert status_for(999) == UNEXPECTED_RESULT_STATUS


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (election_pb2.MALFORMED, grpc.StatusCode.INVALID_ARGUMENT),
        (election_pb2.BAD_PROOF, grpc.StatusCode.INVALID_ARGUMENT),
        (election_pb2.BAD_SIGNATURE, grpc.StatusCode.UNAUTHENTICATED),
        (election_pb2.NOT_IN_ROLL, grpc.StatusCode.UNAUTHENTICATED),
        (election_pb2.UNKNOWN_ELECTION, grpc.StatusCode.NOT_FOUND),
        (election_pb2.WRONG_PHASE, grpc.StatusCode.FAILED_PRECONDITION),
        (election_pb2.OUTSIDE_WINDOW, grpc.StatusCode.FAILED_PRECONDITION),
        (election_pb2.ALREADY_VOTED, grpc.StatusCode.ALREADY_EXISTS),
    ],
)
def test_the_voter_facing_codes(code: int, status: grpc.StatusCode) -> None:
    assert status_for(code) == status


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = KeyedLimiter(Rate(burst=3, per_second=0.5), clock)
    assert [limiter.take("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.take("b")
    assert limiter.retry_after_s("a") == pytest.approx(2.0)
    clock.now = 1.9
    assert not limiter.take("a")
    clock.now = 2.0
    assert limiter.take("a") and not limiter.take("a")


@settings(deadline=None, max_examples=200)
@given(
    st.lists(st.tuples(st.floats(0, 10), st.sampled_from("abc")), max_size=60),
    st.integers(1, 5),
    st.floats(0.1, 5),
)
def test_bucket_never_allows_more_than_burst_plus_refill(
    events: list[tuple[float, str]], burst: int, rate: float
) -> None:
    clock = Clock()
    limiter = KeyedLimiter(Rate(burst, rate), clock)
    bounded = KeyedLimiter(Rate(burst, rate), clock, max_keys=2)
    taken: dict[str, int] = {}
    for step, key in events:
        clock.now += step
        taken[key] = taken.get(key, 0) + limiter.take(key)
        bounded.take(key)
        assert len(bounded) <= 2
    for count in taken.values():
        assert count <= burst + rate * clock.now + 1e-9
    for key in taken:
        assert limiter.take(key) or limiter.retry_after_s(key) > 0


def test_identity_store_round_trip_and_normalisation(tmp_path: Path) -> None:
    path = tmp_path / "ids"
    keys = [bytes([i]) * 32 for i in range(3)]
    assert write_identity_store(path, [(keys[0], "1980-05-17"), (keys[1], "ＡＢ 12")], cost=MINIMUM_COST) == 2
    assert write_identity_store(path, [(keys[2], "x")], cost=MINIMUM_COST) == 3
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text().splitlines()[0] == HEADER
    store = IdentityStore(path)
    assert len(store) == 3 and store.hash_for(bytes(32 * [9])) is None
    first = store.hash_for(keys[0])
    second = store.hash_for(keys[1])
    assert first is not None and second is not None
    assert verify_second_factor(first, " 1980-05-17 ")
    assert not verify_second_factor(first, "1980-05-18")
    assert verify_second_factor(second, "ab   12")
    assert not verify_second_factor(second, "")
    assert normalise_second_factor("  Ab\tC ") == b"ab c"


BAD_STORES = [
    ("", "first line"),
    ("wrong header\n", "first line"),
    (HEADER + "\nzz $argon2id$x\n", "not hex"),
    (HEADER + "\n00 $argon2id$x\n", "32 bytes"),
    (HEADER + "\n" + "00" * 32 + " plain\n", "expected"),
    (HEADER + "\n" + ("00" * 32 + " $argon2id$x\n") * 2, "appears twice"),
]


@pytest.mark.parametrize(("text", "message"), BAD_STORES)
def test_bad_identity_store_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ids"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_identity_entries(path)


def _outcome(*answers: Accepted | Refused | Unreachable) -> BroadcastOutcome:
    return BroadcastOutcome(b"\x01" * 32, 2, answers)


def test_refusal_is_the_commonest_reason() -> None:
    outcome = _outcome(
        Refused(0, election_pb2.ALREADY_VOTED, "first counts"),
        Refused(1, election_pb2.ALREADY_VOTED, "first counts"),
        Refused(2, election_pb2.BAD_PROOF, "lie"),
        Accepted(3, False),
    )
    refusal = refusal_of(outcome, 4)
    assert refusal.status == grpc.StatusCode.ALREADY_EXISTS
    assert refusal.message == "ALREADY_VOTED: first counts (refused by 2 of 4 validators; 1 took it)"
    # The gateway stops waiting once f+1 agree: the others are said not to have answered, not
    # counted as agreeing or disagreeing.
    early = refusal_of(_outcome(*[Refused(i, election_pb2.ALREADY_VOTED, "") for i in range(3)]), 4)
    assert early.message == "ALREADY_VOTED (refused by 3 of 4 validators; 1 did not answer)"
    unreachable = _outcome(
        Refused(0, election_pb2.NOT_IN_ROLL, ""),
        Refused(1, election_pb2.NOT_IN_ROLL, ""),
        Unreachable(2, grpc.StatusCode.UNAVAILABLE, ""),
    )
    assert (
        refusal_of(unreachable, 4).message == "NOT_IN_ROLL (refused by 2 of 4 validators; 2 did not answer)"
    )
    down = _outcome(Unreachable(0, grpc.StatusCode.UNAVAILABLE, ""), Accepted(1, False))
    assert refusal_of(down, 4).status == grpc.StatusCode.UNAVAILABLE


@settings(deadline=None, max_examples=200)
@given(st.lists(st.sampled_from(["ok", "no", "down"]), max_size=7), st.integers(4, 7))
def test_decided_exactly_when_f_plus_one_is_reached_or_out_of_reach(kinds: list[str], n: int) -> None:
    answers = [
        Accepted(i, False) if k == "ok" else Refused(i, 8, "") if k == "no" else Unreachable(i, None, "")
        for i, k in enumerate(kinds[:n])
    ]
    needed = (n - 1) // 3 + 1
    accepted = sum(isinstance(a, Accepted) for a in answers)
    outstanding = n - len(answers)
    assert decided(answers, n, needed) == (accepted >= needed or accepted + outstanding < needed)
    assert decided(answers, n, needed) or len(answers) < n


def test_metric_children_are_looked_up_once_per_label_values() -> None:
    metrics = GatewayMetrics()
    counted = metrics.request_count
    assert counted("CastBallot", "OK") is counted("CastBallot", "OK")
    counted("CastBallot", "OK").inc()
    counted("CastBallot", "OK").inc()
    counted("WaitReceipt", "OK").inc()
    assert metrics.requests.labels("CastBallot", "OK")._value.get() == 2
    assert metrics.requests.labels("WaitReceipt", "OK")._value.get() == 1


def test_taken_ballots_of_one_loop_turn_share_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    async def two_turns() -> None:
        taken = TakenLog()
        taken.add(b"\x01" * 32, 3)
        taken.add(b"\x02" * 32, 2)
        await asyncio.sleep(0)  # the turn ends
        taken.add(b"\x03" * 32, 4)
        await asyncio.sleep(0)

    with caplog.at_level(logging.INFO, logger="votestore.gateway"):
        asyncio.run(two_turns())
    assert [r.getMessage() for r in caplog.records] == [
        f"event=ballots_taken count=2 tracking_codes={'01' * 32}:3,{'02' * 32}:2",
        f"event=ballots_taken count=1 tracking_codes={'03' * 32}:4",
    ]


def test_tune_gc_freezes_startup_and_collects_young_objects_less_often() -> None:
    threshold = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG_OBJECTS, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.parametrize("kind", [f.name for f in election_pb2.Tx.DESCRIPTOR.oneofs_by_name["kind"].fields])
def test_a_receipt_names_the_election_of_every_kind_of_transaction(kind: str) -> None:
    """Not only ballots: the public tracking page shows the election of any tracking code (an
    audited ballot's publication, a trustee's share...); before, all but ballots read ""."""
    tx = election_pb2.Tx()
    getattr(tx, kind).election_id = "municipal-2027"
    raw = election_pb2.SignedTx(body=tx.SerializeToString(), signer=b"k", signature=b"s").SerializeToString()
    assert election_of(raw) == "municipal-2027"
    assert election_of(b"\xff not a transaction") == ""
