"""The window's two sides of tabs: which pane is left, right and active, switching sides, opening, closing and
stepping through tabs. A part of MainWindow, which sets the attributes below."""

from __future__ import annotations

from sdgui.core.paths import SdPath
from sdgui.gui.widgets.file_pane import FilePane
from sdgui.gui.widgets.pane_tabs import PaneTabs


class WindowSides:
    """Tabs of FilePanes on each side; ``active_side`` is the side the keys act on."""

    left_tabs: PaneTabs
    right_tabs: PaneTabs
    active_side: PaneTabs

    @property
    def left(self) -> FilePane:
        """The left side's current tab."""
        return self.left_tabs.current_pane()

    @property
    def right(self) -> FilePane:
        """The right side's current tab."""
        return self.right_tabs.current_pane()

    @property
    def active(self) -> FilePane:
        """The pane the keys act on: the current tab of the active side."""
        return self.active_side.current_pane()

    def panes(self) -> list[FilePane]:
        """Every tab's pane, both sides."""
        return self.left_tabs.panes() + self.right_tabs.panes()

    def side_of(self, pane: FilePane) -> PaneTabs:
        return self.right_tabs if self.right_tabs.indexOf(pane) >= 0 else self.left_tabs

    def _set_active(self, pane: FilePane) -> None:
        side = self.side_of(pane)
        if side.current_pane() is not pane:
            side.setCurrentWidget(pane)
        self.active_side = side
        for each in self.panes():
            each.set_active(each is pane)

    def other(self, pane: FilePane | None = None) -> FilePane:
        """The other side's current tab (of ``pane``'s side, else of the active side)."""
        side = self.side_of(pane) if pane is not None else self.active_side
        return (self.right_tabs if side is self.left_tabs else self.left_tabs).current_pane()

    def switch_pane(self) -> None:
        target = self.other()
        self._set_active(target)
        target.view.setFocus()

    def new_tab(self) -> FilePane:
        """A tab at the active pane's location in the active side, which becomes current (Ctrl+T)."""
        pane = self.active_side.add_tab(self.active.location())
        self._focus(pane)
        return pane

    def close_tab(self) -> bool:
        """Close the active side's current tab unless it is the side's last (Ctrl+W)."""
        closed = self.active_side.close_current()
        if closed:
            self._focus(self.active)
        return closed

    def step_tab(self, delta: int) -> None:
        """The active side's next (+1) or previous (-1) tab (Ctrl+Tab, Ctrl+Shift+Tab)."""
        self.active_side.step(delta)
        self._focus(self.active)

    def _show_in(self, pane: FilePane, location: SdPath) -> None:
        pane.set_location(location)
        self._focus(pane)

    def _focus(self, pane: FilePane) -> None:
        self._set_active(pane)
        pane.view.setFocus()

    def _tab_changed(self, side: PaneTabs, pane: FilePane) -> None:
        if side is self.active_side:
            self._set_active(pane)
