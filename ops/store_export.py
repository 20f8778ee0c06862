"""`votestore ledger export --data-dir`: a stopped node's store into a ledger file, read straight
from its LevelDB — for a store its node refuses to serve (it found damage at start) or a node that
is gone, so the verifier can still judge it and name the node and the height.

Nothing is checked or repaired here: blocks are written as stored, up to the first record that
does not decode (the verifier then names the heights the file lacks), the election states as
the store's application state holds them (one that does not decode is left out, and said), and
every application-state record as stored, which the verifier compares with its replay record by
record. A store its node marked damaged (node.ledger.damage) is exported all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from election.app import ElectionApp
from election.app_hash import genesis_app_hash
from election.policy import ChainPolicy
from node.ledger.store import Store
from proto.votestore.v1 import election_pb2, ledger_pb2
from tools.verify.ledger_file import LedgerHeader, write_ledger
from votestore.errors import ConfigError, VotestoreError
from votestore.genesis import Genesis


def _elections(
    store: Store, genesis: Genesis, warn: Callable[[str], None]
) -> tuple[list[election_pb2.ElectionState], int | None]:
    try:
        app = ElectionApp(ChainPolicy.from_genesis(genesis), store.unchecked_state())
        ids = app.list_elections()
    except (VotestoreError, ValueError) as exc:
        warn(f"application state unreadable, no election states exported: {exc}")
        return [], None
    states: list[election_pb2.ElectionState] = []
    for election_id in ids:
        try:
            state = app.election_state(election_id)
        except (VotestoreError, ValueError) as exc:
            warn(f"election {election_id!r}: state unreadable, left out: {exc}")
            continue
        if state is not None:
            states.append(state)
    return states, app.height


def _blocks(store: Store, height: int, warn: Callable[[str], None]) -> Iterator[ledger_pb2.CommittedBlock]:
    for h in range(1, height + 1):
        try:
            block = store.committed_block(h)
        except (VotestoreError, ValueError, KeyError) as exc:
            warn(f"height {h}: record unreadable, export stops here: {exc}")
            return
        yield block


def export_store(genesis: Genesis, data_dir: Path, path: Path, name: str, warn: Callable[[str], None]) -> int:
    """Write the store's ledger to `path` (whole or not at all); returns the blocks written.
    Refuses a data dir with no store (rather than create one) and one a running node holds."""
    if not (data_dir / "CURRENT").is_file():
        raise ConfigError(f"no store in {data_dir}")
    store = Store(data_dir, genesis, genesis_app_hash(genesis.chain_id))
    partial = path.with_name(path.name + ".partial")
    try:
        elections, state_height = _elections(store, genesis, warn)
        header = LedgerHeader(
            chain_id=genesis.chain_id,
            node=name,
            address=f"store:{data_dir}",
            genesis_hash=genesis.hash(),
            height=store.height,
            state_height=state_height,
        )
        with partial.open("wb") as out:
            written = write_ledger(
                out, header, elections, _blocks(store, store.height, warn), store.state_items()
            )
        partial.replace(path)
        return written
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        store.close()
