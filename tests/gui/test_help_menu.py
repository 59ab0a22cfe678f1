"""Help → Keyboard shortcuts, Open log folder and About sdgui."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool, QTimer, QUrl
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from sdgui import __version__
from sdgui.gui import help_menu
from sdgui.gui.main_window import MainWindow
from sdgui.logs import log_dir, log_file

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("settings_dir")]


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    QThreadPool.globalInstance().waitForDone(30_000)


def help_action(window: MainWindow, name: str) -> QAction:
    menus = [action.menu() for action in window.menuBar().actions() if action.text() == "&Help"]
    assert len(menus) == 1, "one Help menu"
    found = [action for action in menus[0].actions() if action.objectName() == name]
    assert len(found) == 1
    return found[0]


def test_open_log_folder_shows_the_log_dir(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(help_menu.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    action = help_action(window, "open_log_folder")
    assert action.text() == "Open log folder"
    action.trigger()
    assert [url.toLocalFile() for url in opened] == [str(log_dir())]
    assert log_dir().is_dir()  # made for the file manager to show, even before anything was logged


def test_without_a_file_manager_the_path_is_shown(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(help_menu.QDesktopServices, "openUrl", lambda url: False)
    monkeypatch.setattr(help_menu.QMessageBox, "information", lambda parent, title, text: shown.append(text))
    help_action(window, "open_log_folder").trigger()
    assert shown == [f"The log files are in\n{log_dir()}"]


def test_about_names_the_version_and_the_log_file(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(help_menu.QMessageBox, "about", lambda parent, title, text: shown.append(text))
    help_action(window, "about").trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)  # gathered off the GUI thread
    assert f"sdgui {__version__}" in shown[0]
    assert str(log_file()) in shown[0]


def test_the_window_has_the_application_icon(window: MainWindow, tmp_path: Path) -> None:
    from sdgui.gui.icons import app_icon, cloud_icon

    assert not app_icon().isNull()
    assert {size.width() for size in app_icon().availableSizes()} >= {16, 32, 48, 256, 512}
    assert not cloud_icon().pixmap(16, 16).isNull()


def test_keyboard_shortcuts_list_the_window_s_keys(qtbot: QtBot, window: MainWindow) -> None:
    shown: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "shortcutsBox":
            shown.append(box.text())
            box.accept()
        else:
            QTimer.singleShot(20, read_and_close)

    QTimer.singleShot(0, read_and_close)
    help_action(window, "shortcuts").trigger()
    assert shown
    rows = dict(help_menu.shortcut_rows(window))
    for keys, what in {"F5": "Copy to other pane", "Ctrl+L": "Go to path", "Ctrl+Q": "Quit", "F9": "Volumes"}.items():
        assert rows.get(keys) == what, rows
        assert f"<b>{keys}</b></td><td>{what}</td>" in shown[0]
    assert "Backspace, Alt+Up" in shown[0]


def test_about_names_the_versions_the_licence_and_the_folders(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    import platformdirs
    from PySide6.QtCore import QSettings, qVersion

    from sdgui.core.volumes import config_dir

    shown: list[str] = []
    monkeypatch.setattr(help_menu.QMessageBox, "about", lambda parent, title, text: shown.append(text))
    help_action(window, "about").trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    text = shown[0]
    for label, value in (
        ("Qt", qVersion()),
        ("PySide6", importlib.metadata.version("PySide6_Essentials")),
        ("obstore", importlib.metadata.version("obstore")),
        ("licence", "MIT"),
        ("settings", str(config_dir())),
        ("window settings", QSettings().fileName()),
        ("cache", str(platformdirs.user_cache_path("sdgui", appauthor=False))),
    ):
        assert f"<tr><td>{label}</td><td>{value}</td></tr>" in text, (label, text)


def test_keyboard_shortcuts_list_the_tab_and_bookmark_keys(window: MainWindow) -> None:
    rows = dict(help_menu.shortcut_rows(window))
    expected = {
        "Ctrl+T": "New tab",
        "Ctrl+W": "Close tab",
        "Ctrl+Tab": "Next tab",
        "Ctrl+Shift+Tab": "Previous tab",
        "Ctrl+D": "Bookmark this folder",
    }
    for keys, what in expected.items():
        assert rows.get(keys) == what, rows
