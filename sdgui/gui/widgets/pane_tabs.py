"""PaneTabs: one side of the window, a tab of FilePanes per folder kept open (Ctrl+T, Ctrl+W, Ctrl+Tab)."""

from __future__ import annotations

import json
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QTabWidget, QWidget

from sdgui.core.paths import SdPath
from sdgui.gui.widgets.file_pane import FilePane

TITLE_WIDTH_PX = 160
"""Longer folder names are elided in the middle; the tab's tooltip has the full path."""


def tab_title(location: SdPath) -> str:
    """The folder's name; a volume root is the volume's name, the local root "/"."""
    if location.name:
        return location.name
    return location.volume or location.path


class PaneTabs(QTabWidget):
    """The FilePanes of one side; the current tab's pane is the side's pane (what F5 copies to or from). The tab
    bar shows once a second tab is open, as in Double Commander; the last tab never closes."""

    current_pane_changed = Signal(object)  # the FilePane now current

    def __init__(self, make_pane: Callable[[], FilePane], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._make_pane = make_pane
        self.setDocumentMode(True)
        self.setTabBarAutoHide(True)
        self.setMovable(True)
        self.setTabsClosable(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabBar().setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab and the keys stay with the lists
        self.tabBar().setElideMode(Qt.TextElideMode.ElideMiddle)
        self.tabBar().setChangeCurrentOnDrag(True)  # a drag held over a tab opens it, to drop into its folder
        self.tabBar().setAcceptDrops(True)  # (which it needs to see the drag at all)
        self.tabCloseRequested.connect(self.close_tab)
        self.tabBarClicked.connect(self._clicked)
        self.tabBar().installEventFilter(self)  # a middle click closes a tab, as in Double Commander
        self.currentChanged.connect(lambda _: self.current_pane_changed.emit(self.current_pane()))

    def current_pane(self) -> FilePane:
        pane = self.currentWidget()
        assert isinstance(pane, FilePane), "a side always has a tab"
        return pane

    def panes(self) -> list[FilePane]:
        return [pane for i in range(self.count()) if isinstance(pane := self.widget(i), FilePane)]

    def add_tab(self, location: SdPath, *, current: bool = True, last: bool = False) -> FilePane:
        """A new tab listing ``location``, after the current one (or after all of them)."""
        pane = self._make_pane()
        index = self.insertTab(self.count() if last else self.currentIndex() + 1, pane, "")
        pane.location_changed.connect(lambda where, p=pane: self._retitle(p, where))
        pane.set_location(location)
        if current:
            self.setCurrentIndex(index)
        return pane

    def close_tab(self, index: int) -> bool:
        """Close the tab at ``index`` unless it is the side's last one; True when closed."""
        pane = self.widget(index)
        if self.count() <= 1 or not isinstance(pane, FilePane):
            return False
        self.removeTab(index)
        pane.model.cancel()  # its listing stops at the next page
        pane.deleteLater()
        return True

    def close_current(self) -> bool:
        return self.close_tab(self.currentIndex())

    def step(self, delta: int) -> None:
        """The next (+1) or previous (-1) tab, wrapping around."""
        if self.count() > 1:
            self.setCurrentIndex((self.currentIndex() + delta) % self.count())

    def _clicked(self, index: int) -> None:
        # A click on a tab gives its pane the keyboard, so the side clicked becomes the active one.
        pane = self.widget(index)
        if isinstance(pane, FilePane):
            self.setCurrentIndex(index)
            pane.view.setFocus(Qt.FocusReason.MouseFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.tabBar()
            and event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.MiddleButton
        ):
            index = self.tabBar().tabAt(event.position().toPoint())
            if index >= 0:
                self.close_tab(index)
                return True
        return super().eventFilter(watched, event)

    def _retitle(self, pane: FilePane, location: SdPath) -> None:
        index = self.indexOf(pane)
        if index < 0:
            return
        metrics = self.tabBar().fontMetrics()
        title = metrics.elidedText(tab_title(location), Qt.TextElideMode.ElideMiddle, TITLE_WIDTH_PX)
        self.setTabText(index, title.replace("&", "&&"))  # a name's "&" is no shortcut key
        self.setTabToolTip(index, str(location))

    # -- remembered across restarts ---------------------------------------------------
    def save(self, settings: QSettings, key: str) -> None:
        """The tabs' locations and which is current under ``key``; ``key`` alone keeps the current location."""
        settings.setValue(key, str(self.current_pane().location()))
        settings.setValue(f"{key}_tabs", json.dumps([str(pane.location()) for pane in self.panes()]))
        settings.setValue(f"{key}_current", self.currentIndex())

    def restore(self, settings: QSettings, key: str, fallback: SdPath, current: SdPath | None = None) -> None:
        """Open the saved tabs (else one at ``fallback``); ``current``, when given, is where the current tab goes."""
        locations = _parse_all(_saved_list(settings.value(f"{key}_tabs")))
        if not locations:
            locations = _parse_all([str(settings.value(key) or "")]) or [fallback]
        chosen = str(settings.value(f"{key}_current", 0))
        index = int(chosen) if chosen.isdigit() and int(chosen) < len(locations) else 0
        if current is not None:
            locations[index] = current
        for location in locations:
            self.add_tab(location, current=False, last=True)
        self.setCurrentIndex(index)


def _saved_list(value: object) -> list[str]:
    try:
        items = json.loads(str(value)) if value else []
    except ValueError:
        return []
    return [str(item) for item in items] if isinstance(items, list) else []


def _parse_all(texts: list[str]) -> list[SdPath]:
    """The saved locations that still parse (a hand-edited or older settings file may hold anything)."""
    locations = []
    for text in texts:
        try:
            locations.append(SdPath.parse(text).as_dir())
        except Exception:
            continue
    return locations
