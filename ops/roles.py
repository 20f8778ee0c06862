"""The two election roles besides the administrator and the trustees, for elections one process
plays whole (chaos runs, benchmarks, cluster tests): the credential authority and the identity
provider, each with its own key, neither the administrator's. The demo instead runs every party
as processes of its own, in the directories named here (ops/demo/parties.py).

A real deployment makes these keys where each party works (`votestore keys gen --role ...`) and
hands over only the public keys, which the election definition names (docs/roles.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import nacl.signing

from proto.votestore.v1 import election_pb2
from votestore.crypto.attestation import Attester, local_attester
from votestore.keys import new_signing_key, write_key_file

AUTHORITY_DIR: Final = "credential-authority"
PROVIDER_DIR: Final = "identity-provider"
KEY_FILE: Final = "key.json"


@dataclass(frozen=True, slots=True)
class ElectionRoles:
    authority: nacl.signing.SigningKey
    """Signs the roll; draws the voters' credentials."""
    provider: nacl.signing.SigningKey
    """Attests a ballot for a voter who passed the identity check."""

    @classmethod
    def fresh(cls) -> ElectionRoles:
        """Fresh keys, in memory only (a run whose roles no one inspects: chaos, benchmarks)."""
        return cls(new_signing_key(), new_signing_key())

    @classmethod
    def create(cls, workdir: Path) -> ElectionRoles:
        """Fresh keys, written to `workdir/credential-authority/key.json` and
        `workdir/identity-provider/key.json` (mode 0600, directories 0700)."""
        roles = cls.fresh()
        for directory, key, role in (
            (AUTHORITY_DIR, roles.authority, "credential-authority"),
            (PROVIDER_DIR, roles.provider, "identity-provider"),
        ):
            (workdir / directory).mkdir(mode=0o700, parents=True, exist_ok=True)
            write_key_file(workdir / directory / KEY_FILE, key, overwrite=True, role=role)
        return roles

    def name_in(self, definition: election_pb2.ElectionCreate) -> election_pb2.ElectionCreate:
        """`definition` naming these two keys (changed in place, and returned)."""
        definition.credential_authority = bytes(self.authority.verify_key)
        definition.identity_provider = bytes(self.provider.verify_key)
        return definition

    def attester(self, chain_id: str, election_id: str) -> Attester:
        """The identity provider attesting every ask, for load generators whose voters are all
        taken to have passed the identity check (the check itself is the gateway's, tested there)."""
        return local_attester(self.provider, chain_id, election_id)

    @staticmethod
    def provider_key_file(workdir: Path) -> Path:
        return workdir / PROVIDER_DIR / KEY_FILE
