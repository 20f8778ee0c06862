"""Key files that name their role: a command needing one role's key refuses another's."""

from __future__ import annotations

from pathlib import Path

import pytest

from votestore.errors import ConfigError
from votestore.keys import PLAINTEXT_QUIETLY, new_signing_key, read_key_file, write_key_file


def test_a_key_file_of_another_role_is_refused(tmp_path: Path) -> None:
    admin = tmp_path / "admin.json"
    key = new_signing_key()
    write_key_file(admin, key, role="admin")
    assert read_key_file(admin, unlock=PLAINTEXT_QUIETLY) == key
    assert read_key_file(admin, role="admin", unlock=PLAINTEXT_QUIETLY) == key
    with pytest.raises(ConfigError, match="is a admin key, not a credential-authority key"):
        read_key_file(admin, role="credential-authority", unlock=PLAINTEXT_QUIETLY)


def test_a_key_file_without_a_role_is_read_for_any(tmp_path: Path) -> None:
    """Files from before roles (genesis admin keys, validators) keep working; the ledger is the
    judge of who may sign what."""
    plain = tmp_path / "plain.json"
    key = new_signing_key()
    write_key_file(plain, key)
    assert read_key_file(plain, role="identity-provider", unlock=PLAINTEXT_QUIETLY) == key
