"""ListingModel: one directory of a volume as a table, filled from a background listing that reads every page.

The reader keeps going after the first page (it does not wait for the view to ask): pages collect off the model
and a timer appends them every ``FLUSH_INTERVAL_MS`` as one row insertion, so Home/End, Page Up/Down and the scroll
bar reach every entry that has arrived and the GUI thread does a bounded amount of work per tick. The first page
shows at once.

Ordering: the rows are always in the current sort (folders first, then by the sort column). A batch that sorts
after the last row (an S3 prefix lists in key order) is simply appended; one that does not is appended and then
merged into place with one layoutChanged (a local disk lists in no order). ``sort()`` re-sorts what has arrived and
later batches merge into that order.

Row 0 of a folder that has a parent is "..", whatever the sort: it names no entry (``entry(0)`` is None), cannot be
selected or dragged, and a drop on it goes into the parent folder.

Filter: ``set_filter(text)`` keeps only the entries whose names contain ``text`` (case-insensitive) as rows, in the
model's own row list, so Home/End and the scroll bar reach every match. What does not match is kept aside in order,
batches that arrive later are filtered as they come, and a change of the filter is one layoutChanged (selection
and cursor follow the entries that stay).
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Signal,
)

from sdgui.core.backends.base import Entry, VolumeBackend
from sdgui.core.errors import SdError
from sdgui.core.paths import SdPath
from sdgui.gui.jobs.worker import Task, run_stream
from sdgui.gui.models.entry_look import PARENT_NAME, EntryLook
from sdgui.gui.models.listing_drag_drop import AnyIndex, ListingDragDrop
from sdgui.gui.models.listing_filter import FoldedNames, matching, new_rows
from sdgui.gui.models.listing_order import (
    HEADERS,
    Column,
    NamesOfKeys,
    folded_names,
    keyed,
    merged,
    merged_into,
    name_key,
    order_key,
)
from sdgui.gui.models.listing_reader import BackendSource, read_listing
from sdgui.gui.models.path_mime import PATHS_MIME, URI_LIST_MIME, paths_from_mime

__all__ = ["PARENT_NAME", "PATHS_MIME", "URI_LIST_MIME", "Column", "ListingModel", "paths_from_mime"]

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 1000
FLUSH_INTERVAL_MS = 150
"""How often arrived pages become rows: often enough to feel live, rarely enough that 100,000 entries are a few
dozen insertions."""


class ListingModel(ListingDragDrop, QAbstractTableModel):
    """The entries of one directory, read in the background and appended in timed batches as pages arrive."""

    loading_changed = Signal(bool)
    error = Signal(str)
    finished_listing = Signal(int)
    arrived = Signal(int)  # entries received so far, loaded or not
    filter_changed = Signal(str)
    drop_requested = Signal(list, SdPath, bool)  # sources, destination directory, move

    def __init__(self, parent: QObject | None = None, *, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        super().__init__(parent)
        self.page_size = page_size
        self._rows: list[Entry] = []  # the entries shown, in order (those that match the filter)
        self._keys: list[Any] = []  # the order key of each row (see listing_order.order_key)
        self._everything: tuple[list[Any], list[Entry]] | None = None  # while filtering: every arrived entry
        self._everything_unsorted = False  # sorted since the filter took rows out: re-sorted when next needed
        self._names: dict[int, tuple[str, str]] = {}  # id(entry) -> name_key(entry), for the order and the filter
        self._folded = FoldedNames()  # the filter's view of those names, beside the lists it filters
        self._needle = ""  # the filter, casefolded
        self._filter_text = ""
        self._pending: list[Entry] = []
        self._hidden: list[Entry] = []  # dot-entries left out while show_hidden is off
        self.show_hidden = True
        """Dot-files and dot-folders are rows; off, they are left out of the rows (a new listing applies it)."""
        self._location: SdPath | None = None
        self._has_parent = False
        self._source: BackendSource | None = None
        self._backend: VolumeBackend | None = None
        self._generation = 0
        self._listing: Task[None] | None = None
        self._loading = False
        self._last_error: str | None = None
        self._sort_column = Column.NAME
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._changing = False
        self._look = EntryLook()
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
        """Entries received so far, matching the filter or not, including those of the next batch (not rows yet)."""
        return len(self._everything[1] if self._everything is not None else self._rows) + len(self._pending)

    @property
    def match_count(self) -> int:
        """Entries shown as rows (all of them without a filter; ".." is not one)."""
        return len(self._rows)

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def first_entry_row(self) -> int:
        """The row of the first entry: 1 below the ".." row, else 0."""
        return 1 if self._has_parent else 0

    def is_parent_row(self, row: int) -> bool:
        """Whether ``row`` is the ".." row (the parent folder, not an entry)."""
        return self._has_parent and row == 0

    def entry(self, row: int) -> Entry | None:
        """The entry shown in ``row``; None for the ".." row."""
        if self.is_parent_row(row):
            return None
        if not self.first_entry_row <= row < self.rowCount():
            raise IndexError(f"no row {row}")
        return self._rows[row - self.first_entry_row]

    def row_entries(self) -> list[Entry]:
        """The entries shown as rows, in row order (no "..")."""
        return list(self._rows)

    def entries(self) -> list[Entry]:
        """Every entry received so far, matching the filter or not, rows first."""
        return (self._everything[1] if self._everything is not None else self._rows) + self._pending

    @property
    def hidden_count(self) -> int:
        """Dot-entries received but not shown (show_hidden off)."""
        return len(self._hidden)

    def names(self) -> set[str]:
        """The names of every entry received so far, hidden and filtered-out ones included (conflict prompts look at
        the destination afresh instead: a listing may be stale)."""
        return {entry.name for entry in self.entries()} | {entry.name for entry in self._hidden}

    def path_for(self, row: int) -> SdPath:
        """The SdPath of the entry in ``row``: a child of the location, marked as a directory for folders and
        prefixes. The ".." row names no entry: LookupError."""
        entry = self.entry(row)
        if entry is None:
            raise LookupError("the '..' row is the parent folder, not an entry")
        return self._child(entry)

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
        self._everything = ([], []) if self._needle else None
        self._everything_unsorted = False
        self._names = {}
        self._folded = FoldedNames()
        self._pending = []
        self._hidden = []
        self._has_parent = not self._location.is_root
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
        self._names.update((id(entry), name_key(entry)) for entry in page)
        first_page = self.total_count == 0
        self._pending.extend(page)
        if first_page:
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
        self._warm_names()
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
        """Append every arrived entry that matches as one insertion, then merge it into the order if it does not
        sort last."""
        if not self._pending or self._changing:
            return
        self._flush_timer.stop()
        keys, batch = keyed(self._pending, self._order())
        self._pending = []
        if self._everything is not None:
            self._everything = merged_into(*self._all_in_order(), keys, batch)
            keys, batch, _ = matching(self._needle, keys, batch, list(self._names_of_keys()(keys)))
            if not batch:
                return
        in_order = not self._keys or self._keys[-1] <= keys[0]
        first = len(self._rows)
        offset = self.first_entry_row
        self._changing = True
        try:
            self.beginInsertRows(QModelIndex(), first + offset, first + offset + len(batch) - 1)
            self._rows.extend(batch)
            self._keys.extend(keys)
            self.endInsertRows()
        finally:
            self._changing = False
        if not in_order:
            keys, rows = merged(self._keys[:first], self._rows[:first], self._keys[first:], self._rows[first:])
            self._relayout(rows, keys)
        else:
            self._warm_names()  # the rows only grew: their names so far are kept, the batch's are added

    # -- filter -----------------------------------------------------------------
    @property
    def filter_text(self) -> str:
        """The filter as typed ("" for none)."""
        return self._filter_text

    def set_filter(self, text: str) -> None:
        """Show only the entries whose names contain ``text`` (case-insensitive); "" shows every entry. Entries
        still to arrive are filtered as they come."""
        needle = text.casefold()
        self._filter_text = text
        if needle == self._needle:
            return
        narrower = bool(self._needle) and self._needle in needle
        self._needle = needle
        if not needle:
            keys, rows = self._all_in_order()
            self._everything = None
        else:
            if self._everything is None:
                self._everything = (self._keys, self._rows)
            # A longer filter can only drop rows: look only at the rows that matched the shorter one.
            source_keys, source_rows = (self._keys, self._rows) if narrower else self._all_in_order()
            keys, rows, folded = matching(
                needle, source_keys, source_rows, self._folded.of(source_rows, source_keys, self._names_of_keys())
            )
            self._folded.keep(rows, folded)
        self._relayout(rows, keys)
        self.filter_changed.emit(text)

    # -- sorting ----------------------------------------------------------------
    def _order(self) -> Any:
        names = self._names
        return order_key(self._sort_column, self._sort_order, self._look.kind, lambda entry: names[id(entry)])

    def _warm_names(self) -> None:
        """Read the filter's names of the rows now rather than on the first key typed into the filter (without a
        filter only: a filter's lists bring their names)."""
        if self._everything is None:
            self._folded.of(self._rows, self._keys, self._names_of_keys())

    def _names_of_keys(self) -> NamesOfKeys:
        return folded_names(self._sort_column, self._sort_order)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort what has arrived; batches still to come merge into this order."""
        if not 0 <= column < len(HEADERS):
            return
        self._sort_column = Column(column)
        self._sort_order = order
        self._everything_unsorted = self._everything is not None  # sorted when it is next needed, not now
        keys, rows = keyed(self._rows, self._order())
        if all(a is b for a, b in zip(rows, self._rows, strict=True)):
            self._keys = keys  # already in this order: no layout change
            return
        self._relayout(rows, keys)

    def _all_in_order(self) -> tuple[list[Any], list[Entry]]:
        """Every arrived entry in the current order, with keys (only called while filtering)."""
        assert self._everything is not None
        if self._everything_unsorted:
            self._everything, self._everything_unsorted = keyed(self._everything[1], self._order()), False
        return self._everything

    def _relayout(self, rows: list[Entry], keys: list[Any]) -> None:
        """Show these entries in this order (one layoutChanged); selection and current row follow the entries that
        are still rows, and leave those that are not (the filter took them out). The ".." row stays first."""
        self._changing = True
        try:
            self.layoutAboutToBeChanged.emit()
            offset = self.first_entry_row
            old = self.persistentIndexList()
            old_entries = [self.entry(index.row()) for index in old]
            self._rows, self._keys = rows, keys
            found = new_rows(old_entries, rows, keys, self._order()) if old else []
            new = []
            for entry, row, index in zip(old_entries, found, old, strict=True):
                if entry is None:  # the ".." row
                    new.append(self.index(0, index.column()))
                else:
                    new.append(QModelIndex() if row is None else self.index(row + offset, index.column()))
            self.changePersistentIndexList(old, new)
            self.layoutChanged.emit()
        finally:
            self._changing = False

    # -- table ------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows) + self.first_entry_row

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
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        column = index.column()
        entry = self.entry(index.row())
        if entry is None:
            return self._parent_data(column, role)
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.NAME:
            try:
                return str(self._child(entry))
            except SdError:
                return entry.name
        return self._look.data(entry, column, role)

    def _parent_data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.NAME and self._location is not None:
            return f"Up to {self._location.parent()}"
        return self._look.parent_data(column, role)

    def _emit_drop(self, sources: list[SdPath], destination: SdPath, move: bool) -> None:
        self.drop_requested.emit(sources, destination, move)
