"""Duplicates among the recent tips the caller passes in: same enterprise, or nearly the same text."""

from collections.abc import Callable, Sequence

from rapidfuzz import fuzz

from triage.analysis.result import Duplicate, RecentTip

SIMILAR_TEXT = 85.0  # rapidfuzz ratio (0-100) above which two tips say the same thing


def find_duplicates(
    normalised_text: str,
    enterprise_uscc: str | None,
    recent: Sequence[RecentTip],
    normalise: Callable[[str], str],
) -> tuple[Duplicate, ...]:
    out: list[Duplicate] = []
    for tip in recent:
        similarity = fuzz.ratio(normalised_text, normalise(tip.text), score_cutoff=SIMILAR_TEXT) / 100
        if enterprise_uscc and tip.enterprise_uscc == enterprise_uscc:
            out.append(Duplicate(tip.id, "same_enterprise", round(similarity, 3)))
        elif similarity:
            out.append(Duplicate(tip.id, "similar_text", round(similarity, 3)))
    return tuple(sorted(out, key=lambda d: -d.similarity))
