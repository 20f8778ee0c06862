"""Byzantine behaviours as outbound filters around an otherwise honest node: what a faulty
validator sends instead of (or besides) what its core asked for. Twins need no filter — they are
two honest shells with one key — and silent nodes send nothing."""

from __future__ import annotations

import random
from dataclasses import replace

from node.consensus import MAX_ROUNDS_AHEAD, Proposal, Signer, Vote, signing_bytes
from node.sim.node import CHAIN_ID, Outbound, make_value
from node.sim.scenario import Behaviour


def _sign(signer: Signer, message: Proposal | Vote) -> Proposal | Vote:
    return replace(message, signature=signer.sign(signing_bytes(CHAIN_ID, message)))


def honest(message: Proposal | Vote, peers: list[int]) -> list[tuple[int, Proposal | Vote]]:
    return [(peer, message) for peer in peers]


def silent(message: Proposal | Vote, peers: list[int]) -> list[tuple[int, Proposal | Vote]]:
    return []


def _conflicting(message: Proposal | Vote, instance: int, signer: Signer) -> Proposal | Vote:
    if isinstance(message, Proposal):
        block_id, payload = make_value(message.height, message.round, instance, message.proposer, b"#alt")
        return _sign(signer, replace(message, block_id=block_id, payload=payload))
    other = make_value(message.height, message.round, instance, message.validator, b"#alt")[0]
    return _sign(signer, replace(message, block_id=None if message.block_id is not None else other))


def equivocate(instance: int, signer: Signer, rng: random.Random) -> Outbound:
    """Conflicting proposal or vote to a random half of the peers, the original to the rest."""

    def outbound(message: Proposal | Vote, peers: list[int]) -> list[tuple[int, Proposal | Vote]]:
        alternative = _conflicting(message, instance, signer)
        return [(peer, alternative if rng.random() < 0.5 else message) for peer in peers]

    return outbound


def noise(size: int, signer: Signer, rng: random.Random) -> Outbound:
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

    def outbound(message: Proposal | Vote, peers: list[int]) -> list[tuple[int, Proposal | Vote]]:
        return [(peer, m) for peer in peers for m in (message, corrupt(message))]

    return outbound


def outbound_for(
    behaviour: Behaviour | None, instance: int, size: int, signer: Signer, rng: random.Random
) -> Outbound:
    if behaviour is None or behaviour == Behaviour.TWINS:
        return honest
    if behaviour == Behaviour.SILENT:
        return silent
    if behaviour == Behaviour.EQUIVOCATE:
        return equivocate(instance, signer, rng)
    assert behaviour == Behaviour.NOISE
    return noise(size, signer, rng)
