"""ListingModel: one directory of a volume as a table, filled from a background listing that reads every page.

The reader keeps going after the first page (it does not wait for the view to ask): pages collect off the model
and a timer appends them every ``FLUSH_INTERVAL_MS`` as one row insertion, so Home/End, Page Up/Down and the scroll
bar reach every entry that has arrived and the GUI thread does a bounded amount of work per tick. The first page
shows at once.

Ordering: the rows are always in the current sort (folders first, then by the sort column). A batch that sorts
after the last row (an S3 prefix lists in key order) is simply appended; one that does not is appended and then
merged into place with one layoutChanged (a local disk lists in no order). ``sort()`` re-sorts what has arrived and
later batches merge into that order.
"""

from __future__ import annotations

import bisect
import functools
import json
import logging
import os
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QMimeDatabase,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFileIconProvider

from sdgui.core.backends.base import Entry, VolumeBackend
from sdgui.core.errors import SdError
from sdgui.core.paths import SdPath
from sdgui.core.units import format_size
from sdgui.gui.jobs.worker import Task, run_stream
from sdgui.gui.models.listing_reader import BackendSource, read_listing
from sdgui.gui.models.path_mime import PATHS_MIME, URI_LIST_MIME, _is_inside, paths_from_mime

__all__ = ["PATHS_MIME", "URI_LIST_MIME", "Column", "ListingModel", "paths_from_mime"]

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 1000
FLUSH_INTERVAL_MS = 150
"""How often arrived pages become rows: often enough to feel live, rarely enough that 100,000 entries are a few
dozen insertions."""

AnyIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    NAME = 0
    SIZE = 1
    MODIFIED = 2
    KIND = 3


HEADERS = ("Name", "Size", "Modified", "Kind")


class ListingModel(QAbstractTableModel):
    """The entries of one directory, read in the background and appended in timed batches as pages arrive."""

    loading_changed = Signal(bool)
    error = Signal(str)
    finished_listing = Signal(int)
    arrived = Signal(int)  # entries received so far, loaded or not
    drop_requested = Signal(list, SdPath, bool)  # sources, destination directory, move

    def __init__(self, parent: QObject | None = None, *, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        super().__init__(parent)
        self.page_size = page_size
        self._rows: list[Entry] = []
        self._keys: list[Any] = []  # the order key of each row (see _order_key)
        self._pending: list[Entry] = []
        self._hidden: list[Entry] = []  # dot-entries left out while show_hidden is off
        self.show_hidden = True
        """Dot-files and dot-folders are rows; off, they are left out of the rows (a new listing applies it)."""
        self._location: SdPath | None = None
        self._source: BackendSource | None = None
        self._backend: VolumeBackend | None = None
        self._generation = 0
        self._listing: Task[None] | None = None
        self._loading = False
        self._last_error: str | None = None
        self._sort_column = Column.NAME
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._changing = False
        self._icons: dict[str, QIcon] = {}
        self._kinds: dict[str, str] = {}
        self._mime_db = QMimeDatabase()
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)

    # -- state ------------------------------------------------------------------
    @property
    def location(self) -> SdPath | None:
        return self._location

    @property
    def backend(self) -> VolumeBackend | None:
        return self._backend

    @property
    def is_loading(self) -> bool:
        return self._loading

    @property
    def last_error(self) -> str | None:
        return self._last_error

    @property
    def total_count(self) -> int:
        """Entries received so far, including those of the next batch (not rows yet)."""
        return len(self._rows) + len(self._pending)

    @property
    def generation(self) -> int:
        return self._generation

    def entry(self, row: int) -> Entry:
        return self._rows[row]

    def entries(self) -> list[Entry]:
        """Every entry received so far, rows first."""
        return self._rows + self._pending

    @property
    def hidden_count(self) -> int:
        """Dot-entries received but not shown (show_hidden off)."""
        return len(self._hidden)

    def names(self) -> set[str]:
        """The names of every entry received so far, hidden ones included (for conflict checks)."""
        return {entry.name for entry in self.entries()} | {entry.name for entry in self._hidden}

    def path_for(self, row: int) -> SdPath:
        """The SdPath of ``row``: a child of the location, marked as a directory for folders and prefixes."""
        return self._child(self._rows[row])

    def _child(self, entry: Entry) -> SdPath:
        location = self._location
        assert location is not None
        if location.volume is None:
            return SdPath(None, os.path.join(location.path, entry.name), entry.is_dir)
        key = f"{location.path}/{entry.name}" if location.path else entry.name
        return SdPath(location.volume, key, entry.is_dir)

    # -- listing ----------------------------------------------------------------
    def set_location(self, backend: BackendSource, location: SdPath) -> None:
        """Show ``location`` (a directory of ``backend``); the listing runs on the global thread pool."""
        self._source = backend
        self._backend = backend if isinstance(backend, VolumeBackend) else None
        self._location = location.as_dir()
        self._start()

    def refresh(self) -> None:
        """List the current location again."""
        if self._location is not None and self._source is not None:
            self._start()

    def cancel(self) -> None:
        """Stop the running listing; what has arrived stays."""
        self._generation += 1
        self._flush_timer.stop()
        if self._listing is not None:
            self._listing.cancel()
            self._listing = None
        self._set_loading(False)

    def _start(self) -> None:
        assert self._location is not None and self._source is not None
        self.cancel()
        generation = self._generation
        self.beginResetModel()
        self._rows = []
        self._keys = []
        self._pending = []
        self._hidden = []
        self._last_error = None
        self.endResetModel()
        self._set_loading(True)
        source, location, page_size = self._source, self._location, self.page_size
        self._listing = run_stream(
            lambda: read_listing(source, location, page_size),
            functools.partial(self._on_item, generation),
            functools.partial(self._on_done, generation),
            functools.partial(self._on_failed, generation),
            context=self,  # a model that is gone hears nothing, and its listing stops at the next page
        )

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)

    def _on_item(self, generation: int, item: VolumeBackend | list[Entry]) -> None:
        if isinstance(item, VolumeBackend):
            if generation == self._generation:
                self._backend = item
        else:
            self._on_page(generation, item)

    def _on_page(self, generation: int, page: list[Entry]) -> None:
        if generation != self._generation or self._location is None:
            return  # a page of a listing the user has left
        own_key = self._location.backend_key.rstrip("/")
        page = [entry for entry in page if entry.name and entry.key.rstrip("/") != own_key]
        if not self.show_hidden:
            self._hidden.extend(entry for entry in page if entry.name.startswith("."))
            page = [entry for entry in page if not entry.name.startswith(".")]
        if not page:
            return
        self._pending.extend(page)
        if not self._rows:
            self._flush()  # the first page shows at once
        elif not self._flush_timer.isActive():
            self._flush_timer.start()
        self.arrived.emit(self.total_count)

    def _on_failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        self._listing = None
        # An SdError names the volume and path; anything else is a bug or an untranslated library error.
        message = exc.message if isinstance(exc, SdError) else f"cannot list {self._location}: {exc}"
        self._last_error = message
        self._set_loading(False)
        self.error.emit(message)

    def _on_done(self, generation: int) -> None:
        if generation != self._generation:
            return
        self._listing = None
        self._flush_timer.stop()
        self._flush()
        self._set_loading(False)
        self.finished_listing.emit(self.total_count)

    # -- batches ----------------------------------------------------------------
    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        # Rows come on the flush timer; a view that reaches the end early just gets the next batch sooner.
        # Not while our own change signals run: a listener (QAbstractItemModelTester does) may call fetchMore
        # from inside rowsInserted or layoutChanged, which would nest one change inside another.
        return not parent.isValid() and bool(self._pending) and not self._changing

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._flush()

    def _flush(self) -> None:
        """Append every arrived entry as one insertion, then merge it into the order if it does not sort last."""
        if not self._pending or self._changing:
            return
        self._flush_timer.stop()
        keys, batch = self._keyed(self._pending)
        self._pending = []
        in_order = not self._keys or self._keys[-1] <= keys[0]
        first = len(self._rows)
        self._changing = True
        try:
            self.beginInsertRows(QModelIndex(), first, first + len(batch) - 1)
            self._rows.extend(batch)
            self._keys.extend(keys)
            self.endInsertRows()
        finally:
            self._changing = False
        if not in_order:
            self._merge_tail(first)

    def _merge_tail(self, first: int) -> None:
        """Move the sorted rows from ``first`` on into their places among the sorted rows before them: a binary
        search per moved row over the cached keys, then one pass that splices the two lists."""
        head_keys, tail_keys = self._keys[:first], self._keys[first:]
        head, tail = self._rows[:first], self._rows[first:]
        rows: list[Entry] = []
        keys: list[Any] = []
        start = 0
        for key, entry in zip(tail_keys, tail, strict=True):
            position = bisect.bisect_right(head_keys, key, lo=start)  # non-decreasing: the tail is sorted
            rows.extend(head[start:position])
            keys.extend(head_keys[start:position])
            rows.append(entry)
            keys.append(key)
            start = position
        rows.extend(head[start:])
        keys.extend(head_keys[start:])
        self._relayout(rows, keys)

    # -- sorting ----------------------------------------------------------------
    def _sort_key(self, column: int) -> Callable[[Entry], Any]:
        if column == Column.SIZE:
            return lambda e: (e.size, e.name.casefold(), e.name)
        if column == Column.MODIFIED:
            return lambda e: (e.modified.timestamp() if e.modified else float("-inf"), e.name.casefold(), e.name)
        if column == Column.KIND:
            return lambda e: (self._kind(e).casefold(), e.name.casefold(), e.name)
        return lambda e: (e.name.casefold(), e.name)

    def _order_key(self) -> Callable[[Entry], Any]:
        """A key whose ascending order is the shown order: folders first in either direction, then the column's
        key, reversed when descending. Rows keep theirs (``_keys``), so merging a batch compares no new keys."""
        key = self._sort_key(self._sort_column)
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            return lambda e: (not e.is_dir, _Reversed(key(e)))
        return lambda e: (not e.is_dir, key(e))

    def _keyed(self, entries: Sequence[Entry]) -> tuple[list[Any], list[Entry]]:
        """``entries`` in the current order, with their order keys."""
        order = self._order_key()
        pairs = sorted(((order(entry), entry) for entry in entries), key=_first)
        return [key for key, _ in pairs], [entry for _, entry in pairs]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort what has arrived; batches still to come merge into this order."""
        if not 0 <= column < len(HEADERS):
            return
        self._sort_column = Column(column)
        self._sort_order = order
        keys, rows = self._keyed(self._rows)
        if all(a is b for a, b in zip(rows, self._rows, strict=True)):
            self._keys = keys  # already in this order: no layout change
            return
        self._relayout(rows, keys)

    def _relayout(self, rows: list[Entry], keys: list[Any]) -> None:
        """Show the same entries in a new order (one layoutChanged); selection and current row follow them."""
        self._changing = True
        try:
            self.layoutAboutToBeChanged.emit()
            old = self.persistentIndexList()
            old_entries = [self._rows[index.row()] for index in old]
            self._rows, self._keys = rows, keys
            new_rows = {id(entry): row for row, entry in enumerate(rows)} if old else {}
            new = [
                self.index(new_rows[id(entry)], index.column()) for entry, index in zip(old_entries, old, strict=True)
            ]
            self.changePersistentIndexList(old, new)
            self.layoutChanged.emit()
        finally:
            self._changing = False

    # -- table ------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section == Column.SIZE:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        entry = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(entry, column)
        if role == Qt.ItemDataRole.DecorationRole and column == Column.NAME:
            return self._icon(entry)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.SIZE and not entry.is_dir:
                return f"{entry.size:,} bytes"
            if column == Column.NAME:
                try:
                    return str(self._child(entry))
                except SdError:
                    return entry.name
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == Column.SIZE:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.UserRole:
            raw: dict[int, Any] = {
                Column.NAME: entry.name,
                Column.SIZE: entry.size,
                Column.MODIFIED: entry.modified.timestamp() if entry.modified else None,
                Column.KIND: self._kind(entry),
            }
            return raw.get(column)
        return None

    def _display(self, entry: Entry, column: int) -> str:
        if column == Column.NAME:
            return entry.name
        if column == Column.SIZE:
            return "" if entry.is_dir else format_size(entry.size)
        if column == Column.MODIFIED:
            return entry.modified.astimezone().strftime("%Y-%m-%d %H:%M") if entry.modified else ""
        return self._kind(entry)

    def _suffix_key(self, name: str) -> str:
        # The MIME type by name depends on the suffixes only: cache by everything after the first dot.
        _stem, dot, rest = name.lower().lstrip(".").partition(".")
        return rest if dot else ""

    def _kind(self, entry: Entry) -> str:
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

    def _icon(self, entry: Entry) -> QIcon:
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

    # -- drag and drop ----------------------------------------------------------
    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        if 0 <= index.row() < len(self._rows) and self._rows[index.row()].is_dir:
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        return flags

    def mimeTypes(self) -> list[str]:
        return [PATHS_MIME, URI_LIST_MIME]

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes if index.isValid() and 0 <= index.row() < len(self._rows)})
        paths: list[SdPath] = []
        for row in rows:
            try:
                paths.append(self.path_for(row))
            except SdError as exc:  # a key no SdPath can name (e.g. a ".." segment): it cannot be copied either
                log.warning("not dragging %r: %s", self._rows[row].key, exc)
        texts = [str(path) for path in paths]
        mime = QMimeData()
        mime.setData(PATHS_MIME, QByteArray(json.dumps(texts).encode("utf-8")))
        urls = [QUrl.fromLocalFile(path.path) for path in paths if path.volume is None]
        if urls:
            mime.setUrls(urls)
        mime.setText("\n".join(texts))
        return mime

    def drop_destination(self, parent: AnyIndex) -> SdPath | None:
        """Where a drop lands: the folder row it was dropped on, else the location."""
        if parent.isValid() and 0 <= parent.row() < len(self._rows) and self._rows[parent.row()].is_dir:
            return self.path_for(parent.row())
        return self._location

    def _drop_plan(
        self, data: QMimeData, action: Qt.DropAction, parent: AnyIndex
    ) -> tuple[list[SdPath], SdPath] | None:
        if action not in (Qt.DropAction.CopyAction, Qt.DropAction.MoveAction):
            return None
        if not (data.hasFormat(PATHS_MIME) or data.hasUrls()):
            return None
        try:
            destination = self.drop_destination(parent)
        except SdError:
            return None
        sources = paths_from_mime(data)
        if destination is None or not sources:
            return None
        if any(_is_inside(destination, source) for source in sources):
            return None  # into itself
        if all(source.parent() == destination for source in sources):
            return None  # onto the folder they are already in
        return sources, destination

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex) -> bool:
        return self._drop_plan(data, action, parent) is not None

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: AnyIndex) -> bool:
        """Nothing is copied here: the window turns ``drop_requested`` into a copy job."""
        plan = self._drop_plan(data, action, parent)
        if plan is None:
            return False
        sources, destination = plan
        self.drop_requested.emit(sources, destination, action == Qt.DropAction.MoveAction)
        return True


def _first(pair: tuple[Any, Entry]) -> Any:
    return pair[0]


class _Reversed:
    """Wraps a key so that it sorts in the opposite order (descending columns, with folders still first)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.key < self.key)

    def __le__(self, other: _Reversed) -> bool:
        return bool(other.key <= self.key)
