"""The benchmark harness (scripts/bench) runs end to end in its smoke mode and prints its table.

Tiny sizes, one run, `rclone serve s3` only: this proves the harness works, not how fast anything is, so nothing
here looks at speeds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ("sdgui", "s5cmd", "rclone")


@pytest.mark.timeout(90)
def test_the_smoke_run_prints_a_row_per_workload_with_every_client(tmp_path: Path) -> None:
    rows_file = tmp_path / "rows.json"
    doc = tmp_path / "performance.md"
    result = subprocess.run(
        [sys.executable, "-m", "scripts.bench", "--smoke", "--doc", str(doc), "--json", str(rows_file),
         "--work", str(tmp_path), "--cache-dir", "none"],
        cwd=ROOT, capture_output=True, text=True, timeout=80,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    header = next(line for line in result.stdout.splitlines() if line.startswith("| workload |"))
    assert all(f" {client} |" in header for client in CLIENTS)
    assert "<!-- bench:begin smoke" in doc.read_text() and header in doc.read_text()

    rows = json.loads(rows_file.read_text())
    assert {row["workload"] for row in rows} == {"W1", "W1d", "W2", "W2d", "W3", "W4", "W5", "W6"}
    for row in rows:
        expected = [c for c in CLIENTS if c not in row["na"]]
        assert row["na"] == ({"s5cmd": "one endpoint per call"} if row["workload"] == "W4" else {}), row
        for client in expected:
            assert row["median"][client] is not None and row["median"][client] > 0, (row["label"], client)
            (run,) = row["runs"][client]
            assert 0 < run["wall_s"] < 60 and run["cpu_s"] >= 0 and run["maxrss_mb"] >= 0
        if row["metric"] == "wall":
            assert all(row["runs"][c][0]["maxrss_mb"] > 0 for c in ("sdgui", "rclone")), row["label"]
    assert not list(tmp_path.glob("sdgui-bench-*")), "the work dir is removed at the end"
