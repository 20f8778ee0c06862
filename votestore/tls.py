"""TLS identities bound to genesis keys: the one place that makes and checks validators' certificates.

Each validator's genesis Ed25519 key is the root of its own small CA: a certificate self-signed by
that key (its "CA certificate", public, the same every time it is made), which signs the
validator's TLS certificate (a P-256 key the node serves with — gRPC's TLS stack offers no Ed25519
handshake signatures, but it checks Ed25519 signatures in a certificate chain). Whoever holds the
genesis file can check a CA certificate: its key must be that validator's genesis key. A client
dialling validator i trusts only validator i's CA certificate and asks for the name
`server_name(i)`, so no other validator's key can answer for i.

What must hold: a CA certificate is accepted only if its public key is the genesis key of the
validator its name says and it verifies under that key; a node serves only a chain that leads to
its own genesis key. The TLS private key is written once with mode 0600 and never logged.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import grpc
import nacl.signing
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from votestore.errors import ConfigError
from votestore.genesis import Genesis

SERVER_NAME_SUFFIX: Final = ".validators.votestore"
CA_NOT_BEFORE: Final = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
CA_NOT_AFTER: Final = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
LEAF_VALIDITY: Final = datetime.timedelta(days=5 * 366)
LEAF_BACKDATE: Final = datetime.timedelta(hours=1)
"""A freshly issued certificate is already valid on a peer whose clock is a little behind."""
TLS_KEY_FILE_MODE: Final = 0o600


def server_name(index: int) -> str:
    """The DNS name validator `index`'s TLS certificate carries and its clients ask for."""
    return f"validator-{index}{SERVER_NAME_SUFFIX}"


def channel_options(index: int) -> list[tuple[str, str]]:
    """gRPC channel options that make a TLS channel ask for validator `index`'s name."""
    return [("grpc.ssl_target_name_override", server_name(index))]


@dataclass(frozen=True, slots=True)
class TlsIdentity:
    """What `issue` makes: the TLS key (secret), the chain a node serves, and its CA certificate."""

    key_pem: bytes
    chain_pem: bytes  # the TLS certificate, then the CA certificate
    ca_pem: bytes


def _ed25519(key: nacl.signing.SigningKey) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(key))


def _ca_name(chain_id: str, index: int) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"votestore {chain_id}"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"validator {index} genesis key"),
        ]
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def ca_certificate(key: nacl.signing.SigningKey, chain_id: str, index: int) -> x509.Certificate:
    """Validator `index`'s CA certificate, self-signed by its genesis key (deterministic: Ed25519
    signatures are, and every field is fixed)."""
    name = _ca_name(chain_id, index)
    serial = int.from_bytes(hashlib.sha256(bytes(key.verify_key)).digest()[:16], "big") >> 1
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(_ed25519(key).public_key())
        .serial_number(serial)
        .not_valid_before(CA_NOT_BEFORE)
        .not_valid_after(CA_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.NameConstraints(
                permitted_subtrees=[x509.DNSName(server_name(index))], excluded_subtrees=None
            ),
            critical=True,
        )
        .sign(_ed25519(key), None)
    )


def issue(key: nacl.signing.SigningKey, chain_id: str, index: int) -> TlsIdentity:
    """A fresh TLS key and certificate for validator `index`, signed by its genesis key."""
    tls_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    ca = ca_certificate(key, chain_id, index)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_name(index))]))
        .issuer_name(ca.subject)
        .public_key(tls_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - LEAF_BACKDATE)
        .not_valid_after(now + LEAF_VALIDITY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name(index))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(_ed25519(key), None)
    )
    key_pem = tls_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return TlsIdentity(key_pem=key_pem, chain_pem=_pem(leaf) + _pem(ca), ca_pem=_pem(ca))


def write_identity(identity: TlsIdentity, key_path: Path, chain_path: Path, ca_path: Path) -> None:
    """Write the three files; the key with mode 0600 and never over an existing file."""
    if key_path.exists():
        raise ConfigError(f"{key_path} exists; refusing to overwrite a TLS key")
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, TLS_KEY_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(identity.key_pem)
    chain_path.write_bytes(identity.chain_pem)
    ca_path.write_bytes(identity.ca_pem)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"TLS {what} {path} unreadable: {exc.strerror}") from None


def _certificates(data: bytes, path: Path) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ConfigError(f"{path}: not a PEM certificate file") from None
    return certificates


def _genesis_index(certificate: x509.Certificate, genesis: Genesis) -> int | None:
    """The validator whose genesis key signed `certificate` as its own CA, else None."""
    public = certificate.public_key()
    if not isinstance(public, ed25519.Ed25519PublicKey):
        return None
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    index = next((v.index for v in genesis.validators if v.public_key == raw), None)
    if index is None or certificate.subject != _ca_name(genesis.chain_id, index):
        return None
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return None
    return index


def load_validator_cas(path: Path, genesis: Genesis) -> dict[int, bytes]:
    """The bundle of every validator's CA certificate, each checked against genesis, by index."""
    found: dict[int, bytes] = {}
    for certificate in _certificates(_read(path, "validator CA bundle"), path):
        index = _genesis_index(certificate, genesis)
        if index is None:
            raise ConfigError(
                f"{path}: certificate {certificate.subject.rfc4514_string()!r} is not a genesis "
                f"validator's CA certificate for chain {genesis.chain_id!r}"
            )
        found[index] = _pem(certificate)
    missing = sorted(set(range(genesis.n)) - set(found))
    if missing:
        raise ConfigError(f"{path}: no CA certificate for validators {missing}")
    return found


def server_credentials(
    key_path: Path, chain_path: Path, genesis: Genesis, index: int
) -> grpc.ServerCredentials:
    """Credentials for validator `index`'s server; refuses a chain not signed by its genesis key."""
    chain_pem = _read(chain_path, "certificate")
    key_pem = _read(key_path, "key")
    chain = _certificates(chain_pem, chain_path)
    if len(chain) != 2 or _genesis_index(chain[1], genesis) != index:
        raise ConfigError(
            f"{chain_path}: must hold a TLS certificate then validator {index}'s CA certificate"
        )
    try:
        chain[0].verify_directly_issued_by(chain[1])
        tls_key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, InvalidSignature):
        raise ConfigError(f"{chain_path}: TLS certificate not signed by validator {index}'s key") from None
    if tls_key.public_key() != chain[0].public_key():
        raise ConfigError(f"{key_path} is not the key of the TLS certificate {chain_path}")
    return grpc.ssl_server_credentials([(key_pem, chain_pem)])


def channel_credentials(validator_cas: dict[int, bytes], index: int) -> grpc.ChannelCredentials:
    """Credentials that accept validator `index` and nobody else (with `channel_options(index)`)."""
    return grpc.ssl_channel_credentials(root_certificates=validator_cas[index])
