"""The amnesia guard (node/amnesia.py): a validator without its last-signed record watches before
it signs again, and refuses for good if its own key signs elsewhere (issue 19, attack 5: a twin
with a fresh data dir caught up and ran beside the real validator)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from election.app_hash import genesis_app_hash
from node.amnesia import AmnesiaGuard, SigningState
from node.ledger.store import Store
from ops.cluster import HOST, LocalNet, free_port
from tests.node.store_kit import open_store

VOTESTORE = [sys.executable, "-m", "votestore"]
REFUSAL = "event=own_signature_seen"
TWIN_TIMEOUT_S = 60.0


def _guard(
    *, has_record: bool = False, marked: bool = False, height: int = 0, watch: int = 3
) -> AmnesiaGuard:
    return AmnesiaGuard(
        index=0,
        size=4,
        watch_heights=watch,
        has_record=has_record,
        marked=marked,
        store_height=height,
        quorum=3,
    )


def _tip(height: int) -> dict[int, int]:
    return {1: height, 2: height, 3: height}


def test_a_record_means_signing_and_a_mark_means_watching() -> None:
    assert _guard(has_record=True).state == SigningState.SIGNING
    assert _guard(has_record=True, marked=True).state == SigningState.WATCHING
    assert _guard(height=10).state == SigningState.WATCHING
    assert _guard(height=10, watch=0).state == SigningState.SIGNING, "0 turns the guard off"


def test_a_fresh_cluster_signs_once_peers_show_it_is_at_genesis() -> None:
    guard = _guard()
    assert guard.state == SigningState.WAITING
    assert guard.peer_heights({1: 0}) == SigningState.WAITING
    assert guard.peer_heights({1: 0, 2: 2**63}) == SigningState.WAITING, "a liar changes nothing"
    assert guard.peer_heights({1: 0, 2: 2**63, 3: 0}) == SigningState.SIGNING
    other = _guard()
    assert other.peer_heights({1: 0, 2: 2**63}) == SigningState.WAITING
    assert other.peer_signed_at_genesis(0) == SigningState.WAITING, "its own index does not count"
    assert other.peer_signed_at_genesis(2) == SigningState.SIGNING, "2 voted at height 1"


def test_a_fresh_store_behind_its_peers_watches() -> None:
    guard = _guard()
    assert guard.peer_heights({1: 57, 2: 57, 3: 0}) == SigningState.WAITING
    assert guard.committed(1, 1, [1, 2, 3], {1: 57, 2: 57, 3: 0}) == SigningState.WATCHING


def test_watching_ends_after_k_heights_at_the_tip_with_an_own_turn() -> None:
    guard = _guard(height=10)
    assert guard.committed(11, 3, [1, 2, 3], _tip(40)) == SigningState.WATCHING  # catching up
    for height in (41, 42, 43):
        assert guard.committed(height, height % 4, [1, 2, 3], _tip(height)) == SigningState.WATCHING
    assert guard.committed(44, 1, [1, 2, 3], _tip(44)) == SigningState.SIGNING, "44 was 0's turn (skipped)"


def test_a_liar_claiming_a_huge_height_cannot_stop_the_watch() -> None:
    guard = _guard(height=10)
    for height in range(41, 45):
        guard.committed(height, height % 4 or 1, [1, 2, 3], {1: height, 2: height, 3: 2**63})
    assert guard.state == SigningState.SIGNING


@pytest.mark.parametrize(
    "seen",
    [
        lambda g: g.own_message(),
        lambda g: g.committed(41, 0, [1, 2, 3], _tip(41)),  # a block built by its key
        lambda g: g.committed(38, 3, [0, 1, 2], _tip(41)),  # its signature in a recent certificate
    ],
    ids=["live_message", "own_block", "recent_certificate"],
)
def test_its_own_key_seen_elsewhere_means_refusal_for_good(seen: object) -> None:
    guard = _guard(height=10)
    assert callable(seen)
    assert seen(guard) == SigningState.REFUSED
    for height in range(42, 60):
        guard.committed(height, 1, [1, 2, 3], _tip(height))
    assert guard.state == SigningState.REFUSED


def test_old_certificates_do_not_count() -> None:
    """A validator back after a long absence finds its own old signatures while catching up."""
    guard = _guard(height=10)
    assert guard.committed(11, 3, [0, 1, 2], _tip(40)) == SigningState.WATCHING


def _wait_for(path: Path, text: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


def test_a_twin_with_a_fresh_data_dir_does_not_sign(tmp_path: Path) -> None:
    """A second validator-0 process with a fresh data dir, on a port of its own, beside a running
    4-node cluster, signs nothing: if its peer links come up it catches up, sees its key's
    signatures, refuses with one line and keeps running as a follower; if the peers refuse it,
    it waits at genesis. On main before the guard it signed at once."""
    with LocalNet.create(tmp_path / "net") as net:
        net.start_all()
        net.wait_ready()
        net.wait_height(3)
        text = net.config_path(0).read_text()
        listen = f'listen = "{net.addresses[0]}"'
        assert listen in text and 'data_dir = "node0.data"' in text
        config = net.workdir / "twin.toml"
        config.write_text(
            text.replace(listen, f'listen = "{HOST}:{free_port()}"')
            .replace(f'peer_listen = "{net.peer_addresses[0]}"', f'peer_listen = "{HOST}:{free_port()}"')
            .replace('data_dir = "node0.data"', 'data_dir = "twin.data"')
        )
        log = tmp_path / "twin.log"
        with log.open("w") as sink:
            twin = subprocess.Popen([*VOTESTORE, "node", "run", "--config", str(config)], stderr=sink)
            try:
                refused = _wait_for(log, REFUSAL, TWIN_TIMEOUT_S)
                assert twin.poll() is None, "the twin stopped instead of following"
            finally:
                twin.terminate()
                twin.wait(timeout=30)
        text = log.read_text(errors="replace")
        lines = text.splitlines()
        assert "Traceback" not in text
        assert sum(REFUSAL in line for line in lines) <= 1, "one clear line"
        if "event=peer_up" in text:
            assert refused, "\n".join(lines[-20:])
        height = net.status(1)
        assert height is not None
        net.wait_height(height.height + 2, nodes=[1])  # the cluster goes on
    store = Store(net.workdir / "twin.data", net.genesis, genesis_app_hash(net.genesis.chain_id))
    try:
        assert store.last_signed() is None, "the twin signed"
    finally:
        store.close()


def test_a_store_the_guard_cleared_says_so_after_a_restart_and_a_restore_still_watches(
    tmp_path: Path,
) -> None:
    """A validator that crashed before its first signature has no last-signed record; the store
    keeps that the guard had let it sign, so the restarted node signs at once (the simulator's
    seeds in tests/sim/test_attacks.py stalled without it). The restore mark still wins."""
    store = open_store(tmp_path / "data")
    assert not store.cleared_to_sign()
    store.mark_watch_before_signing()
    store.mark_cleared_to_sign()  # what the signing gate does when the guard says SIGNING
    store.close()
    store = open_store(tmp_path / "data")
    try:
        assert store.cleared_to_sign() and not store.watch_before_signing()
        cleared = store.last_signed() is not None or store.cleared_to_sign()
        assert _guard(has_record=cleared).state == SigningState.SIGNING
        store.mark_watch_before_signing()  # `node restore`
        assert _guard(has_record=cleared, marked=store.watch_before_signing()).state == SigningState.WATCHING
    finally:
        store.close()
