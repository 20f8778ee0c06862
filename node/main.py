"""One validator process: load config, check the store, wire the parts, serve until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import grpc
import nacl.signing
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from election.app import ElectionApp
from election.app_hash import genesis_app_hash
from election.policy import ChainPolicy
from node.catchup import catch_up_forever
from node.clock import AsyncioClock
from node.config import NodeConfig, load_node_config
from node.core_setup import consensus_for
from node.ledger.check_ahead import keep_checking
from node.ledger.store import Store
from node.metrics import NodeMetrics
from node.proposer import BlockValidity
from node.rpc.peer import SERVER_OPTIONS, PeerLink, PeerService
from node.rpc.public import NodeService
from node.shell import NodeShell
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
"""Calls and streams served at once (peers hold n-1; gateways and verifiers a few each); more are
refused with RESOURCE_EXHAUSTED rather than let memory grow."""


def setup_logging(level: str) -> None:
    logs.setup("node", level)


def _validator_index(genesis: Genesis, key: nacl.signing.SigningKey, key_file: Path) -> int:
    public = bytes(key.verify_key)
    for validator in genesis.validators:
        if validator.public_key == public:
            return validator.index
    raise ConfigError(f"key file {key_file} is not one of the genesis validators")


def open_store(config: NodeConfig, genesis: Genesis) -> tuple[Store, ElectionApp]:
    """Open the store and run its start-up check (a cost that does not grow with the chain,
    Store.check_start); refuse a damaged store, naming the height."""
    store = Store(config.data_dir, genesis, genesis_app_hash(genesis.chain_id))
    try:
        checked = store.check_start()
        log.info(
            "event=store_check full=%s above_record=%d spot_checks=%d",
            checked.full,
            len(checked.above),
            len(checked.spots),
        )
        app = _app_at_tip(store, genesis)
    except BaseException:
        store.close()
        raise
    return store, app


def _transport(
    config: NodeConfig, genesis: Genesis, index: int, addresses: dict[int, str]
) -> tuple[grpc.ServerCredentials | None, ValidatorDialer]:
    """TLS bound to the genesis keys both ways, or plaintext where the config asked for it (loopback)."""
    if config.tls is None:
        return None, ValidatorDialer.plaintext_to(addresses.values(), "insecure_plaintext")
    credentials = tls.server_credentials(config.tls.key, config.tls.cert, genesis, index)
    return credentials, ValidatorDialer.with_tls(genesis, config.tls.validator_cas)


def check_store(data_dir: Path, genesis: Genesis) -> int:
    """The offline full check of a stopped node's store (`votestore node check`): every block
    from genesis and the application state's tip, recorded as checked when it passes (the
    next start then checks only what is above); return the number of blocks checked, raise
    StoreCorrupted naming the first height at fault. Refuses a store a running node holds
    (LevelDB's lock) and a data dir with no store in it, rather than create one."""
    if not (data_dir / "CURRENT").is_file():
        raise ConfigError(f"no store in {data_dir}")
    store = Store(data_dir, genesis, genesis_app_hash(genesis.chain_id))
    try:
        checked = store.check_whole()
        _app_at_tip(store, genesis)
    finally:
        store.close()
    return checked


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
    key = read_key_file(config.key_file)
    index = _validator_index(genesis, key, config.key_file)
    store, app = open_store(config, genesis)
    log.info("event=store_ok height=%d validator=%d chain=%s", store.height, index, genesis.chain_id)
    try:
        asyncio.run(_serve(config, genesis, index, key, store, app))
    finally:
        store.close()


async def _serve(
    config: NodeConfig,
    genesis: Genesis,
    index: int,
    key: nacl.signing.SigningKey,
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
        consensus=consensus_for(genesis, index, key, store, validity, last_signed),
        metrics=metrics,
        pool=pool,
        clock=clock,
    )
    server = grpc.aio.server(
        options=[*SERVER_OPTIONS, NO_PORT_SHARING], maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS
    )
    peer_service = PeerService(shell)
    add_service(server, peer_service, peer_pb2.DESCRIPTOR.services_by_name["Peer"])
    stop = asyncio.Event()
    damage: list[StoreCorrupted] = []

    def damaged(exc: StoreCorrupted) -> None:
        """A read found a damaged record: stop rather than serve from this store (once)."""
        if not damage:
            log.error("event=store_corrupted height=%d why=%s", exc.height, exc.why)
        damage.append(exc)
        stop.set()

    add_service(server, NodeService(shell), node_pb2.DESCRIPTOR.services_by_name["Node"], damaged)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    bind(server, config.listen, credentials)
    health_server = health_only(config.listen, config.health_port, health_servicer)
    await server.start()
    if health_server is not None:
        await health_server.start()
    if config.metrics_port:
        try:
            metrics.serve(config.metrics_port, host_of(config.listen))
        except OSError as exc:
            await server.stop(0)
            raise ConfigError(f"cannot serve metrics on port {config.metrics_port}: {exc}") from None
    metrics.height.set(store.height)
    metrics.validators.set(genesis.n)
    metrics.quorum.set(genesis.quorum)
    metrics.chain.labels(chain_id=genesis.chain_id, genesis_hash=genesis.hash().hex()[:16]).set(1)
    for peer, address in addresses.items():
        if peer != index:
            shell.spawn(PeerLink(shell, key, peer, address, dialer).run())
    shell.spawn(catch_up_forever(shell, addresses, dialer))
    shell.start_watchdog()
    shell.spawn(keep_checking(store, report=metrics.store_checked.set))
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    log.info("event=serving listen=%s validator=%d height=%d", config.listen, index, store.height)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    consensus_task = asyncio.ensure_future(shell.run())
    stop_task = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({consensus_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    log.info("event=stopping height=%d", store.height)
    await health_servicer.enter_graceful_shutdown()
    shell.stop()
    consensus_task.cancel()
    peer_service.close_streams()
    await server.stop(SHUTDOWN_GRACE_S)
    if health_server is not None:
        await health_server.stop(0)
    if pool is not None:
        await pool.close()
    if consensus_task in done and not consensus_task.cancelled():
        consensus_task.result()  # re-raise what stopped consensus
    if damage:
        raise StoreCorrupted(
            damage[0].height,
            f"{damage[0].why} (found while serving; restore a backup or re-sync: docs/admin.md)",
        )
