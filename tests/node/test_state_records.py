"""Every state record is checked as it is read (issue 21): a flipped byte in a stopped node's
store — in a state record, its height's journal or an app hash record — is named at its first
read, with the record, its election and the height, instead of passing silently (a closed
election's voter district) or surfacing later as a crash or an app hash disagreement. Real
LevelDB throughout; the store is reopened after each flip, as a restarted node would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import plyvel
import pytest

from election.app import ElectionApp
from election.policy import BlockContext, ChainPolicy
from node.ledger.state import journal_prefix
from tests.ledger.election_kit import ELECTION, Election, voter_key
from tests.node.state_kit import (
    CHOICE,
    GENESIS,
    VOTERS,
    build,
    election_key,
    journal_key,
    open_built,
    roll_key,
    written_at,
)
from tests.node.store_kit import flip_byte
from votestore.errors import StoreCorrupted


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Election]]:
    parent = tmp_path_factory.mktemp("state")
    return {
        "open": (parent / "open", build(parent / "open")),
        "closed": (parent / "closed", build(parent / "closed", closed=True)),
    }


def _copy(template: tuple[Path, Election], tmp_path: Path) -> tuple[Path, Election]:
    path = tmp_path / "db"
    subprocess.run(["cp", "-r", str(template[0]), str(path)], check=True)
    return path, template[1]


@pytest.fixture
def opened(templates: dict[str, tuple[Path, Election]], tmp_path: Path) -> tuple[Path, Election]:
    return _copy(templates["open"], tmp_path)


@pytest.fixture
def closed(templates: dict[str, tuple[Path, Election]], tmp_path: Path) -> tuple[Path, Election]:
    return _copy(templates["closed"], tmp_path)


def _app(path: Path) -> tuple[ElectionApp, object]:
    store = open_built(path)
    return ElectionApp(ChainPolicy.from_genesis(GENESIS), store.app_reader()), store


def _read_all(path: Path) -> None:
    """Read every state record the election has through the node's reader."""
    app, store = _app(path)
    try:
        assert app.election_state(ELECTION) is not None
        for voter in range(VOTERS):
            app.roll_group(ELECTION, voter_key(voter))
            app.voted_tx(ELECTION, voter_key(voter))
        for trustee in (1, 2, 3):
            app.deal(ELECTION, trustee)
            app.verification_key(ELECTION, trustee)
    finally:
        store.close()  # type: ignore[attr-defined]


def test_an_undamaged_store_reads_as_the_state_machine_wrote_it(opened: tuple[Path, Election]) -> None:
    path, election = opened
    app, store = _app(path)
    try:
        assert app.election_state(ELECTION) == election.chain.state(ELECTION)
        for voter in range(VOTERS):
            key = voter_key(voter)
            assert app.roll_group(ELECTION, key) == election.chain.app.roll_group(ELECTION, key)
            assert app.voted_tx(ELECTION, key) == election.chain.app.voted_tx(ELECTION, key)
    finally:
        store.close()  # type: ignore[attr-defined]


def test_a_closed_elections_voter_district_is_named_at_its_first_read(closed: tuple[Path, Election]) -> None:
    """Row 1 of the issue: before, the flip was never found (the district is never read again)."""
    path, _ = closed
    key = roll_key(3)
    height = written_at(path, key)
    flip_byte(path, key, at=-1)  # the district (its position in the turnout list)
    with pytest.raises(StoreCorrupted) as caught:
        _read_all(path)
    assert caught.value.height == height
    assert f"roll entry (election '{ELECTION}', voter {voter_key(3)[:8].hex()}…)" in caught.value.why
    assert "journal of its height records another value" in caught.value.why


def test_an_open_elections_aggregate_is_named_at_the_next_ballot(opened: tuple[Path, Election]) -> None:
    """Row 2: before, the next ballot failed with 'not a canonical ristretto255 encoding', at
    every restart (a crash loop naming neither record nor height)."""
    path, election = opened
    key = election_key()
    height = written_at(path, key)
    flip_byte(path, key)
    app, store = _app(path)
    try:
        with pytest.raises(StoreCorrupted) as caught:
            app.check_tx(election.ballot(4, CHOICE))
    finally:
        store.close()  # type: ignore[attr-defined]
    assert caught.value.height == height
    assert f"election record (election '{ELECTION}')" in caught.value.why


def test_a_voters_district_is_named_when_that_voter_casts(opened: tuple[Path, Election]) -> None:
    """Row 3: before, the block's app hash differed from the other validators' (invalid proposal,
    a crash loop). Now executing the block names the record."""
    path, election = opened
    key = roll_key(5)
    height = written_at(path, key)
    flip_byte(path, key, at=-1)
    app, store = _app(path)
    try:
        tip = store.tip  # type: ignore[attr-defined]
        with pytest.raises(StoreCorrupted) as caught:
            app.execute_block(BlockContext(tip.height + 1, tip.time_ms + 1000), [election.ballot(5, CHOICE)])
    finally:
        store.close()  # type: ignore[attr-defined]
    assert caught.value.height == height
    assert f"roll entry (election '{ELECTION}', voter {voter_key(5)[:8].hex()}…)" in caught.value.why


def test_a_records_height_flipped_is_named(opened: tuple[Path, Election]) -> None:
    path, _ = opened
    key = roll_key(2)
    flip_byte(path, key, at=7)  # the low byte of the height it names
    with pytest.raises(StoreCorrupted, match=r"roll entry \(election 'e1'"):
        _read_all(path)


def test_a_journal_entry_flipped_is_named(opened: tuple[Path, Election]) -> None:
    path, _ = opened
    key = roll_key(1)
    height = written_at(path, key)
    flip_byte(path, journal_key(height, key), at=-1)
    with pytest.raises(StoreCorrupted) as caught:
        _read_all(path)
    assert caught.value.height == height
    assert caught.value.why == (
        "the journal of this height does not hash into its app hash (its entry differs from the"
        f" live record: roll entry (election '{ELECTION}', voter {voter_key(1)[:8].hex()}…))"
    )


def test_another_entry_of_the_same_journal_flipped_fails_the_heights_app_hash(
    opened: tuple[Path, Election],
) -> None:
    """A record that matches its entry is still refused when the rest of its height's journal no
    longer hashes into that height's app hash: the record is only as good as its journal."""
    path, _ = opened
    key = roll_key(1)
    height = written_at(path, key)
    import plyvel

    db = plyvel.DB(str(path))
    try:
        # a journal entry of that height with no live record (the roll list, the election record …)
        others = [k for k, _ in db.iterator(prefix=journal_prefix(height)) if k != journal_key(height, key)]
    finally:
        db.close()
    assert others
    flip_byte(path, others[0], at=-1)
    app, store = _app(path)
    try:
        with pytest.raises(StoreCorrupted) as caught:
            app.roll_group(ELECTION, voter_key(1))
    finally:
        store.close()  # type: ignore[attr-defined]
    assert caught.value.height == height
    assert caught.value.why == "the journal of this height does not hash into its app hash"


def test_an_app_hash_record_flipped_is_named(opened: tuple[Path, Election]) -> None:
    path, _ = opened
    key = roll_key(0)
    height = written_at(path, key)
    flip_byte(path, b"h/" + height.to_bytes(8, "big"))
    with pytest.raises(StoreCorrupted) as caught:
        _read_all(path)
    assert caught.value.height == height


VOTESTORE = Path(sys.executable).parent / "votestore"


def test_the_offline_check_names_every_damaged_record_in_every_keyspace(
    closed: tuple[Path, Election], tmp_path: Path
) -> None:
    """`votestore node check` on a stopped store with one flip in each keyspace names each,
    with its height — all of them, not the first."""
    path, _ = closed
    roll = roll_key(3)
    roll_height = written_at(path, roll)
    record = election_key()
    record_height = written_at(path, record)
    db = plyvel.DB(str(path))
    try:
        index_key, index_value = next(iter(db.iterator(prefix=b"t/")))
        index_height = int.from_bytes(index_value[:8], "big")
        db.put(b"k/last_signed", b"\xff\xfe damaged", sync=True)
        db.put(b"e/" + b"\x00" * 17, b"\xff\xfe damaged", sync=True)
        tip = int.from_bytes(db.get(b"k/height"), "big")
    finally:
        db.close()
    assert len({roll_height, record_height, index_height, tip}) >= 2
    flip_byte(path, roll, at=-1)
    flip_byte(path, record)
    flip_byte(path, index_key, at=11)  # the position in the block
    flip_byte(path, b"b/" + (2).to_bytes(8, "big"))
    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(GENESIS.to_json())

    done = subprocess.run(
        [str(VOTESTORE), "node", "check", str(path), "--genesis", str(genesis_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    voter = voter_key(3)[:8].hex()

    def named(prefix: str, *parts: str) -> bool:
        return any(line.startswith(prefix) and all(p in line for p in parts) for line in lines)

    assert named("damaged at height 2: chain: "), lines
    assert named(
        f"damaged at height {roll_height}: state: ", f"roll entry (election '{ELECTION}', voter {voter}…)"
    )
    assert named(f"damaged at height {record_height}: state: ", f"election record (election '{ELECTION}')")
    assert named(f"damaged at height {index_height}: index: "), lines
    assert named(f"damaged at height {tip}: last-signed: last-signed record does not decode"), lines
    assert named("damaged at height 0: evidence: pending evidence"), lines
    assert done.stderr.startswith(f"error: store damaged: {len(lines)} damaged record(s) in {tip} blocks"), (
        done.stderr
    )


def test_a_heights_journal_is_checked_once_however_many_records_it_wrote(
    opened: tuple[Path, Election], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-read cost does not grow with the state: reading every record again scans each
    height's journal once (the LRU of checked heights), the rest is one get and a comparison."""
    import node.ledger.state as state

    path, _ = opened
    scanned: list[int] = []
    real = state.journal_writes

    def counted(db: object, height: int) -> dict[bytes, bytes | None]:
        scanned.append(height)
        return real(db, height)

    monkeypatch.setattr(state, "journal_writes", counted)
    app, store = _app(path)
    try:
        for _ in range(3):
            for voter in range(VOTERS):
                app.roll_group(ELECTION, voter_key(voter))
                app.voted_tx(ELECTION, voter_key(voter))
    finally:
        store.close()  # type: ignore[attr-defined]
    assert scanned and len(scanned) == len(set(scanned)), scanned
