"""Operator and developer tooling: the `votestore` CLI, the demo, the chaos harness and the local
cluster. The one top-level package that may import every other (docs/architecture.md)."""
