"""Bookmarks → Manage bookmarks…: rename (double-click or F2), remove, reorder; each change is saved at once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sdgui.gui.bookmarks import Bookmark, Bookmarks, missing_volume


class BookmarksDialog(QDialog):
    def __init__(self, bookmarks: Bookmarks, volumes: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bookmarks")
        self.resize(520, 340)
        self._bookmarks = bookmarks
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        grey = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for bookmark in bookmarks.items:
            item = QListWidgetItem(bookmark.name)
            item.setData(Qt.ItemDataRole.UserRole, bookmark)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            problem = missing_volume(bookmark, volumes)
            item.setToolTip(problem or str(bookmark.location))
            if problem:
                item.setForeground(grey)
            self.list.addItem(item)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Double-click a name to change it; drag to reorder."))
        layout.addWidget(self.list, 1)
        self.where = QLabel()  # the selected bookmark's folder (or why it cannot be opened)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.where)
        layout.addLayout(row)
        self.list.currentItemChanged.connect(lambda item, _: self.where.setText(item.toolTip() if item else ""))
        self.list.setCurrentRow(0)
        self.list.itemChanged.connect(lambda _: self._save())
        self.list.model().rowsMoved.connect(lambda *_: self._save())

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self._save()

    def _save(self) -> None:
        kept = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            old: Bookmark = item.data(Qt.ItemDataRole.UserRole)
            kept.append(Bookmark(item.text().strip() or old.name, old.location))
        self._bookmarks.set_items(kept)
