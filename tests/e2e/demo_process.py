"""Running `votestore demo` as a child process for the end-to-end tests: its output line by line
with a deadline, and the tree of processes it started, read from /proc while it runs."""

from __future__ import annotations

import contextlib
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from votestore.genesis import load_genesis

CONNECT_TIMEOUT_S: Final = 1.0

DEMO_ENTRY: Final = [sys.executable, "-m", "votestore", "demo"]
"""`votestore demo` once main.py registers it; until then the typer function is run directly."""


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: fields after the last ')'.
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def descendants(root: int) -> set[int]:
    """Every live process below `root` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent_of(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pids: Iterable[int]) -> set[int]:
    """Those of `pids` still running (zombies count as gone: they hold no port and do no work)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state[state.rindex(")") + 2] != "Z":
            running.add(pid)
    return running


def listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(CONNECT_TIMEOUT_S)
        return probe.connect_ex((host, int(port))) == 0


def demo_addresses(workdir: Path) -> list[str]:
    """The validators', the gateway's and the voter page's addresses the demo in `workdir` used."""
    genesis = load_genesis(workdir / "net" / "genesis.json")
    addresses = [a for v in genesis.validators for a in (v.public_address, v.address)]
    config = workdir / "gateway.toml"
    if config.exists():
        document = tomllib.loads(config.read_text())
        addresses.append(str(document["listen"]))
        web = document.get("web", {})  # the voter page's bridge and its page origin, when served
        if web:
            addresses.append(str(web["listen"]))
            addresses.append(str(web["app_origin"]).removeprefix("http://"))
    return addresses


@dataclass
class DemoProcess:
    """`votestore demo` started in its own process group; stdout lines arrive on a queue."""

    workdir: Path
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    """Added to this process's environment."""
    process: subprocess.Popen[str] = field(init=False)
    lines: queue.Queue[str | None] = field(init=False, default_factory=queue.Queue)
    seen: list[str] = field(init=False, default_factory=list)
    errors: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "TERM": "dumb", **self.env}
        self.process = subprocess.Popen(
            [*DEMO_ENTRY, "--workdir", str(self.workdir), *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self._pumps = [
            threading.Thread(target=self._pump_out, daemon=True),
            threading.Thread(target=self._pump_err, daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    def _pump_out(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _pump_err(self) -> None:
        assert self.process.stderr is not None
        self.errors.extend(line.rstrip("\n") for line in self.process.stderr)

    def wait_for_line(self, needle: str, timeout_s: float) -> str:
        """Block until a stdout line holds `needle` (or fail at the deadline or at the end)."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {needle!r} in {timeout_s} s; saw {self.seen[-10:]}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"demo ended before {needle!r}; saw {self.seen[-10:]}")
            self.seen.append(line)
            if needle in line:
                return line

    def finish(self, timeout_s: float) -> tuple[int, str, list[str]]:
        """Exit code, all of stdout, and stderr's lines."""
        code = self.process.wait(timeout_s)
        while (line := self.lines.get(timeout=timeout_s)) is not None:
            self.seen.append(line)
        for pump in self._pumps:
            pump.join(timeout_s)
        return code, "\n".join(self.seen), self.errors

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_gone(pids: Iterable[int], timeout_s: float) -> set[int]:
    """Wait (on pidfds, no polling loop) until these processes, not our children, have exited;
    returns those still running at the deadline."""
    deadline = time.monotonic() + timeout_s
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        finally:
            os.close(fd)
    return alive(pids)


def signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
