"""Ctrl+H shows or leaves out dot-files and dot-folders in both panes; the choice outlives the window, and a name
left out still counts for conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from sdgui.gui.widgets.file_pane import FilePane
from tests.gui.test_main_window import OpenWindow, focus, local_path, wait_listed, wait_names
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


def rows(pane: FilePane) -> set[str]:
    return {entry.name for entry in pane.model.row_entries()}


def test_ctrl_h_hides_and_shows_dot_entries_in_both_panes(
    qtbot: QtBot, open_window: OpenWindow, local_dir: Path
) -> None:
    (local_dir / ".secret").write_bytes(b"s")
    (local_dir / ".config").mkdir()
    window = open_window(left=local_path(local_dir), right=local_path(local_dir))
    for pane in (window.left, window.right):
        wait_listed(qtbot, pane, local_path(local_dir))
    assert {".secret", ".config", "a.txt"} <= rows(window.left)  # shown until the user hides them
    focus(qtbot, window, window.left)

    QTest.keyClick(window.left.view, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    for pane in (window.left, window.right):
        qtbot.waitUntil(lambda p=pane: not p.model.is_loading and ".secret" not in rows(p) and "a.txt" in rows(p))
        assert ".config" not in rows(pane)
        assert pane.model.names() >= {".secret", ".config"}  # still known: a copy of .secret here would conflict
        assert pane.status_label.text() == "3 items (2 hidden: Ctrl+H shows them)"
    assert not window.show_hidden_action.isChecked()

    second = open_window(left=local_path(local_dir))  # remembered
    wait_listed(qtbot, second.left, local_path(local_dir))
    assert ".secret" not in rows(second.left) and not second.show_hidden_action.isChecked()
    second.close()

    window.activateWindow()
    qtbot.waitActive(window)
    focus(qtbot, window, window.left)
    QTest.keyClick(window.left.view, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    wait_names(qtbot, window.left, {".secret", ".config", "a.txt"})
    qtbot.waitUntil(lambda: {".secret", ".config"} <= rows(window.left))
    assert window.left.status_label.text() == "5 items"
