"""The node's Prometheus metrics, on a registry of its own (one node per process, but tests may
build several in one interpreter)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from votestore.version import register_build_info

COMMIT_LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
BLOCK_INTERVAL_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
IGNORED_REASONS = frozenset({"old_height", "duplicate"})
"""Drops a healthy network causes (a vote arriving after its height committed here, a message
heard from two peers): counted apart from invalid messages, so that counter means a fault."""


@dataclass
class NodeMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        register_build_info(r, "node")
        self.validators = Gauge("votestore_node_validators", "Validators in genesis (n).", registry=r)
        self.quorum = Gauge("votestore_node_quorum", "Precommits a commit needs (2f+1).", registry=r)
        self.chain = Gauge(
            "votestore_node_chain_info",
            "1, labelled with the chain this node runs.",
            ["chain_id", "genesis_hash"],
            registry=r,
        )
        self.block_interval = Histogram(
            "votestore_node_block_interval_seconds",
            "Block time of each committed block minus its parent's.",
            buckets=BLOCK_INTERVAL_BUCKETS_S,
            registry=r,
        )
        self.byzantine = Gauge(
            "votestore_node_byzantine_validators",
            "Validators this node holds double-vote evidence against since it started.",
            registry=r,
        )
        self.ignored_messages = Counter(
            "votestore_node_messages_ignored_total",
            "Late or repeated consensus messages a healthy network sends, dropped without harm, by reason.",
            ["reason"],
            registry=r,
        )
        self.height = Gauge("votestore_node_height", "Last committed height.", registry=r)
        self.store_checked = Gauge(
            "votestore_node_store_checked_height",
            "Height the store's recorded check reaches (a start checks only above it).",
            registry=r,
        )
        self.round = Gauge("votestore_node_round", "Current consensus round.", registry=r)
        self.step = Gauge(
            "votestore_node_step", "Current step: 0 propose, 1 prevote, 2 precommit.", registry=r
        )
        self.commit_latency = Histogram(
            "votestore_node_commit_latency_seconds",
            "Time from entering a height to committing it.",
            buckets=COMMIT_LATENCY_BUCKETS_S,
            registry=r,
        )
        self.txs_committed = Counter(
            "votestore_node_txs_committed_total",
            "Committed transactions by kind and result.",
            ["kind", "result"],
            registry=r,
        )
        self.mempool_txs = Gauge("votestore_node_mempool_txs", "Transactions in the mempool.", registry=r)
        self.mempool_bytes = Gauge("votestore_node_mempool_bytes", "Bytes in the mempool.", registry=r)
        self.peers = Gauge(
            "votestore_node_peers_connected", "Peers with a live authenticated stream.", registry=r
        )
        self.signing_state = Gauge(
            "votestore_node_signing_state",
            "0 signing; 1 waiting, 2 watching before signing; 3 refused: its key signs elsewhere.",
            registry=r,
        )
        self.invalid_messages = Counter(
            "votestore_node_invalid_messages_total",
            "Peer messages dropped, by reason.",
            ["reason"],
            registry=r,
        )
        self.handshakes_refused = Counter(
            "votestore_node_peer_handshakes_refused_total",
            "Peer streams refused at the handshake, by reason (replayed_hello: a Hello signed for "
            "another stream's challenge).",
            ["reason"],
            registry=r,
        )
        self.evidence = Counter(
            "votestore_node_evidence_total",
            "Double-vote evidence this node found or was sent, checked and kept for a block.",
            registry=r,
        )
        self.evidence_committed = Counter(
            "votestore_node_evidence_committed_total",
            "Double-vote evidence entries in blocks this node committed.",
            registry=r,
        )
        self.catching_up = Gauge(
            "votestore_node_catching_up",
            "1 while a peer claims a height this node should fetch blocks up to, else 0.",
            registry=r,
        )
        self.catchup_blocks = Counter(
            "votestore_node_catchup_blocks_total", "Blocks applied from peers' certified history.", registry=r
        )
        self.txs_pulled = Counter(
            "votestore_node_txs_pulled_total",
            "Announced client transactions this node had not seen and asked the announcer for.",
            registry=r,
        )
        self.tx_refused = Counter(
            "votestore_node_txs_refused_total",
            "Submitted transactions refused, by reason.",
            ["reason"],
            registry=r,
        )

    def serve(self, port: int, host: str) -> None:
        start_http_server(port, addr=host, registry=self.registry)
