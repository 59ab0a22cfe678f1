"""The inline name editor of a rename (F2): a line edit laid over the Name cell of one row, as in Explorer and Double
Commander. Enter (or leaving it) commits, Escape cancels; while it is open every key is its own, so F5 or F8 typed
by habit does not copy or delete the selection behind it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QStyle

TEXT_PADDING = 6
"""The listing's item padding (FilePane's style sheet): the editor's text starts where the name's does."""


def stem_length(name: str, is_dir: bool) -> int:
    """How much of ``name`` a rename preselects: a file's name without its last extension (``photo`` of
    ``photo.jpg``, ``archive.tar`` of ``archive.tar.gz``); all of a folder's name, a dot-file's or one without any."""
    if is_dir:
        return len(name)
    dot = name.rfind(".")
    return dot if dot > 0 else len(name)


class InlineNameEditor(QLineEdit):
    """Edits one name over ``index`` (a Name cell of ``view``); ``committed(text)`` or ``cancelled()`` comes once,
    then the editor goes away and the list has the keyboard again."""

    committed = Signal(str)
    cancelled = Signal()

    def __init__(self, view: QAbstractItemView, index: QModelIndex, name: str, *, is_dir: bool) -> None:
        super().__init__(view.viewport())
        self.setObjectName("inlineNameEditor")
        self._view = view
        self._index = index
        self._done = False
        self.setText(name)
        self.setSelection(0, stem_length(name, is_dir))
        self.place()
        self.show()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def is_open(self) -> bool:
        return not self._done

    def place(self) -> None:
        """Over the cell's text, right of its icon, as wide as the column (at least wide enough for the name)."""
        view = self._view
        cell = view.visualRect(self._index)
        icon = view.iconSize().width()
        if icon <= 0:
            icon = view.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, view)
        left = cell.left() + TEXT_PADDING + icon + 2
        wanted = self.fontMetrics().horizontalAdvance(self.text()) + 24
        width = min(max(cell.right() - left, wanted), view.viewport().width() - left)
        height = max(cell.height(), self.sizeHint().height())
        self.setGeometry(QRect(left, cell.center().y() - height // 2, max(width, 40), height))

    # -- finishing ----------------------------------------------------------------------------------------------
    def commit(self) -> None:
        self._finish(commit=True)

    def cancel(self) -> None:
        self._finish(commit=False)

    def _finish(self, *, commit: bool) -> None:
        if self._done:
            return
        self._done = True
        had_focus = self.hasFocus()
        self.hide()
        if had_focus:
            self._view.setFocus(Qt.FocusReason.OtherFocusReason)
        if commit:
            self.committed.emit(self.text())
        else:
            self.cancelled.emit()
        self.deleteLater()

    # -- keys and focus -----------------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # the window's shortcuts wait until the name is done
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.cancel()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.commit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        # Clicking elsewhere keeps the name typed (Explorer, Double Commander); the editor's own menu does not.
        if event.reason() != Qt.FocusReason.PopupFocusReason and self.isVisible():
            self.commit()
