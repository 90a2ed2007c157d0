"""`hotline triage`, run as the real command in a process of its own: JSON Lines in, one line out per line in,
in the contract of DESIGN.md ("Interfaces"), against the register imported into the configured database."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.settings import Settings
from tests.factories import import_register, register_row
from triage.analysis import index_cache

CONTRACT = {
    "id",
    "category",
    "subtype",
    "department",
    "county",
    "enterprise_uscc",
    "urgent",
    "confidence",
    "evidence",
}


def hotline_triage(settings: Settings, lines: list[str]) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_DATA_DIR": str(settings.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from hotline.cli import run; run()", "triage"],
        input="\n".join(lines) + "\n", env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_each_line_in_gets_one_line_out_in_the_contract(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    hongda = register_row(1, "东源县宏达钢铁有限公司")
    import_register(sessions, tmp_path / "register.csv", hongda)
    report = "上莞镇宏达钢铁半夜开中频炉炼钢，烟很大"
    lines = [
        json.dumps({"id": "a1", "text": report, "channel": "web", "extra": [1, 2]}, ensure_ascii=False),
        json.dumps(
            {"id": 7, "text": "昨天打12345，接线员态度特别好，耐心帮我查了社保的问题，表扬一下她"},
            ensure_ascii=False,
        ),
        "{not json",
        json.dumps({"id": "blank", "text": "   "}),
        json.dumps(["a", "list"]),
    ]
    out = hotline_triage(settings, lines)

    assert len(out) == len(lines)
    steel, praise, broken, blank, listed = out
    assert set(steel) == CONTRACT and set(praise) == CONTRACT  # other fields of a line are not echoed
    assert (steel["id"], steel["category"], steel["subtype"], steel["department"]) == (
        "a1",
        "tech",
        "ditiaogang",
        "miit",
    )
    assert (steel["county"], steel["enterprise_uscc"], steel["urgent"]) == ("441625", hongda[0], False)
    assert 0 < steel["confidence"] <= 1
    for evidence in steel["evidence"]:  # spans in the text as the citizen wrote it
        assert report[evidence["start"] : evidence["end"]] == evidence["text"]
    assert {"enterprise", "subtype"} <= {e["for"] for e in steel["evidence"]}
    assert (praise["id"], praise["category"], praise["subtype"], praise["department"]) == (
        7,
        "other",
        "other",
        "hotline",
    )
    assert (praise["county"], praise["enterprise_uscc"]) == (None, None)
    assert broken["id"] is None and broken["error"].startswith("invalid JSON")
    assert blank == {"id": "blank", "error": "missing or empty text"}
    assert listed["id"] is None and "not a JSON object" in listed["error"]
    # The register's index was built once and cached: the next run starts from it.
    assert list(
        (settings.data_dir / index_cache.CACHE_DIR).glob(f"{index_cache.PREFIX}*{index_cache.SUFFIX}")
    )
    assert hotline_triage(settings, lines[:1]) == [steel]
