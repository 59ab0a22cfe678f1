"""The Bookmarks menu in the menu bar: Bookmark this folder (Ctrl+D), Manage bookmarks…, then the bookmarks."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from sdgui.gui.bookmarks import Bookmarks
from sdgui.gui.dialogs.bookmarks_dialog import BookmarksDialog
from sdgui.gui.widgets.file_pane import FilePane


def add_bookmarks_menu(window: QMainWindow, bookmarks: Bookmarks, active: Callable[[], FilePane]) -> QAction:
    """The menu; returns its Ctrl+D action, which is the window's (Help → Keyboard shortcuts lists it)."""
    menu = window.menuBar().addMenu("&Bookmarks")
    menu.setObjectName("bookmarksMenu")
    add = QAction("Bookmark this folder…", window)
    add.setObjectName("add_bookmark")
    add.setShortcut("Ctrl+D")
    add.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    add.triggered.connect(lambda: bookmarks.add(active()))
    window.addAction(add)
    manage = QAction("Manage bookmarks…", window)
    manage.setObjectName("manage_bookmarks")
    manage.triggered.connect(lambda: BookmarksDialog(bookmarks, bookmarks.volume_names(), window).exec())
    head: list[object] = [add, manage]
    menu.aboutToShow.connect(lambda: bookmarks.fill(menu, active, head))  # the volume list may have changed
    bookmarks.fill(menu, active, head)
    return add
