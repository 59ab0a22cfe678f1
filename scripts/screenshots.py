"""Drive the real window on the demo S3 server and save what a person sees to docs/screenshots/.

    xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" .venv/bin/python scripts/screenshots.py

Shots: both panes listed (the active one framed, ".." on top), a pane with a name filter, a copy in progress, the
question closing asks while a transfer runs, a cancelled copy under its own tab, New folder on the demo volume (which
keeps no empty folders), the volume dialog after a successful test, a conflict prompt.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
_home = Path(tempfile.mkdtemp(prefix="sdgui-shots-"))
os.environ["SDGUI_CONFIG_DIR"] = str(_home / "config")
os.environ["SDGUI_DATA_DIR"] = str(_home / "data")
os.environ["HOME"] = str(_home / "home")

from PySide6.QtCore import QEventLoop  # noqa: E402
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QWidget  # noqa: E402

from sdgui.core.backends.base import Entry  # noqa: E402
from sdgui.core.paths import SdPath  # noqa: E402
from sdgui.core.volumes import VolumeRegistry  # noqa: E402
from sdgui.demo import DEMO_SECRET_ENV, DemoServer  # noqa: E402
from sdgui.gui.app import _seed_demo, apply_style  # noqa: E402
from sdgui.gui.dialogs.conflict_dialog import ConflictDialog  # noqa: E402
from sdgui.gui.dialogs.volume_dialog import VolumeDialog  # noqa: E402
from sdgui.gui.main_window import MainWindow  # noqa: E402
from sdgui.gui.quit_prompt import quit_box  # noqa: E402


def wait_for(app: QApplication, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def save(widget: QWidget, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    widget.grab().save(str(path))
    print(f"saved {path.relative_to(ROOT)}")


def main() -> int:
    app = QApplication(sys.argv)
    app.setApplicationName("sdgui")
    apply_style(app)
    home = Path(os.environ["HOME"])
    photos = home / "Pictures" / "2026"
    photos.mkdir(parents=True)
    for i, name in enumerate(["beach.jpg", "harbour.jpg", "mountains.jpg", "family.png", "notes.txt"]):
        (photos / name).write_bytes(os.urandom(200_000 + 150_000 * i))
    (home / "Videos").mkdir()
    (home / "Documents").mkdir()
    big = home / "Videos" / "holiday-2026.mkv"
    with big.open("wb") as handle:
        for _ in range(1536):
            handle.write(os.urandom(1 << 20))
    with DemoServer() as server:
        _seed_demo(server)
        window = MainWindow(right_location=SdPath.parse("demo:sample/"))
        window.left.set_location(SdPath(None, str(photos), True))
        window.resize(1280, 780)
        window.show()
        wait_for(app, lambda: window.left.model.match_count >= 5 and window.right.model.match_count >= 3)
        window.activateWindow()  # no window manager under Xvfb: an inactive window greys every selection
        wait_for(app, window.isActiveWindow)
        window.right.view.selectRow(2)  # the inactive pane's selection shows grey (row 0 is "..")
        window.left.view.selectRow(1)
        window.left.view.setFocus()
        app.processEvents()
        save(window, "panes.png")
        window.left.start_filter(".JPG")  # as typed in the list: the box opens with it, any case matches
        wait_for(app, lambda: window.left.model.match_count == 3)
        app.processEvents()
        save(window.left, "pane-filter.png")
        window.left.clear_filter()

        window.left.set_location(SdPath(None, str(big.parent), True))
        wait_for(app, lambda: window.left.model.rowCount() >= 1)
        [job_id] = window.start_copy([SdPath(None, str(big))], SdPath.parse("demo:videos/"), False)
        wait_for(app, lambda: window.jobs.state(job_id).bytes_done > 0.35 * big.stat().st_size, timeout=60)
        save(window, "copy-in-progress.png")
        prompt, _ = quit_box(window, [window.jobs.state(job_id)])  # what closing the window now would ask
        prompt.show()
        app.processEvents()
        save(prompt, "quit-prompt.png")
        prompt.reject()
        window.activateWindow()  # no window manager gives it back
        wait_for(app, window.isActiveWindow)
        wait_for(app, lambda: window.jobs.state(job_id).state in ("finished", "failed", "cancelled"), timeout=120)

        [cancelled] = window.start_copy([SdPath(None, str(big))], SdPath.parse("demo:videos-2/"), False)
        wait_for(app, lambda: window.jobs.state(cancelled).bytes_done > 0, timeout=60)
        window.jobs.cancel(cancelled)
        wait_for(app, lambda: window.jobs.state(cancelled).state == "cancelled", timeout=30)
        window.transfers.show_tab("Cancelled")
        app.processEvents()
        save(window, "transfers-cancelled.png")
        window.transfers.show_tab("Active")

        # New folder on the demo volume (rclone serve s3 keeps a folder marker as a file): the window says why.
        shown: list[QMessageBox] = []

        def information(parent: QWidget, title: str, text: str) -> None:
            box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
            box.show()
            shown.append(box)

        QInputDialog.getText = staticmethod(lambda *args, **kwargs: ("new-album", True))  # type: ignore[method-assign]
        QMessageBox.information = staticmethod(information)  # type: ignore[method-assign,assignment]
        window.right.view.setFocus()
        wait_for(app, lambda: window.active is window.right)
        window.new_folder()
        wait_for(app, lambda: bool(shown) and not window.right.model.is_loading)
        app.processEvents()
        save(shown[0], "new-folder-no-empty-folders.png")
        shown[0].close()

        dialog = VolumeDialog(window)
        dialog.provider.setCurrentIndex(dialog.provider.findData("minio"))
        dialog.name.setText("minio-lab")
        dialog.bucket.setText("demo")
        dialog.endpoint.setText(server.endpoint)
        dialog.allow_http.setChecked(True)
        dialog.access_key_id.setText(VolumeRegistry().get("demo").access_key_id or "")
        dialog.use_env.setChecked(True)
        dialog.env_name.setText(DEMO_SECRET_ENV)
        dialog.show()
        dialog.start_test()
        wait_for(app, lambda: "passed" in dialog.test_summary.text() or "Failed" in dialog.test_summary.text())
        app.processEvents()
        save(dialog, "volume-dialog.png")
        dialog.reject()

        now = datetime.now(UTC)
        conflict = ConflictDialog(
            window,
            "holiday-2026.mkv",
            "demo:videos/",
            Entry("holiday-2026.mkv", False, big.stat().st_size, now - timedelta(minutes=3)),
            Entry("videos/holiday-2026.mkv", False, big.stat().st_size, now),
        )
        conflict.show()
        app.processEvents()
        save(conflict, "conflict.png")
        conflict.reject()
        window.ask_before_quitting = False  # its transfers end without the prompt
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
