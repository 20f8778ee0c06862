"""With `--keep`: an election left open beside the finished one, with a few spare credentials on
file, so the user can cast into it by hand while the cluster, the identity provider and the
gateway keep running. It is set up as the demo election is: each party's step its own process."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ops.cluster import GatewayProcess, LocalNet
from ops.demo import parties, plan
from ops.demo.parties import Parties, PartyKeys

PRACTICE_ELECTION_ID: Final = "practice"
PRACTICE_VOTERS: Final = 5
PRACTICE_SEED_OFFSET: Final = 1


@dataclass(frozen=True, slots=True)
class KeptCluster:
    """With `keep`: what still runs, for the instructions printed at the end."""

    workdir: Path
    genesis: Path
    node_addresses: tuple[str, ...]
    gateway: str
    identity_provider: str
    pids: tuple[int, ...]
    practice_credentials: tuple[Path, ...]
    practice_identity_checks: tuple[str, ...]
    practice_links: tuple[Path, ...] = ()
    """Files (0600) each holding one practice voter's personal link to the voter page."""
    page: str | None = None


def leave_practice_election(
    net: LocalNet,
    roles: Parties,
    keys: PartyKeys,
    gateway: GatewayProcess,
    provider: GatewayProcess,
    seed: int,
    batch: int,
    page: str | None = None,
    page_pid: int | None = None,
) -> KeptCluster:
    """Set up the practice election and copy its voters' personal credentials (the credential
    authority's outbox) into the workdir, where the printed commands name them. `page` and
    `page_pid`: the voter page's origin and its `votestore web serve` process, which also stays."""
    drawn = plan.make_voters(PRACTICE_VOTERS, seed + PRACTICE_SEED_OFFSET)
    voters = parties.set_up(roles, keys, PRACTICE_ELECTION_ID, drawn, batch)
    outbox = parties.outbox_of(roles, PRACTICE_ELECTION_ID) / "voters"
    workdir = gateway.workdir
    credentials = []
    links = []
    for voter in voters:
        path = workdir / f"practice-voter-{voter.number}.credential"
        shutil.copyfile(outbox / f"{plan.voter_id(voter)}.credential", path)
        path.chmod(parties.SECRET_FILE_MODE)
        credentials.append(path)
        if page is not None:  # the secret in the fragment only (docs/web.md)
            link = workdir / f"practice-voter-{voter.number}.link"
            link.touch(mode=parties.SECRET_FILE_MODE)
            link.write_text(f"{page}/#c={voter.credential.hex()}&e={PRACTICE_ELECTION_ID}\n")
            links.append(link)
    assert gateway.process is not None and provider.process is not None
    return KeptCluster(
        workdir,
        net.genesis_path,
        tuple(net.addresses),
        gateway.target,
        provider.target,
        (
            *(p.pid for p in net.processes.values()),
            provider.process.pid,
            gateway.process.pid,
            *([] if page_pid is None else [page_pid]),
        ),
        tuple(credentials),
        tuple(v.identity_check for v in voters),
        tuple(links),
        page,
    )
