"""The node signs only through the `Signer` seam (node/signing.py): a signer that holds no key
in the node's memory — as a remote one would — drives the consensus core and the peer
handshake unchanged, and no other module of the node reads a key."""

from __future__ import annotations

import re
from pathlib import Path

import nacl.signing

from node.clock import AsyncioClock
from node.consensus.actions import Broadcast
from node.consensus.events import Start, Timeout, TimeoutKind
from node.consensus.messages import Vote
from node.consensus.signing import signing_bytes
from node.core_setup import consensus_for
from node.proposer import BlockValidity
from node.rpc.peer import make_hello
from node.signing import LocalSigner, Signer
from tests.node.shell_kit import site
from votestore.encoding import hello_signing_bytes, verify_signature
from votestore.version import PROTOCOL_VERSION

NODE = Path(__file__).resolve().parents[2] / "node"


class FarSigner:
    """Stands in for a remote signer: the node hands it bytes and gets signatures back."""

    def __init__(self, key: nacl.signing.SigningKey) -> None:
        local = LocalSigner(key)
        self._sign, self._public = local.sign, local.public_key
        self.asked: list[bytes] = []

    @property
    def public_key(self) -> bytes:
        return self._public

    def sign(self, message: bytes) -> bytes:
        self.asked.append(message)
        return self._sign(message)


def test_the_core_votes_through_any_signer(tmp_path: Path) -> None:
    at = site(tmp_path, None)
    signer: Signer = FarSigner(at.key)
    store = at.open_store()
    try:
        validity = BlockValidity(
            genesis=at.genesis, store=store, block_max_bytes=1 << 20, clock=AsyncioClock()
        )
        core = consensus_for(at.genesis, 0, signer, store, validity, None)
        core.step(Start())
        actions = core.step(Timeout(TimeoutKind.PROPOSE, 1, 0))  # prevote nil, signed
    finally:
        store.close()
    votes = [a.message for a in actions if isinstance(a, Broadcast) and isinstance(a.message, Vote)]
    assert len(votes) == 1
    message = signing_bytes(at.genesis.chain_id, votes[0])
    assert isinstance(signer, FarSigner) and signer.asked == [message]
    assert verify_signature(at.genesis.validators[0].public_key, message, votes[0].signature)


def test_the_handshake_signs_through_any_signer(tmp_path: Path) -> None:
    at = site(tmp_path, None)
    signer = FarSigner(at.key)

    class Store:
        height = 0

    class Shell:  # what make_hello reads of the shell
        genesis = at.genesis
        index = 0
        store = Store()

    hello = make_hello(Shell(), signer, 2, b"c" * 16)  # type: ignore[arg-type]
    message = hello_signing_bytes(
        at.genesis.chain_id, 0, 2, b"c" * 16, hello.time_ms, PROTOCOL_VERSION, at.genesis.hash()
    )
    assert signer.asked == [message]
    assert verify_signature(at.genesis.validators[0].public_key, message, hello.signature)


def test_only_the_signer_module_and_its_builder_hold_a_key() -> None:
    """A remote signer replaces `LocalSigner` in node/main.py's `_signer` and nowhere else."""
    holders = sorted(
        str(path.relative_to(NODE))
        for path in NODE.rglob("*.py")
        if path.parts[len(NODE.parts)] != "sim"  # the simulator's own seeded keys
        and re.search(r"nacl\.signing|SigningKey|read_key_file|key_files", path.read_text())
    )
    assert holders == ["main.py", "signing.py"], holders
    main = (NODE / "main.py").read_text()
    assert main.count("LocalSigner(") == 1 and "def _signer(" in main
