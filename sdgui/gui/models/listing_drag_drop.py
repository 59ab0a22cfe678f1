"""Drag and drop of a listing's rows: their flags, the paths a drag carries, and where a drop lands.

A mixin of ListingModel (``listing_model.py``), which owns the rows, the location and the ``drop_requested``
signal; a drop copies nothing itself: the window turns the signal into a copy job.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, Qt

from sdgui.core.errors import SdError
from sdgui.core.paths import SdPath
from sdgui.gui.models.path_mime import PATHS_MIME, URI_LIST_MIME, drop_plan, mime_for_paths

if TYPE_CHECKING:
    from sdgui.core.backends.base import Entry

log = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex
_DROP = Qt.ItemFlag.ItemIsDropEnabled
_PARENT_FLAGS = Qt.ItemFlag.ItemIsEnabled | _DROP
_FILE_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
_FOLDER_FLAGS = _FILE_FLAGS | _DROP


class ListingDragDrop:
    """The Qt model's drag-and-drop half; comes before QAbstractTableModel in ListingModel's bases."""

    if TYPE_CHECKING:  # what ListingModel provides
        _rows: list[Entry]
        _location: SdPath | None

        @property
        def first_entry_row(self) -> int: ...

        def rowCount(self, parent: AnyIndex = ...) -> int: ...

        def path_for(self, row: int) -> SdPath: ...

        def is_parent_row(self, row: int) -> bool: ...

        def _emit_drop(self, sources: list[SdPath], destination: SdPath, move: bool) -> None: ...

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        # Qt asks this for every selected cell (Ctrl+A on 100,000 rows): no enum arithmetic, no checks per call.
        if not index.isValid():
            return _DROP
        row = index.row() - self.first_entry_row
        if row < 0:  # "..": a cursor can stand on it; nothing selects or drags it
            return _PARENT_FLAGS
        if row < len(self._rows) and self._rows[row].is_dir:
            return _FOLDER_FLAGS
        return _FILE_FLAGS

    def mimeTypes(self) -> list[str]:
        return [PATHS_MIME, URI_LIST_MIME]

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes if index.isValid() and self.entry_row(index.row())})
        paths: list[SdPath] = []
        for row in rows:
            try:
                paths.append(self.path_for(row))
            except SdError as exc:  # a key no SdPath can name (e.g. a ".." segment): it cannot be copied either
                log.warning("not dragging %r: %s", self._rows[row - self.first_entry_row].key, exc)
        return mime_for_paths(paths)

    def entry_row(self, row: int) -> bool:
        """Whether ``row`` shows an entry (not "..", not past the end)."""
        return self.first_entry_row <= row < self.rowCount()

    def drop_destination(self, parent: AnyIndex) -> SdPath | None:
        """Where a drop lands: the folder row it was dropped on, the parent folder on "..", else the location."""
        if parent.isValid() and self._location is not None and self.flags(parent) & _DROP:
            return self._location.parent() if self.is_parent_row(parent.row()) else self.path_for(parent.row())
        return self._location

    def _drop_plan(
        self, data: QMimeData, action: Qt.DropAction, parent: AnyIndex
    ) -> tuple[list[SdPath], SdPath] | None:
        try:
            destination = self.drop_destination(parent)
        except SdError:
            return None
        sources = drop_plan(data, action, destination)
        return None if sources is None or destination is None else (sources, destination)

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex) -> bool:
        return self._drop_plan(data, action, parent) is not None

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex) -> bool:
        """Nothing is copied here: the window turns ``drop_requested`` into a copy job."""
        plan = self._drop_plan(data, action, parent)
        if plan is None:
            return False
        sources, destination = plan
        self._emit_drop(sources, destination, action == Qt.DropAction.MoveAction)
        return True
