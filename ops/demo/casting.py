"""Casting every demo voter's ballot through the gateway with a bounded number in flight, each
one followed to its receipt and the receipt checked offline against genesis, while turnout is
sampled from the gateway for the live display and the report's chart.

Milestones let the orchestrator act part-way (kill a validator, restart it) without this module
knowing what they do.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ops.cluster.casting import Assisted, ReceiptWait, Retry, cast_one, retried, run_load
from ops.demo.plan import Voter
from proto.votestore.v1 import election_pb2, gateway_pb2
from votestore.client.ballot import prepare_ballot
from votestore.client.gateway_client import GatewayClient, GatewayError
from votestore.client.receipts import check_receipt
from votestore.errors import VotestoreError
from votestore.genesis import Genesis

MAX_IN_FLIGHT: Final = 256
CAST_RETRY: Final = Retry(
    frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED"}), pause_s=0.2, backoff=2.0, attempts=5
)
"""The validators could not take it now (not: the ballot is wrong): up to 5 calls, the pause
doubling from 0.2 s."""
RECEIPT: Final = ReceiptWait(deadline_s=90.0, call_s=60.0, final=True)
"""A receipt wait of up to 60 s per call; 90 s from the start of the voter's casting in all
(attestation and cast retries included)."""
TURNOUT_INTERVAL_S: Final = 0.5


class CastingFailed(VotestoreError):
    """A voter's ballot was refused or got no receipt; the message names the voter number."""


@dataclass(frozen=True, slots=True)
class CastRecord:
    voter: int
    tracking_code: bytes
    """Empty when the gateway refused as ALREADY_EXISTS an assisted ballot it had itself built."""
    height: int
    assisted: bool
    latency_s: float
    """From the first cast call to the checked receipt."""

    @property
    def receipted(self) -> bool:
        return bool(self.tracking_code)


@dataclass(frozen=True, slots=True)
class TurnoutSample:
    elapsed_s: float
    ballots: int
    roll_size: int


@dataclass(frozen=True, slots=True)
class Milestone:
    """Run `action` once `after` receipts are in."""

    after: int
    action: Callable[[], None]


@dataclass(frozen=True, slots=True)
class CastingResult:
    records: tuple[CastRecord, ...]
    turnout: tuple[TurnoutSample, ...]
    turnout_misses: int
    """Turnout reads the gateway could not answer (e.g. while a validator restarted)."""
    seconds: float


@dataclass
class _Progress:
    done: int
    on_receipt: Callable[[int], None]
    milestones: list[Milestone]

    def receipt(self) -> None:
        self.done += 1
        while self.milestones and self.milestones[0].after <= self.done:
            self.milestones.pop(0).action()
        self.on_receipt(self.done)


async def _attested_ballot(client: GatewayClient, info: gateway_pb2.ElectionInfo, voter: Voter) -> bytes:
    """Encrypt on the voter's side, ask the identity provider to attest it, sign."""
    assert voter.selections is not None
    state = info.state
    prepared = await asyncio.to_thread(
        prepare_ballot, state.definition, state.election_key, voter.credential, voter.selections
    )
    try:
        attested = await retried(
            lambda: client.attest(info.chain_id, prepared, voter.identity_check), CAST_RETRY
        )
    except GatewayError as exc:
        raise CastingFailed(f"voter {voter.number}: attestation: {exc}") from None
    return prepared.signed(info.chain_id, attested)


async def _cast_and_prove(
    client: GatewayClient, genesis: Genesis, info: gateway_pb2.ElectionInfo, voter: Voter
) -> CastRecord:
    """Local voters encrypt and sign here (the credential never leaves; the identity provider
    attests the encrypted ballot after checking the voter's second factor); assisted ones send
    the credential, identity check and choices to the gateway. An assisted ballot the gateway
    says is already there (a validator's intake raced the gossip of it, docs/demo.md) has no
    receipt: only the gateway knew its hash; the count shows whether it landed."""
    selections = voter.selections
    assert selections is not None
    election_id = info.state.definition.election_id
    started = time.monotonic()
    tx = None if voter.assisted else await _attested_ballot(client, info, voter)
    assisted = Assisted(election_id, voter.credential, voter.identity_check, selections)
    landed = await cast_one(
        client,
        voter.number,
        tx,
        retry=CAST_RETRY,
        receipt=RECEIPT,
        started_s=started,
        assisted=assisted if tx is None else None,
    )
    if landed.outcome == "already-there":
        return CastRecord(voter.number, b"", 0, True, landed.latency_s)
    if landed.outcome != "receipt" or landed.response is None:
        detail = f" ({landed.detail})" if landed.detail else ""
        raise CastingFailed(f"voter {voter.number}: {landed.outcome}{detail}")
    checked = check_receipt(genesis, landed.response.receipt, require_result=True)
    if checked.result is None or checked.result.code != election_pb2.OK:
        raise CastingFailed(f"voter {voter.number}: ballot recorded but not accepted: {checked.result}")
    return CastRecord(voter.number, landed.tracking_code, checked.height, voter.assisted, landed.latency_s)


async def _sample_turnout(
    client: GatewayClient,
    election_id: str,
    started: float,
    samples: list[TurnoutSample],
    on_turnout: Callable[[TurnoutSample], None],
    stop: asyncio.Event,
) -> int:
    """Read turnout until `stop` is set; returns how many reads failed. A cancellation (Ctrl-C)
    propagates: swallowing it here let an interrupted demo finish as if nothing had happened."""
    misses = 0
    while not stop.is_set():
        try:
            answer = await client.turnout(election_id)
        except GatewayError:
            misses += 1
        else:
            sample = TurnoutSample(time.monotonic() - started, answer.ballots, answer.roll_size)
            samples.append(sample)
            on_turnout(sample)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TURNOUT_INTERVAL_S)
    return misses


async def cast_all(
    target: str,
    genesis: Genesis,
    election_id: str,
    voters: Sequence[Voter],
    *,
    in_flight: int,
    on_receipt: Callable[[int], None],
    on_turnout: Callable[[TurnoutSample], None],
    milestones: Sequence[Milestone] = (),
    identity_target: str | None = None,
) -> CastingResult:
    """Cast for every voter who has selections, at most `in_flight` at once (through
    ops.cluster.casting); the first failure cancels the rest and is raised. `identity_target`: the
    identity provider's own server, which the voters' clients ask for attestations (else the
    gateway serves it)."""
    assert 1 <= in_flight <= MAX_IN_FLIGHT, in_flight
    assert all(v.selections is not None for v in voters)
    started = time.monotonic()
    progress = _Progress(0, on_receipt, sorted(milestones, key=lambda m: m.after))
    samples: list[TurnoutSample] = []
    async with GatewayClient(target, identity_target=identity_target) as client:
        info = await client.election(election_id)

        async def one(voter: Voter, _due: float) -> CastRecord:
            return await _cast_and_prove(client, genesis, info, voter)

        stop = asyncio.Event()
        sampler = asyncio.create_task(
            _sample_turnout(client, election_id, started, samples, on_turnout, stop)
        )
        try:
            records = await run_load(
                voters,
                one,
                in_flight=max(1, min(in_flight, len(voters))),
                on_done=lambda _: progress.receipt(),
            )
        except BaseException:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            raise
        stop.set()
        misses = await sampler
        final = await client.turnout(election_id)
    sample = TurnoutSample(time.monotonic() - started, final.ballots, final.roll_size)
    samples.append(sample)
    on_turnout(sample)
    assert len(records) == len(voters), (len(records), len(voters))
    return CastingResult(tuple(records), tuple(samples), misses, time.monotonic() - started)
