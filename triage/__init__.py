"""triage package."""

from typing import Any

# The analysis API, loaded on first use so `import triage.routing` stays light (no jieba, numpy, models).
_ANALYSIS_EXPORTS = (
    "Analysis",
    "Engine",
    "Hints",
    "RecentTip",
    "RegisterRow",
    "TriageEngine",
    "analyse",
    "load_register",
    "register_fingerprint",
)
__all__ = list(_ANALYSIS_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _ANALYSIS_EXPORTS:
        from triage import analysis

        return getattr(analysis, name)
    raise AttributeError(f"module 'triage' has no attribute {name!r}")
