"""The public Node and Gateway services of a live cluster under hostile input: a few thousand
seeded calls plus hypothesis-drawn raw bytes, oversized messages and many simultaneous streams.
No process may die, every answer must be a status the service chose, nothing may be recorded.
(bench/fuzz.py runs the same with 100,000 inputs.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops.chaos.cluster import DECODE_TRACEBACK
from ops.chaos.fuzz import IMPROPER, Method, call, methods
from ops.chaos.fuzzrun import FuzzReport, Target, exercise, judge_logs, open_target
from proto.votestore.v1 import gateway_pb2, node_pb2

pytestmark = pytest.mark.cluster

SEED = 11
INPUTS = 3000
RAW_EXAMPLES = 300
STATUS_NAMES = frozenset(code.name for code in grpc.StatusCode) | {"OK"}
NODE_METHODS = methods(node_pb2.DESCRIPTOR.services_by_name["Node"])
GATEWAY_METHODS = methods(gateway_pb2.DESCRIPTOR.services_by_name["Gateway"])


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with open_target(tmp_path_factory.mktemp("fuzz") / "net") as opened:
        yield opened


@pytest.fixture(scope="module")
def report(target: Target) -> FuzzReport:
    """The seeded campaign and probes; run once, after the hypothesis test below."""
    done = exercise(target, SEED, INPUTS)
    print("\n".join(done.lines()))
    return done


async def _answer(address: str, method: Method, payload: bytes) -> str:
    async with grpc.aio.insecure_channel(address) as channel:
        return await call(channel, method, [payload])


@settings(
    deadline=None, max_examples=RAW_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(index=st.integers(0, len(NODE_METHODS) + len(GATEWAY_METHODS) - 1), payload=st.binary(max_size=512))
def test_raw_bytes_get_a_status_and_well_formed_ones_no_unknown(
    target: Target, index: int, payload: bytes
) -> None:
    on_node = index < len(NODE_METHODS)
    method = NODE_METHODS[index] if on_node else GATEWAY_METHODS[index - len(NODE_METHODS)]
    address = target.net.addresses[0] if on_node else target.net.gateway_target
    status = asyncio.run(_answer(address, method, payload))
    assert status in STATUS_NAMES
    assert status not in IMPROPER, (method.path, status, payload.hex())
    assert all(p.poll() is None for p in target.net.processes.values())


def test_campaign_kills_nothing_and_records_nothing(report: FuzzReport) -> None:
    text = "\n".join(report.lines())
    assert report.ok, text
    assert report.node.inputs + report.gateway.inputs == INPUTS, text
    assert set(report.node.statuses) | set(report.gateway.statuses) <= STATUS_NAMES, text
    assert report.blocks_checked > 0, text


def test_oversized_messages_are_refused(report: FuzzReport) -> None:
    assert set(report.oversized.values()) == {"RESOURCE_EXHAUSTED"}, report.oversized


def test_node_memory_stays_bounded_under_many_streams(report: FuzzReport) -> None:
    before, after = report.rss_bytes["node0"]
    assert 0 < before <= after < 512 * 2**20, report.rss_bytes


def test_logs_hold_no_traceback_but_grpcs_own(target: Target, report: FuzzReport) -> None:
    """Runs last in the module: the processes are still up, but their logs are complete enough
    for what the campaign did; the decode tracebacks are the known defect below."""
    judge_logs(target.net, report)
    assert report.ok, "\n".join(report.lines())


def test_undecodable_requests_are_invalid_argument_without_traceback(
    target: Target, report: FuzzReport
) -> None:
    logged = sum(kinds[DECODE_TRACEBACK] for kinds in target.net.tracebacks().values())
    assert report.undecodable_unknown == 0 and logged == 0, (report.undecodable_unknown, logged)


def test_many_simultaneous_streams_are_refused(report: FuzzReport) -> None:
    assert all(report.refused_streams.values()), report.streams
