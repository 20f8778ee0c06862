"""The Gateway service over four fake validators: casting both ways, refusals, faults, receipts."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from gateway import server
from proto.votestore.v1 import election_pb2, gateway_pb2, identity_pb2
from tests.gateway.fake_node import ADMIN, CHAIN_ID, ELECTION, PROVIDER, credential
from tests.gateway.harness import Rig, rig, second_factor
from votestore import txbuild
from votestore.client.ballot import prepare_ballot
from votestore.client.gateway_client import GatewayClient, GatewayError
from votestore.client.receipts import check_receipt
from votestore.crypto import attestation
from votestore.crypto.attestation import local_attester
from votestore.crypto.ballot import encrypt_ballot
from votestore.crypto.credential import derive_credential_key
from votestore.receipts import ProofInvalid

CHOICES = {"mayor": [1], "council": [0, 2]}


def run(scenario: Callable[[Rig], Awaitable[None]], tmp_path: Path, **limits: float) -> None:
    async def main() -> None:
        async with rig(tmp_path, **limits) as r:
            await scenario(r)

    asyncio.run(main())


def test_local_cast_commits_and_the_receipt_checks_offline(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        cast = await r.client.cast(ELECTION, credential(0), CHOICES, second_factor(0))
        assert cast.status == gateway_pb2.PENDING
        assert cast.tracking_code in r.cluster.ledger.mempool
        assert (await r.client.receipt(cast.tracking_code)).status == gateway_pb2.PENDING
        await r.cluster.ledger.commit()
        included = await r.client.receipt(cast.tracking_code)
        assert included.status == gateway_pb2.COMMITTED
        checked = check_receipt(r.cluster.genesis, included.receipt)
        assert (checked.height, checked.election_id, checked.result) == (1, ELECTION, None)
        with pytest.raises(ProofInvalid, match="result is not certified"):
            check_receipt(r.cluster.genesis, included.receipt, require_result=True)
        await r.cluster.ledger.commit()
        final = await r.client.wait_receipt(cast.tracking_code, 5.0)
        assert final.receipt.proof.HasField("next_header")
        checked = check_receipt(r.cluster.genesis, final.receipt, require_result=True)
        assert checked.result is not None and checked.result.code == election_pb2.OK

    run(scenario, tmp_path)


def test_a_ballot_known_to_the_first_validator_is_asked_of_it_alone_by_a_waiter(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        cast = await r.client.cast(ELECTION, credential(2), CHOICES, second_factor(2))
        receipts = r.service.receipts

        def asked() -> int:
            return sum(node.proofs_asked for node in r.cluster.nodes)

        assert (await receipts.lookup(cast.tracking_code, known_will_do=True)).status == gateway_pb2.PENDING
        assert asked() == 1
        assert (await receipts.lookup(cast.tracking_code)).status == gateway_pb2.PENDING
        assert asked() == 1 + 1 + 4
        assert (await receipts.lookup(bytes(32), known_will_do=True)).status == gateway_pb2.UNKNOWN
        assert asked() == 6 + 1 + 4  # not held by the first one asked: all are asked
        await r.cluster.ledger.commit()
        committed = await receipts.lookup(cast.tracking_code, known_will_do=True)
        assert committed.status == gateway_pb2.COMMITTED and not committed.receipt.proof.HasField(
            "next_header"
        )
        assert asked() == 11 + 1  # committed, not final: the waiter hears of the final proof later

    run(scenario, tmp_path)


def test_a_waiter_for_a_ballot_just_taken_asks_nobody_until_it_commits(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        cast = await r.client.cast(ELECTION, credential(3), CHOICES, second_factor(3))
        asked = [node.proofs_asked for node in r.cluster.nodes]
        assert (await r.client.wait_receipt(cast.tracking_code, 0.3)).status == gateway_pb2.PENDING
        assert [node.proofs_asked for node in r.cluster.nodes] == asked
        waiter = asyncio.create_task(r.client.wait_receipt(cast.tracking_code, 20.0))
        await r.cluster.ledger.commit()
        await r.cluster.ledger.commit()
        final = await waiter
        assert final.status == gateway_pb2.COMMITTED and final.receipt.proof.HasField("next_header")

    run(scenario, tmp_path)


async def until_waiting(r: Rig, count: int) -> None:
    """Until `count` receipt waiters are registered at the gateway (polled, at most 10 s)."""
    async with asyncio.timeout(10.0):
        while r.service.receipts.waiting < count:
            await asyncio.sleep(0.01)


def test_the_waiters_of_a_block_get_their_receipts_from_one_batch_call(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        casts = [await r.client.cast(ELECTION, credential(n), CHOICES, second_factor(n)) for n in range(4)]
        waiters = [asyncio.create_task(r.client.wait_receipt(c.tracking_code, 20.0)) for c in casts]
        await until_waiting(r, len(casts))
        nodes = r.cluster.nodes
        asked = [node.proofs_asked for node in nodes]
        await r.cluster.ledger.commit()
        await r.cluster.ledger.commit()
        finals = await asyncio.wait_for(asyncio.gather(*waiters), 10.0)
        for cast, final in zip(casts, finals, strict=True):
            assert final.status == gateway_pb2.COMMITTED, final
            assert final.receipt.tracking_code == cast.tracking_code
            check_receipt(r.cluster.genesis, final.receipt, require_result=True)
        assert sum(node.proof_batches for node in nodes) == 1
        assert [node.proofs_asked for node in nodes] == asked, "no waiter asked on its own"
        assert r.service.receipts.waiting == 0

    run(scenario, tmp_path)


def test_a_forged_batch_of_proofs_sends_the_waiters_to_the_other_validators(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        for node in r.cluster.nodes:
            node.behaviour.forge_proofs = node.index == 0  # the validator whose stream is followed
        cast = await r.client.cast(ELECTION, credential(2), CHOICES, second_factor(2))
        waiter = asyncio.create_task(r.client.wait_receipt(cast.tracking_code, 20.0))
        await until_waiting(r, 1)
        await r.cluster.ledger.commit()
        await r.cluster.ledger.commit()
        final = await asyncio.wait_for(waiter, 10.0)
        assert final.status == gateway_pb2.COMMITTED
        check_receipt(r.cluster.genesis, final.receipt, require_result=True)
        assert r.cluster.nodes[0].proof_batches == 1
        assert sum(node.proofs_asked for node in r.cluster.nodes[1:]) >= 1, "the others were asked"

    run(scenario, tmp_path)


def test_a_waiter_coming_after_the_next_block_asks_at_once(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        cast = await r.client.cast(ELECTION, credential(1), CHOICES, second_factor(1))
        watcher = r.service.parts.watcher
        seen = watcher.height
        await r.cluster.ledger.commit()
        await r.cluster.ledger.commit()
        async with asyncio.timeout(10.0):
            while watcher.height < seen + 2:
                await asyncio.sleep(0.01)  # polling the gateway's state, bounded by the timeout
        # well under REREAD_EVERY_S: the batch fetch at the next block is past, so it must ask
        final = await r.client.wait_receipt(cast.tracking_code, 1.0)
        assert final.status == gateway_pb2.COMMITTED and final.receipt.proof.HasField("next_header")

    run(scenario, tmp_path)


def test_wait_receipt_wakes_on_the_commit(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        cast = await r.client.cast(ELECTION, credential(1), CHOICES, second_factor(1))
        waiter = asyncio.create_task(r.client.wait_receipt(cast.tracking_code, 20.0))
        await r.cluster.ledger.commit()
        await r.cluster.ledger.commit()
        response = await asyncio.wait_for(waiter, 10.0)
        assert response.status == gateway_pb2.COMMITTED
        assert response.receipt.proof.HasField("next_header")

    run(scenario, tmp_path)


def test_assisted_cast_builds_a_ballot_the_validators_accept(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        cast = await r.client.cast_assisted(ELECTION, credential(2), " 1980-01-03 ", CHOICES)
        assert cast.status == gateway_pb2.PENDING
        assert list(r.cluster.ledger.mempool) == [cast.tracking_code]
        await r.cluster.ledger.commit()
        response = await r.client.receipt(cast.tracking_code)
        assert check_receipt(r.cluster.genesis, response.receipt).election_id == ELECTION

    run(scenario, tmp_path)


def test_identity_failures_are_limited_per_voter(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        for _ in range(2):
            with pytest.raises(GatewayError, match="UNAUTHENTICATED: credential or identity check"):
                await r.client.cast_assisted(ELECTION, credential(0), "1999-12-31", CHOICES)
        with pytest.raises(GatewayError, match="RESOURCE_EXHAUSTED: too many failed identity checks"):
            await r.client.cast_assisted(ELECTION, credential(0), second_factor(0), CHOICES)
        cast = await r.client.cast_assisted(ELECTION, credential(1), second_factor(1), CHOICES)
        assert list(r.cluster.ledger.mempool) == [cast.tracking_code]

    run(scenario, tmp_path, identity_failure_burst=2.0)


def test_an_intercepted_personal_link_alone_cannot_cast(tmp_path: Path) -> None:
    """Issue 18, attack 5: whoever holds only the credential (the personal link) encrypts and
    signs on its own device, but the identity provider will not attest without the voter's second
    factor, and a ballot without the attestation is refused by the validators. On main the
    device path (CastBallot) asked for no identity check and this ballot was taken."""

    async def scenario(r: Rig) -> None:
        with pytest.raises(GatewayError, match="UNAUTHENTICATED: credential or identity check"):
            await r.client.cast(ELECTION, credential(0), CHOICES, "1999-12-31")
        with pytest.raises(GatewayError, match="UNAUTHENTICATED: BAD_ATTESTATION"):
            await r.client.cast(ELECTION, credential(0), CHOICES, attest=lambda voter, digest: b"")
        assert r.cluster.ledger.mempool == {}
        cast = await r.client.cast(ELECTION, credential(0), CHOICES, second_factor(0))
        assert list(r.cluster.ledger.mempool) == [cast.tracking_code]

    run(scenario, tmp_path)


def test_the_identity_provider_can_run_apart_from_the_casting_gateway(tmp_path: Path) -> None:
    """The rig's gateway stands for the identity provider's own server; a second gateway, with no
    identity provider key or store, takes the ballots. It cannot attest (UNIMPLEMENTED), and the
    client gets its attestation from the provider, then casts through it."""

    async def scenario(r: Rig) -> None:
        config = dataclasses.replace(r.running.config, identity_store=None, identity_provider_key=None)
        casting = await server.start(config)
        target = f"127.0.0.1:{casting.port}"
        try:
            async with GatewayClient(target) as alone:
                with pytest.raises(GatewayError, match="UNIMPLEMENTED: this gateway serves no identity"):
                    await alone.cast(ELECTION, credential(0), CHOICES, second_factor(0))
            provider = f"127.0.0.1:{r.running.port}"
            async with GatewayClient(target, identity_target=provider) as client:
                cast = await client.cast(ELECTION, credential(0), CHOICES, second_factor(0))
            assert list(r.cluster.ledger.mempool) == [cast.tracking_code]
        finally:
            await server.stop(casting)

    run(scenario, tmp_path)


def test_attest_asks_need_the_credentials_signature(tmp_path: Path) -> None:
    """The roll's public keys are public: an ask not signed by the credential key is refused
    before it spends the voter's allowance of failed identity checks."""

    async def scenario(r: Rig) -> None:
        voter = derive_credential_key(credential(0), ELECTION)
        stranger = derive_credential_key(credential(9), ELECTION)
        digest = bytes(32)
        for _ in range(3):
            request = identity_pb2.AttestRequest(
                election_id=ELECTION,
                credential_key=bytes(voter.verify_key),
                ballot_digest=digest,
                identity_check="1999-12-31",
                request_signature=attestation.sign_request(stranger, CHAIN_ID, ELECTION, digest),
            )
            with pytest.raises(GatewayError, match="UNAUTHENTICATED: the ask is not signed"):
                await r.client._call(r.client._identity.Attest, request, 5.0)
        cast = await r.client.cast(ELECTION, credential(0), CHOICES, second_factor(0))
        assert list(r.cluster.ledger.mempool) == [cast.tracking_code]

    run(scenario, tmp_path, identity_failure_burst=2.0)


def test_an_attestation_is_good_for_its_own_ballot_only(tmp_path: Path) -> None:
    """The gateway sees the attestation go by; put on another ballot of the same voter (one it
    might have made in assisted mode earlier, or any other body), the validators refuse it."""

    async def scenario(r: Rig) -> None:
        state = r.cluster.ledger.elections[ELECTION]
        prepared = prepare_ballot(state.definition, state.election_key, credential(0), CHOICES)
        attested = await r.client.attest(CHAIN_ID, prepared, second_factor(0))
        other = prepare_ballot(state.definition, state.election_key, credential(0), {"mayor": [2]})
        with pytest.raises(GatewayError, match="UNAUTHENTICATED: BAD_ATTESTATION"):
            await r.client.cast_signed(other.signed(CHAIN_ID, attested))
        cast = await r.client.cast_signed(prepared.signed(CHAIN_ID, attested))
        assert list(r.cluster.ledger.mempool) == [cast.tracking_code]

    run(scenario, tmp_path)


def _signed_ballot(r: Rig, n: int, election: str = ELECTION) -> bytes:
    state = r.cluster.ledger.elections[election]
    attest = local_attester(PROVIDER, CHAIN_ID, election)
    return txbuild.ballot(
        CHAIN_ID, election, state.definition, state.election_key, credential(n), [[0], []], attest
    )


def _tampered_signature(r: Rig) -> bytes:
    raw = bytearray(_signed_ballot(r, 0))
    raw[-1] ^= 1
    return bytes(raw)


def _unknown_election(r: Rig) -> bytes:
    state = r.cluster.ledger.elections[ELECTION]
    attest = local_attester(PROVIDER, CHAIN_ID, "e-nowhere")
    return txbuild.ballot(
        CHAIN_ID, "e-nowhere", state.definition, state.election_key, credential(0), [[0], []], attest
    )


def _bad_proof(r: Rig) -> bytes:
    """Proofs bound to another voter's key, signed by voter 0: a copied ballot."""
    state = r.cluster.ledger.elections[ELECTION]
    ballot = encrypt_ballot(ELECTION, state.definition, state.election_key, [[0], []], voter=bytes(32))
    key = derive_credential_key(credential(0), ELECTION)
    ballot.attestation = local_attester(PROVIDER, CHAIN_ID, ELECTION)(
        bytes(key.verify_key), attestation.ballot_digest(ballot)
    )
    return txbuild.signed(CHAIN_ID, key, election_pb2.Tx(ballot=ballot))


def _ballot_with_attestation(r: Rig, voter: int, attested: bytes) -> bytes:
    """Voter `voter`'s own ballot (signed with its credential) carrying `attested` instead."""
    state = r.cluster.ledger.elections[ELECTION]
    key, body = txbuild.ballot_body(
        ELECTION, state.definition, state.election_key, credential(voter), [[0], []]
    )
    body.attestation = attested
    return txbuild.sign_ballot(CHAIN_ID, key, body)


def _replayed_attestation(r: Rig) -> bytes:
    """A gateway keeps voter 1's attestation and puts it on voter 0's ballot."""
    donor = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(_signed_ballot(r, 1)).body)
    return _ballot_with_attestation(r, 0, donor.ballot.attestation)


BAD_SIGNED: list[tuple[str, Callable[[Rig], bytes], str]] = [
    ("garbage", lambda r: b"\x0a\xff", "INVALID_ARGUMENT: malformed ballot"),
    (
        "not a ballot",
        lambda r: txbuild.open_election(CHAIN_ID, ADMIN, ELECTION),
        "INVALID_ARGUMENT: the gateway",
    ),
    ("bad signature", _tampered_signature, "UNAUTHENTICATED: bad signature"),
    ("not in roll", lambda r: _signed_ballot(r, 9), "UNAUTHENTICATED: NOT_IN_ROLL"),
    ("not yet open", lambda r: _signed_ballot(r, 0, "e-keygen"), "FAILED_PRECONDITION: WRONG_PHASE"),
    ("unknown election", _unknown_election, "NOT_FOUND: UNKNOWN_ELECTION"),
    ("bad proof", _bad_proof, "INVALID_ARGUMENT: BAD_PROOF"),
    ("no attestation", lambda r: _ballot_with_attestation(r, 0, b""), "UNAUTHENTICATED: BAD_ATTESTATION"),
    ("another voter's attestation", _replayed_attestation, "UNAUTHENTICATED: BAD_ATTESTATION"),
    ("too large", lambda r: b"\x00" * 400_000, "RESOURCE_EXHAUSTED"),
]


@pytest.mark.parametrize(("name", "make", "expected"), BAD_SIGNED, ids=[b[0] for b in BAD_SIGNED])
def test_bad_cast_gets_a_precise_status_and_nothing_is_recorded(
    tmp_path: Path, name: str, make: Callable[[Rig], bytes], expected: str
) -> None:
    async def scenario(r: Rig) -> None:
        with pytest.raises(GatewayError) as caught:
            await r.client.cast_signed(make(r))
        assert str(caught.value).startswith(expected), str(caught.value)
        assert r.cluster.ledger.mempool == {}

    run(scenario, tmp_path)


def test_a_lying_validator_cannot_forge_a_key_or_a_receipt(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        r.cluster.nodes[0].behaviour.forge_proofs = True
        info = await r.client.election(ELECTION)
        assert info.state.election_key == r.cluster.ledger.elections[ELECTION].election_key
        cast = await r.client.cast(ELECTION, credential(0), CHOICES, second_factor(0))
        await r.cluster.ledger.commit()
        await r.cluster.ledger.commit()
        for node in r.cluster.nodes[1:]:
            node.behaviour.down = True
        alone = await r.client.receipt(cast.tracking_code)
        assert alone.status == gateway_pb2.UNKNOWN
        with pytest.raises(GatewayError, match="UNAVAILABLE: fewer than 2 validators"):
            await r.client.election(ELECTION)
        r.cluster.nodes[3].behaviour.down = False
        response = await r.client.receipt(cast.tracking_code)
        check_receipt(r.cluster.genesis, response.receipt, require_result=True)

    run(scenario, tmp_path)


@pytest.mark.parametrize(("down", "taken"), [((3,), True), ((2, 3), True), ((1, 2, 3), False)])
def test_f_plus_one_validators_must_take_the_ballot(
    tmp_path: Path, down: tuple[int, ...], taken: bool
) -> None:
    async def scenario(r: Rig) -> None:
        for i in down:
            r.cluster.nodes[i].behaviour.down = True
        raw = _signed_ballot(r, 0)
        if taken:
            cast = await r.client.cast_signed(raw)
            assert cast.status == gateway_pb2.PENDING
        else:
            with pytest.raises(GatewayError, match="UNAVAILABLE: only 1 of 4 validators took the ballot"):
                await r.client.cast_signed(raw)
        forwarded = r.service.metrics.forwarded
        if taken:
            assert forwarded.labels("accepted")._value.get() >= 2
        else:
            assert forwarded.labels("unreachable")._value.get() == 3

    run(scenario, tmp_path)


def test_one_refusing_validator_does_not_block_a_ballot(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        r.cluster.nodes[1].behaviour.refuse = election_pb2.BAD_PROOF
        cast = await r.client.cast(ELECTION, credential(0), CHOICES, second_factor(0))
        assert cast.status == gateway_pb2.PENDING
        resent = await r.client.cast_signed(r.cluster.ledger.mempool[cast.tracking_code])
        assert resent.tracking_code == cast.tracking_code

    run(scenario, tmp_path)


def test_voter_and_client_rates_are_limited(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        raw = _signed_ballot(r, 0)
        await r.client.cast_signed(raw)
        with pytest.raises(GatewayError, match="RESOURCE_EXHAUSTED: too many casts for this voter"):
            await r.client.cast_signed(raw)
        await r.client.cast_signed(_signed_ballot(r, 1))
        with pytest.raises(GatewayError, match="RESOURCE_EXHAUSTED: client over its request rate"):
            await r.client.receipt(bytes(32))
        assert r.service.metrics.requests.labels("CastBallot", "RESOURCE_EXHAUSTED")._value.get() == 1

    run(scenario, tmp_path, voter_cast_burst=1.0, client_burst=3.0, client_requests_per_s=0.001)


def test_a_restarted_gateway_finds_the_receipt_on_the_ledger(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        cast = await r.client.cast(ELECTION, credential(3), CHOICES, second_factor(3))
        await r.cluster.ledger.commit()
        await r.cluster.ledger.commit()
        await server.stop(r.running)
        again = await server.start(dataclasses.replace(r.running.config))
        try:
            async with GatewayClient(f"127.0.0.1:{again.port}") as client:
                response = await client.receipt(cast.tracking_code)
            assert response.status == gateway_pb2.COMMITTED
            check_receipt(r.cluster.genesis, response.receipt, require_result=True)
        finally:
            await server.stop(again)

    run(scenario, tmp_path)


def test_turnout_result_and_bad_tracking_codes(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        await r.client.cast(ELECTION, credential(0), CHOICES, second_factor(0))
        await r.cluster.ledger.commit()
        turnout = await r.client.turnout(ELECTION)
        assert (turnout.roll_size, turnout.ballots) == (4, 1)
        result = await r.client.result(ELECTION)
        assert result.phase == election_pb2.OPEN
        with pytest.raises(GatewayError, match="INVALID_ARGUMENT: tracking code must be 32 bytes"):
            await r.client.receipt(b"short")
        with pytest.raises(GatewayError, match="NOT_FOUND: election 'nope' not found"):
            await r.client.turnout("nope")
        assert (await r.client.receipt(bytes(32))).status == gateway_pb2.UNKNOWN

    run(scenario, tmp_path)
