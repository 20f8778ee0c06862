"""Who has voted, from the public ledger: reminders go only to those who have not.

A ballot that committed with result OK is the voted marker of its signer's credential key (the
state machine keeps the marker under exactly that key, election/voting.py); any observer can read
it from the blocks, so this needs no secret and no trust in the notices operator's own records.
"""

from __future__ import annotations

from typing import Final

from proto.votestore.v1 import election_pb2
from votestore.client.node import NodeClient
from votestore.encoding import DecodedTx
from votestore.errors import DecodeError, VotestoreError

MAX_SCAN_CALLS: Final = 100_000


def voted_keys(client: NodeClient, election_id: str) -> frozenset[bytes]:
    """Credential keys with a committed, accepted ballot in `election_id`, up to the node's height."""
    height = client.status().height
    voted: set[bytes] = set()
    at = 1
    for _ in range(MAX_SCAN_CALLS):
        if at > height:
            return frozenset(voted)
        before = at
        for committed in client.blocks(at, height):
            for raw, result in zip(committed.block.txs, committed.results, strict=False):
                if result.code != election_pb2.OK:
                    continue
                try:
                    decoded = DecodedTx.of(raw)
                except DecodeError:
                    continue  # a committed tx always decodes; a node that serves junk is not our voter list
                if decoded.kind == "ballot" and decoded.election_id == election_id:
                    voted.add(bytes(decoded.envelope.signer))
            at = committed.block.header.height + 1
        if at == before:
            raise VotestoreError(f"node served no block at height {at} (status said {height})")
    raise VotestoreError("ledger scan did not finish")
