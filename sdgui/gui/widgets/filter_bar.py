"""FilterBar: the box under a pane's list that narrows the rows to the names containing what is typed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from sdgui.gui.icons import filter_icon

FORWARDED_KEYS = frozenset(
    {Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Return, Qt.Key.Key_Enter}
)
"""Keys that act on the list while typing in the filter: move the cursor, open what it is on."""


class FilterBar(QLineEdit):
    """Typing narrows the list; Up/Down/Page Up/Page Down and Enter act on the list without leaving the box;
    Escape clears the filter and hides the box (``cancelled``)."""

    cancelled = Signal()

    def __init__(self, target: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._target = target
        self.setPlaceholderText("Filter names (Escape clears)")
        self.setClearButtonEnabled(True)
        self.setToolTip("Shows only the names that contain this text, in any case")
        self.addAction(filter_icon(), QLineEdit.ActionPosition.LeadingPosition)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            event.accept()
            return
        if event.key() in FORWARDED_KEYS:
            forwarded = QKeyEvent(QEvent.Type.KeyPress, event.key(), event.modifiers(), event.text())
            QApplication.sendEvent(self._target, forwarded)
            event.accept()
            return
        super().keyPressEvent(event)
