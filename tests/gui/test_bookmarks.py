"""Bookmarks on a real MainWindow: Ctrl+D bookmarks the active pane's folder under a name the user edits; the
Bookmarks menu and each pane's drop-down list it and go there; they survive a restart; a bookmark on a volume that
was removed shows greyed, saying why; Manage bookmarks removes one."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeRegistry
from sdgui.gui import bookmarks as bookmarks_module
from sdgui.gui.bookmarks import Bookmark
from sdgui.gui.dialogs.bookmarks_dialog import BookmarksDialog
from sdgui.gui.main_window import MainWindow
from sdgui.gui.widgets.file_pane import FilePane
from tests.gui.test_main_window import OpenWindow, focus, local_path, wait_listed
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """QInputDialog.getText answers "Bucket root"; the (prompt, proposed name) it was asked with are kept."""
    calls: list[tuple[str, str]] = []

    def get_text(parent: QWidget, title: str, label: str, text: str = "") -> tuple[str, bool]:
        calls.append((label, text))
        return "Bucket root", True

    monkeypatch.setattr(bookmarks_module.QInputDialog, "getText", staticmethod(get_text))
    return calls


def bookmarks_menu(window: MainWindow) -> QMenu:
    [menu] = [a.menu() for a in window.menuBar().actions() if a.text() == "&Bookmarks"]
    assert isinstance(menu, QMenu)
    return menu


def bookmark_actions(menu: QMenu) -> list[QAction]:
    return [action for action in menu.actions() if action.objectName() == "bookmark"]


def drop_down(pane: FilePane) -> QToolButton:
    button = pane.findChild(QToolButton, "bookmarksButton")
    assert isinstance(button, QToolButton)
    return button


def bookmark_cloud_root(qtbot: QtBot, window: MainWindow, asked: list[tuple[str, str]]) -> None:
    """Ctrl+D, a real key press, in the right pane (which shows cloud:)."""
    focus(qtbot, window, window.right)
    QTest.keyClick(window.right.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert asked == [("Name of the bookmark for cloud:", "cloud")]
    assert window.bookmarks.items == [Bookmark("Bucket root", SdPath.parse("cloud:"))]


def test_ctrl_d_bookmarks_and_a_click_in_the_menu_goes_there(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path, asked: list[tuple[str, str]]
) -> None:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    bookmark_cloud_root(qtbot, window, asked)
    focus(qtbot, window, window.left)

    menu = bookmarks_menu(window)
    menu.popup(window.mapToGlobal(window.rect().center()))
    qtbot.waitUntil(menu.isVisible)
    [action] = bookmark_actions(menu)
    assert action.text() == "Bucket root" and action.isEnabled() and action.toolTip() == "cloud:"
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())

    wait_listed(qtbot, window.left, SdPath.parse("cloud:"))
    assert window.active is window.left
    assert window.focusWidget() is window.left.view  # the keys go there once the menu has closed
    assert window.right.location() == SdPath.parse("cloud:")


def test_the_drop_down_beside_the_path_bar_lists_them_and_opens_one_in_its_pane(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path, asked: list[tuple[str, str]]
) -> None:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    bookmark_cloud_root(qtbot, window, asked)
    button = drop_down(window.left)
    assert button.isVisible() and not button.icon().isNull()
    listed: list[str] = []

    def pick() -> None:  # the drop-down's menu runs its own event loop: choose from inside it
        menu = button.menu()
        if menu is None or not menu.isVisible():
            QTimer.singleShot(20, pick)
            return
        [action] = bookmark_actions(menu)
        listed.append(action.text())
        QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())

    QTimer.singleShot(0, pick)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: listed == ["Bucket root"])
    wait_listed(qtbot, window.left, SdPath.parse("cloud:"))  # the drop-down's own pane went there
    assert window.active is window.left

    menu = drop_down(window.right).menu()  # its first item bookmarks its own pane's folder, active or not
    assert menu is not None
    window.right.set_location(local_path(local_dir))
    menu.aboutToShow.emit()
    assert menu.actions()[0].text() == "Bookmark this folder…"
    menu.actions()[0].trigger()
    assert window.bookmarks.items[-1] == Bookmark("Bucket root", local_path(local_dir).as_dir())


def test_bookmarks_survive_a_restart(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path, asked: list[tuple[str, str]]
) -> None:
    first = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    bookmark_cloud_root(qtbot, first, asked)
    focus(qtbot, first, first.left)
    QTest.keyClick(first.left.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # the same name again
    first.ask_before_quitting = False
    first.close()

    second = open_window()
    assert second.bookmarks.items == [
        Bookmark("Bucket root", SdPath.parse("cloud:")),
        Bookmark("Bucket root", local_path(local_dir).as_dir()),
    ]
    menu = bookmarks_menu(second)
    menu.aboutToShow.emit()
    assert [a.toolTip() for a in bookmark_actions(menu)] == ["cloud:", str(local_path(local_dir).as_dir())]


def test_a_bookmark_on_a_removed_volume_is_greyed_and_manage_removes_it(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path, asked: list[tuple[str, str]]
) -> None:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    bookmark_cloud_root(qtbot, window, asked)
    registry = VolumeRegistry()
    registry.remove("cloud")
    registry.save()
    window._volumes_changed()  # what the Volumes dialog does after a change

    menu = bookmarks_menu(window)
    menu.popup(window.mapToGlobal(window.rect().center()))
    qtbot.waitUntil(menu.isVisible)
    [action] = bookmark_actions(menu)
    assert not action.isEnabled()
    assert action.toolTip() == "Volume “cloud” is no longer configured (File → Volumes… adds it again)"
    menu.hide()

    dialog = BookmarksDialog(window.bookmarks, window.bookmarks.volume_names(), window)
    qtbot.addWidget(dialog)
    item = dialog.list.item(0)
    assert dialog.where.text() == item.toolTip()  # the first one is selected and its folder or problem shown
    assert item.toolTip().startswith("Volume “cloud” is no longer configured")
    grey = dialog.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert item.foreground().color() == grey
    item.setText("Old bucket")  # renamed in place, saved at once
    assert window.bookmarks.items == [Bookmark("Old bucket", SdPath.parse("cloud:"))]
    dialog.list.setCurrentRow(0)
    dialog.remove_button.click()
    assert window.bookmarks.items == [] and bookmarks_module.load_bookmarks() == []
    menu.aboutToShow.emit()
    assert bookmark_actions(menu) == []


def test_manage_bookmarks_reorders_them(qtbot: QtBot, open_window: OpenWindow, local_dir: Path) -> None:
    window = open_window()
    first, second = Bookmark("One", local_path(local_dir).as_dir()), Bookmark("Two", SdPath.parse("elsewhere:x/"))
    window.bookmarks.set_items([first, second])
    dialog = BookmarksDialog(window.bookmarks, window.bookmarks.volume_names(), window)
    qtbot.addWidget(dialog)
    assert dialog.list.model().moveRow(QModelIndex(), 1, QModelIndex(), 0)  # what a drag within the list does
    assert window.bookmarks.items == [second, first]
    assert bookmarks_module.load_bookmarks() == [second, first]
