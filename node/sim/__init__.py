"""The deterministic simulator: the very same `Consensus` objects on a virtual clock and a seeded
network, with faults, Byzantine behaviours and checkers. `run_seed` is the one entry point."""

from node.sim.batch import run_batch, run_seed
from node.sim.checkers import Violation
from node.sim.runner import RunResult, Simulation, liveness_bound_ms
from node.sim.scenario import Behaviour, FaultMix, Scenario, make_scenario

__all__ = [
    "Behaviour",
    "FaultMix",
    "RunResult",
    "Scenario",
    "Simulation",
    "Violation",
    "liveness_bound_ms",
    "make_scenario",
    "run_batch",
    "run_seed",
]
