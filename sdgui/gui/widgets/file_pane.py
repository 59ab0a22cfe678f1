"""FilePane: one side of the window — a place picker, a path bar, the listing table, an error banner, a status line."""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QDir, QEvent, QItemSelection, QModelIndex, QObject, QStorageInfo, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QKeyEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.backends.base import VolumeBackend
from sdgui.core.backends.factory import BackendCache
from sdgui.core.errors import SdError
from sdgui.core.paths import SdPath
from sdgui.core.units import format_size
from sdgui.gui.icons import cloud_icon
from sdgui.gui.models.listing_model import DEFAULT_PAGE_SIZE, Column, ListingModel

log = logging.getLogger(__name__)

# Mounts that hold no user files: kernel interfaces, memory file systems, container layers, snap images.
PSEUDO_FILESYSTEMS = frozenset(
    {
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
        "efivarfs", "fuse.gvfsd-fuse", "fuse.lxcfs", "fuse.portal", "fusectl", "hugetlbfs", "mqueue", "nsfs",
        "overlay", "proc", "pstore", "ramfs", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs",
        "tmpfs", "tracefs",
    }
)  # fmt: skip
SYSTEM_PREFIXES = ("/proc", "/sys", "/dev", "/run", "/snap", "/boot", "/var/lib", "/var/snap")
USER_MEDIA_PREFIXES = ("/run/media/", "/media/", "/mnt/")


def real_mounts() -> list[tuple[str, str]]:
    """(label, root path) of mounted file systems a person would browse; "/" is listed separately."""
    mounts: list[tuple[str, str]] = []
    seen = {"/"}
    for info in QStorageInfo.mountedVolumes():
        root = info.rootPath()
        fs_type = bytes(info.fileSystemType().data()).decode(errors="replace")
        if not (info.isValid() and info.isReady()) or root in seen or fs_type in PSEUDO_FILESYSTEMS:
            continue
        if root.startswith(SYSTEM_PREFIXES) and not root.startswith(USER_MEDIA_PREFIXES):
            continue
        if not os.path.isdir(root):  # a container's bind-mounted /etc/hosts and the like
            continue
        seen.add(root)
        name = info.displayName()
        mounts.append((f"{name} ({root})" if name and name != root else root, root))
    return mounts


class PaneView(QTableView):
    """The listing table: reports focus, maps Backspace to "up", Home/End to the first/last row, and Shift/Ctrl while
    dropping to move/copy."""

    focused = Signal()
    up_requested = Signal()

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


class FilePane(QWidget):
    """One directory of one volume, listed in the background; drops become ``copy_requested``."""

    location_changed = Signal(SdPath)
    copy_requested = Signal(list, SdPath, bool)  # sources, destination directory, move
    focused = Signal()

    def __init__(
        self, cache: BackendCache, parent: QWidget | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> None:
        super().__init__(parent)
        self._cache = cache
        self._location = SdPath(None, QDir.homePath(), True)
        self._reselect: set[str] = set()
        self._current_name: str | None = None
        self._cloud_icon = cloud_icon()
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
        self.volume_box = QComboBox()
        self.volume_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.volume_box.setMinimumContentsLength(10)
        self.volume_box.setToolTip("Local places and cloud volumes")
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
        self._setup_view()
        self.status_label = QLabel()
        self.status_label.setContentsMargins(4, 0, 4, 3)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status_label)
        self.setFocusProxy(self.view)

    def _setup_view(self) -> None:
        view = self.view
        view.setModel(self.model)
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

    def _connect(self) -> None:
        self.volume_box.activated.connect(self._on_volume_chosen)
        self.up_button.clicked.connect(self.go_up)
        self.refresh_button.clicked.connect(self.refresh)
        self.path_edit.returnPressed.connect(self._on_path_entered)
        self.retry_button.clicked.connect(self.refresh)
        self.view.activated.connect(self._open_index)
        self.view.up_requested.connect(self.go_up)
        self.view.focused.connect(self.focused)
        selection = self.view.selectionModel()
        selection.selectionChanged.connect(self._on_selection_changed)
        model = self.model
        model.drop_requested.connect(self.copy_requested)
        model.error.connect(self._show_error)
        model.loading_changed.connect(lambda _: self._update_status())
        model.arrived.connect(lambda _: self._update_status())
        model.finished_listing.connect(self._on_finished)
        model.modelReset.connect(self._update_status)
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
        current_name = self.model.entry(current.row()).name if current.isValid() else None
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

    def go_up(self) -> None:
        """Show the parent directory with the cursor on the folder we came from."""
        if not self._location.is_root:
            self._navigate(self._location.parent(), select={self._location.name})

    def selected_paths(self) -> list[SdPath]:
        rows = sorted({index.row() for index in self.view.selectionModel().selectedRows()})
        paths: list[SdPath] = []
        for row in rows:
            try:
                paths.append(self.model.path_for(row))
            except SdError as exc:
                log.warning("cannot name the selected entry %r: %s", self.model.entry(row).key, exc)
        return paths

    def reload_volumes(self) -> None:
        """Fill the place picker: Home, the file system root, real mounts, then every configured cloud volume."""
        style = self.style()
        box = self.volume_box
        box.clear()
        box.addItem(
            style.standardIcon(QStyle.StandardPixmap.SP_DirHomeIcon), "Home", SdPath(None, QDir.homePath(), True)
        )
        box.addItem(style.standardIcon(QStyle.StandardPixmap.SP_DriveHDIcon), "File system", SdPath(None, "/", True))
        box.setItemData(1, "/", Qt.ItemDataRole.ToolTipRole)
        drive_icon = style.standardIcon(QStyle.StandardPixmap.SP_DriveHDIcon)
        for label, root in real_mounts():
            box.addItem(drive_icon, label, SdPath(None, root, True))
            box.setItemData(box.count() - 1, root, Qt.ItemDataRole.ToolTipRole)
        try:
            volumes = self._cache.registry.list()
        except SdError as exc:
            volumes = []
            self._show_error(exc.message, title="Cannot read the volume list")
        if volumes:
            box.insertSeparator(box.count())
        for config in volumes:
            box.addItem(self._cloud_icon, config.name, SdPath(config.name, "", True))
            where = f"{config.kind}: {config.bucket or config.root or ''}"
            if config.endpoint:
                where += f" at {config.endpoint}"
            box.setItemData(box.count() - 1, where, Qt.ItemDataRole.ToolTipRole)
        self._sync_volume_box()

    # -- navigation -----------------------------------------------------------------
    def _navigate(self, location: SdPath, *, select: set[str]) -> None:
        self._hide_error()
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
        self._sync_volume_box()
        self._update_status()
        self.location_changed.emit(location)

    def _sync_volume_box(self) -> None:
        best, best_length = -1, -1
        location = self._location
        for i in range(self.volume_box.count()):
            root = self.volume_box.itemData(i)
            if not isinstance(root, SdPath) or root.volume != location.volume:
                continue
            if root.volume is not None:
                best = i
                break
            base = root.path.rstrip(os.sep) + os.sep
            if (location.path == root.path or location.path.startswith(base)) and len(root.path) > best_length:
                best, best_length = i, len(root.path)
        self.volume_box.blockSignals(True)
        self.volume_box.setCurrentIndex(best)
        self.volume_box.blockSignals(False)

    def _on_volume_chosen(self, index: int) -> None:
        root = self.volume_box.itemData(index)
        if isinstance(root, SdPath):
            self.set_location(root)
            self.view.setFocus()

    def _resolve_typed(self, text: str) -> SdPath:
        roots = (self.volume_box.itemData(i) for i in range(self.volume_box.count()))
        names = {root.volume for root in roots if isinstance(root, SdPath) and root.volume is not None}
        return self._location.resolve_typed(text, names)

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
        if index.isValid() and self.model.entry(index.row()).is_dir:
            try:
                self.set_location(self.model.path_for(index.row()))
            except SdError as exc:
                self._show_error(exc.message, title="Cannot open this folder")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
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
    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        selection = self.view.selectionModel()
        if first == 0 and not self.view.currentIndex().isValid():
            selection.setCurrentIndex(self.model.index(0, 0), selection.SelectionFlag.NoUpdate)
        self._select_remembered(first, last)

    def _select_remembered(self, first: int, last: int) -> None:
        """Select the rows named in ``_reselect`` (after a refresh, or the folder we came up from)."""
        if not self._reselect and self._current_name is None:
            return
        selection = self.view.selectionModel()
        for row in range(first, last + 1):
            name = self.model.entry(row).name
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
        model = self.model
        total = model.total_count
        if model.last_error is not None:
            text = "Listing failed"
        elif model.is_loading:
            text = f"Loading… {total:,} items so far" if total else "Loading…"
        else:
            rows = {index.row() for index in self.view.selectionModel().selectedRows()}
            if rows:
                size = sum(model.entry(r).size for r in rows if not model.entry(r).is_dir)
                text = f"{len(rows):,} of {total:,} selected, {format_size(size)}"
            else:
                text = f"{total:,} item{'' if total == 1 else 's'}"
            if model.hidden_count:
                text += f" ({model.hidden_count:,} hidden: Ctrl+H shows them)"
        self.status_label.setText(text)

    # -- error banner -----------------------------------------------------------------
    def _show_error(self, message: str, *, title: str | None = None) -> None:
        heading = title or f"Cannot list {self._location}"
        self.banner_label.setText(f"<b>{_escape(heading)}</b><br>{_escape(message)}")
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


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
