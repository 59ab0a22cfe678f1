"""Drive the real window on the demo S3 server and save what a person sees to docs/screenshots/.

    xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" .venv/bin/python scripts/screenshots.py [--dialogs]

Shots: both panes listed (the active one framed, ".." on top, a second tab open on each side, the toolbar), a pane
with a name filter, the bookmarks drop-down beside a path bar, Help → About, a copy in progress, the question closing
asks while a transfer runs, a cancelled copy under its own tab, New folder on the demo volume (which keeps no empty
folders), the volume dialog after a successful test and on a machine without a keyring, Preferences, the conflict
prompt a second copy of the video meets, the Properties dialog of a cloud object, the share-link menu. ``--dialogs``
takes only the dialogs' shots (no big copies).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
_home = Path(tempfile.mkdtemp(prefix="sdgui-shots-"))
os.environ["SDGUI_CONFIG_DIR"] = str(_home / "config")
os.environ["SDGUI_DATA_DIR"] = str(_home / "data")
os.environ["HOME"] = str(_home / "home")

import keyring  # noqa: E402
from keyring.backends import fail  # noqa: E402
from PySide6.QtCore import QEventLoop, QPoint, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QMessageBox, QToolButton, QWidget  # noqa: E402

from sdgui.core.paths import SdPath  # noqa: E402
from sdgui.core.volumes import VolumeRegistry  # noqa: E402
from sdgui.demo import DEMO_SECRET_ENV, DemoServer  # noqa: E402
from sdgui.gui.app import _seed_demo, apply_style  # noqa: E402
from sdgui.gui.bookmarks import Bookmark  # noqa: E402
from sdgui.gui.dialogs.conflict_dialog import ConflictDialog  # noqa: E402
from sdgui.gui.dialogs.preferences_dialog import PreferencesDialog  # noqa: E402
from sdgui.gui.dialogs.volume_dialog import VolumeDialog  # noqa: E402
from sdgui.gui.help_menu import show_about  # noqa: E402
from sdgui.gui.main_window import MainWindow  # noqa: E402
from sdgui.gui.quit_prompt import quit_box  # noqa: E402


def wait_for(app: QApplication, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def start_copy(app: QApplication, window: MainWindow, sources: list[SdPath], destination: SdPath) -> list[str]:
    """The window's copy gesture; the ids of the jobs it queued once it has looked at the destination."""
    submitted: list[list[str]] = []
    window.copy_requests.submitted.connect(submitted.append)
    window.start_copy(sources, destination, False)
    wait_for(app, lambda: bool(submitted))
    window.copy_requests.submitted.disconnect(submitted.append)
    return submitted[0]


def save(widget: QWidget, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    widget.grab().save(str(path))
    print(f"saved {path.relative_to(ROOT)}")


def object_commands(app: QApplication, window: MainWindow) -> None:
    """The Properties dialog (F3) of the first object of demo:sample/ in the right pane, and its share links."""
    pane = window.right
    pane.set_location(SdPath.parse("demo:sample/"))
    wait_for(app, lambda: not pane.model.is_loading and pane.model.rowCount() >= 3)
    name = next(entry.name for entry in pane.model.row_entries() if not entry.is_dir)
    window.activateWindow()
    wait_for(app, window.isActiveWindow)
    pane.view.setFocus()
    wait_for(app, lambda: window.active is pane)
    first = pane.model.first_entry_row
    rows = {entry.name: first + i for i, entry in enumerate(pane.model.row_entries())}
    pane.view.selectRow(rows[name])
    dialog = window.show_properties()
    assert dialog is not None
    wait_for(app, lambda: dialog.properties is not None or bool(dialog.status.text().strip(" Reading…")))
    dialog.adjustSize()
    app.processEvents()
    save(dialog, "properties-cloud-object.png")
    dialog.close()
    window.activateWindow()
    wait_for(app, window.isActiveWindow)

    rect = pane.view.visualRect(pane.model.index(rows[name], 0))
    pane.view.customContextMenuRequested.emit(rect.center())
    menu = window.context_menu
    wait_for(app, menu.isVisible)
    [links] = [a for a in menu.actions() if a.menu() is not None]
    menu.setActiveAction(links)
    submenu = links.menu()
    assert isinstance(submenu, QMenu)
    submenu.popup(menu.mapToGlobal(QPoint(menu.width() - 4, menu.actionGeometry(links).top())))
    wait_for(app, submenu.isVisible)
    app.processEvents()
    # The menus are windows of their own: grab the screen, cut to the pane around them.
    area = menu.geometry().united(submenu.geometry()).adjusted(-360, -90, 30, 30)
    OUT.mkdir(parents=True, exist_ok=True)
    QGuiApplication.primaryScreen().grabWindow(0).copy(area).save(str(OUT / "share-link-menu.png"))
    print("saved docs/screenshots/share-link-menu.png")
    submenu.close()
    menu.close()


def shoot_bookmarks_drop_down(app: QApplication, window: MainWindow) -> None:
    """The window with the left pane's bookmarks drop-down open (its menu runs its own loop: shoot from inside)."""
    button = window.left.findChild(QToolButton, "bookmarksButton")
    assert isinstance(button, QToolButton)

    def shoot() -> None:
        menu = button.menu()
        if menu is None or not menu.isVisible():
            QTimer.singleShot(50, shoot)
            return
        menu.setActiveAction(menu.actions()[0])
        app.processEvents()
        screen = window.screen().grabWindow(0)
        frame = window.frameGeometry().united(menu.geometry())
        OUT.mkdir(parents=True, exist_ok=True)
        screen.copy(frame.intersected(screen.rect())).save(str(OUT / "bookmarks.png"))
        print("saved docs/screenshots/bookmarks.png")
        menu.close()

    QTimer.singleShot(100, shoot)
    button.showMenu()


def shoot_about(app: QApplication, window: MainWindow) -> None:
    """Help → About sdgui (its lines are gathered off the GUI thread; the box is modal: shoot from inside)."""

    def shoot() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, shoot)
            return
        app.processEvents()
        save(box, "about.png")
        box.accept()

    QTimer.singleShot(100, shoot)
    show_about(window)
    wait_for(app, lambda: QApplication.activeModalWidget() is None)


def window_shots(app: QApplication, window: MainWindow, big: Path) -> None:
    """A copy in progress, the quit prompt, a cancelled copy, New folder on the demo volume."""
    window.left.set_location(SdPath(None, str(big.parent), True))
    wait_for(app, lambda: window.left.model.rowCount() >= 1)
    [job_id] = start_copy(app, window, [SdPath(None, str(big))], SdPath.parse("demo:videos/"))
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

    [cancelled] = start_copy(app, window, [SdPath(None, str(big))], SdPath.parse("demo:videos-2/"))
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


def dialog_shots(app: QApplication, window: MainWindow, server: DemoServer) -> None:
    """The volume dialog after a successful test and without a keyring; Preferences."""
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

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what a machine without a Secret Service offers
    dialog = VolumeDialog(window)
    dialog.provider.setCurrentIndex(dialog.provider.findData("aws"))
    dialog.name.setText("photos")
    dialog.bucket.setText("family-photos")
    dialog.region.setText("eu-west-1")
    dialog.access_key_id.setText("AKIAIOSFODNN7EXAMPLE")
    dialog.secret.setText("typed-but-no-keyring")
    dialog.show()
    wait_for(app, lambda: dialog.keyring is not None)
    app.processEvents()
    save(dialog, "volume-dialog-no-keyring.png")
    dialog.reject()
    keyring.set_keyring(previous)

    preferences = PreferencesDialog(window)
    preferences.bandwidth.setValue(20)
    preferences.show()
    app.processEvents()
    save(preferences, "preferences.png")
    preferences.reject()


def conflict_shot(app: QApplication, window: MainWindow, big: Path) -> None:
    os.utime(big, (time.time() - 3 * 86400, time.time() - 3 * 86400))  # the local one is older
    window.activateWindow()
    wait_for(app, window.isActiveWindow)

    def answer_conflict() -> None:
        conflict = QApplication.activeModalWidget()
        if isinstance(conflict, ConflictDialog) and conflict.isVisible():
            answering.stop()
            app.processEvents()
            save(conflict, "conflict.png")
            conflict.skip_button.click()

    answering = QTimer()
    answering.timeout.connect(answer_conflict)
    answering.start(50)
    assert start_copy(app, window, [SdPath(None, str(big))], SdPath.parse("demo:videos/")) == []


def main() -> int:
    app = QApplication(sys.argv)
    app.setApplicationName("sdgui")
    app.setOrganizationName("sdgui")  # as the app does: QSettings (tabs, bookmarks) go where the real ones would
    apply_style(app)
    home = Path(os.environ["HOME"])
    photos = home / "Pictures" / "2026"
    photos.mkdir(parents=True)
    for i, name in enumerate(["beach.jpg", "harbour.jpg", "mountains.jpg", "family.png", "notes.txt"]):
        (photos / name).write_bytes(os.urandom(200_000 + 150_000 * i))
    (home / "Videos").mkdir()
    (home / "Documents").mkdir()
    only_dialogs = "--dialogs" in sys.argv[1:]
    big = home / "Videos" / "holiday-2026.mkv"
    with big.open("wb") as handle:
        for _ in range(1 if only_dialogs else 1536):
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
        window.switch_pane()
        window.new_tab().set_location(SdPath.parse("demo:"))  # a second tab on each side
        window.switch_pane()
        window.new_tab().set_location(SdPath(None, str(home / "Documents"), True))
        window.left_tabs.setCurrentIndex(0)
        window.bookmarks.set_items(
            [
                Bookmark("Holiday photos", SdPath(None, str(photos), True)),
                Bookmark("Demo samples", SdPath.parse("demo:sample/")),
                Bookmark("Old archive", SdPath.parse("archive:2019/")),  # a volume since removed: greyed
            ]
        )
        wait_for(app, lambda: window.left.model.rowCount() >= 5 and not window.right.model.is_loading)
        window.right.view.selectRow(2)  # the inactive pane's selection shows grey (row 0 is "..")
        window.left.view.selectRow(1)
        window.left.view.setFocus()
        app.processEvents()
        if not only_dialogs:
            save(window, "panes.png")
            window.left.start_filter(".JPG")  # as typed in the list: the box opens with it, any case matches
            wait_for(app, lambda: window.left.model.match_count == 3)
            app.processEvents()
            save(window.left, "pane-filter.png")
            window.left.clear_filter()
            shoot_bookmarks_drop_down(app, window)
            shoot_about(app, window)
            window_shots(app, window, big)
        dialog_shots(app, window, server)

        if not only_dialogs:  # the real prompt: holiday-2026.mkv is in demo:videos/ now, and the window looks first
            conflict_shot(app, window, big)
        object_commands(app, window)
        window.ask_before_quitting = False  # its transfers end without the prompt
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
