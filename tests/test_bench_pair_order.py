"""bench.cluster's TLS-against-plaintext comparison: neither transport always runs second (a
drifting load would weigh on it), and the per-core ratio is of the cores each cluster got."""

from __future__ import annotations

import pytest

from bench.cluster import Peak, pair_order, print_transport_ratio


def test_each_transport_runs_first_in_half_the_pairs() -> None:
    orders = [pair_order(k) for k in range(1, 5)]
    assert all(sorted(order) == ["plaintext", "tls"] for order in orders)
    firsts = [order[0] for order in orders]
    assert firsts.count("plaintext") == firsts.count("tls") == 2
    assert pair_order(1) != pair_order(2)


def test_ratio_table_shows_raw_and_per_core_medians(capsys: pytest.CaptureFixture[str]) -> None:
    peaks = {
        "plaintext": [Peak(200.0, 2.0), Peak(100.0, 1.0)],
        "tls": [Peak(180.0, 2.0), Peak(45.0, 0.5)],
    }
    print_transport_ratio(peaks, (1.0,), (2.0,))
    rows = {
        line.split("  ")[0]: line.split("  ")[-1].strip() for line in capsys.readouterr().out.splitlines()
    }
    assert rows["TLS / plaintext, each pair"] == "90.0% 45.0%"
    assert rows["TLS / plaintext, medians"] == "75.0% (goal >= 90%)"  # 112.5 / 150
    assert rows["TLS / plaintext per core got, medians"] == "90.0%"  # 90 per core / 100 per core
