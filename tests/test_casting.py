"""ops/cluster/casting.py alone, against a scripted stand-in for the gateway client (the live
gateway is exercised by the demo, chaos and cluster tests): retries, ALREADY_EXISTS, receipt
waits, the pace, the in-flight bound and the first failure's cancelling the rest."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import pytest

from ops.cluster.casting import Pacer, ReceiptWait, Retry, cast_one, retried, run_load
from proto.votestore.v1 import gateway_pb2, ledger_pb2
from votestore.client.gateway_client import Cast, GatewayClient, GatewayError
from votestore.encoding import tx_hash

RETRY = Retry(frozenset({"UNAVAILABLE"}), pause_s=0.001)
WAIT = ReceiptWait(deadline_s=2.0, call_s=0.5, final=True)


class ScriptedGateway:
    """Answers cast_signed from `casts` and wait_receipt from `receipts`, in order (an
    exception in the script is raised)."""

    def __init__(self, casts: list[Any], receipts: list[Any]) -> None:
        self.casts, self.receipts = casts, receipts
        self.cast_calls = 0

    async def cast_signed(self, tx: bytes) -> Cast:
        self.cast_calls += 1
        answer = self.casts.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Cast(tx_hash(tx), gateway_pb2.PENDING)

    async def wait_receipt(self, tracking_code: bytes, timeout_s: float) -> gateway_pb2.ReceiptResponse:
        answer = self.receipts.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, gateway_pb2.ReceiptResponse)
        return answer


def _committed(final: bool) -> gateway_pb2.ReceiptResponse:
    proof = (
        ledger_pb2.TxProof(next_header=ledger_pb2.BlockHeader(height=3)) if final else ledger_pb2.TxProof()
    )
    return gateway_pb2.ReceiptResponse(status=gateway_pb2.COMMITTED, receipt=ledger_pb2.Receipt(proof=proof))


def _client(gateway: ScriptedGateway) -> GatewayClient:
    return cast(GatewayClient, gateway)


def test_a_cast_is_retried_while_not_now_then_followed_to_its_certified_receipt() -> None:
    gateway = ScriptedGateway(
        [GatewayError("UNAVAILABLE", "down"), "ok"],
        [gateway_pb2.ReceiptResponse(status=gateway_pb2.PENDING), _committed(False), _committed(True)],
    )
    retries: list[str] = []
    landed = asyncio.run(
        cast_one(_client(gateway), 7, b"ballot", retry=RETRY, receipt=WAIT, on_retry=retries.append)
    )
    assert (landed.voter, landed.outcome, landed.tracking_code) == (7, "receipt", tx_hash(b"ballot"))
    assert retries == ["UNAVAILABLE"] and gateway.cast_calls == 2
    assert landed.response is not None and landed.response.receipt.proof.HasField("next_header")
    assert landed.cast_s is not None and landed.started_s <= landed.cast_s <= landed.done_s


@pytest.mark.parametrize(
    ("error", "outcome", "followed"),
    [
        (GatewayError("ALREADY_EXISTS", "there"), "receipt", True),
        (GatewayError("INVALID_ARGUMENT", "bad proof"), "refused:INVALID_ARGUMENT", False),
    ],
)
def test_already_exists_is_our_own_ballot_and_a_refusal_is_final(
    error: GatewayError, outcome: str, followed: bool
) -> None:
    gateway = ScriptedGateway([error], [_committed(True)])
    landed = asyncio.run(cast_one(_client(gateway), 1, b"ballot", retry=RETRY, receipt=WAIT))
    assert landed.outcome == outcome and landed.receipted is followed
    assert gateway.cast_calls == 1


def test_without_a_receipt_wait_the_cast_is_all() -> None:
    gateway = ScriptedGateway(["ok"], [])
    landed = asyncio.run(cast_one(_client(gateway), 1, b"ballot", retry=RETRY, receipt=None))
    assert landed.outcome == "cast" and not landed.receipted


def test_retries_stop_after_the_attempts_allowed() -> None:
    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise GatewayError("UNAVAILABLE", "down")

    with pytest.raises(GatewayError):
        asyncio.run(retried(down, Retry(frozenset({"UNAVAILABLE"}), pause_s=0.001, attempts=3)))
    assert calls == 3


def test_a_closed_loop_keeps_at_most_in_flight_and_reports_each_result() -> None:
    running, peak = 0, 0
    seen: list[int] = []

    async def one(item: int, _due: float) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.002)
        running -= 1
        return item

    results = asyncio.run(run_load(range(40), one, in_flight=4, on_done=seen.append))
    assert sorted(results) == list(range(40)) and seen == results and peak == 4


def test_an_open_loop_keeps_its_schedule_whatever_is_in_flight() -> None:
    async def slow(item: int, due: float) -> float:
        await asyncio.sleep(0.2)
        return due

    started = time.monotonic()
    dues = asyncio.run(run_load(range(10), slow, in_flight=None, pacer=Pacer(100.0)))
    assert len(dues) == 10
    assert max(dues) - min(dues) == pytest.approx(0.09, abs=1e-6)  # 10 slots at 100/s
    assert time.monotonic() - started < 1.0, "casts waited for earlier ones"


def test_the_first_failure_cancels_the_rest_and_is_raised() -> None:
    finished: list[int] = []

    async def one(item: int, _due: float) -> None:
        if item == 3:
            raise ValueError("voter 3")
        await asyncio.sleep(0.01)
        finished.append(item)

    with pytest.raises(ValueError, match="voter 3"):
        asyncio.run(run_load(range(100), one, in_flight=4))
    assert len(finished) < 100


def test_stop_ends_the_load_before_the_items_run_out() -> None:
    done: list[int] = []
    results = asyncio.run(
        run_load(range(100), _echo, in_flight=2, stop=lambda: len(done) >= 10, on_done=done.append)
    )
    assert 10 <= len(results) <= 12


async def _echo(item: int, _due: float) -> int:
    await asyncio.sleep(0)
    return item
