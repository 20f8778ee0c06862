"""The key-file settings every process config shares (node.toml, gateway.toml,
identity-provider.toml): where a sealed key file's passphrase comes from, or that an unsealed one
is allowed, with their rules and how they open the key (votestore.keys.KeyUnlock).

Apart from votestore.keys so that a command that only reads key files does not import the typed
config reader (pydantic) with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from votestore.config_file import Flag, NonEmptyStr, RelativePath, table
from votestore.errors import ConfigError
from votestore.keys import KeyUnlock, passphrase_from
from votestore.netaddr import is_local_only


@table
@dataclass(frozen=True, slots=True, kw_only=True)
class SealedKey:
    """A config's key-file settings (node.toml, gateway.toml, identity-provider.toml: the same
    three keys): where a sealed key file's passphrase comes from, or that an unsealed one is
    allowed. A process config extends it, so the keys, their rules and how they open a key are
    written once."""

    key_passphrase_file: RelativePath | None = None
    """The file holding the sealed key file's passphrase (a mounted Secret); one trailing newline dropped."""
    key_passphrase_env: NonEmptyStr | None = None
    """Or: the environment variable holding it. Exactly one of the two for a sealed key file."""
    insecure_plaintext_key: Flag = False
    """Allow an unsealed key file (tests, the demo): loopback listeners only, a warning at start."""

    def check_key_settings(self, where: str | Path, listeners: Mapping[str, str | None]) -> None:
        """One passphrase source at most; an unsealed key only where nothing but this machine
        listens (`listeners`: setting name to address, None for one not set). ConfigError naming
        `where` (the config file) otherwise."""
        if self.key_passphrase_file is not None and self.key_passphrase_env is not None:
            raise ConfigError(f"{where}: key_passphrase_file and key_passphrase_env exclude each other")
        if self.insecure_plaintext_key:
            for name, address in listeners.items():
                if address is not None and not is_local_only(address):
                    raise ConfigError(
                        f"{where}: insecure_plaintext_key is for tests and demos on loopback only; "
                        f"{name} = {address!r} is not"
                    )

    def unlock(self, where: str | Path) -> KeyUnlock:
        """How the process opens its key file; `where` names the config to fix when the
        passphrase is missing."""
        return KeyUnlock(
            passphrase=passphrase_from(self.key_passphrase_file, self.key_passphrase_env),
            plaintext_ok=self.insecure_plaintext_key,
            where=f"set key_passphrase_file or key_passphrase_env in {where}",
        )
