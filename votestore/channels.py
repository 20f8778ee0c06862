"""How every client reaches a validator: TLS to that validator's genesis-bound certificate, or
plaintext on loopback when the config says so explicitly (tests, the demo).

Nodes (peer links, catch-up), the gateway and the verifier all dial through `ValidatorDialer`, so
the rule "who may answer for validator i" lives here and in `votestore.tls` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from votestore.errors import ConfigError
from votestore.genesis import Genesis
from votestore.netaddr import is_local_only

Option = tuple[str, str | int]


@dataclass(frozen=True, slots=True)
class ValidatorDialer:
    """`validator_cas` None: plaintext, allowed only to loopback addresses (checked by `for_config`)."""

    validator_cas: dict[int, bytes] | None

    @classmethod
    def with_tls(cls, genesis: Genesis, validator_cas: Path) -> ValidatorDialer:
        """Trust, for each validator, only its CA certificate from the bundle (checked against genesis)."""
        from votestore import tls  # here: a command that dials no TLS (or none) starts without x509

        return cls(tls.load_validator_cas(validator_cas, genesis))

    @classmethod
    def plaintext_to(cls, addresses: Iterable[str], where: str) -> ValidatorDialer:
        """Plaintext, which a config must ask for explicitly; refused unless every address is loopback."""
        remote = [a for a in addresses if not is_local_only(a)]
        if remote:
            raise ConfigError(
                f"{where}: insecure_plaintext is for loopback (or 198.18.0.0/15, a test network) only; "
                f"{remote[0]} is not"
            )
        return cls(None)

    def locate(self, genesis: Genesis, node: str) -> tuple[int, str]:
        """(validator index, address) of a node given as "HOST:PORT" (a genesis validator's
        address) or "INDEX=HOST:PORT". Over TLS the index must be known: the channel accepts only
        that validator's certificate. In plaintext an unknown address gets index 0 (unused)."""
        index_text, _, address = node.rpartition("=")
        if index_text:
            if not index_text.isdigit() or int(index_text) >= genesis.n:
                raise ConfigError(f"node {node}: {index_text!r} is not a validator index of genesis")
            return int(index_text), address
        index = next((v.index for v in genesis.validators if address in (v.public_address, v.address)), None)
        if index is None and not self.plaintext:
            raise ConfigError(f"node {node}: not a genesis address; over TLS name it as INDEX=HOST:PORT")
        return index or 0, address

    @property
    def plaintext(self) -> bool:
        return self.validator_cas is None

    def aio(self, index: int, address: str, options: Sequence[Option] = ()) -> grpc.aio.Channel:
        if self.validator_cas is None:
            return grpc.aio.insecure_channel(address, options=list(options))
        from votestore import tls

        credentials = tls.channel_credentials(self.validator_cas, index)
        return grpc.aio.secure_channel(address, credentials, options=[*options, *tls.channel_options(index)])

    def sync(self, index: int, address: str, options: Sequence[Option] = ()) -> grpc.Channel:
        if self.validator_cas is None:
            return grpc.insecure_channel(address, options=list(options))
        from votestore import tls

        credentials = tls.channel_credentials(self.validator_cas, index)
        return grpc.secure_channel(address, credentials, options=[*options, *tls.channel_options(index)])
