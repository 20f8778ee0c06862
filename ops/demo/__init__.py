"""`votestore demo`: a whole test election on a local cluster, with a printable result report."""

from ops.demo.outcome import DemoOutcome, Verdict
from ops.demo.run import DemoError, DemoOptions, DemoRun, DemoTools, KeptCluster, run_demo

__all__ = [
    "DemoError",
    "DemoOptions",
    "DemoOutcome",
    "DemoRun",
    "DemoTools",
    "KeptCluster",
    "Verdict",
    "run_demo",
]
