"""Bookmarks: folders a user goes back to (volume and path, under a name they choose), kept in QSettings.

Ctrl+D bookmarks the active pane's folder; the Bookmarks menu and a drop-down beside each pane's path bar list them.
A bookmark on a volume that is no longer configured shows greyed, with a tooltip that says why.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QMenu, QToolButton, QWidget

from sdgui.core.errors import SdError
from sdgui.core.paths import SdPath
from sdgui.gui.icons import themed_icon
from sdgui.gui.widgets.file_pane import FilePane
from sdgui.gui.widgets.pane_tabs import tab_title

log = logging.getLogger(__name__)
SETTINGS_KEY = "bookmarks/list"


@dataclass(frozen=True)
class Bookmark:
    name: str
    location: SdPath


def load_bookmarks() -> list[Bookmark]:
    """The saved bookmarks; entries that no longer parse are left out (and logged)."""
    try:
        items = json.loads(str(QSettings().value(SETTINGS_KEY) or "[]"))
    except ValueError:
        log.warning("the saved bookmarks are not JSON; starting with none")
        return []
    bookmarks = []
    for item in items if isinstance(items, list) else []:
        try:
            bookmarks.append(Bookmark(str(item["name"]), SdPath.parse(str(item["location"])).as_dir()))
        except Exception as exc:
            log.warning("leaving out a saved bookmark %r: %s", item, exc)
    return bookmarks


def save_bookmarks(bookmarks: list[Bookmark]) -> None:
    items = [{"name": b.name, "location": str(b.location)} for b in bookmarks]
    QSettings().setValue(SETTINGS_KEY, json.dumps(items))


def missing_volume(bookmark: Bookmark, volumes: set[str]) -> str | None:
    """Why ``bookmark`` cannot be opened (its volume is gone), else None."""
    volume = bookmark.location.volume
    if volume is None or volume in volumes:
        return None
    return f"Volume “{volume}” is no longer configured (File → Volumes… adds it again)"


class Bookmarks(QObject):
    """The list, and the menus over it. ``volumes`` names the configured volumes; ``go`` shows a location in a
    pane and gives it the keyboard."""

    changed = Signal()

    def __init__(self, parent: QWidget, volumes: Callable[[], set[str]], go: Callable[[FilePane, SdPath], None]):
        super().__init__(parent)
        self._parent = parent
        self._volumes = volumes
        self._go = go
        self.items = load_bookmarks()

    def volume_names(self) -> set[str]:
        try:
            return self._volumes()
        except SdError as exc:  # an unreadable volume list greys nothing: the pane then says what is wrong
            log.warning("cannot read the volume list for the bookmarks: %s", exc)
            return {b.location.volume for b in self.items if b.location.volume is not None}

    def set_items(self, bookmarks: list[Bookmark]) -> None:
        self.items = list(bookmarks)
        save_bookmarks(self.items)
        self.changed.emit()

    def add(self, pane: FilePane) -> Bookmark | None:
        """Ask for a name and bookmark ``pane``'s folder (renaming the bookmark it already has)."""
        location = pane.location()
        known = next((b for b in self.items if b.location == location), None)
        name, ok = QInputDialog.getText(
            self._parent,
            "Bookmark",
            f"Name of the bookmark for {location}",
            text=known.name if known else _name(location),
        )
        if not ok or not name.strip():
            return None
        bookmark = Bookmark(name.strip(), location)
        if known is not None:
            self.set_items([bookmark if b is known else b for b in self.items])
        else:
            self.set_items([*self.items, bookmark])
        return bookmark

    def fill(self, menu: QMenu, target: Callable[[], FilePane], head: list[object] | None = None) -> None:
        """Put the bookmarks into ``menu`` (after ``head``: actions, None for a separator); a click shows the
        bookmark in ``target()``."""
        menu.clear()
        menu.setToolTipsVisible(True)
        for item in head or []:
            menu.addSeparator() if item is None else menu.addAction(item)  # type: ignore[call-overload]
        if head and self.items:
            menu.addSeparator()
        volumes = self.volume_names()
        for bookmark in self.items:
            action = menu.addAction(themed_icon("folder", "bookmark-new.svg"), bookmark.name.replace("&", "&&"))
            action.setObjectName("bookmark")
            action.setData(str(bookmark.location))
            problem = missing_volume(bookmark, volumes)
            action.setEnabled(problem is None)
            action.setToolTip(problem or str(bookmark.location))
            action.triggered.connect(lambda _=False, b=bookmark: self._go(target(), b.location))

    def add_drop_down(self, pane: FilePane) -> QToolButton:
        """A button beside ``pane``'s path bar that lists the bookmarks; a click shows one in this pane."""
        button = QToolButton(pane)
        button.setObjectName("bookmarksButton")
        button.setIcon(themed_icon("user-bookmarks", "bookmark-new.svg"))
        button.setToolTip("Bookmarks (Ctrl+D adds this folder)")
        button.setAutoRaise(True)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        add = QAction("Bookmark this folder…", button)  # not the menu's: fill() clears what the menu owns
        add.triggered.connect(lambda: self.add(pane))
        menu.aboutToShow.connect(lambda: self.fill(menu, lambda: pane, [add]))
        button.setMenu(menu)
        bar = _path_bar(pane)
        bar.insertWidget(bar.indexOf(pane.path_edit) + 1, button)
        return button


def _name(location: SdPath) -> str:
    title = tab_title(location)
    return f"{location.volume}: {title}" if location.volume and location.name else title


def _path_bar(pane: FilePane) -> QHBoxLayout:
    """The row that holds the pane's path bar."""
    layout = pane.layout()
    for i in range(layout.count() if layout is not None else 0):
        item = layout.itemAt(i) if layout is not None else None
        row = item.layout() if item is not None else None
        if isinstance(row, QHBoxLayout) and row.indexOf(pane.path_edit) >= 0:
            return row
    raise LookupError("the pane has no path bar row")
