"""Key generation on the ledger: trustees' deals and complaints, and the open that ends it.

A dealer is qualified once it dealt (with a proof of knowledge for every commitment) and while no
complaint against it was proven. Deals stop when every trustee has dealt or at the definition's deal
deadline; complaints are heard for the complaint window after that (`votestore.keygen_schedule`).
Opening is refused before the window ends (KEYGEN_PENDING) and needs at least `threshold` qualified
dealers whose constant terms do not sum to the identity; it fixes the election key (the sum of their
constant-term commitments) and each qualified trustee's verification key, and freezes the roll.
"""

from __future__ import annotations

from election import state_keys
from election.definition import total_choices
from election.election_admin import open_ids, set_open_ids
from election.reasons import refuse
from election.tx_env import TxEnv
from election.view import StateView
from proto.votestore.v1 import election_pb2
from votestore.crypto import dkg, tally
from votestore.crypto.errors import ComplaintInvalid, DealInvalid
from votestore.encoding import canonical
from votestore.keygen_schedule import deals_accepted, open_allowed_from_ms


def stored_deal(view: StateView, election_id: str, dealer: int) -> election_pb2.DkgDeal | None:
    raw = view.get(state_keys.deal(election_id, dealer))
    return None if raw is None else election_pb2.DkgDeal.FromString(raw)


def dkg_deal(env: TxEnv, body: election_pb2.DkgDeal) -> None:
    record = env.election(body.election_id)
    env.require_phase(record, election_pb2.KEY_GENERATION)
    env.trustee(record, body.dealer)
    if env.view.get(state_keys.disqualified(body.election_id, body.dealer)) is not None:
        refuse(election_pb2.DISQUALIFIED, f"dealer {body.dealer} was disqualified")
    if env.view.get(state_keys.deal(body.election_id, body.dealer)) is not None:
        refuse(election_pb2.DUPLICATE, f"dealer {body.dealer} already dealt")
    if not deals_accepted(record, env.ctx.time_ms):
        refuse(election_pb2.OUTSIDE_WINDOW, f"deals ended at block time {record.definition.deal_deadline_ms}")
    env.require_stateless(record)

    env.view.put(state_keys.deal(body.election_id, body.dealer), canonical(env.tx.dkg_deal))
    record.qualified_dealers[:] = sorted([*record.qualified_dealers, body.dealer])
    if _dealt(env, record) == len(record.definition.trustees):
        record.deals_closed_ms = env.ctx.time_ms
    env.view.touch(body.election_id)


def _dealt(env: TxEnv, record: election_pb2.ElectionState) -> int:
    """Trustees who dealt, disqualified ones included (they may not deal again)."""
    trustees = range(1, len(record.definition.trustees) + 1)
    disqualified = sum(
        1 for i in trustees if env.view.get(state_keys.disqualified(record.definition.election_id, i))
    )
    return len(record.qualified_dealers) + disqualified


def dkg_complaint(env: TxEnv, body: election_pb2.DkgComplaint) -> None:
    record = env.election(body.election_id)
    env.require_phase(record, election_pb2.KEY_GENERATION)
    env.trustee(record, body.complainer)
    if body.dealer == body.complainer or not 1 <= body.dealer <= len(record.definition.trustees):
        refuse(election_pb2.MALFORMED, f"trustee {body.complainer} cannot complain of dealer {body.dealer}")
    deal = stored_deal(env.view, body.election_id, body.dealer)
    if deal is None:
        refuse(election_pb2.MALFORMED, f"dealer {body.dealer} has not dealt")
    if env.view.get(state_keys.disqualified(body.election_id, body.dealer)) is not None:
        refuse(election_pb2.DUPLICATE, f"dealer {body.dealer} is already disqualified")
    env.require_stateless(record)
    try:
        holds = dkg.complaint_holds(body.election_id, record.definition.trustees, deal, body)
    except ComplaintInvalid as exc:
        refuse(election_pb2.BAD_PROOF, f"complaint: {exc.reason}")
    if not holds:
        refuse(election_pb2.BAD_PROOF, f"false complaint: dealer {body.dealer}'s share opens and matches")

    env.view.put(state_keys.disqualified(body.election_id, body.dealer), str(body.complainer).encode())
    record.qualified_dealers.remove(body.dealer)
    env.view.touch(body.election_id)


def election_open(env: TxEnv, body: election_pb2.ElectionOpen) -> None:
    env.require_admin()
    record = env.election(body.election_id)
    env.require_phase(record, election_pb2.KEY_GENERATION)
    if env.ctx.time_ms >= record.definition.window_end_ms:
        refuse(election_pb2.OUTSIDE_WINDOW, "the voting window has already ended")
    qualified = list(record.qualified_dealers)
    if len(qualified) < record.definition.threshold:
        refuse(
            election_pb2.KEYGEN_INCOMPLETE,
            f"{len(qualified)} qualified dealers, threshold is {record.definition.threshold}",
        )
    if env.ctx.time_ms < open_allowed_from_ms(record):
        refuse(
            election_pb2.KEYGEN_PENDING,
            f"key generation runs until block time {open_allowed_from_ms(record)} (deals, then complaints)",
        )
    env.require_stateless(record)

    deals = []
    for dealer in qualified:
        deal = stored_deal(env.view, body.election_id, dealer)
        assert deal is not None, dealer
        deals.append(deal)
    try:
        election_key = dkg.election_key(deals)
    except DealInvalid as exc:
        refuse(election_pb2.KEYGEN_INCOMPLETE, exc.reason)

    for trustee in qualified:
        key = dkg.verification_key(deals, trustee)
        env.view.put(state_keys.verification_key(body.election_id, trustee), key)
    record.election_key = election_key
    record.aggregate.extend(tally.zero_ciphertext() for _ in range(total_choices(record.definition)))
    record.phase = election_pb2.OPEN
    record.opened_height = env.ctx.height
    env.view.touch(body.election_id)
    set_open_ids(env.view, [*open_ids(env.view), body.election_id])
