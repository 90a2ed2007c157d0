"""What analysis takes in (Hints, RecentTip) and gives back (Analysis), as plain frozen dataclasses."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecentTip:
    id: str | int
    text: str
    enterprise_uscc: str | None = None


@dataclass(frozen=True)
class Hints:
    """What the channel knows besides the text: the form's place and enterprise fields, recent tips."""

    place: str = ""
    enterprise_name: str = ""
    channel: str = ""
    recent: list[RecentTip] = field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    text: str
    start: int  # offsets into the ORIGINAL text, [start, end)
    end: int
    for_: str  # "category", "subtype", "urgent", "county", "town" or "enterprise"

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "for": self.for_}


@dataclass(frozen=True)
class EnterpriseRef:
    uscc: str
    name: str
    score: float
    exit_list: str
    county_code: str


@dataclass(frozen=True)
class Duplicate:
    id: str | int
    reason: str  # "same_enterprise" or "similar_text"
    similarity: float


@dataclass(frozen=True)
class Analysis:
    category: str
    subtype: str
    urgent: bool
    confidence: float
    model: str  # model file id, or "rules-fallback"
    evidence: tuple[Evidence, ...]
    county_code: str | None
    town: str
    enterprise: EnterpriseRef | None
    enterprise_candidates: tuple[EnterpriseRef, ...]
    suspected_restart: bool
    priority: int
    duplicates: tuple[Duplicate, ...]
    lead_department: str
    co_handlers: tuple[str, ...]
    normalised_text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable, with a fixed key order."""
        return {
            "category": self.category,
            "subtype": self.subtype,
            "urgent": self.urgent,
            "confidence": round(self.confidence, 4),
            "model": self.model,
            "evidence": [e.to_dict() for e in self.evidence],
            "county_code": self.county_code,
            "town": self.town or None,
            "enterprise": asdict(self.enterprise) if self.enterprise else None,
            "enterprise_candidates": [asdict(c) for c in self.enterprise_candidates],
            "suspected_restart": self.suspected_restart,
            "priority": self.priority,
            "duplicates": [asdict(d) for d in self.duplicates],
            "lead_department": self.lead_department,
            "co_handlers": list(self.co_handlers),
            "normalised_text": self.normalised_text,
        }
