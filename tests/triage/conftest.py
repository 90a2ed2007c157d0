"""Shared fixtures for triage tests: the 30k register and an engine built once per session."""

import csv
import gzip
from pathlib import Path

import pytest

from triage.analysis import RegisterRow, TriageEngine
from triage.analysis.engine import load_model_file
from triage.analysis.shared_engine import SHIPPED_MODEL

ROOT = Path(__file__).resolve().parents[2]
# The 30k register of ../shared/data/enterprises.csv, carried in the project for the demo: always present.
REGISTER_GZ = ROOT / "hotline" / "demo_data" / "enterprises.csv.gz"
DATA = ROOT / "triage" / "data"


def read_register(path: Path = REGISTER_GZ) -> list[RegisterRow]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [
            RegisterRow(r["uscc"], r["name"], r["county_code"], r["county"], r["town"], r["industry"],
                        r["exit_list"], r["reg_status"], r["legal_rep"])
            for r in csv.DictReader(fh)
        ]  # fmt: skip


@pytest.fixture(scope="session")
def register() -> list[RegisterRow]:
    return read_register()


@pytest.fixture(scope="session")
def engine(register: list[RegisterRow]) -> TriageEngine:
    return TriageEngine(register, load_model_file(SHIPPED_MODEL))


@pytest.fixture(scope="session")
def rules_engine(register: list[RegisterRow]) -> TriageEngine:
    return TriageEngine(register, None)
