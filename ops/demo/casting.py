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

from ops.demo.plan import Voter
from proto.votestore.v1 import election_pb2, gateway_pb2
from votestore.client.ballot import prepare_ballot
from votestore.client.gateway_client import Cast, GatewayClient, GatewayError
from votestore.client.receipts import check_receipt
from votestore.encoding import tx_hash
from votestore.errors import VotestoreError
from votestore.genesis import Genesis

MAX_IN_FLIGHT: Final = 256
RECEIPT_WAIT_S: Final = 60.0
CAST_ATTEMPTS: Final = 5
RETRY_BACKOFF_S: Final = 0.2
"""First pause before casting again after UNAVAILABLE; doubles per attempt."""
RETRY_STATUSES: Final = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED"})
"""Statuses that say the validators could not take it now, not that the ballot is wrong."""
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


async def _cast(client: GatewayClient, election_id: str, tx: bytes | None, voter: Voter) -> Cast | None:
    """The gateway's answer, or None when it says this voter's ballot is already there: after a
    retry, or when a validator's intake raced the gossip of the very same ballot (see docs/demo.md)."""
    assert voter.selections is not None
    for attempt in range(CAST_ATTEMPTS):
        try:
            if tx is not None:
                return await client.cast_signed(tx)
            return await client.cast_assisted(
                election_id, voter.credential, voter.identity_check, voter.selections
            )
        except GatewayError as exc:
            if exc.status == "ALREADY_EXISTS":
                return None
            if exc.status not in RETRY_STATUSES or attempt == CAST_ATTEMPTS - 1:
                raise CastingFailed(f"voter {voter.number}: {exc}") from None
            await asyncio.sleep(RETRY_BACKOFF_S * 2**attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


async def _attested_ballot(client: GatewayClient, info: gateway_pb2.ElectionInfo, voter: Voter) -> bytes:
    """Encrypt on the voter's side, ask the identity provider to attest it, sign."""
    assert voter.selections is not None
    state = info.state
    prepared = await asyncio.to_thread(
        prepare_ballot, state.definition, state.election_key, voter.credential, voter.selections
    )
    for attempt in range(CAST_ATTEMPTS):
        try:
            attested = await client.attest(info.chain_id, prepared, voter.identity_check)
            break
        except GatewayError as exc:
            if exc.status not in RETRY_STATUSES or attempt == CAST_ATTEMPTS - 1:
                raise CastingFailed(f"voter {voter.number}: attestation: {exc}") from None
            await asyncio.sleep(RETRY_BACKOFF_S * 2**attempt)
    return prepared.signed(info.chain_id, attested)


async def _cast_and_prove(
    client: GatewayClient, genesis: Genesis, info: gateway_pb2.ElectionInfo, voter: Voter
) -> CastRecord:
    """Local voters encrypt and sign here (the credential never leaves; the identity provider
    attests the encrypted ballot after checking the voter's second factor); assisted ones send
    the credential, identity check and choices to the gateway."""
    assert voter.selections is not None
    election_id = info.state.definition.election_id
    started = time.monotonic()
    tx = None if voter.assisted else await _attested_ballot(client, info, voter)
    cast = await _cast(client, election_id, tx, voter)
    if cast is not None:
        tracking_code = cast.tracking_code
    elif tx is not None:
        tracking_code = tx_hash(tx)  # our own ballot is the one already there: its receipt proves it
    else:
        # Assisted: only the gateway knew the ballot's hash; the count shows whether it landed.
        return CastRecord(voter.number, b"", 0, True, time.monotonic() - started)
    try:
        response = await client.wait_receipt(tracking_code, RECEIPT_WAIT_S)
    except GatewayError as exc:
        raise CastingFailed(f"voter {voter.number}: receipt: {exc}") from None
    if response.status != gateway_pb2.COMMITTED:
        status = gateway_pb2.ReceiptStatus.Name(response.status)
        raise CastingFailed(f"voter {voter.number}: no receipt in {RECEIPT_WAIT_S:.0f} s ({status})")
    checked = check_receipt(genesis, response.receipt, require_result=True)
    if checked.result is None or checked.result.code != election_pb2.OK:
        raise CastingFailed(f"voter {voter.number}: ballot recorded but not accepted: {checked.result}")
    return CastRecord(voter.number, tracking_code, checked.height, voter.assisted, time.monotonic() - started)


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
    """Cast for every voter who has selections, at most `in_flight` at once; the first failure
    cancels the rest and is raised. `identity_target`: the identity provider's own server, which
    the voters' clients ask for attestations (else the gateway serves it)."""
    assert 1 <= in_flight <= MAX_IN_FLIGHT, in_flight
    assert all(v.selections is not None for v in voters)
    started = time.monotonic()
    progress = _Progress(0, on_receipt, sorted(milestones, key=lambda m: m.after))
    queue = list(reversed(voters))
    records: list[CastRecord] = []
    samples: list[TurnoutSample] = []
    async with GatewayClient(target, identity_target=identity_target) as client:
        info = await client.election(election_id)

        async def worker() -> None:
            while queue:
                records.append(await _cast_and_prove(client, genesis, info, queue.pop()))
                progress.receipt()

        stop = asyncio.Event()
        sampler = asyncio.create_task(
            _sample_turnout(client, election_id, started, samples, on_turnout, stop)
        )
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(in_flight, len(voters))):
                    group.create_task(worker())
        except BaseException as failure:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            if isinstance(failure, ExceptionGroup):
                raise failure.exceptions[0] from None
            raise
        stop.set()
        misses = await sampler
        final = await client.turnout(election_id)
    sample = TurnoutSample(time.monotonic() - started, final.ballots, final.roll_size)
    samples.append(sample)
    on_turnout(sample)
    assert len(records) == len(voters), (len(records), len(voters))
    return CastingResult(tuple(records), tuple(samples), misses, time.monotonic() - started)
