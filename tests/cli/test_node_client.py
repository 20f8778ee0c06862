"""NodeClient against in-process fake nodes: failover past a dead address, refusals at intake and
in the block named by reason code, pending then committed, unknown election, no node at all."""

from __future__ import annotations

import pytest

from ops.cluster import free_port
from proto.votestore.v1 import election_pb2
from tests.cli.fake_node import CHAIN_ID, FakeNode, serving
from votestore.client.node import CommitTimeout, NodeClient, NodeError, NotFound, TxRefused
from votestore.encoding import tx_hash

RAW = b"\x0a\x03abc"
SHORT_CALL_S = 2.0


def dead_address() -> str:
    return f"127.0.0.1:{free_port()}"


def test_fails_over_past_a_dead_node_and_waits_for_the_commit() -> None:
    node = FakeNode(pending_polls=2)
    with serving(node) as live, NodeClient([dead_address(), live], call_timeout_s=SHORT_CALL_S) as client:
        assert client.chain_id() == CHAIN_ID
        result = client.submit_and_wait(RAW, timeout_s=10.0)
    assert result.code == election_pb2.OK
    assert node.submitted == [RAW]
    assert node.polls == 3


@pytest.mark.parametrize(
    ("intake", "result", "stage", "message"),
    [
        (
            election_pb2.NOT_AUTHORIZED,
            election_pb2.OK,
            "intake",
            "refused at intake: NOT_AUTHORIZED: intake says no",
        ),
        (
            election_pb2.OK,
            election_pb2.OUT_OF_ORDER,
            "block",
            "rejected in its block: OUT_OF_ORDER: block says no",
        ),
    ],
)
def test_refusals_name_the_reason_code(
    intake: election_pb2.ResultCode.ValueType,
    result: election_pb2.ResultCode.ValueType,
    stage: str,
    message: str,
) -> None:
    node = FakeNode(intake=intake, result=result, pending_polls=0)
    with serving(node) as live, NodeClient([live]) as client, pytest.raises(TxRefused) as caught:
        client.submit_and_wait(RAW, timeout_s=10.0)
    assert caught.value.stage == stage
    assert caught.value.code == (intake if stage == "intake" else result)
    assert str(caught.value) == message


def test_unknown_election_is_not_found() -> None:
    with (
        serving(FakeNode()) as live,
        NodeClient([live]) as client,
        pytest.raises(NotFound, match="no election"),
    ):
        client.election("nope")


def test_no_node_answers() -> None:
    addresses = [dead_address(), dead_address()]
    with NodeClient(addresses, call_timeout_s=SHORT_CALL_S) as client, pytest.raises(NodeError) as caught:
        client.status()
    assert caught.value.status == "UNAVAILABLE"
    assert all(a in str(caught.value) for a in addresses)


def test_a_transaction_that_stays_pending_times_out_naming_its_hash() -> None:
    node = FakeNode(pending_polls=10**6)
    with serving(node) as live, NodeClient([live]) as client, pytest.raises(CommitTimeout) as caught:
        client.submit_and_wait(RAW, timeout_s=0.5)
    assert tx_hash(RAW).hex() in str(caught.value)
    assert "pending" in str(caught.value)


def test_commit_when_due_submits_again_while_the_chain_time_trails() -> None:
    """An open sent right after the complaint window, by the sender's clock, is refused
    KEYGEN_PENDING until the next block: `commit_when_due` submits again; `commit` gives up."""
    node = FakeNode(not_yet=3, pending_polls=0)
    with serving(node) as live, NodeClient([live]) as client:
        assert client.commit_when_due(RAW, timeout_s=10.0).result.code == election_pb2.OK
        assert node.submitted == [RAW]
        node.not_yet = 1
        with pytest.raises(TxRefused, match="KEYGEN_PENDING"):
            client.commit(RAW, timeout_s=10.0)
    stuck = FakeNode(not_yet=10**6)
    with serving(stuck) as live, NodeClient([live]) as client, pytest.raises(TxRefused, match="not yet"):
        client.commit_when_due(RAW, timeout_s=0.5)
