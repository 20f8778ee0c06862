"""Run an election on a live local cluster: the one driver the demo, the chaos harness, the
benchmarks and the cluster tests share (docs/architecture.md)."""

from ops.cluster.gateway import GatewayError, GatewayProcess
from ops.cluster.localnet import HOST, VALIDATOR_CAS, LocalNet, free_port
from ops.cluster.process import ClusterError

__all__ = [
    "HOST",
    "VALIDATOR_CAS",
    "ClusterError",
    "GatewayError",
    "GatewayProcess",
    "LocalNet",
    "free_port",
]
