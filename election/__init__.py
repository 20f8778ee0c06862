"""The election rules: the deterministic function (committed state, block) -> (results, writes) that
every validator and the verifier run alike (docs/election.md). No storage, no I/O: state comes in
through `kv.StateReader`, changes go out as a write set."""
