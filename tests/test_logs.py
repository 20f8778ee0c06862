"""One log format for node, gateway and verifier (votestore/logs.py): UTC timestamps, text or JSON
lines, per-module levels, and one clear error for a bad setting."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.cluster import LocalNet
from votestore import logs
from votestore.errors import ConfigError

CREATED = 1_796_842_900.25  # 2026-12-09T19:01:40.250Z


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("votestore.node.catchup").setLevel(logging.NOTSET)


def _record(message: str, name: str = "votestore.node") -> logging.LogRecord:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, message, (), None)
    record.created = CREATED
    return record


def test_text_lines_are_utc_and_key_value() -> None:
    line = logs.TextFormatter().format(_record("event=commit height=5 txs=2"))
    assert line == "2026-12-09T19:01:40.250Z level=INFO logger=votestore.node event=commit height=5 txs=2"


def test_json_lines_carry_the_message_fields() -> None:
    document = json.loads(logs.JsonFormatter("node").format(_record("event=commit height=5 level=x")))
    assert document["ts"] == "2026-12-09T19:01:40.250Z"
    assert document["component"] == "node" and document["event"] == "commit" and document["height"] == "5"
    assert document["level"] == "INFO", "a message field never overwrites the record's own"


def test_module_levels_refine_the_process_level() -> None:
    logging.getLogger().handlers.clear()  # as in a fresh process
    logs.setup("node", "INFO", {logs.LEVELS_ENV: "votestore.node.catchup=DEBUG"})
    assert logging.getLogger("votestore.node.catchup").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("votestore.node.commit").isEnabledFor(logging.DEBUG)


@pytest.mark.parametrize(
    ("level", "env", "message"),
    [
        ("LOUD", {}, "log_level 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("INFO", {logs.FORMAT_ENV: "xml"}, "VOTESTORE_LOG_FORMAT 'xml' is not one of text, json"),
        ("INFO", {logs.LEVELS_ENV: "votestore.node"}, "is not LOGGER=LEVEL"),
        ("INFO", {logs.LEVELS_ENV: "votestore.node=LOUD"}, "level of votestore.node 'LOUD' is not one of"),
    ],
)
def test_bad_settings_are_one_clear_error(level: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        logs.setup("node", level, env)


@pytest.mark.cluster
def test_a_node_logs_json_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(logs.FORMAT_ENV, "json")
    with LocalNet.create(tmp_path / "net") as net:
        net.start_all()
        net.wait_height(2)
        lines = net.log_tail(0, 400).splitlines()
    documents = [json.loads(line) for line in lines if line.startswith("{")]
    assert documents, lines
    assert documents[0]["event"] == "start" and documents[0]["component"] == "node", documents[0]
    assert all(d["ts"].endswith("Z") for d in documents)
    assert not [line for line in lines if not line.startswith("{")], "every line is JSON"


def test_the_verifier_command_refuses_a_bad_format_in_one_line() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "votestore"), "verifier", "run", "--genesis", "/nonexistent"],
        env={**os.environ, logs.FORMAT_ENV: "xml"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == "error: VOTESTORE_LOG_FORMAT 'xml' is not one of text, json\n"
