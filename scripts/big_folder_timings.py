"""A real window over a big prefix on SeaweedFS: time to the first rows, to the whole listing, End and the scroll
bar's bottom, and the GUI thread's longest stall meanwhile (what issue 11 asks the note to report).

    xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" .venv/bin/python scripts/big_folder_timings.py [--count N]

The prefix is seeded once, as `make bench` seeds W5's (s5cmd, then a cached data dir under .cache/bench), so a later
run starts in seconds. Figures, not assertions: the tests in tests/gui/test_big_folder.py hold the limits.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_home = Path(tempfile.mkdtemp(prefix="sdgui-big-folder-"))
os.environ["SDGUI_CONFIG_DIR"] = str(_home / "config")
os.environ["SDGUI_DATA_DIR"] = str(_home / "data")
os.environ["XDG_CONFIG_HOME"] = str(_home / "xdg")  # QSettings (tabs, bookmarks) of this run only

from PySide6.QtCore import QEventLoop, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from scripts.bench.__main__ import seaweed_with_many  # noqa: E402
from scripts.bench.workloads import MANY_PREFIX  # noqa: E402
from sdgui.core.paths import SdPath  # noqa: E402
from sdgui.core.volumes import VolumeConfig, VolumeRegistry  # noqa: E402
from sdgui.gui.main_window import MainWindow  # noqa: E402
from tests.gui.test_big_folder import Heartbeat  # noqa: E402

SECRET_ENV = "SDGUI_BIG_FOLDER_SECRET"


def wait_for(app: QApplication, condition: object, timeout_s: float = 600.0) -> float:
    """Process events until ``condition()`` holds; the seconds it took."""
    started = time.perf_counter()
    while not condition():  # type: ignore[operator]
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError("the window did not get there in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    work = _home / "server"
    server = seaweed_with_many(work, args.count, ROOT / ".cache" / "bench", _home / "seed.log")
    try:
        os.environ[SECRET_ENV] = server.secret_key
        registry = VolumeRegistry()
        registry.add(
            VolumeConfig(
                "big",
                "s3",
                bucket="bench",
                endpoint=server.endpoint,
                access_key_id=server.access_key,
                secret_env=SECRET_ENV,
                allow_http=True,
            )
        )
        registry.save()
        app = QApplication(sys.argv)
        window = MainWindow(right_location=SdPath(None, str(_home), True))
        window.ask_before_quitting = False
        window.resize(1280, 780)
        window.show()
        pane = window.right
        wait_for(app, lambda: not pane.model.is_loading)
        pane.view.setFocus()
        first: list[float] = []
        pane.model.rowsInserted.connect(lambda *_: first.append(time.perf_counter()) if not first else None)
        with Heartbeat() as beat:
            started = time.perf_counter()
            pane.set_location(SdPath.parse(f"big:{MANY_PREFIX}/"))
            wait_for(app, lambda: bool(first))
            first_rows = first[0] - started
            wait_for(app, lambda: not pane.model.is_loading)
            listed = time.perf_counter() - started
            model, view = pane.model, pane.view
            began = time.perf_counter()
            QTest.keyClick(view, Qt.Key.Key_End)
            app.processEvents()
            end_s = time.perf_counter() - began
            assert view.currentIndex().row() == model.rowCount() - 1
            QTest.keyClick(view, Qt.Key.Key_Home)
            bar = view.verticalScrollBar()
            began = time.perf_counter()
            bar.setValue(bar.maximum())
            app.processEvents()
            bottom_s = time.perf_counter() - began
            bottom_row = view.rowAt(view.viewport().height() - 2)
        print(
            f"{args.count:,} objects on SeaweedFS: first rows after {first_rows * 1000:.0f} ms, all listed after "
            f"{listed:.1f} s ({model.total_count:,} entries), End {end_s * 1000:.0f} ms, scroll bar to the bottom "
            f"{bottom_s * 1000:.0f} ms (row {bottom_row:,} in view); {beat.summary()}"
        )
        window.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
