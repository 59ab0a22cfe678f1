"""FilePane: one side of the window — a place picker, a path bar, the listing table, a name filter, an error banner,
a status line."""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import (
    QDir,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSignalBlocker,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.backends.base import VolumeBackend
from sdgui.core.backends.factory import BackendCache
from sdgui.core.errors import SdError
from sdgui.core.paths import SdPath
from sdgui.gui.models.listing_model import DEFAULT_PAGE_SIZE, ListingModel
from sdgui.gui.widgets.filter_bar import FilterBar
from sdgui.gui.widgets.pane_status import status_text
from sdgui.gui.widgets.pane_view import PaneView
from sdgui.gui.widgets.place_picker import PlacePicker, real_mounts

__all__ = ["FilePane", "PaneView", "real_mounts"]

log = logging.getLogger(__name__)


class FilePane(QWidget):
    """One directory of one volume, listed in the background; drops become ``copy_requested``, Enter on a file
    ``open_requested``."""

    location_changed = Signal(SdPath)
    copy_requested = Signal(list, SdPath, bool)  # sources, destination directory, move
    open_requested = Signal(SdPath)  # a file to open with the desktop's application
    focused = Signal()

    def __init__(
        self, cache: BackendCache, parent: QWidget | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> None:
        super().__init__(parent)
        self._cache = cache
        self._location = SdPath(None, QDir.homePath(), True)
        self._reselect: set[str] = set()
        self._current_name: str | None = None
        self._active = False
        self.model = ListingModel(self, page_size=page_size)
        self._build()
        self._connect()
        self.reload_volumes()
        self._update_status()
        self.set_active(False)

    # -- construction -------------------------------------------------------------
    def _build(self) -> None:
        style = self.style()
        self.volume_box = PlacePicker()
        self.up_button = QToolButton()
        self.up_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_FileDialogToParent))
        self.up_button.setToolTip("Up one level (Backspace)")
        self.up_button.setAutoRaise(True)
        self.refresh_button = QToolButton()
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.setToolTip("List again")
        self.refresh_button.setAutoRaise(True)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("/local/path or VOLUME:prefix/")
        self.path_edit.setClearButtonEnabled(False)
        self.path_edit.installEventFilter(self)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(2)
        bar.addWidget(self.volume_box)
        bar.addWidget(self.up_button)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.path_edit, 1)

        self.banner = QFrame()
        self.banner.setObjectName("errorBanner")
        self.banner.setStyleSheet(
            "#errorBanner { background: #fdecea; border: 1px solid #e6a8a3; border-radius: 3px; }"
            "#errorBanner QLabel { color: #5f1712; background: transparent; border: none; }"
        )
        banner_icon = QLabel()
        banner_icon.setPixmap(style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(20, 20))
        banner_icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.retry_button = QPushButton("Retry")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(6, 4, 6, 4)
        banner_layout.addWidget(banner_icon)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.banner.hide()

        self.view = PaneView()
        self.view.show_model(self.model)
        self.filter_edit = FilterBar(self.view)
        self.filter_edit.installEventFilter(self)
        self.filter_edit.hide()
        self.status_label = QLabel()
        self.status_label.setContentsMargins(4, 0, 4, 3)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.status_label)
        self.setFocusProxy(self.view)

    def _connect(self) -> None:
        self.volume_box.activated.connect(self._on_volume_chosen)
        self.up_button.clicked.connect(self.go_up)
        self.refresh_button.clicked.connect(self.refresh)
        self.path_edit.returnPressed.connect(self._on_path_entered)
        self.retry_button.clicked.connect(self.refresh)
        self.view.activated.connect(self._open_index)
        self.view.up_requested.connect(self.go_up)
        self.view.focused.connect(self.focused)
        self.view.typed.connect(self.start_filter)
        self.view.escape_pressed.connect(self.clear_filter)
        self.filter_edit.textChanged.connect(self._on_filter_text)
        self.filter_edit.cancelled.connect(self.clear_filter)
        selection = self.view.selectionModel()
        selection.selectionChanged.connect(self._on_selection_changed)
        model = self.model
        model.drop_requested.connect(self.copy_requested)
        model.error.connect(self._show_error)
        model.loading_changed.connect(lambda _: self._update_status())
        model.arrived.connect(lambda _: self._update_status())
        model.finished_listing.connect(self._on_finished)
        model.modelReset.connect(self._on_reset)
        model.filter_changed.connect(lambda _: self._on_filter_changed())
        model.rowsInserted.connect(self._on_rows_inserted)
        # A batch merged into the order may bring the folder to reselect.
        model.layoutChanged.connect(lambda: self._select_remembered(0, self.model.rowCount() - 1))

    # -- active or not ------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        """Whether this is the pane the keys act on (F5 copies from it, F7 makes a folder in it)."""
        return self._active

    def set_active(self, active: bool) -> None:
        """Frame the active pane in the highlight colour; the other's selection turns grey, so one blue selection
        says where the keys go."""
        self._active = active
        self.setProperty("active", active)
        base = self.palette()
        frame = base.color(QPalette.ColorRole.Highlight) if active else base.color(QPalette.ColorRole.Mid)
        # Item padding keeps right-aligned sizes off the dates; the header gets the same so titles line up.
        self.view.setStyleSheet(
            "QTableView::item { padding: 0px 6px; }"
            f"QTableView {{ border: 2px solid {frame.name()}; border-radius: 2px; }}"
        )
        palette = QPalette(base)
        if not active:
            grey = _blend(base.color(QPalette.ColorRole.Base), base.color(QPalette.ColorRole.Text), 0.22)
            for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
                palette.setColor(group, QPalette.ColorRole.Highlight, grey)
                palette.setColor(group, QPalette.ColorRole.HighlightedText, base.color(QPalette.ColorRole.Text))
        self.view.setPalette(palette)
        font = self.path_edit.font()
        font.setBold(active)
        self.path_edit.setFont(font)

    # -- public API ---------------------------------------------------------------
    def location(self) -> SdPath:
        return self._location

    def set_location(self, location: SdPath) -> None:
        """List ``location`` (a directory); errors, including opening the volume, show in the banner."""
        self._navigate(location.as_dir(), select=set())

    def refresh(self, *, also_select: set[str] | None = None) -> None:
        """List the current location again, keeping the selection where the names still exist (or selecting
        ``also_select`` instead, e.g. a folder just made)."""
        names = also_select or {path.name for path in self.selected_paths()}
        current = self.view.currentIndex()
        entry = self.model.entry(current.row()) if current.isValid() else None
        current_name = entry.name if entry is not None else None
        self._navigate(self._location, select=names)
        self._current_name = current_name  # the cursor goes back too, without selecting its row

    def set_show_hidden(self, show: bool) -> None:
        """Show or leave out dot-files and dot-folders (Ctrl+H), listing the folder again if that changes."""
        if show != self.model.show_hidden:
            self.model.show_hidden = show
            self.refresh()

    def edit_path(self) -> None:
        """Put the keyboard in the path bar with its text selected (Ctrl+L): type a path, Enter goes, Escape
        comes back."""
        self.path_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.path_edit.selectAll()

    def start_filter(self, text: str = "") -> None:
        """Show the filter box with the keyboard in it (Ctrl+F, or a character typed in the list, which it then
        holds); the list keeps only the names that contain its text."""
        self.filter_edit.show()
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if text:
            self.filter_edit.setText(self.filter_edit.text() + text)
        else:
            self.filter_edit.selectAll()

    def clear_filter(self) -> None:
        """Every name again, the box hidden and the keyboard back in the list (Escape)."""
        had_focus = self.filter_edit.hasFocus()
        self.filter_edit.clear()
        self.filter_edit.hide()
        if had_focus:
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_filter_text(self, text: str) -> None:
        # Qt keeps a whole-table selection through a layout change only while the row count stays, and carries a
        # big one row by row: carry the selected entries across ourselves, so what still shows stays selected.
        entries, first = self.model.row_entries(), self.model.first_entry_row
        selected = {id(entries[row - first]) for row in self.selected_rows()}
        selection = self.view.selectionModel()
        if selected:
            with QSignalBlocker(selection):
                selection.clearSelection()
        self.model.set_filter(text)
        if selected:
            self._select_entries(selected)

    def _select_entries(self, wanted: set[int]) -> None:
        """Select exactly the rows of the entries whose ids are ``wanted``, as runs of rows (one range each)."""
        model, offset, last = self.model, self.model.first_entry_row, self.model.columnCount() - 1
        selection, start = QItemSelection(), None
        for row, entry in enumerate([*model.row_entries(), None]):
            if id(entry) in wanted and entry is not None:
                start = row if start is None else start
            elif start is not None:
                selection.select(model.index(start + offset, 0), model.index(row - 1 + offset, last))
                start = None
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().select(selection, flags)

    def _on_filter_changed(self) -> None:
        # The cursor stays on its entry if that still matches; else it goes to the first match (Enter opens it).
        if not self.view.currentIndex().isValid() and self.model.rowCount():
            row = min(self.model.first_entry_row, self.model.rowCount() - 1)
            self.view.selectionModel().setCurrentIndex(self.model.index(row, 0), self._no_update)
        self.view.scrollTo(self.view.currentIndex())
        self._update_status()

    def go_up(self) -> None:
        """Show the parent directory with the cursor on the folder we came from."""
        if not self._location.is_root:
            self._navigate(self._location.parent(), select={self._location.name})

    def selected_rows(self) -> list[int]:
        """The selected rows that show entries, in order (never the ".." row). Read off the selection's ranges:
        ``selectedRows()`` asks the model for every cell's flags, seconds for 100,000 rows."""
        rows: set[int] = set()
        selection = self.view.selectionModel().selection()
        for i in range(selection.size()):
            rows.update(range(selection.at(i).top(), selection.at(i).bottom() + 1))
        first, end = self.model.first_entry_row, self.model.rowCount()
        return sorted(row for row in rows if first <= row < end)

    def selected_paths(self) -> list[SdPath]:
        paths: list[SdPath] = []
        for row in self.selected_rows():
            try:
                paths.append(self.model.path_for(row))
            except SdError as exc:
                log.warning("cannot name the selected entry %r: %s", self.model.entry(row), exc)
        return paths

    def reload_volumes(self) -> None:
        """Fill the place picker: Home, the file system root, real mounts, then every configured cloud volume."""
        try:
            volumes = self._cache.registry.list()
        except SdError as exc:
            volumes = []
            self._show_error(exc.message, title="Cannot read the volume list")
        self.volume_box.fill(volumes)
        self.volume_box.show_location(self._location)

    # -- navigation -----------------------------------------------------------------
    def _navigate(self, location: SdPath, *, select: set[str]) -> None:
        self._hide_error()
        if location != self._location:  # a filter is for one folder; listing it again keeps it
            self.clear_filter()
        self._location = location
        self._reselect = select
        self._current_name = None
        cache, volume = self._cache, location.volume

        def opener() -> VolumeBackend:  # runs on the listing's thread: may ask the keyring
            return cache.get(volume)

        self.model.set_location(opener, location)
        self.path_edit.setText(str(location))
        self.path_edit.setCursorPosition(len(self.path_edit.text()))
        self.up_button.setEnabled(not location.is_root)
        self.volume_box.show_location(location)
        self._update_status()
        self.location_changed.emit(location)

    def _on_volume_chosen(self, index: int) -> None:
        root = self.volume_box.itemData(index)
        if isinstance(root, SdPath):
            self.set_location(root)
            self.view.setFocus()

    def _resolve_typed(self, text: str) -> SdPath:
        return self._location.resolve_typed(text, self.volume_box.volume_names())

    def _on_path_entered(self) -> None:
        text = self.path_edit.text().strip()
        if not text:
            self.path_edit.setText(str(self._location))
            return
        try:
            location = self._resolve_typed(text)
        except SdError as exc:
            self._show_error(exc.message, title="Cannot go there")
            return
        self.set_location(location)
        self.view.setFocus()

    def _open_index(self, index: QModelIndex) -> None:
        """Enter or a double-click: ".." goes up, a folder opens in the pane, a file is handed to the window."""
        if not index.isValid():
            return
        entry = self.model.entry(index.row())
        if entry is None:
            self.go_up()
            return
        try:
            path = self.model.path_for(index.row())
        except SdError as exc:
            self._show_error(exc.message, title=f"Cannot open {entry.name}")
            return
        if entry.is_dir:
            self.set_location(path)
        else:
            self.open_requested.emit(path)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.filter_edit and event.type() == QEvent.Type.FocusIn:
            self.focused.emit()
        if watched is self.path_edit:
            if event.type() == QEvent.Type.FocusIn:
                self.focused.emit()
            elif (
                event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Escape
            ):
                self.path_edit.setText(str(self._location))
                self.view.setFocus()
                return True
        return super().eventFilter(watched, event)

    # -- rows, selection, status ----------------------------------------------------
    _no_update = QItemSelectionModel.SelectionFlag.NoUpdate

    def _on_reset(self) -> None:
        # A new listing: the cursor starts on "..", where Enter goes up even in an empty folder.
        if self.model.rowCount():
            self.view.selectionModel().setCurrentIndex(self.model.index(0, 0), self._no_update)
        self._update_status()

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not self.view.currentIndex().isValid():
            self.view.selectionModel().setCurrentIndex(self.model.index(0, 0), self._no_update)
        self._select_remembered(first, last)

    def _select_remembered(self, first: int, last: int) -> None:
        """Select the rows named in ``_reselect`` (after a refresh, or the folder we came up from)."""
        if not self._reselect and self._current_name is None:
            return
        selection = self.view.selectionModel()
        for row in range(max(first, self.model.first_entry_row), last + 1):
            entry = self.model.entry(row)
            name = entry.name if entry is not None else None
            if name == self._current_name:
                self._current_name = None
                selection.setCurrentIndex(self.model.index(row, 0), selection.SelectionFlag.NoUpdate)
            if name in self._reselect:
                self._reselect.discard(name)
                flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
                selection.select(self.model.index(row, 0), flags)
                selection.setCurrentIndex(self.model.index(row, 0), selection.SelectionFlag.NoUpdate)
                self.view.scrollTo(self.model.index(row, 0))

    def _on_finished(self, count: int) -> None:
        # Names not among the loaded rows stay unselected; a later sort must not pick them.
        self._reselect.clear()
        self._current_name = None
        self._update_status()

    def _on_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self._update_status()

    def _update_status(self) -> None:
        rows = self.selected_rows() if not self.model.is_loading else []
        self.status_label.setText(status_text(self.model, rows))

    # -- error banner -----------------------------------------------------------------
    def _show_error(self, message: str, *, title: str | None = None) -> None:
        heading = title or f"Cannot list {self._location}"
        self.banner_label.setText(f"<b>{html.escape(heading)}</b><br>{html.escape(message)}")
        self.banner_label.setToolTip(message)
        self.banner.show()
        self._update_status()

    def _hide_error(self) -> None:
        self.banner.hide()
        self.banner_label.clear()
        self.banner_label.setToolTip("")

    @property
    def error_text(self) -> str:
        """The banner's message as plain text ("" when hidden)."""
        return "" if self.banner.isHidden() else self.banner_label.toolTip()


def _blend(a: QColor, b: QColor, amount: float) -> QColor:
    """``a`` moved ``amount`` (0 to 1) of the way to ``b``: a grey that suits light and dark themes alike."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * amount),
        round(a.green() + (b.green() - a.green()) * amount),
        round(a.blue() + (b.blue() - a.blue()) * amount),
    )
