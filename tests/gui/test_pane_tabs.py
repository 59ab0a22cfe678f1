"""Tabs on each side of a real MainWindow: Ctrl+T opens one where the active pane is, Ctrl+W closes it (never the
last), Ctrl+Tab / Ctrl+Shift+Tab step through them; they come back after a restart; F5 copies into the other side's
current tab."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.gui.main_window import MainWindow
from tests.copying import read_object
from tests.gui.test_main_window import (
    LOCAL_FILES,
    OpenWindow,
    focus,
    local_path,
    press,
    select,
    wait_ended,
    wait_listed,
    wait_names,
)
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]

CTRL = Qt.KeyboardModifier.ControlModifier


def key(window: MainWindow, key: Qt.Key, modifiers: Qt.KeyboardModifier = CTRL) -> None:
    """A real key press in the active pane's list (the window's shortcuts take it from there)."""
    QTest.keyClick(window.active.view, key, modifiers)


def test_ctrl_t_opens_a_tab_here_ctrl_tab_steps_and_ctrl_w_closes(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path
) -> None:
    (local_dir / "a-rather-long-folder-name-that-does-not-fit-on-a-tab").mkdir()
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, window.left, local_path(local_dir))
    focus(qtbot, window, window.right)
    first = window.right
    assert window.right_tabs.count() == 1 and window.right_tabs.tabBar().isHidden()  # one tab: no bar

    key(window, Qt.Key.Key_T)
    qtbot.waitUntil(lambda: window.right_tabs.count() == 2)
    second = window.right
    assert second is not first and window.active is second and window.right_tabs.currentIndex() == 1
    qtbot.waitUntil(second.view.hasFocus)
    assert second.location() == SdPath.parse("cloud:")
    assert window.left_tabs.count() == 1  # the other side is left alone
    assert window.right_tabs.tabBar().isVisible()
    assert window.right_tabs.tabText(1) == "cloud" and window.right_tabs.tabToolTip(1) == "cloud:"
    assert second.is_active and not first.is_active and not window.left.is_active

    second.set_location(local_path(local_dir / "a-rather-long-folder-name-that-does-not-fit-on-a-tab"))
    title = window.right_tabs.tabText(1)
    assert "…" in title and title.startswith("a-rather") and title.endswith("tab")  # elided in the middle
    assert window.right_tabs.tabToolTip(1).endswith("a-rather-long-folder-name-that-does-not-fit-on-a-tab/")

    key(window, Qt.Key.Key_Tab)  # Ctrl+Tab: the next tab, wrapping round to the first
    qtbot.waitUntil(lambda: window.right is first and window.active is first)
    qtbot.waitUntil(first.view.hasFocus)
    key(window, Qt.Key.Key_Backtab, CTRL | Qt.KeyboardModifier.ShiftModifier)  # what Ctrl+Shift+Tab sends
    qtbot.waitUntil(lambda: window.right is second)
    key(window, Qt.Key.Key_Tab, CTRL | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.right is first)
    key(window, Qt.Key.Key_Tab, CTRL | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.right is second)

    key(window, Qt.Key.Key_W)
    qtbot.waitUntil(lambda: window.right_tabs.count() == 1)
    assert window.right is first and window.active is first
    qtbot.waitUntil(first.view.hasFocus)
    key(window, Qt.Key.Key_W)  # the last tab of a side stays
    assert window.right_tabs.count() == 1 and window.right is first

    key(window, Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier)  # plain Tab still switches sides
    qtbot.waitUntil(lambda: window.active is window.left)

    bar = window.right_tabs.tabBar()  # a click on a tab of the other side makes that side active
    window.right_tabs.add_tab(SdPath.parse("cloud:"), current=False)
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    qtbot.waitUntil(lambda: window.active is window.right_tabs.panes()[1])
    assert window.right_tabs.currentIndex() == 1
    window.switch_pane()

    third = window.new_tab()  # a middle click on a tab closes that tab
    assert window.left_tabs.count() == 2
    bar = window.left_tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.MiddleButton, pos=bar.tabRect(0).center())
    assert window.left_tabs.count() == 1 and window.left is third


def test_tabs_and_the_current_one_come_back_after_a_restart(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path
) -> None:
    (local_dir / "sub").mkdir()
    first = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    focus(qtbot, first, first.left)
    first.new_tab().set_location(local_path(local_dir / "sub"))
    first.new_tab().set_location(SdPath.parse("cloud:"))
    first.left_tabs.setCurrentIndex(1)
    focus(qtbot, first, first.right)
    first.new_tab()
    first.right_tabs.setCurrentIndex(0)
    first.ask_before_quitting = False
    first.close()

    second = open_window()
    left = [str(pane.location()) for pane in second.left_tabs.panes()]
    assert left == [str(local_path(local_dir)), str(local_path(local_dir / "sub")), "cloud:"]
    assert second.left_tabs.currentIndex() == 1 and second.left.location() == local_path(local_dir / "sub")
    assert [str(pane.location()) for pane in second.right_tabs.panes()] == ["cloud:", "cloud:"]
    assert second.right_tabs.currentIndex() == 0
    assert second.left_tabs.tabText(1) == "sub"
    wait_listed(qtbot, second.left, local_path(local_dir / "sub"))
    for pane in second.panes():  # every tab lists, not only the current ones
        qtbot.waitUntil(lambda p=pane: not p.model.is_loading and p.model.last_error is None, timeout=30_000)


def test_f5_from_a_second_tab_copies_into_the_other_side_s_current_tab(
    qtbot: QtBot, open_window: OpenWindow, moto_s3: S3Server, cloud: str, local_dir: Path
) -> None:
    moto_s3.client().put_object(Bucket=cloud, Key="dest/keep.txt", Body=b"k")
    window = open_window(left=SdPath.parse("cloud:"), right=SdPath.parse("cloud:"))
    focus(qtbot, window, window.right)
    window.new_tab().set_location(SdPath.parse("cloud:dest/"))  # the right side's current tab
    focus(qtbot, window, window.left)
    window.new_tab().set_location(local_path(local_dir))
    wait_names(qtbot, window.left, set(LOCAL_FILES))
    select(window.left, "a.txt")
    focus(qtbot, window, window.left)

    state = wait_ended(qtbot, window, press(window, Qt.Key.Key_F5))

    assert state.state == "finished", state.error
    assert read_object(moto_s3, cloud, "dest/a.txt") == LOCAL_FILES["a.txt"]
    wait_names(qtbot, window.right, {"a.txt", "keep.txt"})
    assert window.right_tabs.panes()[0].location() == SdPath.parse("cloud:")  # the other tab stayed where it was


def test_a_drag_held_over_a_tab_opens_it(qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path) -> None:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_names(qtbot, window.left, set(LOCAL_FILES))
    window.right_tabs.add_tab(SdPath.parse("cloud:"), current=False)
    bar = window.right_tabs.tabBar()
    assert window.right_tabs.currentIndex() == 0
    mime = window.left.model.mimeData([window.left.model.index(0, 0)])
    where = QPointF(bar.tabRect(1).center())
    copy = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(where.toPoint(), copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(bar, enter)
    move = QDragMoveEvent(where.toPoint(), copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(bar, move)
    qtbot.waitUntil(lambda: window.right_tabs.currentIndex() == 1, timeout=5_000)  # after the style's short delay
