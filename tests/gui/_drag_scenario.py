"""A real mouse drag from the local pane to the bucket pane of a MainWindow on an X display (``xcb``).

Run by test_real_drag.py in a subprocess, so the test session's offscreen QApplication is left alone:

    QT_QPA_PLATFORM=xcb SDGUI_DRAG_SCENARIO='{...}' python -m tests.gui._drag_scenario

SDGUI_DRAG_SCENARIO holds the local folder, the bucket, the server's endpoint and credentials, and a folder for
QSettings; volume "cloud" must already be registered (SDGUI_CONFIG_DIR and its secret come through the
environment). Exit status 0 when every dragged file arrived on the server byte for byte, 1 when not, 2 when no X
window could be shown; the last line of output is ``DRAG-RESULT {json}``.
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore.config
from PySide6.QtCore import QCoreApplication, QEventLoop, QPoint, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from sdgui.core.paths import SdPath
from sdgui.gui.main_window import MainWindow

DEADLINE_S = 60.0


def wait_for(app: QApplication, what: str, condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Spin the event loop until ``condition`` holds; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def s3_client(config: dict[str, Any]) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=config["endpoint"],
        region_name="us-east-1",
        aws_access_key_id=config["access_key_id"],
        aws_secret_access_key=config["secret_access_key"],
        config=botocore.config.Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def drag(source_view: Any, start: QPoint, target_viewport: Any, target: QPoint) -> None:
    """Press on ``start``, move past the drag distance (QDrag.exec blocks here), and let a timer drop on ``target``."""

    def finish() -> None:
        QTest.mouseMove(target_viewport, target)
        QTest.mouseRelease(target_viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target)

    QTimer.singleShot(200, finish)
    viewport = source_view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + QPoint(QApplication.startDragDistance() + 20, 5))


def run(app: QApplication, config: dict[str, Any], result: dict[str, Any]) -> bool:
    local = Path(config["local"])
    names = sorted(path.name for path in local.iterdir())
    window = MainWindow(right_location=SdPath.parse("cloud:"))
    try:
        window.left.set_location(SdPath(None, str(local), True))
        screen = app.primaryScreen().availableGeometry()  # plain `xvfb-run` gives 640x480: stay on it
        window.setGeometry(
            screen.x() + 10, screen.y() + 10, min(1000, screen.width() - 20), min(600, screen.height() - 20)
        )
        window.show()
        window.raise_()
        window.activateWindow()
        if not QTest.qWaitForWindowExposed(window, 10_000):
            raise TimeoutError("the window was never exposed")
        left, right = window.left, window.right
        wait_for(app, "both panes to list", lambda: not left.model.is_loading and not right.model.is_loading)
        assert right.model.last_error is None, right.model.last_error
        assert sorted(left.model.names()) == names, (left.model.names(), names)

        left.view.setFocus()
        left.view.selectAll()
        start = left.view.visualRect(left.model.index(left.model.first_entry_row, 0)).center()  # not ".."
        target_viewport = right.view.viewport()
        target = QPoint(target_viewport.width() // 2, target_viewport.height() // 2)
        drag(left.view, start, target_viewport, target)

        wait_for(app, "the drop to start a job", lambda: bool(window.jobs.job_ids()), timeout_s=10.0)
        job_ids = window.jobs.job_ids()
        wait_for(app, "the job to end", lambda: all(window.jobs.state(j).is_ended for j in job_ids))
        states = [window.jobs.state(job_id) for job_id in job_ids]
        result["jobs"] = [
            {"state": s.state, "error": s.error, "move": s.move, "files": s.files_copied, "to": s.destination_text}
            for s in states
        ]
        client = s3_client(config)
        arrived = {
            name: client.get_object(Bucket=config["bucket"], Key=name)["Body"].read() == (local / name).read_bytes()
            for name in names
        }
        result["arrived_intact"] = arrived
        wait_for(app, "the bucket pane to show the files", lambda: set(names) <= right.model.names())
        result["right_pane"] = sorted(right.model.names())
        return all(s.state == "finished" for s in states) and all(arrived.values())
    finally:
        window.ask_before_quitting = False  # its transfers end without the prompt
        window.close()
        window.deleteLater()
        app.processEvents()


def main() -> int:
    faulthandler.dump_traceback_later(DEADLINE_S, exit=True)  # a drag that never drops must not hang the suite
    config = json.loads(os.environ["SDGUI_DRAG_SCENARIO"])
    app = QApplication(sys.argv[:1])
    QCoreApplication.setOrganizationName("sdgui-tests")
    QCoreApplication.setApplicationName("real-drag")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, config["settings_dir"])
    result: dict[str, Any] = {"platform": app.platformName()}
    if app.platformName() != "xcb":
        print(f"DRAG-RESULT {json.dumps(result)}", flush=True)
        return 2
    try:
        ok = run(app, config, result)
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        ok = False
    print(f"DRAG-RESULT {json.dumps(result)}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
