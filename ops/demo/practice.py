"""With `--keep`: an election left open beside the finished one, with a few spare credentials on
file, so the user can cast into it by hand while the cluster and the gateway keep running."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gateway.identity import write_identity_store
from ops.cluster import GatewayProcess, LocalNet, election
from ops.cluster.trustees import Trustee
from ops.demo import plan
from ops.roles import ElectionRoles
from proto.votestore.v1 import election_pb2
from votestore.client.node import NodeClient

PRACTICE_ELECTION_ID: Final = "practice"
PRACTICE_VOTERS: Final = 5
PRACTICE_SEED_OFFSET: Final = 1
CREDENTIAL_FILE_MODE: Final = 0o600


@dataclass(frozen=True, slots=True)
class KeptCluster:
    """With `keep`: what still runs, for the instructions printed at the end."""

    workdir: Path
    genesis: Path
    node_addresses: tuple[str, ...]
    gateway: str
    pids: tuple[int, ...]
    practice_credentials: tuple[Path, ...]
    practice_identity_checks: tuple[str, ...]
    practice_links: tuple[Path, ...] = ()
    """Files (0600) each holding one practice voter's personal link to the voter page."""
    page: str | None = None


def set_up_election(
    node: NodeClient,
    net: LocalNet,
    roles: ElectionRoles,
    trustees: Sequence[Trustee],
    definition: election_pb2.ElectionCreate,
    voters: Sequence[plan.Voter],
    batch: int,
) -> election_pb2.ElectionState:
    """The administrator's, the credential authority's and the trustees' parts before the first
    ballot, for the demo's voters (the definition names the roles' keys)."""
    rows = plan.roll_rows(voters, definition.election_id)
    chain, admin = net.genesis.chain_id, net.admin_key
    return election.set_up(
        node, chain, admin, roles.authority, trustees, roles.name_in(definition), rows, batch
    )


def leave_practice_election(
    node: NodeClient,
    net: LocalNet,
    roles: ElectionRoles,
    trustees: Sequence[Trustee],
    gateway: GatewayProcess,
    identity_store: Path,
    seed: int,
    batch: int,
    page: str | None = None,
) -> KeptCluster:
    """Set up the practice election and write its voters' credentials into the workdir."""
    voters = plan.make_voters(PRACTICE_VOTERS, seed + PRACTICE_SEED_OFFSET)
    definition = plan.definition([t.public for t in trustees], int(time.time() * 1000), PRACTICE_ELECTION_ID)
    write_identity_store(identity_store, plan.identity_rows(voters, PRACTICE_ELECTION_ID))
    set_up_election(node, net, roles, trustees, definition, voters, batch)
    workdir = gateway.workdir
    credentials = []
    links = []
    for voter in voters:
        path = workdir / f"practice-voter-{voter.number}.credential"
        path.touch(mode=CREDENTIAL_FILE_MODE)
        path.write_text(voter.credential.hex() + "\n")
        credentials.append(path)
        if page is not None:  # the secret in the fragment only (docs/web.md)
            link = workdir / f"practice-voter-{voter.number}.link"
            link.touch(mode=CREDENTIAL_FILE_MODE)
            link.write_text(f"{page}/#c={voter.credential.hex()}&e={PRACTICE_ELECTION_ID}\n")
            links.append(link)
    assert gateway.process is not None
    return KeptCluster(
        workdir,
        net.genesis_path,
        tuple(net.addresses),
        gateway.target,
        (*(p.pid for p in net.processes.values()), gateway.process.pid),
        tuple(credentials),
        tuple(v.identity_check for v in voters),
        tuple(links),
        page,
    )
