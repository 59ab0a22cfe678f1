"""How an entry looks in a listing: its cells' text, its kind ("PDF document") and its icon, cached by suffix so a
100,000-row folder asks the MIME database a few dozen times."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeDatabase, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QFileIconProvider, QStyle

from sdgui.core.backends.base import Entry
from sdgui.core.units import format_size
from sdgui.gui.models.listing_order import Column

PARENT_NAME = ".."


class EntryLook:
    """Text, kind and icon of entries; the kinds and icons are cached per suffix."""

    def __init__(self) -> None:
        self._icons: dict[str, QIcon] = {}
        self._kinds: dict[str, str] = {}
        self._mime_db = QMimeDatabase()

    def data(self, entry: Entry, column: int, role: int) -> Any:
        """A cell's data for ``role`` (the Name column's tooltip, the entry's full path, is the model's)."""
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(entry, column)
        if role == Qt.ItemDataRole.DecorationRole and column == Column.NAME:
            return self.icon(entry)
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.SIZE and not entry.is_dir:
            return f"{entry.size:,} bytes"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == Column.SIZE:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.UserRole:
            raw: dict[int, Any] = {
                Column.NAME: entry.name,
                Column.SIZE: entry.size,
                Column.MODIFIED: entry.modified.timestamp() if entry.modified else None,
                Column.KIND: self.kind(entry),
            }
            return raw.get(column)
        return None

    def parent_data(self, column: int, role: int) -> Any:
        """The ".." row's cells: its name and an up arrow in the Name column, nothing else."""
        if column != Column.NAME:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return PARENT_NAME
        if role == Qt.ItemDataRole.DecorationRole:
            return self.parent_icon()
        return None

    def display(self, entry: Entry, column: int) -> str:
        if column == Column.NAME:
            return entry.name
        if column == Column.SIZE:
            return "" if entry.is_dir else format_size(entry.size)
        if column == Column.MODIFIED:
            return entry.modified.astimezone().strftime("%Y-%m-%d %H:%M") if entry.modified else ""
        return self.kind(entry)

    @staticmethod
    def _suffix_key(name: str) -> str:
        # The MIME type by name depends on the suffixes only: cache by everything after the first dot.
        _stem, dot, rest = name.lower().lstrip(".").partition(".")
        return rest if dot else ""

    def kind(self, entry: Entry) -> str:
        if entry.is_dir:
            return "Folder"
        suffix = self._suffix_key(entry.name)
        kind = self._kinds.get(suffix)
        if kind is None:
            mime = self._mime_db.mimeTypeForFile(f"x.{suffix}", QMimeDatabase.MatchMode.MatchExtension)
            if suffix and not mime.isDefault() and mime.comment():
                kind = mime.comment()[:1].upper() + mime.comment()[1:]
            else:
                last = suffix.rpartition(".")[2]
                kind = f"{last.upper()} file" if last else "File"
            self._kinds[suffix] = kind
        return kind

    def icon(self, entry: Entry) -> QIcon:
        key = "/" if entry.is_dir else self._suffix_key(entry.name)
        icon = self._icons.get(key)
        if icon is None:
            provider = QFileIconProvider()
            if entry.is_dir:
                icon = provider.icon(QFileIconProvider.IconType.Folder)
            else:
                icon = provider.icon(QFileIconProvider.IconType.File)
                mime = self._mime_db.mimeTypeForFile(f"x.{key}", QMimeDatabase.MatchMode.MatchExtension)
                for name in (mime.iconName(), mime.genericIconName()):
                    if key and name and QIcon.hasThemeIcon(name):
                        icon = QIcon.fromTheme(name)
                        break
            self._icons[key] = icon
        return icon

    def parent_icon(self) -> QIcon:
        """The ".." row's icon: the style's "up one level" arrow, as Double Commander shows it."""
        icon = self._icons.get("..")
        if icon is None:
            icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogToParent)
            self._icons[".."] = icon
        return icon
