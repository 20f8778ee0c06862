"""The gateway in front of a real 4-node cluster (separate processes): casting both ways, refusals
with nothing recorded, a gateway killed and restarted, one validator down."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import nacl.signing
import pytest
from typer.testing import CliRunner

from gateway.identity import MINIMUM_COST, write_identity_store
from ops.cli.app import build
from ops.cluster import GatewayProcess, LocalNet
from ops.cluster.gateway import write_config
from ops.roles import ElectionRoles
from proto.votestore.v1 import election_pb2, gateway_pb2, node_pb2, node_pb2_grpc
from tests.cluster import get_tx, submit, wait_committed
from votestore import txbuild
from votestore.client.ballot import credential_public_key
from votestore.client.gateway_client import GatewayClient, GatewayError
from votestore.client.node import NodeClient
from votestore.client.receipts import check_receipt
from votestore.crypto import attestation, dkg
from votestore.crypto.credential import derive_credential_key
from votestore.encoding import tx_hash
from votestore.keygen_schedule import wait_before_open_s

pytestmark = pytest.mark.cluster

ELECTION = "city-2026"
NOT_OPEN = "later-2026"
VOTERS = 12
WAIT_S = 30.0
CHOICES = {"c1": [2]}


def credential(n: int) -> bytes:
    return n.to_bytes(4, "big").rjust(32, b"\x05")


def identity(n: int) -> str:
    return f"19{70 + n}-02-03"


@dataclass
class Setup:
    net: LocalNet
    gateway: GatewayProcess
    roles: ElectionRoles

    @property
    def target(self) -> str:
        return self.gateway.target


def _definition(
    election_id: str, trustees: list[election_pb2.Trustee], roles: ElectionRoles
) -> election_pb2.ElectionCreate:
    now = int(time.time() * 1000)
    definition = election_pb2.ElectionCreate(
        election_id=election_id,
        title="gateway cluster test",
        contests=[txbuild.contest("c1", ["a", "b", "c", "d"], 1, 1)],
        window_start_ms=now - 1000,
        window_end_ms=now + 24 * 3600 * 1000,
        trustees=trustees,
        threshold=2,
        deal_deadline_ms=now + 600_000,
        complaint_window_ms=1_000,
    )
    return roles.name_in(definition)


def _commit_all(net: LocalNet, txs: list[bytes]) -> None:
    for raw in txs:
        response = submit(net.addresses[0], raw)
        assert response.code == election_pb2.OK, response
    for raw in txs:
        proof = wait_committed(net.addresses[0], tx_hash(raw))
        assert proof.result.code == election_pb2.OK, proof.result


def _make_elections(net: LocalNet, roles: ElectionRoles) -> None:
    chain = net.genesis.chain_id
    kits = [dkg.new_trustee(f"t{i}", i) for i in (1, 2, 3)]
    definition = _definition(ELECTION, [public for _, public in kits], roles)
    later = _definition(NOT_OPEN, [public for _, public in kits], roles)
    rows = [(credential_public_key(credential(n), ELECTION), "") for n in range(VOTERS)]
    later_rows = [(credential_public_key(credential(n), NOT_OPEN), "") for n in range(VOTERS)]
    _commit_all(net, [txbuild.election_create(chain, net.admin_key, d) for d in (definition, later)])
    _commit_all(
        net,
        [
            txbuild.roll_append(chain, roles.authority, ELECTION, 0, rows),
            txbuild.roll_append(chain, roles.authority, NOT_OPEN, 0, later_rows),
        ],
    )
    deals = [txbuild.deal(chain, nacl.signing.SigningKey(s.sign_seed), definition, s.index) for s, _ in kits]
    _commit_all(net, deals)
    time.sleep(wait_before_open_s(definition))
    with NodeClient(net.addresses, connect=net.connect) as node:
        node.commit_when_due(txbuild.open_election(chain, net.admin_key, ELECTION))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("gateway-cluster")
    net = LocalNet.create(workdir / "net")
    roles = ElectionRoles.create(workdir)
    limits = {"client_requests_per_s": 1000, "client_burst": 1000}
    config, target = write_config(
        workdir,
        net.genesis_path,
        workdir / "identity.store",
        ElectionRoles.provider_key_file(workdir),
        limits=limits,
    )
    write_identity_store(
        workdir / "identity.store",
        [
            (credential_public_key(credential(n), e), identity(n))
            for n in range(VOTERS)
            for e in (ELECTION, NOT_OPEN)
        ],
        cost=MINIMUM_COST,
    )
    s = Setup(net, GatewayProcess(workdir, config, target), roles)
    try:
        net.start_all()
        net.wait_ready()
        _make_elections(net, roles)
        s.gateway.start()
        yield s
    finally:
        s.gateway.kill()
        net.close()


def _client_run(setup: Setup, call: Any) -> Any:
    async def main() -> Any:
        async with GatewayClient(setup.target) as client:
            return await call(client)

    return asyncio.run(main())


def _cast_and_prove(setup: Setup, n: int, assisted: bool) -> gateway_pb2.ReceiptResponse:
    async def call(client: GatewayClient) -> gateway_pb2.ReceiptResponse:
        if assisted:
            cast = await client.cast_assisted(ELECTION, credential(n), identity(n), CHOICES)
        else:
            cast = await client.cast(ELECTION, credential(n), CHOICES, identity(n))
        assert cast.status in (gateway_pb2.PENDING, gateway_pb2.COMMITTED)
        return await client.wait_receipt(cast.tracking_code, WAIT_S)

    response: gateway_pb2.ReceiptResponse = _client_run(setup, call)
    assert response.status == gateway_pb2.COMMITTED, response
    checked = check_receipt(setup.net.genesis, response.receipt, require_result=True)
    assert checked.result is not None and checked.result.code == election_pb2.OK
    assert checked.election_id == ELECTION
    return response


@pytest.mark.parametrize("assisted", [False, True], ids=["local", "assisted"])
def test_cast_commits_and_the_receipt_checks_offline(setup: Setup, assisted: bool) -> None:
    _cast_and_prove(setup, 1 if assisted else 0, assisted)


def _ballot(setup: Setup, n: int, election: str = ELECTION) -> bytes:
    async def call(client: GatewayClient) -> gateway_pb2.ElectionInfo:
        return await client.election(election)

    info = _client_run(setup, call)
    attest = setup.roles.attester(info.chain_id, election)
    return txbuild.ballot(
        info.chain_id, election, info.state.definition, info.state.election_key, credential(n), [[0]], attest
    )


def _refused(setup: Setup, call: Any) -> str:
    with pytest.raises(GatewayError) as caught:
        _client_run(setup, call)
    return caught.value.status


def test_refusals_are_precise_and_nothing_is_recorded(setup: Setup) -> None:
    first = _ballot(setup, 2)
    _client_run(setup, lambda client: client.cast_signed(first))
    wait_committed(setup.net.addresses[0], tx_hash(first))
    tampered = bytearray(_ballot(setup, 3))
    tampered[-1] ^= 1
    info = _client_run(setup, lambda client: client.election(ELECTION))
    elsewhere = txbuild.ballot(
        info.chain_id,
        "nowhere",
        info.state.definition,
        info.state.election_key,
        credential(3),
        [[0]],
        setup.roles.attester(info.chain_id, "nowhere"),
    )
    cases = [
        ("malformed", b"\x0a\xff\xff", "INVALID_ARGUMENT"),
        ("bad signature", bytes(tampered), "UNAUTHENTICATED"),
        ("not in roll", _ballot(setup, 99), "UNAUTHENTICATED"),
        ("unknown election", elsewhere, "NOT_FOUND"),
        ("already voted", _ballot(setup, 2), "ALREADY_EXISTS"),
        ("too large", b"\x00" * 400_000, "RESOURCE_EXHAUSTED"),
    ]
    for name, raw, status in cases:
        assert _refused(setup, lambda client, raw=raw: client.cast_signed(raw)) == status, name
        for address in setup.net.addresses:
            with pytest.raises(grpc.RpcError) as missing:
                get_tx(address, tx_hash(raw))
            assert missing.value.code() == grpc.StatusCode.NOT_FOUND, name  # type: ignore[attr-defined]
    assert _refused(setup, lambda client: client.election("nowhere")) == "NOT_FOUND"
    # An id no election can have is a bad request, at the gateway and at every validator.
    for bad in ("with\x00nul", "two\nlines", "x" * 65, ""):
        assert _refused(setup, lambda client, bad=bad: client.election(bad)) == "INVALID_ARGUMENT", repr(bad)
        with grpc.insecure_channel(setup.net.addresses[0]) as channel:
            with pytest.raises(grpc.RpcError) as refused:
                node_pb2_grpc.NodeStub(channel).GetElection(node_pb2.GetElectionRequest(election_id=bad))
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, repr(bad)  # type: ignore[attr-defined]
    not_open = _refused(
        setup, lambda client: client.cast_assisted(NOT_OPEN, credential(4), identity(4), CHOICES)
    )
    assert not_open == "FAILED_PRECONDITION"
    wrong = _refused(
        setup, lambda client: client.cast_assisted(ELECTION, credential(4), "1900-01-01", CHOICES)
    )
    assert wrong == "UNAUTHENTICATED"


def test_a_published_audited_ballot_commits_and_is_never_cast(setup: Setup) -> None:
    """Issue 23: PublishAudit puts the voter's audited ballot on every validator's ledger; those
    same ballot bytes, attested and signed as a cast, are then refused by the validators; the
    voter's fresh ballot counts; and a cast voter publishes no audit."""
    n = 10
    info = _client_run(setup, lambda client: client.election(ELECTION))
    chain, definition, key = info.chain_id, info.state.definition, info.state.election_key
    publish, body = txbuild.audited_ballot(chain, ELECTION, definition, key, credential(n), [[1]])
    taken = _client_run(setup, lambda client: client.publish_audit(publish))
    assert taken.tracking_code == tx_hash(publish)
    for address in setup.net.addresses:
        assert wait_committed(address, tx_hash(publish)).result.code == election_pb2.OK
    voter = derive_credential_key(credential(n), ELECTION)
    body.attestation = setup.roles.attester(chain, ELECTION)(
        bytes(voter.verify_key), attestation.ballot_digest(body)
    )
    cast = txbuild.sign_ballot(chain, voter, body)
    listed = CliRunner().invoke(
        build(), ["ballot", "audited", "--election", ELECTION, "--node", setup.net.addresses[1], "--json"]
    )
    assert listed.exit_code == 0, listed.output
    (entry,) = json.loads(listed.output)["audited"]
    assert entry["tracking_code"] == tx_hash(publish).hex() and entry["opens"], entry
    assert entry["choices"] == {"c1": ["b"]} and entry["voter"] == voter.verify_key.encode().hex()
    assert _refused(setup, lambda client: client.cast_signed(cast)) == "FAILED_PRECONDITION"
    assert _refused(setup, lambda client: client.cast_signed(publish)) == "INVALID_ARGUMENT"
    fresh = _ballot(setup, n)
    assert _refused(setup, lambda client: client.publish_audit(fresh)) == "INVALID_ARGUMENT"
    _client_run(setup, lambda client: client.cast_signed(fresh))
    assert wait_committed(setup.net.addresses[0], tx_hash(fresh)).result.code == election_pb2.OK
    late, _ = txbuild.audited_ballot(chain, ELECTION, definition, key, credential(n), [[2]])
    # Straight to a validator: the gateway's per-voter rate, which publishing shares, is spent.
    assert submit(setup.net.addresses[0], late).code == election_pb2.ALREADY_VOTED


def test_turnout_and_result_are_read_from_the_validators(setup: Setup) -> None:
    turnout = _client_run(setup, lambda client: client.turnout(ELECTION))
    assert turnout.roll_size == VOTERS and 1 <= turnout.ballots <= VOTERS
    assert turnout.height >= 1
    result = _client_run(setup, lambda client: client.result(ELECTION))
    assert result.phase == election_pb2.OPEN and not result.HasField("result")  # unset until counted


def test_gateway_killed_after_taking_a_ballot_still_gives_its_receipt(setup: Setup) -> None:
    cast = _client_run(setup, lambda client: client.cast(ELECTION, credential(5), CHOICES, identity(5)))
    setup.gateway.kill()
    setup.gateway.start()
    response = _client_run(setup, lambda client: client.wait_receipt(cast.tracking_code, WAIT_S))
    assert response.status == gateway_pb2.COMMITTED
    check_receipt(setup.net.genesis, response.receipt, require_result=True)


def test_a_ballot_given_to_one_validator_commits_on_all(setup: Setup) -> None:
    """A client may skip the gateway and give its ballot to one validator: that validator
    announces it and the others pull it, or see it in its block."""
    raw = _ballot(setup, 8)
    with grpc.insecure_channel(setup.net.addresses[2]) as channel:
        reply = node_pb2_grpc.NodeStub(channel).SubmitTxBatch(
            node_pb2.SubmitTxBatchRequest(txs=[raw]), timeout=WAIT_S
        )
    assert [r.code for r in reply.results] == [election_pb2.OK]
    for address in setup.net.addresses:
        assert wait_committed(address, tx_hash(raw)).result.code == election_pb2.OK


def test_casting_works_with_one_validator_down(setup: Setup) -> None:
    setup.net.wait_signing()  # else a late starter, still watching, and the killed 3 stall it
    setup.net.kill(3)
    try:
        _cast_and_prove(setup, 6, assisted=False)
        _cast_and_prove(setup, 7, assisted=True)
    finally:
        setup.net.start(3)
        setup.net.wait_ready([3])
