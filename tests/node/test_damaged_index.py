"""A damaged transaction-index record (issue 21): GetTx answered UNKNOWN with an IndexError and
a traceback in the log, and the node went on serving. Now the read names the record and height
(DATA_LOSS), and the node stops once with one error line instead of serving from a damaged store.

Real processes and a real LevelDB, edited while its node is stopped."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import grpc
import plyvel
import pytest

from ops.cluster import LocalNet
from tests.cluster import election_definition, get_tx, submit, wait_committed
from votestore import txbuild
from votestore.encoding import tx_hash

pytestmark = pytest.mark.cluster

EXIT_WAIT_S = 30.0


def test_a_damaged_index_entry_is_named_and_the_node_stops_once(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net") as net:
        net.start_all()
        net.wait_ready()
        raw = txbuild.election_create(
            net.genesis.chain_id, net.admin_key, election_definition("damaged-index")
        )
        submit(net.addresses[0], raw)
        digest = tx_hash(raw)
        proof = wait_committed(net.addresses[0], digest)
        height, position = proof.header.height, proof.index
        assert net.stop(0) == 0
        db = plyvel.DB(str(net.data_dir(0)))
        try:
            db.put(b"t/" + digest, struct.pack(">QI", height, position + 5), sync=True)
        finally:
            db.close()
        net.start(0)
        net.wait_ready([0])
        with pytest.raises(grpc.RpcError) as refused:
            get_tx(net.addresses[0], digest)
        assert refused.value.code() == grpc.StatusCode.DATA_LOSS  # type: ignore[attr-defined]
        assert refused.value.details().startswith(  # type: ignore[attr-defined]
            f"store corrupted at height {height}: the tx index entry for {digest.hex()[:16]}"
        )
        process = net.processes[0]
        deadline = time.monotonic() + EXIT_WAIT_S
        while process.poll() is None:
            assert time.monotonic() < deadline, "the node went on serving from a damaged store"
            time.sleep(0.1)
        assert process.returncode == 1
        log = net.log_tail(0, 50)
        assert "Traceback" not in log, log
        last = log.strip().splitlines()[-1]
        assert last.startswith(f"error: store corrupted at height {height}: the tx index entry"), log
        assert "found while serving" in last
        net.start(0)  # marked damaged: refused at once, with the same line (no crash loop)
        deadline = time.monotonic() + EXIT_WAIT_S
        while net.processes[0].poll() is None:
            assert time.monotonic() < deadline, "a marked store's node started"
            time.sleep(0.1)
        assert net.processes[0].returncode == 1
        assert net.log_tail(0, 5).strip().splitlines()[-1] == last
        assert get_tx(net.addresses[1], digest).header.height == height  # the others are untouched
