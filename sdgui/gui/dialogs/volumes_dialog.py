"""The list of configured volumes: add, edit, remove, and clean up incomplete uploads."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.backends.factory import backend_for_config, has_resumable_uploads
from sdgui.core.cleanup import (
    DEFAULT_MIN_AGE,
    CleanupReport,
    StaleUpload,
    abort_uploads,
    find_stale_uploads,
    uploads_of,
)
from sdgui.core.errors import KeyringUnavailableError, SdError
from sdgui.core.identity import describe_identity
from sdgui.core.rclone_import import default_config_path
from sdgui.core.secrets import SecretStore
from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from sdgui.gui.dialogs.colors import ERROR_COLOR
from sdgui.gui.dialogs.rclone_import_dialog import RcloneImportDialog
from sdgui.gui.dialogs.volume_dialog import VolumeDialog
from sdgui.gui.dialogs.volume_presets import preset_for
from sdgui.gui.jobs.worker import Task, run_task

log = logging.getLogger(__name__)


def _find_stale(config: VolumeConfig) -> CleanupReport:
    """A volume's stale multipart uploads, nothing aborted yet (runs off the GUI thread)."""
    backend = backend_for_config(config)
    try:
        return find_stale_uploads(uploads_of(backend), DEFAULT_MIN_AGE)
    finally:
        backend.close()


def _abort(config: VolumeConfig, stale: list[StaleUpload]) -> CleanupReport:
    """Abort ``stale``; the report says which could not be (runs off the GUI thread)."""
    backend = backend_for_config(config)
    try:
        return abort_uploads(uploads_of(backend), stale)
    finally:
        backend.close()


class VolumesDialog(QDialog):
    """The configured volumes with Add / Edit / Remove; ``volumes_changed`` fires after every change."""

    volumes_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Volumes")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Name", "Provider", "Bucket", "Endpoint", "Secret", "Identity"])
        self.tree.setRootIsDecorated(False)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.edit_selected())
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR}")
        self.error_label.hide()
        self.add_button = QPushButton("Add…")
        self.import_button = QPushButton("Import from rclone…")
        self.import_button.setToolTip("Add the s3, b2, azureblob and gcs remotes of an rclone.conf as volumes")
        self.edit_button = QPushButton("Edit…")
        self.remove_button = QPushButton("Remove")
        self.cleanup_button = QPushButton("Clean up incomplete uploads…")
        self.cleanup_button.setToolTip(
            "Abort multipart uploads started over 24 hours ago and never finished: their parts still cost storage"
        )
        self.add_button.clicked.connect(self.add_volume)
        self.import_button.clicked.connect(self.import_rclone)
        self.edit_button.clicked.connect(self.edit_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.cleanup_button.clicked.connect(self.clean_up_selected)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self._cleanup: Task[CleanupReport] | None = None
        self._cleanup_config: VolumeConfig | None = None
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        side = QVBoxLayout()
        for button in (self.add_button, self.import_button, self.edit_button, self.remove_button, self.cleanup_button):
            button.setAutoDefault(False)
            side.addWidget(button)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.tree, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_label)
        layout.addWidget(close)
        self.resize(760, 360)
        self.configs: dict[str, VolumeConfig] = {}
        self.reload()

    def reload(self) -> None:
        """Read volumes.toml again and show its volumes."""
        self.tree.clear()
        self.configs.clear()
        try:
            volumes = VolumeRegistry().list()
        except SdError as exc:
            self.error_label.setText(exc.message)
            self.error_label.show()
            volumes = []
        else:
            self.error_label.hide()
        for config in volumes:
            self.configs[config.name] = config
            provider = "Local folder" if config.kind == "local" else preset_for(config).title
            if config.profile:
                secret = "AWS profile"
            elif config.service_account_file:
                secret = "key file"
            elif config.secret_env:
                secret = f"${config.secret_env}"
            elif config.kind == "local" or (config.access_key_id is None and config.kind != "gcs"):
                secret = "none"
            else:
                secret = "OS keyring"
            where = config.root if config.kind == "local" else config.endpoint or ""
            row = [config.name, provider, config.bucket or "", where or "", secret, describe_identity(config)]
            QTreeWidgetItem(self.tree, row)
        for column in range(self.tree.columnCount()):
            self.tree.resizeColumnToContents(column)
        self._update_buttons()

    def selected(self) -> VolumeConfig | None:
        """The config of the selected row, if any."""
        items = self.tree.selectedItems()
        return self.configs.get(items[0].text(0)) if items else None

    def _update_buttons(self) -> None:
        config = self.selected()
        self.edit_button.setEnabled(config is not None and config.kind != "local")
        self.remove_button.setEnabled(config is not None)
        self.cleanup_button.setEnabled(
            config is not None and has_resumable_uploads(config) and not config.read_only and self._cleanup is None
        )

    def add_volume(self) -> None:
        self._open(VolumeDialog(self))

    def edit_selected(self) -> None:
        config = self.selected()
        if config is not None and config.kind != "local":
            self._open(VolumeDialog(self, config))

    def import_rclone(self) -> None:
        """Pick an rclone.conf (rclone's own by default) and show what its remotes would become."""
        default = default_config_path()
        path, _ = QFileDialog.getOpenFileName(
            self, "Import from rclone", str(default if default.exists() else default.parent), "All files (*)"
        )
        if path:
            self._open(self.rclone_import_dialog(Path(path)))

    def rclone_import_dialog(self, path: Path) -> RcloneImportDialog:
        """The import dialog for ``path``; the list reloads after it added volumes."""
        dialog = RcloneImportDialog(path, self)
        dialog.imported.connect(self.reload)
        dialog.imported.connect(self.volumes_changed)
        return dialog

    def _open(self, dialog: VolumeDialog | RcloneImportDialog) -> None:
        try:
            if dialog.exec() == QDialog.DialogCode.Accepted:
                self.reload()
                self.volumes_changed.emit()
        finally:
            dialog.deleteLater()

    def remove_selected(self) -> None:
        """Ask, then forget the selected volume and its keyring entry; its files are not touched."""
        config = self.selected()
        if config is None:
            return
        answer = QMessageBox.question(
            self,
            "Remove volume",
            f"Remove the volume “{config.name}”?\n\nIts files stay where they are; sdgui forgets the volume "
            "and its stored secret.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        registry = VolumeRegistry()
        try:
            registry.remove(config.name)
            registry.save()
        except SdError as exc:
            self.error_label.setText(exc.message)
            self.error_label.show()
            return
        with contextlib.suppress(KeyringUnavailableError):  # nothing was stored where there is no keyring
            SecretStore().delete(config.name)
        self.reload()
        self.volumes_changed.emit()

    # -- incomplete uploads ----------------------------------------------------------------------------------
    def clean_up_selected(self) -> None:
        """Look for the selected volume's stale uploads off the GUI thread; abort them once the user agrees."""
        config = self.selected()
        if config is None or not has_resumable_uploads(config) or self._cleanup is not None:
            return
        self._cleanup_config = config
        self.status_label.setText(f"Looking for incomplete uploads in “{config.name}”…")
        self._start_cleanup(config, None)

    def _start_cleanup(self, config: VolumeConfig, stale: list[StaleUpload] | None) -> None:
        if stale is None:
            self._cleanup = run_task(lambda: _find_stale(config), self._on_cleanup_found, self._on_cleanup_failed)
        else:
            self._cleanup = run_task(lambda: _abort(config, stale), self._on_cleanup_finished, self._on_cleanup_failed)
        self.error_label.hide()
        self._update_buttons()

    def _cleanup_ended(self, status: str) -> None:
        self._cleanup = None
        self.status_label.setText(status)
        self._update_buttons()

    @Slot(object)
    def _on_cleanup_found(self, report: CleanupReport) -> None:
        config = self._cleanup_config
        assert config is not None
        self._cleanup = None
        count = len(report.stale)
        if not count:
            self._cleanup_ended(f"No incomplete uploads older than 24 hours in “{config.name}”.")
            return
        answer = QMessageBox.question(
            self,
            "Clean up incomplete uploads",
            f"Abort {count} incomplete upload{'s' if count != 1 else ''} in “{config.name}” started over 24 hours "
            "ago?\n\nTheir parts are deleted and they cannot be resumed. Newer uploads, which may belong to copies "
            "still running, are left alone.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            self._cleanup_ended("Nothing was aborted.")
            return
        self.status_label.setText(f"Aborting {count} incomplete upload{'s' if count != 1 else ''}…")
        self._start_cleanup(config, report.stale)

    @Slot(object)
    def _on_cleanup_finished(self, report: CleanupReport) -> None:
        aborted = len(report.aborted)
        status = f"Aborted {aborted} incomplete upload{'s' if aborted != 1 else ''}."
        if report.failed:
            stale, failure = report.failed[0]
            self.error_label.setText(f"{len(report.failed)} could not be aborted; first: {stale.key}: {failure.detail}")
            self.error_label.show()
        self._cleanup_ended(status)

    def _on_cleanup_failed(self, exc: Exception) -> None:
        kind = exc.kind if isinstance(exc, SdError) else SdError.kind
        message = exc.detail if isinstance(exc, SdError) else f"{type(exc).__name__}: {exc}"
        self.error_label.setText(f"Cannot clean up: {kind} error — {message}")
        self.error_label.show()
        self._cleanup_ended("")

    def done(self, result: int) -> None:
        if self._cleanup is not None:
            # A cleanup still running reports to nobody; it runs to its end.
            self._cleanup.detach()
            self._cleanup = None
        super().done(result)
