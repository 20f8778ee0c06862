"""The election definition file the demo's administrator writes (the format docs/admin.md
describes; `election create` reads it back with ops.cli.definition to the same record)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from proto.votestore.v1 import election_pb2


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _strings(values: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def definition_toml(record: election_pb2.ElectionCreate) -> str:
    """`record` (plan.definition's election, naming the parties' keys) as the definition file the
    administrator writes (docs/admin.md); `election create` reads it back to the same record."""
    parts = [
        f"id = {json.dumps(record.election_id)}\ntitle = {json.dumps(record.title, ensure_ascii=False)}\n"
        f"groups = {_strings(record.groups)}\nthreshold = {record.threshold}"
        + (f'\napp_bundle_sha256 = "{record.app_bundle_sha256.hex()}"' if record.app_bundle_sha256 else ""),
        f'[window]\nstart = "{_iso(record.window_start_ms)}"\nend = "{_iso(record.window_end_ms)}"',
        f'[keygen]\ndeal_deadline = "{_iso(record.deal_deadline_ms)}"\n'
        f'complaint_window = "{record.complaint_window_ms // 1000}s"',
    ]
    assert record.complaint_window_ms % 1000 == 0, record.complaint_window_ms
    for contest in record.contests:
        choices = ", ".join(
            f"{{ id = {json.dumps(c.id)}, label = {json.dumps(c.label, ensure_ascii=False)} }}"
            for c in contest.choices
        )
        title = json.dumps(contest.title, ensure_ascii=False)
        bounds = f"min = {contest.min_selections}\nmax = {contest.max_selections}"
        parts.append(
            f"[[contests]]\nid = {json.dumps(contest.id)}\ntitle = {title}\n{bounds}\nchoices = [{choices}]"
        )
    for trustee in record.trustees:
        parts.append(
            f"[[trustees]]\nname = {json.dumps(trustee.name, ensure_ascii=False)}\n"
            f'sign_key = "{trustee.sign_key.hex()}"\nenc_key = "{trustee.enc_key.hex()}"'
        )
    parts.append(
        f'[roles]\ncredential_authority = "{record.credential_authority.hex()}"\n'
        f'identity_provider = "{record.identity_provider.hex()}"'
    )
    return "\n\n".join(parts) + "\n"
