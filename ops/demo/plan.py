"""What the demo election is: its contests, its trustees' layout and its voters, all drawn from one
seed so the expected count is known before a single ballot is cast (docs/design.md invariant 5)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.crypto.credential import CREDENTIAL_SECRET_BYTES

ELECTION_ID: Final = "demo-2026"
TITLE: Final = "Riverside municipal test election"
GROUPS: Final = ("north", "south")
TRUSTEES: Final = 3
THRESHOLD: Final = 2
ABSENT_TRUSTEE: Final = 2
"""The trustee who does not turn up to decrypt: the count must still come out with t = 2."""
WINDOW_MS: Final = 24 * 3600 * 1000
KEYGEN_DEADLINE_MS: Final = 600_000
COMPLAINT_WINDOW_MS: Final = 1_000
"""Trustees who all deal at once leave a short window in a demo; real elections give hours."""
WINDOW_LEAD_MS: Final = 60_000
"""The window opens this long before the definition is made, so clock skew between this process
and the validators never puts the first ballots' blocks before it."""
ASSISTED_PERCENT: Final = 25
ABSTAIN_PERCENT: Final = 5

MAYOR: Final = ("ada", "grace", "alan", "edsger")
COUNCIL: Final = ("barbara", "donald", "frances", "john", "margaret")
COUNCIL_MAX: Final = 2


@dataclass(frozen=True, slots=True)
class Voter:
    """One person on the roll. `selections` is None for an abstainer (on the roll, never casts)."""

    number: int
    credential: bytes
    """Drawn from the seed, then replaced by the one the credential authority's `roll import`
    drew (its outbox, parties.set_up): the seed fixes only who chooses what."""
    identity_check: str
    group: str
    assisted: bool
    selections: Mapping[str, tuple[int, ...]] | None

    def __post_init__(self) -> None:
        assert len(self.credential) == CREDENTIAL_SECRET_BYTES
        assert self.group in GROUPS, self.group

    def __repr__(self) -> str:
        return f"Voter({self.number}, <secret>)"


def definition(
    trustees: Sequence[election_pb2.Trustee], now_ms: int, election_id: str = ELECTION_ID
) -> election_pb2.ElectionCreate:
    """Two contests: a mayor (pick exactly 1 of 4) and a council (pick up to 2 of 5)."""
    assert len(trustees) == TRUSTEES, len(trustees)
    return election_pb2.ElectionCreate(
        election_id=election_id,
        title=TITLE,
        contests=[
            txbuild.contest("mayor", MAYOR, 1, 1, title="Mayor"),
            txbuild.contest("council", COUNCIL, 0, COUNCIL_MAX, title="Council (up to 2)"),
        ],
        window_start_ms=now_ms - WINDOW_LEAD_MS,
        window_end_ms=now_ms + WINDOW_MS,
        trustees=trustees,
        threshold=THRESHOLD,
        groups=GROUPS,
        deal_deadline_ms=now_ms + KEYGEN_DEADLINE_MS,
        complaint_window_ms=COMPLAINT_WINDOW_MS,
    )


def _birth_date(rng: random.Random) -> str:
    return f"{rng.randint(1930, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def make_voters(count: int, seed: int) -> tuple[Voter, ...]:
    """The roll: credentials, second factors, districts, casting mode and choices, all from `seed`."""
    assert count >= 1, count
    rng = random.Random(seed)
    voters = []
    for number in range(count):
        credential = rng.randbytes(CREDENTIAL_SECRET_BYTES)
        identity = _birth_date(rng)
        assisted = rng.randrange(100) < ASSISTED_PERCENT
        abstains = rng.randrange(100) < ABSTAIN_PERCENT
        mayor = (rng.randrange(len(MAYOR)),)
        council = tuple(sorted(rng.sample(range(len(COUNCIL)), rng.randint(0, COUNCIL_MAX))))
        selections = None if abstains else {"mayor": mayor, "council": council}
        voters.append(Voter(number, credential, identity, GROUPS[number % 2], assisted, selections))
    return tuple(voters)


def trustee_numbers() -> range:
    """The trustees' 1-based indices, as the definition orders them."""
    return range(1, TRUSTEES + 1)


def present_trustees() -> list[int]:
    """The trustees who decrypt: all but ABSENT_TRUSTEE."""
    return [k for k in trustee_numbers() if k != ABSENT_TRUSTEE]


def voter_id(voter: Voter) -> str:
    """The voter's id on the roll, in the outbox and in the notices' contacts."""
    return f"voter-{voter.number:05d}"


def casting(voters: Sequence[Voter]) -> list[Voter]:
    """The voters who cast, in roll order."""
    return [v for v in voters if v.selections is not None]


def expected_counts(
    election: election_pb2.ElectionCreate, voters: Sequence[Voter]
) -> tuple[tuple[int, ...], ...]:
    """Per contest (definition order), per choice: how many of the casting voters chose it."""
    counts = [[0] * len(contest.choices) for contest in election.contests]
    for voter in casting(voters):
        assert voter.selections is not None
        for at, contest in enumerate(election.contests):
            for choice in voter.selections.get(contest.id, ()):
                counts[at][choice] += 1
    return tuple(tuple(row) for row in counts)
