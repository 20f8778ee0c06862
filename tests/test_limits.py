"""One set of size limits: every gRPC message-size cap in the tree comes from votestore/limits.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from votestore import limits

ROOT = Path(__file__).resolve().parent.parent
CAP_OPTION = re.compile(r"max_(receive|send)_message_length|MaxRecvMsgSize|MaxSendMsgSize")
OWNER = "votestore/limits.py"
THIS_TEST = "tests/test_limits.py"


def _tracked_text_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return [p for p in listed if p.endswith((".py", ".md", ".toml", ".yaml", ".yml", ".json", ".cfg"))]


def test_no_message_size_cap_is_set_outside_the_limits_module() -> None:
    offenders = []
    for path in _tracked_text_files():
        if path in (OWNER, THIS_TEST) or not (ROOT / path).is_file():
            continue
        for number, line in enumerate((ROOT / path).read_text(errors="replace").splitlines(), 1):
            if CAP_OPTION.search(line):
                offenders.append(f"{path}:{number}: {line.strip()}")
    assert offenders == [], "set message caps through votestore.limits.message_options:\n" + "\n".join(
        offenders
    )


def test_the_grep_finds_a_planted_cap() -> None:
    """The pattern above bites: a cap written as the node had it is caught."""
    planted = '    ("grpc.max_receive_message_length", 64 * 1024 * 1024),'
    assert CAP_OPTION.search(planted)


def test_readers_of_a_node_accept_what_a_node_may_send() -> None:
    from gateway.submit_batch import SUBMIT_BATCH_MAX_BYTES
    from node.rpc.peer_options import CHANNEL_OPTIONS, SERVER_OPTIONS

    caps = dict(CHANNEL_OPTIONS)
    assert caps["grpc.max_send_message_length"] == limits.NODE_MESSAGE_BYTES
    assert caps["grpc.max_receive_message_length"] == limits.NODE_MESSAGE_BYTES
    assert dict(SERVER_OPTIONS)["grpc.max_send_message_length"] == limits.NODE_MESSAGE_BYTES
    assert SUBMIT_BATCH_MAX_BYTES < limits.MAX_SUBMIT_BATCH_BYTES


def test_the_client_sdk_accepts_what_a_default_gateway_may_send() -> None:
    from gateway.config import Limits
    from votestore.client.gateway_client import REPLY_OPTIONS

    request_cap = Limits().max_message_bytes
    assert request_cap == limits.GATEWAY_REQUEST_BYTES > limits.MAX_TX_BYTES
    assert dict(REPLY_OPTIONS)["grpc.max_receive_message_length"] >= limits.GATEWAY_REPLY_FACTOR * request_cap
