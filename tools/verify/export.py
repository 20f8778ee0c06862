"""`votestore ledger export`: one node's blocks and published election states into a ledger file.

Election states are read first, between two equal status heights, and blocks then up to that
height, so the file's states belong to its last block.
"""

from __future__ import annotations

from pathlib import Path

from tools.verify.ledger_file import LedgerHeader, write_ledger
from tools.verify.snapshot import Reach
from tools.verify.sources import node_sources
from votestore.channels import ValidatorDialer
from votestore.errors import VotestoreError
from votestore.genesis import Genesis


class ExportFailed(VotestoreError):
    """The node could not be read whole; no partial file is left behind."""


def export_ledger(genesis: Genesis, address: str, path: Path, dialer: ValidatorDialer | None = None) -> int:
    """Write the node's ledger to `path`; returns the number of blocks written. `address` as for
    `node_sources` ("HOST:PORT" or "INDEX=HOST:PORT"); `dialer` None: plaintext."""
    source = node_sources(genesis, [address], dialer or ValidatorDialer(None))[0]
    address = source.address
    partial = path.with_name(path.name + ".partial")
    try:
        info = source.info(genesis)
        if info.reach != Reach.UP:
            raise ExportFailed(f"{address}: {info.reach.value}: {info.detail}")
        published = info.published
        header = LedgerHeader(
            chain_id=genesis.chain_id,
            node=info.name,
            address=address,
            genesis_hash=genesis.hash(),
            height=info.height,
            state_height=None if published is None else published.height,
        )
        elections = () if published is None else published.elections
        blocks = source.blocks(1, info.height) if info.height else iter(())
        with partial.open("wb") as out:
            written = write_ledger(out, header, elections, blocks)
        partial.replace(path)
        return written
    except VotestoreError:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
