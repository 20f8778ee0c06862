"""Byzantine behaviours as filters around an otherwise honest node: what a faulty validator sends
instead of (or besides) the wire messages its `Peers` queued, and how it answers a catch-up
fetch. Twins need no filter — they are two honest nodes with one key — and silent nodes send
nothing. An attacker (issue 19) runs the honest node plus a mix of `Attack`s; the relay's junk
copies are the simulation's to time (`junk_copy`), as only the network knows when the genuine
proposal will arrive."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Final

from node.consensus import (
    MAX_ROUNDS_AHEAD,
    Certificate,
    Proposal,
    Signer,
    Vote,
    VoteType,
    signing_bytes,
)
from node.peers import to_wire
from node.sim.blocks import CHAIN_ID, Committed, make_value
from node.sim.catchup import Serve, serve_honestly
from node.sim.network import FetchReply, FetchRequest
from node.sim.node import Outbound
from node.sim.scenario import Attack, Behaviour, Flood
from node.wire import consensus_message
from proto.votestore.v1 import peer_pb2
from votestore.hashing import sha256

CLAIMED_HEIGHT: Final = 2**63
"""The height a liar claims, as tests/node/liar_node.py does."""
OLD_SHARED_BUFFER_MESSAGES: Final = 4096
"""What the core's next-height buffer held, for all senders together, before it became per sender."""
FULL_FLOOD: Final = Flood(messages=OLD_SHARED_BUFFER_MESSAGES + 64, rounds=MAX_ROUNDS_AHEAD + 1)
"""More signed next-height messages than the old shared buffer held (64x a sender's own bound,
NEXT_HEIGHT_MESSAGES_PER_SENDER): the flood that once crowded out honest validators."""
FLOOD_PROPOSAL_SHARE: Final = 64
"""One message in this many of a flood is a proposal with a junk payload."""
JUNK_TAG: Final = b"#junk"

Record = Callable[[Proposal | Vote], None]
"""Tells the checkers what a Byzantine node signed besides what its core asked for."""


def _sign(signer: Signer, message: Proposal | Vote) -> Proposal | Vote:
    return replace(message, signature=signer.sign(signing_bytes(CHAIN_ID, message)))


def _per_message(change: Callable[[Proposal | Vote, int], list[Proposal | Vote]], record: Record) -> Outbound:
    """An outbound filter from a rule on consensus messages (status messages pass unchanged);
    what the rule signed anew is recorded for the checkers."""

    def outbound(wire: peer_pb2.PeerMessage, dst: int) -> list[peer_pb2.PeerMessage]:
        message = consensus_message(wire)
        if message is None:
            return [wire]
        out = []
        for sent in change(message, dst):
            if sent is message:
                out.append(wire)
            else:
                record(sent)
                out.append(to_wire(sent))
        return out

    return outbound


def _conflicting(message: Proposal | Vote, instance: int, signer: Signer) -> Proposal | Vote:
    if isinstance(message, Proposal):
        block_id, payload = make_value(message.height, message.round, instance, message.proposer, b"#alt")
        return _sign(signer, replace(message, block_id=block_id, payload=payload))
    other = make_value(message.height, message.round, instance, message.validator, b"#alt")[0]
    return _sign(signer, replace(message, block_id=None if message.block_id is not None else other))


def equivocate(instance: int, signer: Signer, rng: random.Random, record: Record) -> Outbound:
    """Conflicting proposal or vote to a random half of the peers, the original to the rest."""

    def change(message: Proposal | Vote, dst: int) -> list[Proposal | Vote]:
        return [_conflicting(message, instance, signer) if rng.random() < 0.5 else message]

    return _per_message(change, record)


def noise(size: int, signer: Signer, rng: random.Random, record: Record) -> Outbound:
    """The honest message, plus one malformed sibling per send: the core must drop and count it."""

    def corrupt(message: Proposal | Vote) -> Proposal | Vote:
        kind = rng.randrange(5)
        if kind == 0:
            return replace(message, signature=bytes(len(message.signature)))
        if kind == 1:
            return _sign(signer, replace(message, height=message.height + 2))
        if kind == 2:
            return _sign(signer, replace(message, round=message.round + MAX_ROUNDS_AHEAD + 1))
        if kind == 3 and isinstance(message, Vote):
            return _sign(signer, replace(message, validator=size + rng.randrange(3)))
        if isinstance(message, Vote):  # impersonation: someone else's index, our key
            return _sign(signer, replace(message, validator=(message.validator + 1) % size))
        return _sign(signer, replace(message, proposer=(message.proposer + 1) % size))

    return _per_message(lambda message, dst: [message, corrupt(message)], record)


def junk_copy(wire: peer_pb2.PeerMessage) -> peer_pb2.PeerMessage:
    """A relay's copy of a proposal: the proposer's signature and block id, another payload."""
    junk = peer_pb2.PeerMessage()
    junk.CopyFrom(wire)
    junk.proposal.block.txs.append(JUNK_TAG)
    return junk


def _flood(
    flood: Flood, height: int, validator: int, instance: int, signer: Signer, rng: random.Random
) -> list[Proposal | Vote]:
    """Signed, well-formed messages for `height`, none of which a correct node would send:
    distinct votes, and proposals with junk payloads, over `flood.rounds` rounds."""
    out: list[Proposal | Vote] = []
    for i in range(flood.messages):
        round_ = i % flood.rounds
        if i % FLOOD_PROPOSAL_SHARE == FLOOD_PROPOSAL_SHARE - 1:
            block_id, payload = make_value(
                height, round_, instance, validator, JUNK_TAG * 200 + bytes([i % 256])
            )
            out.append(_sign(signer, Proposal(height, round_, -1, block_id, validator, b"", payload)))
            continue
        kind = VoteType.PREVOTE if i % 2 else VoteType.PRECOMMIT
        block_id = sha256(f"flood/{height}/{i}/{rng.random()}".encode())
        out.append(_sign(signer, Vote(kind, height, round_, block_id, validator, b"")))
    return out


@dataclass(frozen=True, slots=True)
class Parts:
    outbound: Outbound | None
    serve: Serve | None
    hello_height: int | None = None
    """What its hellos claim, if not its height."""


@dataclass(frozen=True, slots=True)
class Who:
    """A Byzantine node: its instance and validator index, the validator count, its own key
    (it holds no other), the run's random stream, and where what it signs is recorded."""

    instance: int
    validator: int
    size: int
    signer: Signer
    rng: random.Random
    record: Record


def attacker(attacks: Collection[Attack], flood: Flood, who: Who) -> Parts:
    """The honest node, plus `attacks` (RELAY is the simulation's: `junk_copy`; AMNESIA its
    restarts: `node.sim.scenario.amnesia_crashes`)."""
    flooded: set[tuple[int, int]] = set()
    flood_wires: dict[int, list[peer_pb2.PeerMessage]] = {}

    def outbound(wire: peer_pb2.PeerMessage, dst: int) -> list[peer_pb2.PeerMessage]:
        kind = wire.WhichOneof("kind")
        if Attack.LIE in attacks and kind == "status":
            lie = peer_pb2.PeerMessage()
            lie.CopyFrom(wire)
            lie.status.height = CLAIMED_HEIGHT
            return [lie]
        out = [wire]
        if Attack.FLOOD in attacks and kind in ("proposal", "vote"):
            height = wire.proposal.height if kind == "proposal" else wire.vote.height
            if height not in flood_wires:
                messages = _flood(flood, height + 1, who.validator, who.instance, who.signer, who.rng)
                for message in messages:
                    who.record(message)
                flood_wires[height] = [to_wire(message) for message in messages]
                flood_wires.pop(height - 2, None)
            if (height, dst) not in flooded:
                flooded.add((height, dst))
                out.extend(flood_wires[height])
        return out

    serve: Serve | None = serve_honestly
    if Attack.FORGE in attacks:
        serve = forger(who)
    elif Attack.LIE in attacks:
        serve = serve_empty
    return Parts(outbound, serve, CLAIMED_HEIGHT if Attack.LIE in attacks else None)


def serve_empty(request: FetchRequest, chain: list[Committed]) -> FetchReply | None:
    """An empty stream, whatever was claimed."""
    return FetchReply(request.first, ())


def forger(who: Who) -> Serve:
    """Blocks for every height asked, each with a forged certificate (its own signature and junk)
    or with a real certificate of its chain and another payload."""

    def serve(request: FetchRequest, chain: list[Committed]) -> FetchReply | None:
        blocks: list[tuple[Certificate, bytes]] = []
        for height in range(request.first, min(request.last, request.first + 8) + 1):
            if height <= len(chain) and who.rng.random() < 0.5:
                real = chain[height - 1]
                blocks.append(
                    (real.certificate, make_value(height, 0, who.instance, who.validator, JUNK_TAG)[1])
                )
                continue
            block_id, payload = make_value(height, 0, who.instance, who.validator, b"#forged")
            precommit = Vote(VoteType.PRECOMMIT, height, 0, block_id, who.validator, b"")
            own = _sign(who.signer, precommit).signature
            signatures = tuple(
                sorted((v, own if v == who.validator else bytes(len(own))) for v in range(who.size))
            )
            blocks.append((Certificate(height, 0, block_id, signatures), payload))
        return FetchReply(request.first, tuple(blocks))

    return serve


def silent(wire: peer_pb2.PeerMessage, dst: int) -> list[peer_pb2.PeerMessage]:
    return []


def parts_for(behaviour: Behaviour | None, attacks: Collection[Attack], flood: Flood, who: Who) -> Parts:
    """A node's outbound filter (None: send as queued) and how it serves a fetch."""
    if behaviour is None or behaviour == Behaviour.TWINS:
        return Parts(None, serve_honestly)
    if behaviour == Behaviour.SILENT:
        return Parts(silent, None)
    if behaviour == Behaviour.EQUIVOCATE:
        return Parts(equivocate(who.instance, who.signer, who.rng, who.record), serve_honestly)
    if behaviour == Behaviour.NOISE:
        return Parts(noise(who.size, who.signer, who.rng, who.record), serve_honestly)
    assert behaviour == Behaviour.ATTACKER
    return attacker(attacks, flood, who)
