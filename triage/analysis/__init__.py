"""Tip analysis: pure functions over text and an in-memory index of the enterprise register."""

from triage.analysis.engine import Engine, TriageEngine
from triage.analysis.linear import TextModel
from triage.analysis.register_rows import RegisterRow, load_register, register_fingerprint
from triage.analysis.result import Analysis, Duplicate, EnterpriseRef, Evidence, Hints, RecentTip
from triage.analysis.shared_engine import analyse, configure, current_engine, resolve_model_path

__all__ = [
    "Analysis",
    "Duplicate",
    "Engine",
    "EnterpriseRef",
    "Evidence",
    "Hints",
    "RecentTip",
    "RegisterRow",
    "TextModel",
    "TriageEngine",
    "analyse",
    "configure",
    "current_engine",
    "load_register",
    "register_fingerprint",
    "resolve_model_path",
]
