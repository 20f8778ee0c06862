"""A hostile peer — random bytes, forged hellos and signatures, stale and far-future messages,
hellos of another protocol version or genesis — is counted and dropped while the three honest
nodes keep committing."""

from __future__ import annotations

import asyncio
import random
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest

from node.gossip import MAX_ANNOUNCED_HASHES
from node.rpc.peer import NONCE_BYTES
from ops.cluster import LocalNet
from proto.votestore.v1 import election_pb2, ledger_pb2, peer_pb2
from tests.cluster import election_definition, submit, wait_committed
from tests.node.hello_kit import signed_hello
from votestore import txbuild
from votestore.encoding import tx_hash, vote_signing_bytes
from votestore.keys import PLAINTEXT_QUIETLY, read_key_file
from votestore.version import PROTOCOL_VERSION

pytestmark = pytest.mark.cluster
CONNECT = "/votestore.v1.Peer/Connect"
ATTACKER = 3


def _hello(
    net: LocalNet,
    forged: bool,
    challenge: bytes = bytes(NONCE_BYTES),
    protocol_version: int = PROTOCOL_VERSION,
    genesis_hash: bytes | None = None,
) -> peer_pb2.PeerMessage:
    """A hello from the attacker's real key to validator 0, answering `challenge`."""
    key = read_key_file(net.workdir / f"node{ATTACKER}.key.json", unlock=PLAINTEXT_QUIETLY)
    return signed_hello(
        net.genesis,
        key,
        ATTACKER,
        0,
        challenge,
        forged=forged,
        protocol_version=protocol_version,
        genesis_hash=genesis_hash,
    )


def _hostile_messages(net: LocalNet, rng: random.Random) -> list[peer_pb2.PeerMessage]:
    key = read_key_file(net.workdir / f"node{ATTACKER}.key.json", unlock=PLAINTEXT_QUIETLY)
    chain = net.genesis.chain_id
    messages = []
    for k in range(60):
        block = rng.randbytes(32)
        stale = ledger_pb2.Vote(
            type=ledger_pb2.PREVOTE, height=1, round=0, block_id=block, validator=ATTACKER
        )
        stale.signature = key.sign(vote_signing_bytes(chain, stale.type, 1, 0, ATTACKER, block)).signature
        forged = ledger_pb2.Vote(
            type=ledger_pb2.PRECOMMIT,
            height=k + 2,
            round=0,
            block_id=block,
            validator=ATTACKER,
            signature=bytes(64),
        )
        far_round = ledger_pb2.Vote(
            type=ledger_pb2.PREVOTE, height=k + 2, round=10_000 + k, block_id=block, validator=ATTACKER
        )
        far_round.signature = key.sign(
            vote_signing_bytes(chain, far_round.type, k + 2, far_round.round, ATTACKER, block)
        ).signature
        stranger = ledger_pb2.Vote(
            type=ledger_pb2.PREVOTE, height=k + 2, round=0, block_id=block, validator=9
        )
        bad_id = ledger_pb2.Vote(
            type=ledger_pb2.PREVOTE, height=k + 2, block_id=rng.randbytes(7), validator=ATTACKER
        )
        junk_proposal = ledger_pb2.Proposal(
            height=k + 2,
            round=0,
            valid_round=-1,
            block_id=block,
            proposer=ATTACKER,
            signature=rng.randbytes(64),
        )
        messages += [peer_pb2.PeerMessage(vote=v) for v in (stale, forged, far_round, stranger, bad_id)]
        messages.append(peer_pb2.PeerMessage(proposal=junk_proposal))
        messages.append(peer_pb2.PeerMessage(hello=_hello(net, forged=False).hello))
    # announcements of hashes nobody holds (too many, and of wrong sizes), wants of unknown ones
    hashes = [rng.randbytes(32) for _ in range(MAX_ANNOUNCED_HASHES + 10)] + [b"short", b""]
    messages.append(peer_pb2.PeerMessage(announce=peer_pb2.TxAnnounce(tx_hashes=hashes)))
    messages.append(peer_pb2.PeerMessage(want=peer_pb2.TxWant(tx_hashes=hashes)))
    messages.append(peer_pb2.PeerMessage(txs=peer_pb2.TxGossip(txs=[rng.randbytes(200) for _ in range(20)])))
    return messages


Outcome = tuple[grpc.StatusCode | None, str]


async def _attack(net: LocalNet, target: str, rng: random.Random) -> list[Outcome]:
    outcomes: list[Outcome] = []
    async with grpc.aio.insecure_channel(target) as channel:
        raw = channel.stream_stream(
            CONNECT, request_serializer=lambda b: b, response_deserializer=lambda b: b
        )

        async def garbage() -> object:
            for _ in range(20):
                yield rng.randbytes(rng.randint(1, 300))

        forged_hello = channel.stream_stream(
            CONNECT,
            request_serializer=peer_pb2.PeerMessage.SerializeToString,
            response_deserializer=peer_pb2.PeerMessage.FromString,
        )

        async def hello_then(
            messages: list[peer_pb2.PeerMessage], forged: bool = False, **hello: Any
        ) -> None:
            """Answer the stream's challenge as ATTACKER (a genuine validator key), then send."""
            call = forged_hello(timeout=10)
            try:
                challenge = await call.read()
                await call.write(_hello(net, forged, challenge.challenge.nonce, **hello))
                for message in messages:
                    await call.write(message)
                await call.done_writing()
                while await call.read() is not grpc.aio.EOF:
                    pass
                outcomes.append((None, ""))
            except grpc.aio.AioRpcError as exc:
                outcomes.append((exc.code(), exc.details() or ""))

        try:
            async for _ in raw(garbage(), timeout=10):
                pass
            outcomes.append((None, ""))
        except grpc.aio.AioRpcError as exc:
            outcomes.append((exc.code(), exc.details() or ""))
        await hello_then([], forged=True)
        await hello_then(_hostile_messages(net, rng))
        # a correctly signed hello from a node of the release before protocol versions (0)
        await hello_then([], protocol_version=0)
        # and from a node whose genesis file differs (same chain id, same keys)
        await hello_then([], genesis_hash=bytes(32))
    return outcomes


def _invalid_total(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("votestore_node_invalid_messages_total{")
    )


def test_hostile_peer_is_dropped_and_cluster_keeps_committing(tmp_path: Path) -> None:
    rng = random.Random(7)
    with LocalNet.create(tmp_path / "net", metrics=True) as net:
        for i in range(3):
            net.start(i)
        net.wait_ready([0, 1, 2])
        outcomes = asyncio.run(_attack(net, net.peer_addresses[0], rng))
        assert outcomes[0][0] is not None, "random bytes were accepted as a stream"
        assert outcomes[1][0] == grpc.StatusCode.UNAUTHENTICATED
        old_protocol, other_genesis = outcomes[3], outcomes[4]
        assert old_protocol[0] == grpc.StatusCode.FAILED_PRECONDITION, old_protocol
        assert f"peer speaks protocol version 0, this node {PROTOCOL_VERSION}" in old_protocol[1], (
            old_protocol
        )
        assert other_genesis[0] == grpc.StatusCode.FAILED_PRECONDITION, other_genesis
        assert "genesis hash" in other_genesis[1], other_genesis
        raws = [
            txbuild.election_create(
                net.genesis.chain_id, net.admin_key, election_definition(f"after-attack-{k}")
            )
            for k in range(10)
        ]
        for raw in raws:
            assert submit(net.addresses[k := raws.index(raw) % 3], raw).code == election_pb2.OK, k
        for raw in raws:
            assert wait_committed(net.addresses[0], tx_hash(raw)).result.code == election_pb2.OK
        assert all(net.processes[i].poll() is None for i in range(3)), "a node died"
        assert _invalid_total(net.metrics_ports[0]) >= 60, "hostile messages were not counted as invalid"
