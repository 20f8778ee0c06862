"""Which votestore runs: the release version, the source commit, and the peer protocol version.

One place for these facts: `votestore --version`, `GetStatus`, the first log line of the node,
the gateway and the verifier, the `votestore_build_info` metric and the image label all read them
from here.

PROTOCOL_VERSION names everything two validators must agree on to run one chain together: the
peer messages and the election rules that produce the app hash. It changes whenever either
changes in a way an older node would not follow; peers whose protocol versions differ refuse each
other at the handshake (deploy/k8s/README.md, "Upgrades", says which mixes are allowed).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # imported where a process registers its metrics, not by every CLI command
    from prometheus_client import CollectorRegistry, Info

PROTOCOL_VERSION: Final = 5
"""Version 0 is every node from before the handshake carried one (votestore 0.1.x); 1 signed its
Hello unprompted; 2 answers the accepting side's Challenge (node/rpc/peer.py); 3 takes the roll
only from the election's credential authority and a ballot only with its identity provider's
attestation (docs/roles.md); 4 gossips double-vote evidence (PeerMessage.evidence) and judges a
block's evidence by the window and once rules (votestore/evidence.py); 5 takes audited ballots
(Tx.audited_ballot, election/auditing.py) and a definition's app_bundle_sha256, and relays held
votes to a stuck peer (node/repair.py)."""

COMMIT_ENV: Final = "VOTESTORE_COMMIT"
"""Set by the image build (Dockerfile ARG VCS_REF), where no git checkout is at hand."""

UNKNOWN_COMMIT: Final = "unknown"
GIT_TIMEOUT_S: Final = 2.0
_SOURCE_ROOT: Final = Path(__file__).resolve().parents[1]


@functools.cache
def version() -> str:
    """The installed distribution's version (pyproject.toml's `version`)."""
    try:
        return importlib.metadata.version("votestore")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


@functools.cache
def commit() -> str:
    """The source commit: the image's build argument, else the checkout's HEAD (with `-dirty`
    when tracked files differ from it), else "unknown"."""
    from_env = os.environ.get(COMMIT_ENV, "").strip()
    if from_env:
        return from_env
    if not (_SOURCE_ROOT / ".git").exists():
        return UNKNOWN_COMMIT
    try:
        head = _git("rev-parse", "--short=12", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN_COMMIT
    return f"{head}-dirty" if dirty else head


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(_SOURCE_ROOT), *args],
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_S,
        check=True,
    )
    return done.stdout.strip()


def describe() -> str:
    """One line for `--version` and first log lines."""
    return f"votestore {version()} (commit {commit()}, protocol {PROTOCOL_VERSION})"


def log_fields() -> str:
    """The same facts as key=value, for a process's first log line."""
    return f"version={version()} commit={commit()} protocol={PROTOCOL_VERSION}"


def register_build_info(registry: CollectorRegistry, component: str) -> Info:
    """`votestore_build_info{component,version,commit,protocol} 1` on the process's registry."""
    from prometheus_client import Info

    info = Info("votestore_build", "The running build: version, source commit, protocol.", registry=registry)
    info.info(
        {
            "component": component,
            "version": version(),
            "commit": commit(),
            "protocol": str(PROTOCOL_VERSION),
        }
    )
    return info
