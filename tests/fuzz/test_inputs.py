"""The fuzz input generator without a server: seeded, every style produced, messages well formed."""

from __future__ import annotations

import pytest
from google.protobuf.message_factory import GetMessageClass

from ops.chaos.fuzz import Inputs, Method, decodes, methods
from proto.votestore.v1 import gateway_pb2, node_pb2

ALL = methods(node_pb2.DESCRIPTOR.services_by_name["Node"]) + methods(
    gateway_pb2.DESCRIPTOR.services_by_name["Gateway"]
)
DRAWS = 300


def test_every_public_method_is_a_target() -> None:
    paths = {m.path for m in ALL}
    assert (
        "/votestore.v1.Node/SubmitTxStream" in paths
        and "/votestore.v1.Node/SubmitTxBatch" in paths
        and "/votestore.v1.Node/GetTxBatch" in paths
        and "/votestore.v1.Gateway/CastBallotAssisted" in paths
        and "/votestore.v1.Gateway/PublishAudit" in paths
    )
    assert len(paths) == 11 + 8
    streaming = {m.path for m in ALL if m.client_streaming or m.server_streaming}
    assert streaming == {
        "/votestore.v1.Node/SubmitTxStream",
        "/votestore.v1.Node/GetBlocks",
        "/votestore.v1.Node/WatchCommits",
    }


@pytest.mark.parametrize("method", ALL, ids=lambda m: m.path.rsplit("/", 2)[-1])
def test_inputs_are_seeded_and_mix_parsable_and_broken(method: Method) -> None:
    first = [Inputs(42).payload(method) for _ in range(1)]
    one, two = Inputs(42), Inputs(42)
    drawn = [one.payload(method) for _ in range(DRAWS)]
    assert drawn == [two.payload(method) for _ in range(DRAWS)] and drawn[0] == first[0]
    parsed = sum(decodes(method, [p]) for p in drawn)
    assert 0 < parsed < DRAWS, parsed
    assert len(set(drawn)) > DRAWS // 3  # an empty request type has one well-formed encoding


@pytest.mark.parametrize("method", ALL, ids=lambda m: m.path.rsplit("/", 2)[-1])
def test_built_messages_round_trip(method: Method) -> None:
    inputs = Inputs(7)
    kind = GetMessageClass(method.input)
    for _ in range(50):
        message = inputs.message(method.input)
        assert kind.FromString(message.SerializeToString()) == message
