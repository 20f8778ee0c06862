"""`votestore node backup` and `votestore node restore`: a stopped validator's store into one file
and back, never handing the validator a last-signed record older than its own (ops/store_backup.py
says why and how)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from ops.cli.common import JsonOpt, echo_json
from votestore.errors import ConfigError
from votestore.genesis import Genesis, load_genesis

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="The node's TOML config.")]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="The node's data dir (with --genesis; or give --config).")
]
GenesisOpt = Annotated[Path | None, typer.Option("--genesis", help="The genesis file, with --data-dir.")]


def store_location(config: Path | None, data_dir: Path | None, genesis: Path | None) -> tuple[Path, Genesis]:
    """A node's data dir and genesis, from its config or given directly (not both)."""
    if config is not None:
        if data_dir is not None or genesis is not None:
            raise ConfigError("give either --config or the data dir with --genesis, not both")
        from node.config import load_node_config

        node_config = load_node_config(config)
        return node_config.data_dir, load_genesis(node_config.genesis)
    if data_dir is None or genesis is None:
        raise ConfigError("give --config NODE.toml, or the data dir and --genesis GENESIS")
    return data_dir, load_genesis(genesis)


def backup(
    out: Annotated[Path, typer.Option("--out", help="The backup file to write (never overwritten).")],
    data_dir: DataDirOpt = None,
    genesis: GenesisOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Back up a STOPPED node's store to one file, after checking the whole store.

    The file (a tar) holds a manifest — chain id, genesis hash, height, the last-signed
    height/round/step, the records' sha256 — and every record of the store, from one snapshot.
    A running node's store is refused (stop it first: the other validators go on without it).
    """
    from ops.store_backup import backup as write_backup

    where, chain = store_location(config, data_dir, genesis)
    manifest = write_backup(where, chain, out)
    if json_out:
        echo_json({"file": str(out), **asdict(manifest)})
        return
    typer.echo(
        f"backup of {where} at height {manifest.height} written to {out}"
        f" (last signed: {manifest.last_signed or 'nothing'}; {manifest.records} records,"
        f" sha256 {manifest.sha256[:16]}…)"
    )


def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `votestore node backup`.")],
    data_dir: DataDirOpt = None,
    genesis: GenesisOpt = None,
    config: ConfigOpt = None,
    watch_before_signing: Annotated[
        bool,
        typer.Option(
            "--watch-before-signing",
            help="Restore even a backup whose last-signed record is older than the data dir's (or "
            "into an empty data dir), and mark the store: the node then follows the chain and signs "
            "nothing until it has watched amnesia_watch_heights heights without seeing its own key.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Restore a backup in place of a STOPPED node's store; the old data dir is kept beside it.

    Refused when the backup's last-signed record is older than the one in the data dir, or the
    data dir holds no store: a node started on it could sign again what it already signed (a
    double sign). --watch-before-signing restores it anyway and makes the node watch first.
    """
    from ops.store_backup import restore as put_back

    where, chain = store_location(config, data_dir, genesis)
    done = put_back(file, where, chain, watch_before_signing=watch_before_signing)
    if json_out:
        echo_json(
            {
                "data_dir": str(where),
                "height": done.manifest.height,
                "last_signed": None
                if done.manifest.last_signed is None
                else asdict(done.manifest.last_signed),
                "replaced_last_signed": None if done.replaced is None else asdict(done.replaced),
                "kept_aside": None if done.kept_aside is None else str(done.kept_aside),
                "watch_before_signing": done.marked,
            }
        )
        return
    typer.echo(
        f"restored height {done.manifest.height} into {where}"
        f" (last signed: {done.manifest.last_signed or 'nothing'})"
    )
    if done.kept_aside is not None:
        typer.echo(f"the data dir it replaced is kept in {done.kept_aside}")
    if done.marked:
        typer.echo("the node will follow the chain and sign nothing until its watch passes (event=signing)")
