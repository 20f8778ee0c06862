"""The roll CSV reader and the write-once credential outbox, without a cluster."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import pytest

from ops.cli.roll import Voter, issue_credentials, read_roll_csv, write_outbox
from votestore.crypto.credential import derive_credential_key
from votestore.errors import ConfigError

GROUPS = ["north", "south"]


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roll.csv"
    path.write_text(text)
    return path


def test_reads_voters_in_order(tmp_path: Path) -> None:
    path = _csv(tmp_path, "group,voter_id,second_factor\nnorth,a1, 1980-01-02 \nsouth,b2,1990-03-04\n")
    assert read_roll_csv(path, GROUPS, True) == [
        Voter("a1", "north", "1980-01-02"),
        Voter("b2", "south", "1990-03-04"),
    ]


@pytest.mark.parametrize(
    ("text", "groups", "need_factor", "reason"),
    [
        ("voter_id\nv1\n", GROUPS, False, r"lacks column\(s\) group"),
        ("voter_id,group\nv1,north\n", GROUPS, True, "second_factor"),
        ("voter_id,group\nv1,north\nv1,south\n", GROUPS, False, "appears twice"),
        ("voter_id,group\n../x,north\n", GROUPS, False, "must match"),
        ("voter_id,group\n.hidden,north\n", GROUPS, False, "must match"),
        ("voter_id,group\nv1,west\n", GROUPS, False, "'west' is not declared"),
        ("voter_id,group\nv1,north\n", [], False, "'north' is not declared"),
        ("voter_id,group,second_factor\nv1,north,\n", GROUPS, True, "empty second_factor"),
        ("voter_id,group\n", GROUPS, False, "no voters"),
    ],
)
def test_refusals(tmp_path: Path, text: str, groups: list[str], need_factor: bool, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        read_roll_csv(_csv(tmp_path, text), groups, need_factor)


def test_outbox_is_private_complete_and_written_once(tmp_path: Path) -> None:
    voters = [Voter(f"v{n}", GROUPS[n % 2], "") for n in range(5)]
    issued = issue_credentials(voters, "e1")
    outbox = tmp_path / "outbox"
    write_outbox(outbox, "e1", issued, first_batch=3, batch=2)
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    with (outbox / "roll.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["batch"] for r in rows] == ["3", "3", "4", "4", "5"]
    for row, one in zip(rows, issued, strict=True):
        secret = bytes.fromhex((outbox / "voters" / f"{row['voter_id']}.credential").read_text())
        assert stat.S_IMODE((outbox / "voters" / f"{row['voter_id']}.credential").stat().st_mode) == 0o600
        assert row["credential_key"] == bytes(derive_credential_key(secret, "e1").verify_key).hex()
        assert row["credential_key"] == one.public_key.hex()
        # The secret only after the `#`: never in what a server or its log sees (issue 22).
        assert secret.hex() not in row["link"].split("#", 1)[0]
        assert row["link"] == f"votestore://cast#c={secret.hex()}&e=e1"
    assert len({one.secret for one in issued}) == len(voters)
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        write_outbox(outbox, "e1", issued, first_batch=0, batch=2)
