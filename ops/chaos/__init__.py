"""Faults on purpose: real node processes on namespaces or a proxy, a seeded fault scheduler, a
ballot load, and the checks that nothing was lost (see docs/chaos.md)."""
