"""`votestore node status`: what a running validator says of itself — height, round, catching up,
peers with the heights they claim, version — for an operator at the console or a script (`--json`).

Reach it through its config (`--config`, on the validator's own machine: its listen address and
its transport) or through `--node` with the genesis and the transport options the verifier takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer

from ops.cli.common import fail, validator_dialer
from proto.votestore.v1 import node_pb2, node_pb2_grpc
from votestore.channels import ValidatorDialer
from votestore.errors import ConfigError
from votestore.genesis import Genesis, load_genesis
from votestore.keys import read_public_key

STATUS_TIMEOUT_S = 5.0


def _local_address(listen: str) -> str:
    """Where a client on the validator's machine reaches a node listening on `listen`."""
    host, _, port = listen.rpartition(":")
    return f"127.0.0.1:{port}" if host in ("0.0.0.0", "[::]", "") else listen


def _target(
    config: Path | None, node: str | None, genesis: Path | None, cas: Path | None, plaintext: bool
) -> tuple[Genesis, ValidatorDialer, int, str]:
    if (config is None) == (node is None):
        raise ConfigError("give either --config NODE.toml (this machine's validator) or --node HOST:PORT")
    if config is not None:
        from node.config import load_node_config  # the node's config reader; only this path needs it

        settings = load_node_config(config)
        chain = load_genesis(settings.genesis)
        address = _local_address(settings.listen)
        public = read_public_key(settings.key_file)
        me = next((v.index for v in chain.validators if v.public_key == public), None)
        if me is None:
            raise ConfigError(f"key file {settings.key_file} is not one of the genesis validators")
        if settings.tls is not None:
            return chain, ValidatorDialer.with_tls(chain, settings.tls.validator_cas), me, address
        return chain, ValidatorDialer.plaintext_to([address], f"{config}"), me, address
    assert node is not None
    if genesis is None:
        raise ConfigError("--node needs --genesis, the chain's genesis file")
    chain = load_genesis(genesis)
    dialer = validator_dialer(chain, [node], cas, plaintext)
    index, address = dialer.locate(chain, node)
    return chain, dialer, index, address


def as_dict(status: node_pb2.GetStatusResponse) -> dict[str, Any]:
    return {
        "chain_id": status.chain_id,
        "genesis_hash": status.genesis_hash.hex(),
        "validator": status.validator,
        "version": status.version,
        "commit": status.commit,
        "protocol_version": status.protocol_version,
        "height": status.height,
        "last_block_hash": status.last_block_hash.hex(),
        "round": status.round,
        "step": status.step,
        "catching_up": status.catching_up,
        "signing": status.signing,
        "mempool_txs": status.mempool_txs,
        "peers_connected": status.peers_connected,
        "peers": [
            {"validator": p.validator, "height": p.height, "connected": p.connected} for p in status.peers
        ],
    }


def render(status: node_pb2.GetStatusResponse) -> str:
    lines = [
        f"validator {status.validator} of chain {status.chain_id} (genesis {status.genesis_hash.hex()[:16]})",
        f"version   {status.version} (commit {status.commit}, protocol {status.protocol_version})",
        f"height    {status.height} (block {status.last_block_hash.hex()[:16]}), round {status.round}, "
        f"step {status.step}, catching up: {'yes' if status.catching_up else 'no'}",
        f"signing   {status.signing}",
        f"mempool   {status.mempool_txs} transactions",
        f"peers     {status.peers_connected} of {len(status.peers)} connected",
    ]
    for peer in status.peers:
        state = "connected" if peer.connected else "not connected"
        lines.append(f"  validator {peer.validator}: {state}, claims height {peer.height}")
    return "\n".join(lines)


def status(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="The node's TOML config: ask the validator on this machine."),
    ] = None,
    node: Annotated[
        str | None, typer.Option("--node", help="[INDEX=]HOST:PORT of a validator's public API.")
    ] = None,
    genesis: Annotated[
        Path | None, typer.Option("--genesis", help="The chain's genesis file (with --node).")
    ] = None,
    validator_cas: Annotated[
        Path | None, typer.Option("--validator-cas", help="The validators' CA bundle (with --node): TLS.")
    ] = None,
    insecure_plaintext: Annotated[
        bool, typer.Option("--insecure-plaintext", help="Plaintext (with --node); loopback addresses only.")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="One JSON object on stdout instead of text.")
    ] = False,
) -> None:
    """Ask a running validator how it is: height, round and step, catching up, mempool, each peer's
    connection and claimed height, version. Exits 1 with one error line if it does not answer."""
    chain, dialer, index, address = _target(config, node, genesis, validator_cas, insecure_plaintext)
    with dialer.sync(index, address) as channel:
        try:
            answer = node_pb2_grpc.NodeStub(channel).GetStatus(
                node_pb2.GetStatusRequest(), timeout=STATUS_TIMEOUT_S
            )
        except grpc.RpcError as exc:
            code = exc.code().name if hasattr(exc, "code") else "UNKNOWN"
            fail(
                f"validator at {address} did not answer ({code}): is it running, and is the transport right?"
            )
    if answer.genesis_hash != chain.hash():
        fail(f"the node at {address} runs another chain (genesis {answer.genesis_hash.hex()[:16]})")
    typer.echo(json.dumps(as_dict(answer)) if json_out else render(answer))
