"""Ctrl+L puts the keyboard in the active pane's path bar with its text selected; a typed path and Enter go there,
Escape puts the old path back and returns to the list."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.gui.main_window import MainWindow
from tests.gui.test_main_window import OpenWindow, focus, local_path, wait_listed, wait_names
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


def test_ctrl_l_types_a_path_into_the_active_pane(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path
) -> None:
    (local_dir / "sub").mkdir()
    (local_dir / "sub" / "inside.txt").write_bytes(b"x")
    window: MainWindow = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    focus(qtbot, window, window.right)
    bar = window.right.path_edit

    QTest.keyClick(window.right.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(bar.hasFocus)
    assert bar.selectedText() == "cloud:"  # all of it: what is typed replaces it
    QTest.keyClicks(bar, str(local_dir / "sub"))
    QTest.keyClick(bar, Qt.Key.Key_Return)

    wait_listed(qtbot, window.right, local_path(local_dir / "sub"))
    wait_names(qtbot, window.right, {"inside.txt"})
    qtbot.waitUntil(window.right.view.hasFocus)
    assert window.active is window.right
    assert window.left.location() == local_path(local_dir).as_dir()  # the other pane did not move

    QTest.keyClick(window.right.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(bar.hasFocus)
    QTest.keyClicks(bar, "cloud:nowhere/")
    QTest.keyClick(bar, Qt.Key.Key_Escape)
    qtbot.waitUntil(window.right.view.hasFocus)
    assert bar.text() == str(local_path(local_dir / "sub").as_dir())
    assert window.right.location() == local_path(local_dir / "sub").as_dir()
