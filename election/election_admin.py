"""Administrator transactions: create an election and close it — and the close that block time
makes on its own once the window has ended; and the credential authority's roll appends.

The roll may change only while the election is in KEY_GENERATION: opening freezes it (Helios issue
55: a roll that changes mid-election lets an administrator stuff ballots).
"""

from __future__ import annotations

from election import state_keys
from election.definition import check_definition, roll_groups
from election.policy import MAX_ELECTIONS, MAX_ROLL_BATCH_ENTRIES, BlockContext
from election.reasons import refuse
from election.tx_env import TxEnv
from election.view import StateView
from proto.votestore.v1 import election_pb2
from votestore.encoding import PUBLIC_KEY_BYTES


def election_create(env: TxEnv, body: election_pb2.ElectionCreate) -> None:
    env.require_admin()
    check_definition(env.policy, body, env.ctx.time_ms)
    if env.view.election(body.election_id) is not None:
        refuse(election_pb2.DUPLICATE, f"election {body.election_id!r} already exists")
    ids = state_keys.decode_ids(env.view.get(state_keys.ELECTIONS))
    if len(ids) >= MAX_ELECTIONS:
        refuse(election_pb2.BAD_DEFINITION, f"the chain already holds {MAX_ELECTIONS} elections")
    env.require_stateless(None)

    record = election_pb2.ElectionState(definition=body, phase=election_pb2.KEY_GENERATION)
    record.turnout.extend(election_pb2.GroupTurnout(group=g) for g in roll_groups(body))
    env.view.put_election(record)
    env.view.put(state_keys.ELECTIONS, state_keys.encode_ids([*ids, body.election_id]))


def roll_append(env: TxEnv, body: election_pb2.RollAppend) -> None:
    """Only the election's credential authority appends: it drew the credentials, so a key it
    did not sign for (an administrator's stand-in for an abstainer) never reaches the roll."""
    record = env.election(body.election_id)
    if env.signer != record.definition.credential_authority:
        refuse(election_pb2.NOT_AUTHORIZED, "signer is not this election's credential authority")
    env.require_phase(record, election_pb2.KEY_GENERATION)
    if body.batch != record.roll_batches:
        refuse(election_pb2.OUT_OF_ORDER, f"roll batch {body.batch}, expected {record.roll_batches}")
    if not 1 <= len(body.entries) <= MAX_ROLL_BATCH_ENTRIES:
        refuse(
            election_pb2.MALFORMED, f"{len(body.entries)} roll entries, allowed 1..{MAX_ROLL_BATCH_ENTRIES}"
        )
    turnout_at = {t.group: i for i, t in enumerate(record.turnout)}
    seen: set[bytes] = set()
    for entry in body.entries:
        if len(entry.credential_key) != PUBLIC_KEY_BYTES:
            refuse(election_pb2.MALFORMED, f"credential key must be {PUBLIC_KEY_BYTES} bytes")
        if entry.group not in turnout_at:
            refuse(election_pb2.BAD_DEFINITION, f"roll group {entry.group[:64]!r} is not declared")
        if entry.credential_key in seen or env.view.get(
            state_keys.roll_entry(body.election_id, entry.credential_key)
        ):
            refuse(election_pb2.DUPLICATE, f"credential {entry.credential_key.hex()[:16]}… already in roll")
        seen.add(entry.credential_key)
    env.require_stateless(record)

    for entry in body.entries:
        env.view.put(
            state_keys.roll_entry(body.election_id, entry.credential_key),
            state_keys.encode_group(turnout_at[entry.group]),
        )
        record.turnout[turnout_at[entry.group]].roll_size += 1
    record.roll_size += len(body.entries)
    record.roll_batches += 1
    env.view.touch(body.election_id)


def election_close(env: TxEnv, body: election_pb2.ElectionClose) -> None:
    env.require_admin()
    record = env.election(body.election_id)
    env.require_phase(record, election_pb2.OPEN)
    env.require_stateless(record)
    # Ballots earlier in this block are counted, later ones refused: the final aggregate is the
    # state after this block.
    close(env.view, record, env.ctx.height)


def close(view: StateView, record: election_pb2.ElectionState, tally_height: int) -> None:
    assert record.phase == election_pb2.OPEN, record.phase
    election_id = record.definition.election_id
    record.phase = election_pb2.CLOSED
    record.tally_height = tally_height
    view.touch(election_id)
    set_open_ids(view, [i for i in open_ids(view) if i != election_id])


def close_expired(view: StateView, ctx: BlockContext) -> None:
    """At the start of a block whose time has reached an open election's window end, close it.

    No transaction of this block ran yet, so the final aggregate is the one the state after the
    previous block holds: the tally height is ctx.height - 1.
    """
    for election_id in open_ids(view):
        record = view.election(election_id)
        assert record is not None, election_id
        if ctx.time_ms >= record.definition.window_end_ms:
            close(view, record, ctx.height - 1)


def open_ids(view: StateView) -> list[str]:
    return state_keys.decode_ids(view.get(state_keys.OPEN_ELECTIONS))


def set_open_ids(view: StateView, ids: list[str]) -> None:
    view.put(state_keys.OPEN_ELECTIONS, state_keys.encode_ids(ids))
