"""`votestore demo`: a whole test election on a local cluster, with a printable result report."""

from ops.cluster.election import Verdict
from ops.demo.options import DemoError, DemoOptions
from ops.demo.outcome import DemoOutcome
from ops.demo.practice import KeptCluster
from ops.demo.run import DemoRun, run_demo

__all__ = [
    "DemoError",
    "DemoOptions",
    "DemoOutcome",
    "DemoRun",
    "KeptCluster",
    "Verdict",
    "run_demo",
]
