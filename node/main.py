"""One validator process: load config, check the store, wire the parts, serve until SIGTERM.

Two gRPC servers: the public Node API on `listen`, the Peer service and catch-up's block fetch on
`peer_listen` (gRPC Python cannot limit services per port of one server)."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from election.app import ElectionApp
from election.app_hash import genesis_app_hash
from election.policy import ChainPolicy
from node.backup_on_request import BACKUP_SIGNAL, BackupOnRequest
from node.catchup import catch_up_forever
from node.clock import AsyncioClock
from node.config import NodeConfig, load_node_config
from node.core_setup import consensus_for
from node.ledger import damage as marker
from node.ledger.check_ahead import keep_checking
from node.ledger.store import Store
from node.ledger.walk import Finding, walk
from node.metrics import NodeMetrics
from node.proposer import BlockValidity
from node.rpc.peer import PeerService
from node.rpc.peer_link import PeerLink
from node.rpc.peer_options import SERVER_OPTIONS
from node.rpc.public import NodeService
from node.shell import NodeShell
from node.signing import LocalSigner, Signer
from node.verify_pool import VerifyPool
from node.wire import decode_last_signed
from proto.votestore.v1 import node_pb2, peer_pb2
from votestore import logs, tls
from votestore import version as build
from votestore.channels import ValidatorDialer
from votestore.errors import ConfigError, StoreCorrupted
from votestore.genesis import Genesis, load_genesis
from votestore.grpc_service import add_service
from votestore.keys import read_key_file
from votestore.netaddr import host_of
from votestore.serving import NO_PORT_SHARING, bind, health_only

log = logging.getLogger("votestore.node")

SHUTDOWN_GRACE_S = 1.0
MAX_CONCURRENT_RPCS = 512
"""Calls and streams each server (public, peer) serves at once; more are refused with
RESOURCE_EXHAUSTED rather than let memory grow. Apart, a flood of public calls cannot take the
slots the peers' n-1 streams and catch-up need."""
PEER_NODE_METHODS: Final = frozenset({"GetBlocks"})
"""What the peer port serves of the Node service: catch-up's block fetch (node/catchup.py). The
rest of the Node API (Submit*, the other reads, WatchCommits) answers UNIMPLEMENTED there, and
the public port serves no Peer service: a NetworkPolicy opening one port opens one role."""


def _server() -> grpc.aio.Server:
    return grpc.aio.server(
        options=[*SERVER_OPTIONS, NO_PORT_SHARING], maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS
    )


def setup_logging(level: str) -> None:
    logs.setup("node", level)


def _validator_index(genesis: Genesis, signer: Signer, key_file: Path) -> int:
    for validator in genesis.validators:
        if validator.public_key == signer.public_key:
            return validator.index
    raise ConfigError(f"key file {key_file} is not one of the genesis validators")


def _signer(config: NodeConfig, config_path: Path) -> Signer:
    """The one place the node's signer is chosen: a remote signer is built here instead."""
    return LocalSigner(read_key_file(config.key_file, unlock=config.unlock(config_path)))


def open_store(config: NodeConfig, genesis: Genesis) -> tuple[Store, ElectionApp]:
    """Open the store and run its start-up check (a cost that does not grow with the chain,
    Store.check_start); refuse a damaged store, naming the height. A store marked damaged
    (node.ledger.damage) is refused at once, unread; damage found here marks it."""
    found = marker.marked(config.data_dir)
    if found is not None:
        raise marker.refused(config.data_dir, found)
    try:
        store = Store(config.data_dir, genesis, genesis_app_hash(genesis.chain_id))
    except StoreCorrupted as exc:
        raise _stop_damaged(config.data_dir, exc, "at start") from None
    try:
        checked = store.check_start()
        log.info(
            "event=store_check full=%s above_record=%d spot_checks=%d",
            checked.full,
            len(checked.above),
            len(checked.spots),
        )
        app = _app_at_tip(store, genesis)
    except StoreCorrupted as exc:
        store.close()
        raise _stop_damaged(config.data_dir, exc, "at start") from None
    except BaseException:
        store.close()
        raise
    return store, app


def _stop_damaged(data_dir: Path, exc: StoreCorrupted, found: str) -> StoreCorrupted:
    """Mark the store damaged (the next start refuses at once) and say what to do."""
    marker.mark(data_dir, exc, found)
    return marker.refused(data_dir, StoreCorrupted(exc.height, f"{exc.why} (found {found})"))


def _transport(
    config: NodeConfig, genesis: Genesis, index: int, addresses: dict[int, str]
) -> tuple[grpc.ServerCredentials | None, ValidatorDialer]:
    """TLS bound to the genesis keys both ways, or plaintext where the config asked for it (loopback)."""
    if config.tls is None:
        return None, ValidatorDialer.plaintext_to(addresses.values(), "insecure_plaintext")
    credentials = tls.server_credentials(config.tls.key, config.tls.cert, genesis, index)
    return credentials, ValidatorDialer.with_tls(genesis, config.tls.validator_cas)


def check_store(data_dir: Path, genesis: Genesis, *, clear_damage: bool = False) -> StoreReport:
    """The offline walk of a stopped node's whole store (`votestore node check`,
    node.ledger.walk): every damaged record in every keyspace, with its height. A clean store
    is recorded as checked (the next start checks only what is above), and with `clear_damage`
    its damage mark is removed — never otherwise. Refuses a store a running node holds
    (LevelDB's lock) and a data dir with no store in it, rather than create one."""
    if not (data_dir / "CURRENT").is_file():
        raise ConfigError(f"no store in {data_dir}")
    store = Store(data_dir, genesis, genesis_app_hash(genesis.chain_id))
    try:
        findings = walk(store)
        if not findings:
            store.record_checked()
    finally:
        store.close()
    cleared = clear_damage and not findings and marker.clear(data_dir)
    return StoreReport(store.height, findings, marker.marked(data_dir), cleared)


def require_clean_store(data_dir: Path, genesis: Genesis) -> int:
    """check_store for a caller that needs a sound store (`node backup`, `node restore`): the
    blocks checked, or StoreCorrupted naming the first damaged record (and how many more)."""
    report = check_store(data_dir, genesis)
    if report.findings:
        first, rest = report.findings[0], len(report.findings) - 1
        more = f" (and {rest} more damaged record(s): votestore node check)" if rest else ""
        raise StoreCorrupted(first.height, f"{first.keyspace}: {first.what}{more}")
    return report.blocks


@dataclass(frozen=True, slots=True)
class StoreReport:
    """What `check_store` found: the blocks walked, each damaged record, the damage mark left
    (None if none or cleared) and whether this check cleared one."""

    blocks: int
    findings: list[Finding]
    marked: StoreCorrupted | None
    cleared: bool


def _app_at_tip(store: Store, genesis: Genesis) -> ElectionApp:
    app = ElectionApp(ChainPolicy.from_genesis(genesis), store.app_reader())
    if app.height != store.height:
        raise StoreCorrupted(store.height, f"application state is at height {app.height}")
    return app


def run_node(config_path: Path) -> None:
    config = load_node_config(config_path)
    setup_logging(config.log_level)
    log.info("event=start component=node %s", build.log_fields())
    genesis = load_genesis(config.genesis)
    signer = _signer(config, config_path)
    index = _validator_index(genesis, signer, config.key_file)
    store, app = open_store(config, genesis)
    log.info("event=store_ok height=%d validator=%d chain=%s", store.height, index, genesis.chain_id)
    try:
        asyncio.run(_serve(config, genesis, index, signer, store, app))
    except _Damaged as damaged:
        raise _stop_damaged(config.data_dir, damaged.exc, damaged.found) from None
    except StoreCorrupted as exc:  # read while wiring the parts (the last-signed record, say)
        raise _stop_damaged(config.data_dir, exc, "at start") from None
    finally:
        store.close()


class _Damaged(Exception):
    """A running node found its store damaged: stop, marking it (run_node)."""

    def __init__(self, exc: StoreCorrupted, found: str) -> None:
        super().__init__(str(exc))
        self.exc = exc
        self.found = found


async def _serve(
    config: NodeConfig,
    genesis: Genesis,
    index: int,
    signer: Signer,
    store: Store,
    app: ElectionApp,
) -> None:
    addresses = {v.index: config.peers.get(v.index, v.address) for v in genesis.validators}
    credentials, dialer = _transport(config, genesis, index, addresses)
    metrics = NodeMetrics()
    pool = await VerifyPool.start(genesis.chain_id, config.workers) if config.workers > 0 else None
    raw_signed = store.last_signed()
    last_signed = None if raw_signed is None else decode_last_signed(raw_signed, store.height)

    clock = AsyncioClock()
    validity = BlockValidity(
        genesis=genesis, store=store, block_max_bytes=config.block_max_bytes, clock=clock
    )
    shell = NodeShell(
        genesis=genesis,
        index=index,
        config=config,
        store=store,
        app=app,
        validity=validity,
        consensus=consensus_for(genesis, index, signer, store, validity, last_signed),
        metrics=metrics,
        pool=pool,
        clock=clock,
    )
    public_server, peer_server = _server(), _server()
    stop = asyncio.Event()
    damage: list[_Damaged] = []

    def damaged(exc: StoreCorrupted, found: str = "while serving") -> None:
        """A read found a damaged record: stop rather than serve from this store (once)."""
        if not damage:
            log.error("event=store_corrupted height=%d why=%s", exc.height, exc.why)
        damage.append(_Damaged(exc, found))
        stop.set()

    peer_service = PeerService(shell)
    add_service(peer_server, peer_service, peer_pb2.DESCRIPTOR.services_by_name["Peer"], damaged)
    node_service, node_api = NodeService(shell), node_pb2.DESCRIPTOR.services_by_name["Node"]
    add_service(public_server, node_service, node_api, damaged)
    add_service(peer_server, node_service, node_api, damaged, only=PEER_NODE_METHODS)
    health_servicer = health.aio.HealthServicer()
    for server in (public_server, peer_server):
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    bind(public_server, config.listen, credentials)
    bind(peer_server, config.peer_address, credentials)
    health_server = health_only(config.listen, config.health_port, health_servicer)
    await public_server.start()
    await peer_server.start()
    if health_server is not None:
        await health_server.start()
    if config.metrics_port:
        try:
            metrics.serve(config.metrics_port, host_of(config.listen))
        except OSError as exc:
            await asyncio.gather(public_server.stop(0), peer_server.stop(0))
            raise ConfigError(f"cannot serve metrics on port {config.metrics_port}: {exc}") from None
    metrics.height.set(store.height)
    metrics.validators.set(genesis.n)
    metrics.quorum.set(genesis.quorum)
    metrics.chain.labels(chain_id=genesis.chain_id, genesis_hash=genesis.hash().hex()[:16]).set(1)
    for peer, address in addresses.items():
        if peer != index:
            shell.spawn(PeerLink(shell, signer, peer, address, dialer).run())
    shell.spawn(catch_up_forever(shell, addresses, dialer))
    shell.start_watchdog()
    shell.spawn(
        keep_checking(
            store,
            report=metrics.store_checked.set,
            on_damage=lambda exc: damaged(exc, "checking the chain behind the tip"),
        )
    )
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    log.info(
        "event=serving listen=%s peer_listen=%s validator=%d height=%d",
        config.listen,
        config.peer_address,
        index,
        store.height,
    )

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Always handled: SIGUSR1's default action would end the node.
    backups = BackupOnRequest(store, genesis, config.backup_dir)
    loop.add_signal_handler(BACKUP_SIGNAL, backups.request)
    consensus_task = asyncio.ensure_future(shell.run())
    stop_task = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({consensus_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    log.info("event=stopping height=%d", store.height)
    await health_servicer.enter_graceful_shutdown()
    shell.stop()
    consensus_task.cancel()
    loop.remove_signal_handler(BACKUP_SIGNAL)
    await backups.finished()  # its snapshot must not outlive the store
    peer_service.close_streams()
    await asyncio.gather(public_server.stop(SHUTDOWN_GRACE_S), peer_server.stop(SHUTDOWN_GRACE_S))
    if health_server is not None:
        await health_server.stop(0)
    if pool is not None:
        await pool.close()
    if consensus_task in done and not consensus_task.cancelled():
        try:
            consensus_task.result()  # re-raise what stopped consensus
        except StoreCorrupted as exc:
            log.error("event=store_corrupted height=%d why=%s", exc.height, exc.why)
            raise _Damaged(exc, "executing a block") from None
    if damage:
        raise damage[0]
