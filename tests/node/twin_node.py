"""A twin of a validator for tests, never a production flag: a second process with a
validator's key and a copy of its store (so it has a last-signed record and the amnesia guard
lets it sign, as a restored backup would). It runs the node as built, and on every link it
opens it first sends a precommit for nil at the last height whose stored certificate holds
its validator's precommit — a double vote for a height the genuine process signed, that every
peer passed long ago (issue 21).

    python -m tests.node.twin_node CONFIG

Its first output line is `twin_double_vote validator=V height=H round=R`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from election.app_hash import genesis_app_hash
from node import main as node_main
from node.config import load_node_config
from node.consensus import Vote, VoteType, signing_bytes
from node.ledger.store import Store
from node.peers import Peers, to_wire
from proto.votestore.v1 import peer_pb2
from votestore.genesis import load_genesis
from votestore.keys import PLAINTEXT_QUIETLY, read_key_file


def double_vote(config: Path) -> tuple[peer_pb2.PeerMessage, Vote]:
    """The twin's nil precommit, signed with the validator's key, for the newest stored height
    whose certificate carries that validator's precommit."""
    settings = load_node_config(config)
    genesis = load_genesis(settings.genesis)
    key = read_key_file(settings.key_file, unlock=PLAINTEXT_QUIETLY)
    index = next(v.index for v in genesis.validators if v.public_key == bytes(key.verify_key))
    store = Store(settings.data_dir, genesis, genesis_app_hash(genesis.chain_id))
    try:
        signed = next(
            (
                store.certificate(h)
                for h in range(store.height, 0, -1)
                if any(s.validator == index for s in store.certificate(h).signatures)
            ),
            None,
        )
    finally:
        store.close()
    if signed is None:
        raise SystemExit("twin: its store holds no certificate its validator signed")
    unsigned = Vote(VoteType.PRECOMMIT, signed.height, signed.round, None, index, b"")
    signature = key.sign(signing_bytes(genesis.chain_id, unsigned)).signature
    vote = Vote(VoteType.PRECOMMIT, signed.height, signed.round, None, index, signature)
    return to_wire(vote), vote


def main() -> None:
    config = Path(sys.argv[1])
    message, vote = double_vote(config)
    print(f"twin_double_vote validator={vote.validator} height={vote.height} round={vote.round}", flush=True)
    replay = Peers.reconnected

    def reconnected(self: Peers, peer: int) -> list[peer_pb2.PeerMessage]:
        return [message, *replay(self, peer)]

    Peers.reconnected = reconnected  # type: ignore[method-assign]
    node_main.run_node(config)


if __name__ == "__main__":
    main()
