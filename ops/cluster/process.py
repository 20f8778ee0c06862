"""The one place that starts a votestore server (`votestore node run`, `votestore gateway run`,
`votestore identity-provider run`) as a child process, and stops it.

Each child runs in a session of its own (so a signal reaches every process it forks), writes
stdout and stderr to one log file it owns, and reads nothing from us. Stopping is bounded: SIGTERM,
then SIGKILL after STOP_TIMEOUT_S.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, Self

from votestore.errors import VotestoreError

STOP_TIMEOUT_S: Final = 10.0
LOG_TAIL_LINES: Final = 20

Role = Literal["node", "gateway", "identity-provider"]


class ClusterError(VotestoreError):
    """A process did not start, stop or reach a height in time; the message says which."""


class Started(ABC):
    """`with X(...) as x:` for a process holder: started (and ready) inside, always stopped after."""

    @abstractmethod
    def start(self) -> None:
        """Start the process and return once it is ready."""

    @abstractmethod
    def stop(self) -> int:
        """Stop the process (bounded); its exit code."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def role_command(role: Role, config: Path) -> list[str]:
    """`votestore <role> run --config <config>` with this interpreter (the same checkout and venv)."""
    return [sys.executable, "-m", "votestore", role, "run", "--config", str(config)]


def spawn(role: Role, config: Path, log: Path, prefix: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """Start one role process, appending its output to `log`; `prefix` runs it through another
    command (the chaos fabric's `ip netns exec …`)."""
    out = open(log, "ab")  # noqa: SIM115 — the child owns it
    try:
        return subprocess.Popen(
            [*prefix, *role_command(role, config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        out.close()


def start_command(
    args: Sequence[str], log: Path, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start one `votestore <args>` command (a party's step: `election create`, `roll import`,
    `trustee deal`, ...) in `cwd`, its output to `log`, `env` added to ours; the caller waits for
    it (`finish`)."""
    out = open(log, "ab")  # noqa: SIM115 — the child owns it
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "votestore", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, **env} if env else None,
            start_new_session=True,
        )
    finally:
        out.close()


def finish(process: subprocess.Popen[bytes], timeout_s: float) -> int | None:
    """Its exit code, or None (and it is killed) if it did not end within `timeout_s`."""
    try:
        return process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        kill(process)
        return None


def stop(process: subprocess.Popen[bytes], *, group: bool = False) -> int:
    """SIGTERM and wait; SIGKILL to its group if it does not stop in time. Its exit code.

    `group`: SIGTERM the whole group at once. A validator gets it alone, so that it shuts its own
    verify pool down in order; the gateway has always been stopped as a group."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, signal.SIGTERM)
            else:
                process.send_signal(signal.SIGTERM)
        try:
            return process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            kill(process)
    return process.wait()


def kill(process: subprocess.Popen[bytes]) -> None:
    """kill -9 of its process group: no chance to flush or say goodbye."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
