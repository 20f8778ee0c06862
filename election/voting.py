"""Ballots: the first valid ballot of a roll member inside the window counts; later ones are
refused as ALREADY_VOTED (the revote policy, stated in docs/election.md).

Per ballot: O(1) reads and one write (the voted marker); its ciphertexts join the running tally
held in the election record when the block's writes are taken (see view.py).

Checks run cheapest first — size, window, phase, roll, already voted, published as audited
(auditing.py; one lookup): microseconds — and the
signature and proofs (milliseconds) only for a ballot that passes them all, so a key off the roll
or a bloated ballot costs a validator no proof check (issue 18, attack 3).
"""

from __future__ import annotations

from election import state_keys
from election.auditing import refuse_if_audited
from election.reasons import refuse
from election.tx_env import TX_WRAPPER_MAX_BYTES, TxEnv
from proto.votestore.v1 import election_pb2
from votestore.crypto.ballot import encoded_ballot_bytes


def ballot(env: TxEnv, body: election_pb2.Ballot) -> None:
    record, group = ballot_checks(env, body)
    env.view.put(state_keys.voted(body.election_id, env.signer), env.tx_hash)
    selections = [s for contest in body.contests for s in contest.selections]
    assert len(selections) == len(record.aggregate), (len(selections), len(record.aggregate))
    env.view.add_to_tally(body.election_id, selections, env.tally_points)
    record.ballots += 1
    record.turnout[state_keys.decode_group(group)].ballots += 1


def ballot_checks(env: TxEnv, body: election_pb2.Ballot) -> tuple[election_pb2.ElectionState, bytes]:
    """The checks phase of `ballot`, run alone for the mempool (`ElectionApp.check_decoded`):
    refuses, or changes nothing. Returns the election record and the voter's roll entry."""
    record = env.election(body.election_id)
    definition = record.definition
    cap = encoded_ballot_bytes(definition) + TX_WRAPPER_MAX_BYTES
    size = len(env.envelope.body)
    if size > cap:
        refuse(election_pb2.MALFORMED, f"ballot of {size} bytes exceeds this election's {cap}")
    if not definition.window_start_ms <= env.ctx.time_ms < definition.window_end_ms:
        refuse(election_pb2.OUTSIDE_WINDOW, f"block time {env.ctx.time_ms} outside the voting window")
    env.require_phase(record, election_pb2.OPEN)
    group = env.view.get(state_keys.roll_entry(body.election_id, env.signer))
    if group is None:
        refuse(election_pb2.NOT_IN_ROLL, "signer's credential is not in the roll")
    if env.view.get(state_keys.voted(body.election_id, env.signer)) is not None:
        refuse(election_pb2.ALREADY_VOTED, "this credential has voted; the first ballot counts")
    refuse_if_audited(env, body)
    env.require_stateless(record)
    return record, group
