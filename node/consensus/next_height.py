"""Messages for height + 1 that arrive before this node has decided its current height.

They wait, per sender, until the decision, and are then replayed. The buffer keeps only what a
correct sender could have sent for that height: per round at most one proposal, one prevote and
one precommit (a *slot* each). A second, different message for a taken slot is equivocation — for
a vote it is evidence, handed back once per slot — and is not kept, so a flood of distinct signed
votes and proposals (issue 19, item 3) holds one message a slot, not the whole buffer.

Bounds (TIGER_STYLE), per sender: `messages` slots and `max_bytes` bytes (every message counts
`MESSAGE_OVERHEAD_BYTES` plus its payload). When a message does not fit, the sender's messages of
its highest round held are evicted while that round is above the newcomer's: a correct sender
reaches a round only through the lower ones, and the lowest rounds are what the next height
needs first (its round-0 proposal above all), so a sender's own junk for far rounds never crowds
out its round-0 messages. Nothing one sender sends touches another sender's buffer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, auto
from typing import Final

from node.consensus.messages import Proposal, Vote, VoteType

MESSAGE_OVERHEAD_BYTES: Final = 256
"""What a buffered message counts for beyond its payload (fields, signature, the entry)."""

PROPOSAL_SLOT: Final = 0
"""A slot's kind for a proposal; a vote's is its `VoteType` (1, 2)."""

Slot = tuple[int, int]
"""(round, kind): PROPOSAL_SLOT or the vote's type."""


class Outcome(Enum):
    """What `NextHeightBuffer.add` did with a message."""

    KEPT = auto()
    DUPLICATE = auto()
    """The very message is held already."""
    CONFLICT = auto()
    """Its slot holds another message of the sender: equivocation, not kept."""
    FULL = auto()
    """No room, and nothing of a higher round to evict for it."""


@dataclass(frozen=True, slots=True)
class Added:
    outcome: Outcome
    evidence: Vote | None = None
    """For the first conflicting vote of a slot: the vote already held (the pair is evidence)."""
    evicted: int = 0
    """Messages of higher rounds given up to make room."""


def sender(message: Proposal | Vote) -> int:
    return message.validator if isinstance(message, Vote) else message.proposer


def slot(message: Proposal | Vote) -> Slot:
    return (message.round, int(message.type) if isinstance(message, Vote) else PROPOSAL_SLOT)


def size(message: Proposal | Vote) -> int:
    return MESSAGE_OVERHEAD_BYTES + (len(message.payload) if isinstance(message, Proposal) else 0)


class _SenderBuffer:
    """One sender's slots and the bytes they hold."""

    __slots__ = ("bytes", "evidenced", "held")

    def __init__(self) -> None:
        self.held: dict[Slot, Proposal | Vote] = {}
        self.bytes = 0
        # Slots whose conflict was handed back as evidence: once per slot, as at the current height.
        self.evidenced: set[Slot] = set()

    def evict_highest(self) -> None:
        highest = max(self.held)
        self.bytes -= size(self.held.pop(highest))


class NextHeightBuffer:
    """Per-sender, slot-limited, byte-bounded store of early messages for one height."""

    def __init__(self, *, messages: int, max_bytes: int, max_rounds: int) -> None:
        assert messages > 0 and max_rounds > 0
        assert max_bytes >= messages * MESSAGE_OVERHEAD_BYTES
        self._messages = messages
        self._max_bytes = max_bytes
        self._max_rounds = max_rounds
        self._senders: dict[int, _SenderBuffer] = {}

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    def __contains__(self, message: Proposal | Vote) -> bool:
        held = self._senders.get(sender(message))
        return held is not None and held.held.get(slot(message)) == message

    def add(self, message: Proposal | Vote) -> Added:
        assert 0 <= message.round < self._max_rounds
        buffer = self._senders.setdefault(sender(message), _SenderBuffer())
        key = slot(message)
        earlier = buffer.held.get(key)
        if earlier is not None:
            if earlier == message:
                return Added(Outcome.DUPLICATE)
            if isinstance(earlier, Vote) and key not in buffer.evidenced:
                buffer.evidenced.add(key)
                return Added(Outcome.CONFLICT, evidence=earlier)
            return Added(Outcome.CONFLICT)
        need = size(message)
        if not self._room_after_eviction(buffer, message.round, need):
            return Added(Outcome.FULL)
        evicted = 0
        while len(buffer.held) >= self._messages or buffer.bytes + need > self._max_bytes:
            assert max(buffer.held)[0] > message.round
            buffer.evict_highest()
            evicted += 1
        buffer.held[key] = message
        buffer.bytes += need
        self._check(buffer)
        return Added(Outcome.KEPT, evicted=evicted)

    def _room_after_eviction(self, buffer: _SenderBuffer, round_: int, need: int) -> bool:
        """Whether the sender's messages of rounds above `round_`, evicted, would make room for
        `need` more bytes in one more slot (nothing is evicted for a message that would not fit)."""
        higher = [message for (r, _), message in buffer.held.items() if r > round_]
        count = len(buffer.held) - len(higher)
        held_bytes = buffer.bytes - sum(size(message) for message in higher)
        return count < self._messages and held_bytes + need <= self._max_bytes

    def evidenced(self) -> Iterator[tuple[int, int, int]]:
        """(round, vote type, validator) of every slot whose conflict was handed back."""
        for validator, buffer in self._senders.items():
            for round_, kind in buffer.evidenced:
                yield round_, kind, validator

    def drain(self) -> list[Proposal | Vote]:
        """Everything held, lowest round first per sender, proposals before votes; then empty."""
        out = [buffer.held[key] for _, buffer in sorted(self._senders.items()) for key in sorted(buffer.held)]
        self._senders.clear()
        return out

    def held(self, validator: int) -> int:
        """How many messages the buffer holds from `validator`."""
        buffer = self._senders.get(validator)
        return 0 if buffer is None else len(buffer.held)

    def held_bytes(self, validator: int) -> int:
        buffer = self._senders.get(validator)
        return 0 if buffer is None else buffer.bytes

    def check(self) -> None:
        for buffer in self._senders.values():
            self._check(buffer)

    def _check(self, buffer: _SenderBuffer) -> None:
        assert len(buffer.held) <= self._messages
        assert 0 <= buffer.bytes <= self._max_bytes
        assert len(buffer.evidenced) <= 2 * self._max_rounds
        assert all(kind in (PROPOSAL_SLOT, VoteType.PREVOTE, VoteType.PRECOMMIT) for _, kind in buffer.held)
