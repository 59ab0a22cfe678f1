"""F8 Delete runs the core DeleteJob off the GUI thread, with a busy strip and Cancel in the status bar."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from sdgui.core.backends.local import LocalBackend
from sdgui.core.cancel import CancelToken
from sdgui.gui.main_window import MainWindow
from tests.gui.test_main_window import focus, local_path, select, wait_listed, wait_names
from tests.gui.test_main_window import open_window as open_window

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("settings_dir")]

WAIT_MS = 20_000


@pytest.fixture
def yes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []

    def question(parent: object, title: str, text: str, *args: object) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


@pytest.fixture
def tree_window(open_window, qtbot: QtBot, tmp_path: Path) -> MainWindow:
    root = tmp_path / "here"
    for rel in ("keep.txt", "gone.txt", "dir/a.txt", "dir/sub/b.txt", "dir/sub/c.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    win: MainWindow = open_window(left=local_path(root))
    wait_listed(qtbot, win.left, local_path(root))
    focus(qtbot, win, win.left)
    return win


def test_f8_deletes_a_folder_through_the_delete_job(
    qtbot: QtBot, tree_window: MainWindow, yes: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, threading.Thread]] = []
    original = LocalBackend.delete_tree

    def spy(self: LocalBackend, key: str, cancel: CancelToken, **kwargs: object) -> int:
        calls.append((key, threading.current_thread()))
        return original(self, key, cancel, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalBackend, "delete_tree", spy)
    window = tree_window
    select(window.left, "dir", "gone.txt")
    QTest.keyClick(window.left.view, Qt.Key.Key_F8)
    assert yes and yes[0].startswith("Delete 2 item(s)?")
    wait_names(qtbot, window.left, {"keep.txt"}, absent={"dir", "gone.txt"})
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "Deleted 4 files", timeout=WAIT_MS)
    assert not (tmp_path / "here" / "dir").exists() and (tmp_path / "here" / "keep.txt").exists()
    assert [key for key, _ in calls] == [str(tmp_path / "here" / "dir").lstrip("/")]
    assert calls[0][1] is not threading.main_thread()
    assert not window.delete_progress.isVisible()


def test_cancel_in_the_status_bar_stops_the_delete(
    qtbot: QtBot, tree_window: MainWindow, yes: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    original = LocalBackend.delete_tree

    def held(self: LocalBackend, key: str, cancel: CancelToken, **kwargs: object) -> int:
        entered.set()
        release.wait(WAIT_MS / 1000)  # a slow disk: the user has time to press Cancel
        return original(self, key, cancel, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalBackend, "delete_tree", held)
    window = tree_window
    select(window.left, "dir")
    QTest.keyClick(window.left.view, Qt.Key.Key_F8)
    qtbot.waitUntil(entered.is_set, timeout=WAIT_MS)
    strip = window.delete_progress
    assert strip.isVisible() and strip.label.text() == "Deleting… 0 files deleted"
    qtbot.mouseClick(strip.cancel_button, Qt.MouseButton.LeftButton)
    assert strip.label.text() == "Cancelling… 0 files deleted"
    release.set()
    qtbot.waitUntil(lambda: not strip.isVisible(), timeout=WAIT_MS)
    assert window.statusBar().currentMessage() == "Delete cancelled after 0 files; the rest is still there"
    assert len(list((tmp_path / "here" / "dir").rglob("*.txt"))) == 3
