"""Mark the triage evidence inside a tip's text as safe HTML (<mark>), escaping everything else."""

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

EVIDENCE_FOR = {
    "category": "类别依据",
    "subtype": "子类依据",
    "urgent": "紧急依据",
    "county": "县区依据",
    "town": "镇街依据",
    "enterprise": "企业依据",
}


def _span(text: str, item: Mapping[str, Any]) -> tuple[int, int] | None:
    """The span of one evidence item in `text`, or None when it cannot be placed.

    Offsets come from the analysis of the original text; when they do not match (an older analysis, or
    offsets into the normalised text), the quoted words are searched for instead of marking wrong ones.
    """
    quoted = str(item.get("text") or "")
    start, end = item.get("start"), item.get("end")
    if (
        isinstance(start, int)
        and isinstance(end, int)
        and 0 <= start < end <= len(text)
        and (not quoted or text[start:end] == quoted)
    ):
        return start, end
    if quoted:
        found = text.find(quoted)
        if found >= 0:
            return found, found + len(quoted)
    return None


def highlight_evidence(text: str, evidence: Iterable[Mapping[str, Any]] | None) -> Markup:
    """The text as HTML with each evidence span in <mark>; overlapping spans merge into one mark."""
    covers: list[set[str]] = [set() for _ in text]
    for item in evidence or ():
        if not isinstance(item, Mapping):
            continue
        span = _span(text, item)
        if span is None:
            continue
        reason = str(item.get("for") or "")
        for i in range(*span):
            covers[i].add(reason)
    parts: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and covers[j] == covers[i]:
            j += 1
        chunk = escape(text[i:j])
        if covers[i]:
            title = "、".join(EVIDENCE_FOR.get(r, r) for r in sorted(covers[i]) if r) or "依据"
            kinds = " ".join(sorted(r for r in covers[i] if r))
            parts.append(f'<mark data-for="{escape(kinds)}" title="{escape(title)}">{chunk}</mark>')
        else:
            parts.append(str(chunk))
        i = j
    return Markup("".join(parts))
