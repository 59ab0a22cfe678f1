"""The toolbar: the window's own actions (the very QActions of the menus, so each key is bound once) with icons that
never come out blank (offscreen has no icon theme: sdgui's own drawings stand in); its buttons do what the menus do;
View → Show toolbar hides it, and that is remembered."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QToolButton
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.gui.main_window import MainWindow
from sdgui.gui.toolbar import TOOLBAR
from tests.gui.test_main_window import OpenWindow, focus, local_path, wait_listed
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


def menu_actions(window: MainWindow) -> list[QAction]:
    found = []
    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            found += menu.actions()
    return found


def button(window: MainWindow, text: str) -> QToolButton:
    action = window.actions_by_text[text]
    widget = window.toolbar.widgetForAction(action)
    assert isinstance(widget, QToolButton)
    return widget


def test_every_toolbar_action_is_a_menu_action_with_an_icon(open_window: OpenWindow) -> None:
    window = open_window()
    actions = [a for a in window.toolbar.actions() if not a.isSeparator()]
    wanted = [item[0] for item in TOOLBAR if item is not None]
    assert [a.text().rstrip("…") for a in actions] == wanted
    in_menus = menu_actions(window)
    for action, (_, theme_name, _) in zip(actions, (item for item in TOOLBAR if item is not None), strict=True):
        assert any(action is other for other in in_menus), action.text()  # the same object, not a copy
        assert not action.icon().pixmap(22, 22).isNull(), action.text()
        if not QIcon.hasThemeIcon(theme_name):
            assert action.icon().name() == "", "the bundled drawing, not an empty theme icon"
    keys = Counter(action.shortcut().toString() for action in window.actions() if not action.shortcut().isEmpty())
    assert [key for key, count in keys.items() if count > 1] == []  # no key bound twice
    assert window.actions_by_text["Copy to other pane"].toolTip() == "Copy to other pane (F5)"


def test_toolbar_buttons_do_what_the_menus_do(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path
) -> None:
    (local_dir / "sub").mkdir()
    window = open_window(left=local_path(local_dir / "sub"), right=SdPath.parse("cloud:"))
    focus(qtbot, window, window.left)

    QTest.mouseClick(button(window, "New tab"), Qt.MouseButton.LeftButton)
    assert window.left_tabs.count() == 2 and window.left.location() == local_path(local_dir / "sub").as_dir()
    QTest.mouseClick(button(window, "Up one level"), Qt.MouseButton.LeftButton)
    wait_listed(qtbot, window.left, local_path(local_dir))
    assert window.left_tabs.panes()[0].location() == local_path(local_dir / "sub").as_dir()  # only this tab moved

    assert window.transfers.isVisible()
    QTest.mouseClick(button(window, "Transfers"), Qt.MouseButton.LeftButton)
    assert not window.transfers.isVisible()
    QTest.mouseClick(button(window, "Transfers"), Qt.MouseButton.LeftButton)
    assert window.transfers.isVisible()


def test_view_menu_hides_the_toolbar_and_that_is_remembered(qtbot: QtBot, open_window: OpenWindow) -> None:
    first = open_window()
    [toggle] = [a for a in menu_actions(first) if a.objectName() == "toggle_toolbar"]
    assert toggle.text() == "Show toolbar" and toggle.isChecked() and first.toolbar.isVisible()
    toggle.trigger()
    assert not first.toolbar.isVisible()
    first.ask_before_quitting = False
    first.close()

    second = open_window()
    assert not second.toolbar.isVisible()
    [toggle] = [a for a in menu_actions(second) if a.objectName() == "toggle_toolbar"]
    assert not toggle.isChecked()
