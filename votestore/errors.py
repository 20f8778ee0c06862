"""The error hierarchy: raised inside with the facts a person needs, mapped to a status or one
CLI line at the edges only."""

from __future__ import annotations


class VotestoreError(Exception):
    """Base of every error votestore raises on purpose."""


class ConfigError(VotestoreError):
    """A config, key or genesis file is missing, unreadable or inconsistent."""


class MissingLibrary(VotestoreError):
    """A system library votestore loads at run time (libdecaf) is not installed."""


class DecodeError(VotestoreError):
    """Bytes that do not decode to the record they claim to be (bad protobuf, bad point, bad size)."""


class SignatureError(VotestoreError):
    """A signature that does not verify for the claimed signer, chain and kind."""


class StoreCorrupted(VotestoreError):
    """The node's stored chain fails a check; names the height so an operator can act."""

    def __init__(self, height: int, why: str) -> None:
        super().__init__(f"store corrupted at height {height}: {why}")
        self.height = height
        self.why = why


class Rejected(VotestoreError):
    """A transaction refused by the election state machine, with its reason code."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
