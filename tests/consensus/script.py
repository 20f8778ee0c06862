"""Interaction scripts for the consensus core, in the manner of etcd raft's interaction tests.

A script is text. An unindented line is an event fed to the node under test (validator 0 of 4,
unless told otherwise); the indented lines under it are exactly the actions it must produce, in
order. Lines starting with `?` check state. Values are letters: `A` names block sha256(b"value:A");
values starting with `X` fail valid(v).

    start
    proposal h=1 r=0 vr=-1 from=1 A [sig=bad]
    prevote|precommit h=1 r=0 from=2 A|nil [sig=bad]
    timeout propose|prevote|precommit h=1 r=0
    value h=1 r=3 A                      (the shell's answer to RequestProposal)
    decided h=1 r=0 A signers=1,2,3      (catch-up with a certificate; payload=B sends B's bytes)
    ? state h=1 r=0 step=prevote locked=-1 valid=-1
    ? dropped bad_signature=1
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from node.consensus import (
    Action,
    Applied,
    Broadcast,
    Certificate,
    Commit,
    Consensus,
    Decided,
    Event,
    LastSigned,
    PersistSigned,
    Proposal,
    ProposalValue,
    RecordEvidence,
    RequestProposal,
    ScheduleTimeout,
    SignWithheld,
    Start,
    Timeout,
    TimeoutConfig,
    TimeoutKind,
    ValidatorSet,
    Vote,
    VoteType,
    signing_bytes,
)
from node.sim.keys import fake_keys
from votestore.hashing import sha256

CHAIN_ID = "test-chain"
TIMEOUTS = TimeoutConfig(propose_ms=300, prevote_ms=100, precommit_ms=100, delta_ms=50)
SIZE = 4


def block_id(name: str) -> bytes:
    return sha256(b"value:" + name.encode())


def payload(name: str) -> bytes:
    return b"value:" + name.encode()


NAMES = {block_id(name): name for name in ("A", "B", "C", "D", "XA", "XB")}


def valid(height: int, builders: frozenset[int], block: bytes, data: bytes) -> bool:
    return built_by(block, data) is not None and not data.startswith(b"value:X")


def built_by(block: bytes, data: bytes) -> int | None:
    """Script values name no builder: every one counts as built by validator 0."""
    return 0 if sha256(data) == block else None


def name_of(block: bytes | None) -> str:
    return "nil" if block is None else NAMES.get(block, block.hex()[:8])


def describe(action: Action) -> str:
    if isinstance(action, PersistSigned):
        r = action.record
        lock = f" lock={r.locked_round}:{name_of(r.locked_block_id)}" if r.locked_round >= 0 else ""
        valid = ""
        if r.valid_proposal is not None:
            valid = f" valid={r.valid_round}:{name_of(r.valid_proposal.block_id)} proof={len(r.valid_proof)}"
        return f"persist {r.step.name.lower()} h={r.height} r={r.round} {name_of(r.block_id)}{lock}{valid}"
    if isinstance(action, Broadcast):
        m = action.message
        if isinstance(m, Proposal):
            return f"broadcast proposal h={m.height} r={m.round} vr={m.valid_round} {name_of(m.block_id)}"
        sender = "" if m.validator == 0 else f" from={m.validator}"
        return f"broadcast {m.type.name.lower()} h={m.height} r={m.round}{sender} {name_of(m.block_id)}"
    if isinstance(action, ScheduleTimeout):
        return f"timeout {action.kind.name.lower()} h={action.height} r={action.round} {action.duration_ms}ms"
    if isinstance(action, RequestProposal):
        return f"request h={action.height} r={action.round}"
    if isinstance(action, Commit):
        c = action.certificate
        signers = ",".join(str(v) for v, _ in c.signatures)
        return f"commit h={action.height} r={c.round} {name_of(action.block_id)} signers={signers}"
    assert isinstance(action, RecordEvidence)
    a, b = action.vote_a, action.vote_b
    return (
        f"evidence {a.type.name.lower()} h={a.height} r={a.round} from={a.validator} "
        f"{name_of(a.block_id)}/{name_of(b.block_id)}"
    )


@dataclass
class Harness:
    index: int = 0
    height: int = 1
    last_signed: LastSigned | None = None
    size: int = SIZE
    transcript: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.signers, self.verifier = fake_keys(0, self.size)
        self.validators = ValidatorSet(self.size)
        self.core = Consensus(
            chain_id=CHAIN_ID,
            validators=self.validators,
            index=self.index,
            signer=self.signers[self.index],
            verifier=self.verifier,
            valid=valid,
            built_by=built_by,
            timeouts=TIMEOUTS,
            height=self.height,
            last_signed=self.last_signed,
        )

    def sign(self, message: Proposal | Vote, signer: int) -> Proposal | Vote:
        return replace(message, signature=self.signers[signer].sign(signing_bytes(CHAIN_ID, message)))

    def parse(self, line: str) -> Event:
        words = line.split()
        kv = {k: v for k, v in (w.split("=", 1) for w in words if "=" in w)}
        bare = [w for w in words[1:] if "=" not in w]
        bad = kv.get("sig") == "bad"
        kind = words[0]
        if kind == "start":
            return Start()
        if kind == "applied":
            return Applied()
        if kind == "sign_withheld":
            return SignWithheld()
        if kind == "timeout":
            return Timeout(TimeoutKind[bare[0].upper()], int(kv["h"]), int(kv["r"]))
        if kind == "value":
            return ProposalValue(int(kv["h"]), int(kv["r"]), block_id(bare[0]), payload(bare[0]))
        if kind == "decided":
            h, r, name = int(kv["h"]), int(kv["r"]), bare[0]
            signers = [int(s) for s in kv["signers"].split(",")]
            votes = [self.sign(Vote(VoteType.PRECOMMIT, h, r, block_id(name), s, b""), s) for s in signers]
            signatures = tuple((s, v.signature) for s, v in zip(signers, votes, strict=True))
            certificate = Certificate(h, r, block_id(name), signatures)
            return Decided(certificate, payload(kv.get("payload", name)))
        sender = int(kv["from"])
        message: Proposal | Vote
        if kind == "proposal":
            name = bare[0]
            message = Proposal(
                int(kv["h"]), int(kv["r"]), int(kv["vr"]), block_id(name), sender, b"", payload(name)
            )
        else:
            target = None if bare[0] == "nil" else block_id(bare[0])
            message = Vote(VoteType[kind.upper()], int(kv["h"]), int(kv["r"]), target, sender, b"")
        signed = self.sign(message, sender % self.size)
        return replace(signed, signature=b"\x00" * 16) if bad else signed

    def observe(self, line: str) -> str:
        """A `?` line as it would read with the core's actual values for the keys it names."""
        words = line.split()[1:]
        keys = [w.split("=", 1)[0] for w in words[1:]]
        core = self.core
        if words[0] == "state":
            actual = {
                "h": str(core.height),
                "r": str(core.round),
                "step": core.current_step.name.lower(),
                "locked": f"{core.locked_round}"
                + (f":{name_of(core.locked_value)}" if core.locked_value else ""),
                "valid": f"{core.valid_round}"
                + (f":{name_of(core.valid_value)}" if core.valid_value else ""),
            }
            return " ".join(["? state", *(f"{k}={actual[k]}" for k in keys)])
        assert words[0] == "dropped", f"unknown check {line!r}"
        return " ".join(["? dropped", *(f"{k}={v}" for k, v in sorted(core.dropped.items()))])

    def feed(self, line: str) -> list[str]:
        """One unindented script line: the actions an event produced, or a `?` line as observed."""
        if line.startswith("?"):
            return [self.observe(line)]
        return [describe(action) for action in self.core.step(self.parse(line))]

    def run(self, script: str) -> None:
        """Feed the events, collect the actions, and compare the whole transcript at once, so a
        failure shows every difference."""
        expected: list[str] = []
        actual: list[str] = []
        for raw in script.strip("\n").splitlines():
            if not raw.strip():
                continue
            if raw.startswith((" ", "\t")):
                expected.append(raw.strip())
                continue
            line = raw.strip()
            expected.append(line)
            if line.startswith("?"):
                actual.extend(self.feed(line))
            else:
                actual.append(line)
                actual.extend(self.feed(line))
        assert actual == expected, "\n".join(
            f"{'  ' if a == e else '!!'} expected: {e:<60} actual: {a}"
            for a, e in zip(actual + [""] * len(expected), expected + [""] * len(actual), strict=False)
            if a or e
        )
