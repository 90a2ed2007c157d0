"""Shared fixtures for triage tests: the 30k register and an engine built once per session."""

import csv
from pathlib import Path

import pytest

from triage.analysis import RegisterRow, TriageEngine
from triage.analysis.engine import load_model_file
from triage.analysis.shared_engine import SHIPPED_MODEL

REGISTER_CSV = Path("/work/shared/data/enterprises.csv")
DATA = Path(__file__).resolve().parents[2] / "triage" / "data"


def read_register(path: Path = REGISTER_CSV) -> list[RegisterRow]:
    with path.open(encoding="utf-8") as fh:
        return [
            RegisterRow(r["uscc"], r["name"], r["county_code"], r["county"], r["town"], r["industry"],
                        r["exit_list"], r["reg_status"])
            for r in csv.DictReader(fh)
        ]  # fmt: skip


@pytest.fixture(scope="session")
def register() -> list[RegisterRow]:
    if not REGISTER_CSV.exists():
        pytest.skip("shared register not available")
    return read_register()


@pytest.fixture(scope="session")
def engine(register: list[RegisterRow]) -> TriageEngine:
    return TriageEngine(register, load_model_file(SHIPPED_MODEL))


@pytest.fixture(scope="session")
def rules_engine(register: list[RegisterRow]) -> TriageEngine:
    return TriageEngine(register, None)
