"""Priority of a tip in the dispatcher's queue (higher first): danger, the exit lists, repeated reports."""

from triage.analysis.register_rows import RegisterRow

# Illegal steel and unsafe works hurt people or the plan most directly; "other" is not the plan's business.
CATEGORY_BASE = {"tech": 3, "safety": 3, "env": 2, "energy": 2, "quality": 2, "other": 0}
URGENT = 5
SUSPECTED_RESTART = 3  # a 红牌 (closed) enterprise producing again
YELLOW_CARD = 1  # a 黄牌 enterprise under a rectification order
PER_DUPLICATE = 1
MAX_DUPLICATE_BONUS = 3


def priority_of(
    category: str, urgent: bool, suspected_restart: bool, firm: RegisterRow | None, duplicates: int
) -> int:
    score = CATEGORY_BASE.get(category, 1)
    if urgent:
        score += URGENT
    if suspected_restart:
        score += SUSPECTED_RESTART
    elif firm is not None and firm.exit_list == "黄牌":
        score += YELLOW_CARD
    return score + min(duplicates * PER_DUPLICATE, MAX_DUPLICATE_BONUS)
