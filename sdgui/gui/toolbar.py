"""The window's toolbar: the window's own actions (the same QActions as the menus, so no key is bound twice) with
icons from the desktop's theme, else sdgui's own drawings in resources/icons."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from sdgui.gui.icons import themed_icon

TOOLBAR = (
    ("Up one level", "go-up", "go-up.svg"),
    ("Refresh", "view-refresh", "view-refresh.svg"),
    None,
    ("New tab", "tab-new", "tab-new.svg"),
    ("Bookmark this folder", "bookmark-new", "bookmark-new.svg"),
    None,
    ("Copy to other pane", "edit-copy", "edit-copy.svg"),
    ("Move to other pane", "edit-cut", "edit-cut.svg"),
    ("New folder", "folder-new", "folder-new.svg"),
    ("Delete", "edit-delete", "edit-delete.svg"),
    None,
    ("Transfers", "network-transmit-receive", "network-transmit-receive.svg"),
    ("Volumes", "network-server", "network-server.svg"),
)
"""(action text without "…", icon theme name, fallback file) in toolbar order; None is a separator."""


def add_toolbar(window: QMainWindow, actions: Mapping[str, QAction], view_menu: QMenu) -> QToolBar:
    """The toolbar over ``actions`` (by text); View gets the item that shows or hides it (saveState keeps that)."""
    bar = QToolBar("Toolbar", window)
    bar.setObjectName("mainToolbar")  # saveState/restoreState find it by this name
    bar.setIconSize(QSize(22, 22))
    for item in TOOLBAR:
        if item is None:
            bar.addSeparator()
            continue
        name, theme_name, fallback = item
        action = actions[name]
        action.setIcon(themed_icon(theme_name, fallback))
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&", "")
        action.setToolTip(f"{text} ({keys})" if keys else text)
        bar.addAction(action)
    window.addToolBar(bar)
    toggle = bar.toggleViewAction()
    toggle.setText("Show toolbar")
    toggle.setObjectName("toggle_toolbar")
    view_menu.addAction(toggle)
    return bar
