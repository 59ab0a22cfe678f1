"""PaneView: a pane's listing table, with the keys a two-pane file manager has."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from sdgui.gui.models.listing_order import Column

_TYPING_MODIFIERS = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier


def typed_text(event: QKeyEvent) -> str:
    """The text a key press types into a name filter: printable, not a space (Space selects in a file list), and
    without Ctrl, Alt or Meta (those are commands); "" otherwise."""
    text = event.text()
    if event.modifiers() & ~_TYPING_MODIFIERS:
        return ""
    return text if text.isprintable() and text.strip() else ""


class PaneView(QTableView):
    """The listing table: reports focus, maps Backspace to "up", Home/End to the first/last row, a typed character
    to the name filter, Escape to "clear the filter", and Shift/Ctrl while dropping to move/copy."""

    focused = Signal()
    up_requested = Signal()
    typed = Signal(str)
    escape_pressed = Signal()

    def show_model(self, model: QAbstractItemModel) -> None:
        """Show ``model`` as a file list: whole rows, no grid, fixed row heights (no per-row size hints over 100,000
        rows), Name stretching, the other columns sized for their longest usual text, sorted by Name."""
        view = self
        view.setModel(model)
        view.setShowGrid(False)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setTabKeyNavigation(False)  # Tab switches panes in the window
        view.setCornerButtonEnabled(False)
        view.setDragEnabled(True)
        view.setAcceptDrops(True)
        view.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        view.setDefaultDropAction(Qt.DropAction.CopyAction)
        view.setDragDropOverwriteMode(True)  # a drop anywhere on a folder row goes into that folder
        view.setDropIndicatorShown(True)
        metrics = view.fontMetrics()
        rows = view.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row size hints over 100k rows
        rows.setDefaultSectionSize(metrics.height() + 6)
        header = view.horizontalHeader()
        header.setHighlightSections(False)
        header.setStyleSheet("QHeaderView::section { padding: 0px 6px; }")
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(metrics.horizontalAdvance("Modified") + 24)  # Name never shrinks to nothing
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        padding = 24
        for column, sample in (
            (Column.SIZE, "999.9 MB"),
            (Column.MODIFIED, "2026-12-31 23:59"),
            (Column.KIND, "Plain text document"),
        ):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, metrics.horizontalAdvance(sample) + padding)
        header.setSortIndicator(Column.NAME, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.focused.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, modifiers = event.key(), event.modifiers()
        if (key == Qt.Key.Key_Backspace and modifiers == Qt.KeyboardModifier.NoModifier) or (
            key == Qt.Key.Key_Up and modifiers == Qt.KeyboardModifier.AltModifier
        ):
            self.up_requested.emit()
            event.accept()
            return
        if key == Qt.Key.Key_Escape and modifiers == Qt.KeyboardModifier.NoModifier:
            self.escape_pressed.emit()
            event.accept()
            return
        text = typed_text(event)
        if text:  # instead of the table's own keyboard search: typing filters the names
            self.typed.emit(text)
            event.accept()
            return
        super().keyPressEvent(event)

    def moveCursor(self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier) -> QModelIndex:
        # A table's Home/End go to the first/last column, which a row-selecting list does not show at all: go to
        # the first/last row, as a file manager does (Shift still extends the selection there).
        model = self.model()
        if action in (QAbstractItemView.CursorAction.MoveHome, QAbstractItemView.CursorAction.MoveEnd) and (
            model is not None and model.rowCount() > 0
        ):
            row = 0 if action == QAbstractItemView.CursorAction.MoveHome else model.rowCount() - 1
            return model.index(row, max(self.currentIndex().column(), 0))
        return super().moveCursor(action, modifiers)

    @staticmethod
    def _wanted_action(event: QDropEvent) -> Qt.DropAction:
        # Copy unless Shift says move: a plain drag from another application must never move the user's files.
        possible = event.possibleActions()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and possible & Qt.DropAction.MoveAction:
            return Qt.DropAction.MoveAction
        if possible & Qt.DropAction.CopyAction:
            return Qt.DropAction.CopyAction
        return event.dropAction()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        event.setDropAction(self._wanted_action(event))
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        wanted = self._wanted_action(event)
        event.setDropAction(wanted)
        super().dragMoveEvent(event)
        if event.isAccepted() and event.dropAction() != wanted:  # acceptProposedAction() reset it
            event.setDropAction(wanted)
            event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        event.setDropAction(self._wanted_action(event))
        super().dropEvent(event)
