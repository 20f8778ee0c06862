"""One pass over every source: fetch in chunks of heights, check, report.

Chunks bound memory (every node's blocks of one chunk at a time) and let all nodes' versions of a
height be compared together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from tools.verify.nodes import Report
from tools.verify.snapshot import Reach
from tools.verify.sources import Source, SourceDown
from tools.verify.verifier import LAG_TOLERANCE_BLOCKS, Verifier
from votestore.genesis import Genesis

CHUNK_BLOCKS: Final = 256


def verify_once(
    genesis: Genesis,
    sources: Sequence[Source],
    *,
    workers: int = 1,
    lag_tolerance: int = LAG_TOLERANCE_BLOCKS,
    chunk_blocks: int = CHUNK_BLOCKS,
) -> Report:
    assert chunk_blocks >= 1, chunk_blocks
    verifier = Verifier(genesis, workers=workers, lag_tolerance=lag_tolerance)
    try:
        infos = {s.name: s.info(genesis) for s in sources}
        for info in infos.values():
            verifier.set_node(info)
        top = max((i.height for i in infos.values() if i.reach == Reach.UP), default=0)
        for first in range(1, top + 1, chunk_blocks):
            last = min(top, first + chunk_blocks - 1)
            for source in sources:
                info = infos[source.name]
                if info.reach != Reach.UP or info.height < first:
                    continue
                through = min(last, info.height)
                try:
                    verifier.add_blocks(source.name, source.blocks(first, through), through)
                except SourceDown as exc:
                    info = dataclasses.replace(info, reach=Reach.DOWN, detail=f"went down: {exc}")
                    infos[source.name] = info
                    verifier.set_node(info)
            verifier.advance()
        verifier.advance()
        return verifier.report()
    finally:
        verifier.close()
