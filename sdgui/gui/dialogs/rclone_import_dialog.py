"""Import the remotes of an rclone.conf as volumes: each remote's bucket is asked for, what cannot be is said."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.backends.factory import available_profiles
from sdgui.core.errors import SdError
from sdgui.core.rclone_import import ImportItem, apply_import, plan_import, read_remotes
from sdgui.core.volumes import VolumeRegistry
from sdgui.gui.dialogs.colors import ERROR_COLOR
from sdgui.gui.jobs.worker import Task, run_task

log = logging.getLogger(__name__)

REMOTE, TYPE, BUCKET, RESULT = range(4)


class RcloneImportDialog(QDialog):
    """The remotes of one rclone.conf with an editable bucket each; Import adds the importable ones (the keyring
    writes run on the thread pool: a keyring can block on an unlock prompt). ``imported`` fires after."""

    imported = Signal()

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle("Import volumes from rclone")
        self.items: list[ImportItem] = []
        self._task: Task[None] | None = None
        self.remotes: dict[str, dict[str, str]] = {}
        self._profiles = set(available_profiles())
        self._existing = {volume.name for volume in VolumeRegistry().list()}
        self.intro = QLabel(f"Remotes of {path}. Enter the bucket (or container) each volume shows.")
        self.intro.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Remote", "Type", "Bucket", "Becomes"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR}")
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.start_import)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.resize(900, 420)
        try:
            self.remotes = read_remotes(path)
        except SdError as exc:
            self._show_error(exc.detail)
        self._fill()
        self.table.itemChanged.connect(self._on_item_changed)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _fill(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.remotes))
        for row, (name, options) in enumerate(self.remotes.items()):
            for column, text in ((REMOTE, name), (TYPE, options.get("type", ""))):
                cell = QTableWidgetItem(text)
                cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, cell)
            # An alias points into its bucket (remote:bucket/folder): shown, not asked for.
            alias = options.get("remote", "").partition(":")[2] if options.get("type") == "alias" else ""
            self.table.setItem(row, BUCKET, QTableWidgetItem(alias))
            self.table.setItem(row, RESULT, QTableWidgetItem(""))
        self.table.blockSignals(False)
        self._replan()
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(BUCKET, max(self.table.columnWidth(BUCKET), 180))

    def buckets(self) -> dict[str, str]:
        cells = (self.table.item(row, BUCKET) for row in range(self.table.rowCount()))
        names = list(self.remotes)
        return {
            names[row]: cell.text().strip()
            for row, cell in enumerate(cells)
            if cell and cell.text().strip() and self.remotes[names[row]].get("type") != "alias"
        }

    def set_bucket(self, remote: str, bucket: str) -> None:
        """Type ``bucket`` into the row of ``remote``."""
        cell = self.table.item(list(self.remotes).index(remote), BUCKET)
        assert cell is not None
        cell.setText(bucket)

    @Slot(QTableWidgetItem)
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == BUCKET:
            self._replan()

    def _replan(self) -> None:
        self.items = plan_import(self.remotes, buckets=self.buckets(), existing=self._existing, profiles=self._profiles)
        self.table.blockSignals(True)
        for row, item in enumerate(self.items):
            if item.skipped or item.volume is None:
                text, tip = f"skipped: {item.skipped}", item.skipped or ""
            else:
                where = "/".join(part for part in (item.volume.bucket, item.volume.prefix) if part)
                text = f"volume {item.volume.name} ({item.volume.kind} {where}, {item.identity})"
                tip = item.note or text
            result = self.table.item(row, RESULT)
            assert result is not None
            result.setText(text)
            result.setToolTip(tip)
            result.setFlags(result.flags() & ~Qt.ItemFlag.ItemIsEditable)
            bucket = self.table.item(row, BUCKET)
            if bucket is not None and self.remotes[item.remote].get("type") == "alias":
                bucket.setFlags(bucket.flags() & ~Qt.ItemFlag.ItemIsEditable)  # an alias names its bucket
        self.table.blockSignals(False)
        self.import_button.setEnabled(self._task is None and any(self._importable()))

    def _importable(self) -> list[ImportItem]:
        return [item for item in self.items if item.volume is not None and not item.skipped]

    @Slot()
    def start_import(self) -> None:
        """Add the importable remotes on the thread pool; stay open to show what became of each."""
        if self._task is not None or not self._importable():
            return
        items = self.items
        self.import_button.setEnabled(False)
        self._task = run_task(
            lambda: apply_import(items, VolumeRegistry()), lambda _: self._on_done(), self._on_failed, context=self
        )

    def _on_done(self) -> None:
        self._task = None
        done = [item for item in self.items if item.imported]
        failed = [item for item in self.items if not item.imported and item.volume is not None and item.skipped]
        for row, item in enumerate(self.items):
            result = self.table.item(row, RESULT)
            if result is not None and item.imported:
                result.setText(f"added as volume {item.volume.name if item.volume else item.remote}")
            elif result is not None and item in failed:
                result.setText(f"not added: {item.skipped}")
        self.intro.setText(f"Added {len(done)} volume{'s' if len(done) != 1 else ''} from {self.path}.")
        self.buttons.clear()
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close).clicked.connect(self.accept)
        if done:
            self.imported.emit()

    def _on_failed(self, exc: Exception) -> None:
        self._task = None
        self._show_error(exc.message if isinstance(exc, SdError) else f"{type(exc).__name__}: {exc}")
        self.import_button.setEnabled(any(self._importable()))

    def done(self, result: int) -> None:
        if self._task is not None:
            self._task.detach()
            self._task = None
        super().done(result)
