"""What an operator reads off a healthy validator's /metrics (issue 22): the chain it runs, the
block interval, and an invalid-message counter that stays at 0 when nothing is wrong — late and
repeated votes, which a healthy network sends all the time, are counted apart. Real processes."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ops.cluster import LocalNet

pytestmark = pytest.mark.cluster

HEIGHT = 12


def _samples(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def test_a_healthy_validator_reports_its_chain_and_block_interval_and_no_invalid_message(
    tmp_path: Path,
) -> None:
    with LocalNet.create(tmp_path / "net", metrics=True) as net:
        net.start_all()
        net.wait_height(HEIGHT)
        for i in range(4):
            samples = _samples(net.metrics_ports[i])
            ((labels, value),) = samples["votestore_node_chain_info"]
            assert labels["chain_id"] == "votestore-local" and value == 1
            assert labels["genesis_hash"] == net.genesis.hash().hex()[:16]
            ((_, count),) = samples["votestore_node_block_interval_seconds_count"]
            assert count >= HEIGHT - 2, count
            invalid = {
                labels["reason"]: v for labels, v in samples.get("votestore_node_invalid_messages_total", [])
            }
            assert not {r: v for r, v in invalid.items() if v}, f"validator {i}: {invalid}"
            ((_, byzantine),) = samples["votestore_node_byzantine_validators"]
            assert byzantine == 0
