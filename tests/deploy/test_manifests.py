"""The Kubernetes manifests: every overlay renders and passes `kubernetes-validate --strict`,
and what the issue asks of them holds in the rendered output — one volume per validator, f
validators down at most, probes through gRPC health, only peers, gateway and verifier let in,
non-root with a read-only root, limits everywhere — and the configs they carry are ones the
processes accept."""

from __future__ import annotations

import ipaddress
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from gateway.config import parse_config
from node.config import parse_node_config
from tests.deploy.tools import (
    K8S,
    OVERLAYS,
    TRIAL_VALIDATORS,
    Manifest,
    config_map,
    documents,
    find,
    of_kind,
    render,
    run,
    venv_tool,
)
from votestore.genesis import quorum

PASSPHRASE_SECRET = "votestore-node-passphrase"
SITE_SECRETS = {PASSPHRASE_SECRET, "votestore-identity", "votestore-gateway-tls"}
"""Secrets each site makes by hand besides the validators' key Secrets (deploy/k8s/README.md says
how); none pass through kustomize."""
KEY_SECRETS = {
    # overlay: each validator index's own key Secret
    "single-site": {i: f"votestore-node-{i}-keys" for i in range(TRIAL_VALIDATORS)},
    "multi-site": {0: "votestore-node-keys"},
}
VALIDATOR_NAME = "votestore-node"
VALIDATOR_INDEX_LABEL = "votestore.io/validator"
WORKLOAD_KINDS = ("StatefulSet", "Deployment")
VALIDATORS_AND_BUDGET = {
    # All n validators here: at most f = (n - 1) // 3 of them down.
    "single-site": (TRIAL_VALIDATORS, (TRIAL_VALIDATORS - 1) // 3),
    # One of n here; the f budget is shared with sites this cluster cannot see.
    "multi-site": (1, 0),
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("k8s")


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, workdir: Path) -> tuple[str, list[Manifest], Path]:
    text = render(workdir, request.param)
    path = workdir / f"{request.param}.yaml"
    path.write_text(text)
    return request.param, documents(text), path


def _validate(paths: list[Path]) -> str:
    result = run([venv_tool("kubernetes-validate"), "--strict", "--quiet", *paths])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr
    return result.stdout + result.stderr


def _validators(manifests: list[Manifest]) -> dict[int, Manifest]:
    """Every validator's StatefulSet, by the validator index its pod label gives."""
    sets: dict[int, Manifest] = {}
    for workload in of_kind(manifests, "StatefulSet"):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == VALIDATOR_NAME, workload["metadata"]["name"]
        index = int(labels[VALIDATOR_INDEX_LABEL])
        assert index not in sets, f"two StatefulSets run validator {index}"
        sets[index] = workload
    return sets


def _pod_specs(manifests: list[Manifest]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in WORKLOAD_KINDS:
        for workload in of_kind(manifests, kind):
            yield workload["metadata"]["name"], workload["spec"]["template"]


def _container(manifests: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    containers = find(manifests, kind, name)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def _port(container: dict[str, Any], name: str) -> int:
    ports = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    assert len(ports) == 1, f"{container['name']} has no port {name}"
    port: int = ports[0]
    return port


def _mount(manifests: list[Manifest], kind: str, name: str, volume: str) -> PurePosixPath:
    container = _container(manifests, kind, name)
    paths = [m["mountPath"] for m in container["volumeMounts"] if m["name"] == volume]
    assert len(paths) == 1, f"{name} does not mount {volume}"
    return PurePosixPath(paths[0])


# ---------------------------------------------------------------- validity


def test_overlay_passes_kubernetes_validate_strict(overlay: tuple[str, list[Manifest], Path]) -> None:
    name, manifests, path = overlay
    report = _validate([path])
    assert "Couldn't find schema" not in report, f"{name} has a kind with no schema: {report}"
    assert len(manifests) >= 10


def test_monitoring_renders_and_validates(workdir: Path) -> None:
    text = render(workdir, "monitoring")
    path = workdir / "monitoring.yaml"
    path.write_text(text)
    _validate([path])  # ServiceMonitor is a CRD: no schema, checked by test_service_monitors
    manifests = documents(text)
    assert {m["kind"] for m in manifests} == {"ServiceMonitor", "ConfigMap"}


def test_every_manifest_file_validates_on_its_own() -> None:
    """Needs no kubectl: each resource file of the base and overlays, as written."""
    files = [
        path
        for path in sorted(K8S.rglob("*.yaml"))
        if path.name != "kustomization.yaml" and "patch" not in path.name and path.parent.name != "monitoring"
    ]
    assert len(files) >= 12
    _validate(files)


# ---------------------------------------------------------------- what the issue asks


def _first_validator(manifests: list[Manifest]) -> str:
    """The StatefulSet name of the lowest validator index: all validators' pods share ports and
    mount paths (test_validators_differ_only_in_index_and_key checks it)."""
    validators = _validators(manifests)
    name: str = validators[min(validators)]["metadata"]["name"]
    return name


def test_validators_each_have_a_volume_and_a_stable_name(overlay: tuple[str, list[Manifest], Path]) -> None:
    _, manifests, _ = overlay
    for nodes in _validators(manifests).values():
        name = nodes["metadata"]["name"]
        service = find(manifests, "Service", nodes["spec"]["serviceName"])
        assert service["spec"]["clusterIP"] == "None"
        assert service["spec"]["publishNotReadyAddresses"] is True
        (claim,) = nodes["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert _mount(manifests, "StatefulSet", name, claim["metadata"]["name"])


def test_validators_differ_only_in_index_and_key(overlay: tuple[str, list[Manifest], Path]) -> None:
    """The per-validator StatefulSets are copies of one (deploy/k8s/validator): nothing but the
    name, the index label and the key Secret may differ, so a fix to one reaches all."""
    _, manifests, _ = overlay

    def shape(workload: Manifest) -> str:
        spec = json.loads(json.dumps(workload["spec"]))
        index = spec["template"]["metadata"]["labels"].pop(VALIDATOR_INDEX_LABEL)
        assert spec["selector"]["matchLabels"].pop(VALIDATOR_INDEX_LABEL) == index
        for claim in spec["volumeClaimTemplates"]:
            claim["metadata"]["labels"].pop(VALIDATOR_INDEX_LABEL, None)
        for volume in spec["template"]["spec"]["volumes"]:
            if volume["name"] == "keys":
                volume["secret"]["secretName"] = "<own>"
        return json.dumps(spec, sort_keys=True)

    shapes = {shape(workload) for workload in _validators(manifests).values()}
    assert len(shapes) == 1


def test_validators_keep_apart_from_every_other_validator(overlay: tuple[str, list[Manifest], Path]) -> None:
    """One validator per machine: each pod's anti-affinity selects every validator's pod, not
    its own StatefulSet's alone (a selector narrowed by the index label would let two
    validators share a machine, so losing it could cost two votes)."""
    _, manifests, _ = overlay
    validators = _validators(manifests)
    pod_labels = [v["spec"]["template"]["metadata"]["labels"] for v in validators.values()]
    for workload in validators.values():
        affinity = workload["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
        (term,) = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
        assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        selector = term["podAffinityTerm"]["labelSelector"]["matchLabels"]
        assert all(selector.items() <= labels.items() for labels in pod_labels), workload["metadata"]["name"]


def test_each_validator_pod_mounts_exactly_its_own_key_secret(
    overlay: tuple[str, list[Manifest], Path],
) -> None:
    """A pod holds one validator's key and no other (issue 22: the single-site overlay mounted
    all four keys into every pod, so one broken pod gave away every vote): its only secret
    volumes are one key Secret and the passphrase, no two pods of the render share a key Secret,
    and every key and TLS file its config names lies in its own."""
    name, manifests, _ = overlay
    owner: dict[str, str] = {}
    for workload in of_kind(manifests, "StatefulSet"):
        pod = workload["spec"]["template"]["spec"]
        assert not [v for v in pod["volumes"] if "projected" in v], workload["metadata"]["name"]
        keys = [v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v]
        keys.remove(PASSPHRASE_SECRET)
        assert len(keys) == 1, f"{workload['metadata']['name']} mounts key Secrets {keys}"
        for ordinal in range(workload["spec"]["replicas"]):
            owner[f"{workload['metadata']['name']}-{ordinal}"] = keys[0]
    assert len(owner) == VALIDATORS_AND_BUDGET[name][0]
    assert len(set(owner.values())) == len(owner), f"{name}: pods share a key Secret: {owner}"

    files = config_map(manifests, "votestore-node-config")["data"]
    for index, workload in _validators(manifests).items():
        set_name = workload["metadata"]["name"]
        (keys_volume,) = [
            v["name"]
            for v in workload["spec"]["template"]["spec"]["volumes"]
            if v.get("secret", {}).get("secretName") == KEY_SECRETS[name][index]
        ]
        keys_dir = _mount(manifests, "StatefulSet", set_name, keys_volume)
        path = Path(str(_mount(manifests, "StatefulSet", set_name, "config"))) / f"node-{index}.toml"
        config = parse_node_config(tomllib.loads(files[path.name]), path)
        assert config.tls is not None
        for secret_file in (config.key_file, config.tls.cert, config.tls.key):
            assert PurePosixPath(secret_file).parent == keys_dir, f"{set_name}: {secret_file}"


def test_disruption_budget_allows_at_most_f_down(overlay: tuple[str, list[Manifest], Path]) -> None:
    name, manifests, _ = overlay
    replicas, max_unavailable = VALIDATORS_AND_BUDGET[name]
    assert sum(v["spec"]["replicas"] for v in _validators(manifests).values()) == replicas
    budget = find(manifests, "PodDisruptionBudget", "votestore-node")["spec"]
    assert budget["maxUnavailable"] == max_unavailable
    assert replicas - max_unavailable >= min(replicas, quorum(TRIAL_VALIDATORS))


@pytest.mark.parametrize(
    ("kind", "name", "port"),
    [("StatefulSet", VALIDATOR_NAME, "health"), ("Deployment", "votestore-gateway", "health")],
)
def test_probes_use_grpc_health(
    overlay: tuple[str, list[Manifest], Path], kind: str, name: str, port: str
) -> None:
    _, manifests, _ = overlay
    container = _container(manifests, kind, _first_validator(manifests) if name == VALIDATOR_NAME else name)
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == _port(container, port), f"{name} {probe}"


NODE_POLICIES: dict[str, tuple[str, set[str], bool]] = {
    # policy: (the container port it opens, the pods let in, whether the monitoring namespace is)
    "votestore-node-peer": ("peer", {"votestore-node"}, False),
    "votestore-node-api": ("grpc", {"votestore-gateway", "votestore-verifier"}, False),
    "votestore-node-metrics": ("metrics", set(), True),
}
MONITORING_SOURCE = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
EXTERNAL_SERVICES = {
    # a multi-site load balancer: the NetworkPolicy whose external sources it must admit, no more
    "votestore-node-peer-external": "votestore-node-peer",
    "votestore-node-api-external": "votestore-node-api",
}


def _node_policies(manifests: list[Manifest]) -> dict[str, dict[str, Any]]:
    """Every NetworkPolicy that selects the validators' pods, by name."""
    pod_labels = [v["spec"]["template"]["metadata"]["labels"] for v in _validators(manifests).values()]
    return {
        p["metadata"]["name"]: p["spec"]
        for p in of_kind(manifests, "NetworkPolicy")
        if any(p["spec"]["podSelector"]["matchLabels"].items() <= labels.items() for labels in pod_labels)
    }


def _ip_blocks(policy: dict[str, Any]) -> list[str]:
    return [s["ipBlock"]["cidr"] for rule in policy["ingress"] for s in rule["from"] if "ipBlock" in s]


def test_each_validator_port_is_open_only_to_its_own_sources(
    overlay: tuple[str, list[Manifest], Path],
) -> None:
    """The peer port to the other validators only, the public API to the gateway, the verifier
    and (multi-site) the listed addresses, the metrics to the monitoring namespace: no rule of one
    policy opens another's port, and no other policy selects the validators."""
    name, manifests, _ = overlay
    container = _container(manifests, "StatefulSet", _first_validator(manifests))
    policies = _node_policies(manifests)
    assert set(policies) == set(NODE_POLICIES), f"{name}: {sorted(policies)}"
    for policy_name, policy in policies.items():
        port_name, pods, monitoring = NODE_POLICIES[policy_name]
        assert policy["policyTypes"] == ["Ingress"], policy_name
        in_cluster, namespaces = set(), []
        for rule in policy["ingress"]:
            assert rule["from"], f"{policy_name}: a rule without sources lets everyone in"
            ports = [(p["port"], p["protocol"]) for p in rule["ports"]]
            assert ports == [(_port(container, port_name), "TCP")], f"{policy_name} opens {ports}"
            for source in rule["from"]:
                if "podSelector" in source:
                    in_cluster.add(source["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
                elif "namespaceSelector" in source:
                    namespaces.append(source)
                else:
                    assert set(source) == {"ipBlock"}, source
                    ipaddress.ip_network(source["ipBlock"]["cidr"])  # a placeholder left unreplaced fails
        assert in_cluster == pods, policy_name
        assert namespaces == ([MONITORING_SOURCE] if monitoring else []), policy_name
        external = _ip_blocks(policy)
        assert bool(external) == (name == "multi-site" and not monitoring), f"{policy_name}: {external}"
    if name == "multi-site":
        peers, api = _ip_blocks(policies["votestore-node-peer"]), _ip_blocks(policies["votestore-node-api"])
        assert set(peers) < set(api), "observers reach the public API, never the peer port"


GATEWAY_CLIENTS_SOURCE = {"namespaceSelector": {"matchLabels": {"votestore.io/gateway-clients": "true"}}}


def test_gateway_grpc_port_is_open_only_to_its_clients(overlay: tuple[str, list[Manifest], Path]) -> None:
    """Issue 22: the gateway's gRPC port was open to every source. Now every rule names its
    sources: the gRPC port the namespace labelled as the site's gateway clients (its Ingress
    controller) and, in multi-site, the listed client addresses (never everything); the metrics
    port the monitoring namespace; no other port."""
    name, manifests, _ = overlay
    container = _container(manifests, "Deployment", "votestore-gateway")
    labels = find(manifests, "Deployment", "votestore-gateway")["spec"]["template"]["metadata"]["labels"]
    policies = [
        p["spec"]
        for p in of_kind(manifests, "NetworkPolicy")
        if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    ]
    assert len(policies) == 1, f"{name}: {len(policies)} policies select the gateway"
    (policy,) = policies
    assert policy["policyTypes"] == ["Ingress"]
    sources: dict[int, list[dict[str, Any]]] = {}
    for rule in policy["ingress"]:
        assert rule.get("from"), f"{name}: a gateway rule without sources lets everyone in"
        (port,) = rule["ports"]
        assert port["protocol"] == "TCP"
        sources.setdefault(port["port"], []).extend(rule["from"])
    assert set(sources) == {_port(container, "grpc"), _port(container, "metrics")}
    assert sources[_port(container, "metrics")] == [MONITORING_SOURCE]
    grpc = sources[_port(container, "grpc")]
    assert grpc[0] == GATEWAY_CLIENTS_SOURCE
    blocks = [ipaddress.ip_network(s["ipBlock"]["cidr"]) for s in grpc[1:]]
    assert len(blocks) == len(grpc) - 1, f"{name}: {grpc}"
    assert bool(blocks) == (name == "multi-site")
    assert all(block.prefixlen > 0 for block in blocks), f"{name}: a gateway ipBlock admits everything"
    admin = (K8S.parents[1] / "docs" / "admin.md").read_text()
    assert "votestore.io/gateway-clients=true" in admin, "docs/admin.md says how to let clients in"


def test_external_load_balancers_admit_what_their_policy_admits(
    overlay: tuple[str, list[Manifest], Path],
) -> None:
    name, manifests, _ = overlay
    container = _container(manifests, "StatefulSet", _first_validator(manifests))
    policies = _node_policies(manifests)
    balancers = {
        s["metadata"]["name"]: s["spec"]
        for s in of_kind(manifests, "Service")
        if s["spec"].get("type") == "LoadBalancer"
    }
    assert set(balancers) == (set(EXTERNAL_SERVICES) if name == "multi-site" else set()), sorted(balancers)
    for service_name, service in balancers.items():
        policy = policies[EXTERNAL_SERVICES[service_name]]
        port_name = NODE_POLICIES[EXTERNAL_SERVICES[service_name]][0]
        assert [p["targetPort"] for p in service["ports"]] == [port_name], service_name
        assert {p["port"] for rule in policy["ingress"] for p in rule["ports"]} == {
            _port(container, port_name)
        }
        assert service["loadBalancerSourceRanges"] == _ip_blocks(policy), service_name


def test_pods_run_non_root_read_only_with_limits(overlay: tuple[str, list[Manifest], Path]) -> None:
    _, manifests, _ = overlay
    specs = list(_pod_specs(manifests))
    assert {name for name, _ in specs} == {
        *(v["metadata"]["name"] for v in _validators(manifests).values()),
        "votestore-gateway",
        "votestore-verifier",
    }
    for name, template in specs:
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, f"{name} {bound}"
            annotations = template["metadata"]["annotations"]
            assert annotations["prometheus.io/scrape"] == "true"
            assert int(annotations["prometheus.io/port"]) == _port(container, "metrics"), name
    namespace = find(manifests, "Namespace", "votestore")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_referenced_config_map_is_rendered_and_keys_come_from_the_site(
    overlay: tuple[str, list[Manifest], Path],
) -> None:
    name, manifests, _ = overlay
    names = {m["metadata"]["name"] for m in of_kind(manifests, "ConfigMap")}
    secrets = set()
    for _, template in _pod_specs(manifests):
        for volume in template["spec"]["volumes"]:
            if "configMap" in volume:
                assert volume["configMap"]["name"] in names
            if "secret" in volume:
                secrets.add(volume["secret"]["secretName"])
    assert secrets == SITE_SECRETS | set(KEY_SECRETS[name].values())
    assert not list(of_kind(manifests, "Secret")), "keys never pass through kustomize"
    readme = (K8S / "README.md").read_text()
    for secret in SITE_SECRETS | {"votestore-node-keys", "votestore-node-<i>-keys"}:
        assert f"`{secret}`" in readme, f"README.md does not say how to make Secret {secret}"


# ---------------------------------------------------------------- the configs they carry


def test_node_configs_are_accepted_and_fit_the_pod(overlay: tuple[str, list[Manifest], Path]) -> None:
    _, manifests, _ = overlay
    first = _first_validator(manifests)
    container = _container(manifests, "StatefulSet", first)
    config_dir = _mount(manifests, "StatefulSet", first, "config")
    keys_dir = _mount(manifests, "StatefulSet", first, "keys")
    genesis_dir = _mount(manifests, "StatefulSet", first, "genesis")
    data_dir = _mount(manifests, "StatefulSet", first, "data")
    files = config_map(manifests, "votestore-node-config")["data"]
    indexes = sorted(_validators(manifests))
    assert sorted(files) == [f"node-{i}.toml" for i in indexes], "one config per validator"
    # The index comes from the pod's own label, which picks its config.
    assert f"{config_dir}/node-${{VOTESTORE_VALIDATOR}}.toml" in container["command"][-1]
    (env,) = [e for e in container["env"] if e["name"] == "VOTESTORE_VALIDATOR"]
    assert env["valueFrom"]["fieldRef"]["fieldPath"] == f"metadata.labels['{VALIDATOR_INDEX_LABEL}']"
    for ordinal in indexes:
        path = Path(str(config_dir)) / f"node-{ordinal}.toml"
        config = parse_node_config(tomllib.loads(files[path.name]), path)
        assert config.listen == f"0.0.0.0:{_port(container, 'grpc')}"
        assert config.peer_listen == f"0.0.0.0:{_port(container, 'peer')}"
        assert config.metrics_port == _port(container, "metrics")
        assert config.health_port == _port(container, "health")
        assert PurePosixPath(config.key_file) == keys_dir / f"node-{ordinal}.key.json"
        passphrase_dir = _mount(manifests, "StatefulSet", first, "passphrase")
        assert config.key_passphrase_file is not None and not config.insecure_plaintext_key
        assert PurePosixPath(config.key_passphrase_file).parent == passphrase_dir, "the key is sealed"
        assert PurePosixPath(config.genesis) == genesis_dir / "genesis.json"
        assert PurePosixPath(config.data_dir).parent == data_dir
        assert config.verify_workers == int(container["resources"]["limits"]["cpu"])


def test_gateway_config_is_accepted_and_fits_the_pod(overlay: tuple[str, list[Manifest], Path]) -> None:
    _, manifests, _ = overlay
    container = _container(manifests, "Deployment", "votestore-gateway")
    config_dir = _mount(manifests, "Deployment", "votestore-gateway", "config")
    genesis_dir = _mount(manifests, "Deployment", "votestore-gateway", "genesis")
    files = config_map(manifests, "votestore-gateway-config")["data"]
    assert container["args"] == ["gateway", "run", "--config", f"{config_dir}/gateway.toml"]
    config = parse_config(tomllib.loads(files["gateway.toml"]), Path(str(config_dir)), "gateway.toml")
    assert config.listen == f"0.0.0.0:{_port(container, 'grpc')}"
    assert config.metrics_port == _port(container, "metrics")
    assert config.health_port == _port(container, "health")
    assert PurePosixPath(config.genesis) == genesis_dir / "genesis.json"
    # TLS to clients and the identity provider's step, from their Secrets (README, "The gateway").
    assert config.tls is not None
    tls_dir = _mount(manifests, "Deployment", "votestore-gateway", "tls")
    assert {PurePosixPath(config.tls.cert), PurePosixPath(config.tls.key)} == {
        tls_dir / "tls.crt",
        tls_dir / "tls.key",
    }
    identity_dir = _mount(manifests, "Deployment", "votestore-gateway", "identity")
    assert config.identity_store is not None and config.identity_provider_key is not None
    assert PurePosixPath(config.identity_store).parent == identity_dir
    assert PurePosixPath(config.identity_provider_key).parent == identity_dir
    assert config.key_passphrase_file is not None and not config.insecure_plaintext_key, "a sealed key"
    assert PurePosixPath(config.key_passphrase_file).parent == identity_dir


def test_verifier_args_fit_the_pod(overlay: tuple[str, list[Manifest], Path]) -> None:
    _, manifests, _ = overlay
    container = _container(manifests, "Deployment", "votestore-verifier")
    genesis_dir = _mount(manifests, "Deployment", "votestore-verifier", "genesis")
    args = container["args"]
    assert args[:2] == ["verifier", "run"]
    options = dict(zip(args[2::2], args[3::2], strict=True))
    assert options["--genesis"] == f"{genesis_dir}/genesis.json"
    assert int(options["--metrics-port"]) == _port(container, "metrics")
    assert options["--metrics-host"] == "0.0.0.0"
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    help_text = run([venv_tool("votestore"), "verifier", "run", "--help"]).stdout
    assert all(option in help_text for option in options), "every option is one the command takes"


def test_service_monitors_select_services_with_a_metrics_port(workdir: Path) -> None:
    monitors = list(of_kind(documents(render(workdir, "monitoring")), "ServiceMonitor"))
    services = list(of_kind(documents(render(workdir, "single-site")), "Service"))
    assert len(monitors) == 3
    for monitor in monitors:
        wanted = monitor["spec"]["selector"]["matchLabels"]
        chosen = [s for s in services if wanted.items() <= s["metadata"]["labels"].items()]
        assert chosen, f"{monitor['metadata']['name']} selects no Service"
        for service in chosen:
            ports = {p["name"] for p in service["spec"]["ports"]}
            assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports


CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass"}
STATEFULSET_POD_NAME = "statefulset.kubernetes.io/pod-name"


def _pods(manifests: list[Manifest]) -> list[tuple[str | None, dict[str, str]]]:
    """(namespace, labels) of every pod the render's workloads make (a StatefulSet's pods also
    carry their own name, `<set>-<ordinal>`, as Kubernetes adds it)."""
    pods: list[tuple[str | None, dict[str, str]]] = []
    for kind in WORKLOAD_KINDS:
        for workload in of_kind(manifests, kind):
            namespace = workload["metadata"].get("namespace")
            labels = dict(workload["spec"]["template"]["metadata"].get("labels", {}))
            if kind == "StatefulSet":
                name, replicas = workload["metadata"]["name"], workload["spec"].get("replicas", 1)
                own = [{**labels, STATEFULSET_POD_NAME: f"{name}-{i}"} for i in range(replicas)]
                pods += [(namespace, pod) for pod in own]
            else:
                pods.append((namespace, labels))
    return pods


def test_every_namespaced_resource_names_the_namespace(overlay: tuple[str, list[Manifest], Path]) -> None:
    """A resource without a namespace lands in whatever namespace kubectl's context has (the
    multi-site external Service did, and selected no pods there)."""
    name, manifests, _ = overlay
    missing = [
        f"{m['kind']}/{m['metadata']['name']}"
        for m in manifests
        if m["kind"] not in CLUSTER_SCOPED and m["metadata"].get("namespace") != "votestore"
    ]
    assert not missing, f"{name}: rendered without namespace votestore: {missing}"


def test_every_service_selects_pods_the_render_makes(overlay: tuple[str, list[Manifest], Path]) -> None:
    name, manifests, _ = overlay
    pods = _pods(manifests)
    for service in of_kind(manifests, "Service"):
        selector: dict[str, str] = service["spec"].get("selector", {})
        assert selector, f"{name}: Service {service['metadata']['name']} has no selector"
        namespace = service["metadata"].get("namespace")
        chosen = [labels for ns, labels in pods if ns == namespace and selector.items() <= labels.items()]
        assert chosen, f"{name}: Service {service['metadata']['name']} selects no pod ({selector})"


def test_load_balancers_admit_only_listed_sources(overlay: tuple[str, list[Manifest], Path]) -> None:
    name, manifests, _ = overlay
    for service in of_kind(manifests, "Service"):
        if service["spec"].get("type") == "LoadBalancer":
            ranges = service["spec"].get("loadBalancerSourceRanges", [])
            assert ranges, f"{name}: LoadBalancer {service['metadata']['name']} is open to every address"
