"""A real mouse drag (QDrag.exec, X drag and drop) from the local pane onto a bucket pane, under Xvfb.

The session's QApplication runs on ``offscreen``, where QDrag.exec returns at once, so the scenario
(tests/gui/_drag_scenario.py) runs in a subprocess on ``xcb``. It needs an X display: ``make test`` runs pytest
under ``xvfb-run``; without DISPLAY the test is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.copying import add_volume, read_object
from tests.servers import S3Server

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
FILES = {"one.txt": b"first file\n", "two.bin": os.urandom(300_000), "three.csv": b"a,b\n1,2\n"}
XCB_MISSING = ("could not load the qt platform plugin", "could not connect to display")


@pytest.fixture
def cloud(moto_s3: S3Server) -> Iterator[str]:
    moto_s3.ensure_running()
    bucket = moto_s3.new_bucket("drag")
    add_volume(moto_s3, bucket, "cloud")
    yield bucket
    moto_s3.delete_bucket(bucket)


def test_dragging_three_files_onto_the_bucket_pane_uploads_them(moto_s3: S3Server, cloud: str, tmp_path: Path) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display: run under xvfb-run (as `make test` does) for the real drag")
    local = tmp_path / "local"
    local.mkdir()
    for name, data in FILES.items():
        (local / name).write_bytes(data)
    (tmp_path / "home").mkdir()
    scenario = {
        "local": str(local),
        "bucket": cloud,
        "endpoint": moto_s3.endpoint,
        "access_key_id": moto_s3.access_key_id,
        "secret_access_key": moto_s3.secret_access_key,
        "settings_dir": str(tmp_path / "qsettings"),
    }
    env = {
        **os.environ,  # SDGUI_CONFIG_DIR (volume "cloud") and its secret come from the fixtures
        "QT_QPA_PLATFORM": "xcb",
        "HOME": str(tmp_path / "home"),
        "SDGUI_DRAG_SCENARIO": json.dumps(scenario),
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.gui._drag_scenario"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    output = f"exit {done.returncode}\n--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr[-4000:]}"
    if done.returncode != 0 and any(text in done.stderr.lower() for text in XCB_MISSING):
        pytest.skip(f"Qt cannot open an xcb window on DISPLAY={os.environ['DISPLAY']}: {done.stderr[-500:]}")

    assert done.returncode == 0, output
    lines = [line for line in done.stdout.splitlines() if line.startswith("DRAG-RESULT ")]
    assert lines, output
    result = json.loads(lines[-1].removeprefix("DRAG-RESULT "))
    assert result["platform"] == "xcb", output
    assert result["jobs"] == [
        {"state": "finished", "error": "", "move": False, "files": 3, "to": "cloud:"},
    ], output
    assert result["arrived_intact"] == dict.fromkeys(FILES, True), output
    assert set(FILES) <= set(result["right_pane"]), output
    for name, data in FILES.items():
        assert read_object(moto_s3, cloud, name) == data
        assert (local / name).read_bytes() == data  # a plain drag copies, it never moves
