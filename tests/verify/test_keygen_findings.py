"""Issue 18: a ledger in which a colluding quorum accepted a deal without a valid proof of knowledge
(the rogue-key attack) or an open before the complaint window ended: the verifier replays the same
rules and names each as a `key_generation` finding, without crashing."""

from __future__ import annotations

from pathlib import Path

import nacl.signing

from proto.votestore.v1 import election_pb2
from tests.verify import kit
from tests.verify.test_detection import only, run
from tools.verify.findings import Check
from votestore import txbuild
from votestore.crypto import group
from votestore.encoding import tx_hash

NODES = ("node0", "node1", "node2", "node3")


def _rogue_deal(election: kit.Election, honest_sum: bytes) -> bytes:
    """Trustee 3's deal with A30 = g^x - (A10 + A20): its proof for A30 cannot hold."""
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(election.deal(3)).body)
    tx.dkg_deal.commitments[0] = group.sub(group.base_mult(0x5EC2E7), honest_sum)
    secrets, _ = election.trustees[2]
    return txbuild.signed(kit.CHAIN_ID, nacl.signing.SigningKey(secrets.sign_seed), tx)


def test_rogue_deal_recorded_as_accepted_is_named(tmp_path: Path) -> None:
    election = kit.Election.created()
    chain = election.chain
    assert kit.ok(chain.block([election.deal(1), election.deal(2)]))
    deals = [chain.app.deal(kit.ELECTION, d) for d in (1, 2)]
    honest_sum = group.add(*(d.commitments[0] for d in deals if d is not None))
    rogue = _rogue_deal(election, honest_sum)
    assert chain.block([rogue], verified={tx_hash(rogue)})[0].code == election_pb2.OK  # verified-set abuse
    report = run(kit.export(tmp_path, chain))
    (finding,) = only(report, Check.KEY_GENERATION)
    assert (finding.height, finding.nodes) == (3, NODES)
    assert finding.record == f"tx {tx_hash(rogue).hex()[:16]} (dkg_deal) at index 0"
    assert "stored OK, replay gives BAD_PROOF" in finding.detail and "proof of knowledge" in finding.detail


def test_open_before_the_complaint_window_ends_is_named(tmp_path: Path) -> None:
    election = kit.Election.created()
    chain = election.chain
    assert kit.ok(chain.block([election.deal(i) for i in (1, 2, 3)]))
    early = txbuild.open_election(kit.CHAIN_ID, kit.ADMIN, kit.ELECTION)
    assert chain.block([early])[0].code == election_pb2.KEYGEN_PENDING
    blocks = [kit.copy(b) for b in chain.blocks]
    blocks[2].results[0].code = election_pb2.OK  # what a colluding quorum certified
    blocks[2].results[0].detail = ""
    report = run(kit.export(tmp_path, chain, blocks=kit.recertify(blocks, 3)))
    (finding,) = only(report, Check.KEY_GENERATION)
    assert (finding.height, finding.nodes) == (3, NODES)
    assert finding.record == f"tx {tx_hash(early).hex()[:16]} (election_open) at index 0"
    assert "stored OK, replay gives KEYGEN_PENDING" in finding.detail


def test_deal_without_proofs_recorded_as_accepted_is_named(tmp_path: Path) -> None:
    election = kit.Election.created()
    chain = election.chain
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(election.deal(1)).body)
    del tx.dkg_deal.commitment_proofs[:]
    secrets, _ = election.trustees[0]
    bare = txbuild.signed(kit.CHAIN_ID, nacl.signing.SigningKey(secrets.sign_seed), tx)
    assert chain.block([bare], verified={tx_hash(bare)})[0].code == election_pb2.OK  # verified-set abuse
    report = run(kit.export(tmp_path, chain))
    (finding,) = only(report, Check.KEY_GENERATION)
    assert (finding.height, finding.nodes) == (2, NODES)
    assert "stored OK, replay gives MALFORMED" in finding.detail and "commitment proofs" in finding.detail
