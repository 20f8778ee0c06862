"""The demo's serving processes: the identity provider's own server, the gateway, and the voter
page on an origin of its own when it is built; each registered on the run's exit stack as it
starts, so the run stops it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ops.cluster import LocalNet
from ops.cluster.gateway import GatewayProcess, WebPorts, write_config, write_provider_config
from ops.cluster.page import PageProcess
from ops.demo import parties, plan
from ops.demo.console import DemoConsole
from ops.demo.parties import Parties
from ops.roles import KEY_FILE
from ops.web.bundle import MANIFEST_FILE

PAGE_DIR: Final = Path(__file__).resolve().parents[2] / "web" / "dist"
"""The built voter page (`npm run build:page` in web/, which `make demo` runs), served by a
`votestore web serve` process of its own."""


@dataclass(frozen=True, slots=True)
class Services:
    provider: GatewayProcess
    gateway: GatewayProcess
    web: WebPorts | None
    """The voter page's ports; None when the page is not built."""
    page: PageProcess | None


def start_services(
    net: LocalNet,
    roles: Parties,
    workdir: Path,
    stack: ExitStack,
    phase: Callable[[str], AbstractContextManager[None]],
    ui: DemoConsole,
) -> Services:
    """The identity provider's own server, then the gateway, which holds none of its keys (it
    passes the voter page's identity asks on to the provider as they came)."""
    directory = roles.provider()
    config, target = write_provider_config(
        directory, net.genesis_path, directory / KEY_FILE, directory / parties.STORE_FILE
    )
    provider = GatewayProcess(directory, config, target, role="identity-provider")
    web = WebPorts() if (PAGE_DIR / MANIFEST_FILE).is_file() else None
    gateway_config, gateway_target = write_config(
        workdir, net.genesis_path, identity_provider=target, web=web
    )
    gateway = GatewayProcess(workdir, gateway_config, gateway_target)
    page = None
    with phase("start identity provider and gateway"):
        stack.enter_context(provider)
        stack.enter_context(gateway)
        if web is not None:  # the page's own origin, apart from the gateway (docs/web.md)
            page = stack.enter_context(
                PageProcess(workdir, PAGE_DIR, web.bridge_url, net.genesis_path, web.app)
            )
    assert provider.process is not None and gateway.process is not None
    ui.step(f"identity provider on {target} (pid {provider.process.pid}, in {directory.name}/)")
    ui.step(f"gateway on {gateway_target} (pid {gateway.process.pid}; no identity provider key)")
    if web is not None:
        ui.note(
            f"voter page on {web.app_origin}/ (its own origin, `votestore web serve`; "
            f"gRPC-Web bridge {web.bridge_url})"
        )
        ui.note(
            f"public pages (tracking code, turnout, result) on "
            f"{web.app_origin}/public.html?e={plan.ELECTION_ID}"
        )
    else:
        ui.note(f"voter page not served: {PAGE_DIR} is not built (`make demo` builds it)")
    return Services(provider, gateway, web, page)
