"""Duplicates among the recent tips the caller passes in: same enterprise, or nearly the same text."""

from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from triage.analysis.result import Duplicate, RecentTip

SIMILAR_TEXT = 85.0  # rapidfuzz ratio (0-100) above which two tips say the same thing


def find_duplicates(
    normalised_text: str,
    enterprise_uscc: str | None,
    recent: Sequence[RecentTip],
    normalise: Callable[[str], str],
) -> tuple[Duplicate, ...]:
    if not recent:
        return ()
    # Every recent text scored in one call (rapidfuzz's loop, not Python's); below the cutoff: 0.
    scores = process.cdist(
        [normalised_text],
        [normalise(tip.text) for tip in recent],
        scorer=fuzz.ratio,
        score_cutoff=SIMILAR_TEXT,
    )[0]
    same_firm = {
        i for i, tip in enumerate(recent) if enterprise_uscc and tip.enterprise_uscc == enterprise_uscc
    }
    out: list[Duplicate] = []
    for i in sorted(same_firm.union(np.flatnonzero(scores).tolist())):
        similarity = round(float(scores[i]) / 100, 3)
        out.append(
            Duplicate(recent[i].id, "same_enterprise" if i in same_firm else "similar_text", similarity)
        )
    return tuple(sorted(out, key=lambda d: -d.similarity))
