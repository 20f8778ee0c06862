"""The verifier: checks every node's ledger with the genesis file alone (docs/verifier.md)."""

from tools.verify.findings import Check, Finding
from tools.verify.nodes import Report
from tools.verify.once import verify_once
from tools.verify.verifier import Verifier

__all__ = ["Check", "Finding", "Report", "Verifier", "verify_once"]
