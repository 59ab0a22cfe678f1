"""PropertiesDialog (F3): what the service holds about one file or object, with its Content-Type and Cache-Control
editable where the volume can change them in place. Reading and saving run off the GUI thread."""

from __future__ import annotations

import base64
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.backends.base import BLAKE3_KEY, ObjectProperties, VolumeBackend
from sdgui.core.copy.checks import expected_of
from sdgui.core.paths import SdPath
from sdgui.core.units import format_size
from sdgui.gui.error_text import error_text
from sdgui.gui.jobs.worker import run_task

CHECKSUM_NAMES = {
    "sha256": "SHA-256",
    "sha1": "SHA-1",
    "md5": "MD5",
    "crc64nvme": "CRC64NVME",
    "crc32c": "CRC32C",
    "crc32": "CRC32",
}
"""The provider checksums by the names the services give them, strongest first."""
_BLAKE3_KEYS = {BLAKE3_KEY, BLAKE3_KEY.replace("-", "_")}


def _selectable(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


def _base64_of(hex_value: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(hex_value)).decode("ascii")
    except ValueError:
        return ""


class PropertiesDialog(QDialog):
    """Properties of ``path``; ``open_backend`` is called off the GUI thread (it may ask the keyring).

    ``loaded`` fires each time properties are shown (after reading, and again after a save), ``failed`` when
    reading or saving did not work (the message is in ``status``)."""

    loaded = Signal()
    failed = Signal()

    def __init__(self, path: SdPath, open_backend: Callable[[], VolumeBackend], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.open_backend = open_backend
        self.properties: ObjectProperties | None = None
        self.setWindowTitle(f"Properties of {path.name or path}")
        self.setObjectName("propertiesDialog")
        self.setMinimumWidth(560)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.content_type = self._header_edit("contentType", "none (the service's default)")
        self.cache_control = self._header_edit("cacheControl", "none, e.g. max-age=3600 or no-cache")
        self.status = QLabel("Reading…")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button: QPushButton = self.buttons.addButton("Save headers", QDialogButtonBox.ButtonRole.ApplyRole)
        self.save_button.setObjectName("saveHeaders")
        self.save_button.hide()
        self.save_button.clicked.connect(self.save)
        # Enter in a header field saves (once something changed, see _header_edit); no button is a default one, so
        # Enter never closes the dialog with the edit lost.
        for button in (self.save_button, self.buttons.button(QDialogButtonBox.StandardButton.Close)):
            button.setAutoDefault(False)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        title = _selectable(f"<b>{path}</b>")
        title.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(title)
        layout.addLayout(self.form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.reload()

    def _header_edit(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.textEdited.connect(self._edited)
        edit.returnPressed.connect(lambda: self.save() if self.save_button.isEnabled() else None)
        return edit

    # -- reading ------------------------------------------------------------------------------------------------
    def reload(self) -> None:
        path, open_backend = self.path, self.open_backend
        if path.is_dir and not path.is_local:
            self._rows([("Kind", "Folder (the common prefix of the objects under it)")])
            self.status.setText("")
            self.loaded.emit()
            return
        self.status.setText("Reading…")
        run_task(lambda: open_backend().properties(path.backend_key), self._show, self._read_failed, context=self)

    def _show(self, properties: ObjectProperties) -> None:
        self.properties = properties
        entry = properties.entry
        rows: list[tuple[str, str | QWidget]] = []
        rows.append(("Kind", "Folder" if entry.is_dir else "File" if self.path.is_local else "Object"))
        if not entry.is_dir:
            rows.append(("Size", f"{entry.size:,} bytes ({format_size(entry.size)})"))
        modified = entry.modified.astimezone() if entry.modified else None
        rows.append(("Modified", f"{modified:%Y-%m-%d %H:%M:%S %Z}" if modified else "unknown"))
        if properties.permissions:
            rows.append(("Permissions", properties.permissions))
        if not self.path.is_local:
            rows += self._object_rows(properties)
        self._rows(rows)
        self.save_button.setVisible(properties.editable)
        self.save_button.setEnabled(False)
        self.status.setText("\n".join(properties.notes))
        self.loaded.emit()

    def _object_rows(self, properties: ObjectProperties) -> list[tuple[str, str | QWidget]]:
        entry = properties.entry
        rows: list[tuple[str, str | QWidget]] = [("ETag", entry.etag or "—")]
        # New edits each time: the form deletes the widgets of the rows it drops.
        self.content_type = self._header_edit("contentType", "none (the service's default)")
        self.cache_control = self._header_edit("cacheControl", "none, e.g. max-age=3600 or no-cache")
        for edit, value in (
            (self.content_type, properties.content_type),
            (self.cache_control, properties.cache_control),
        ):
            edit.setText(value or "")
            edit.setReadOnly(not properties.editable)
        rows += [("Content-Type", self.content_type), ("Cache-Control", self.cache_control)]
        rows += [(name.title(), value) for name, value in sorted(properties.other_headers.items())]
        rows.append(("Storage class", properties.storage_class or "—"))
        for name, label in CHECKSUM_NAMES.items():
            value = entry.checksums.get(name)
            if value:
                rows.append((label, self._checksum(value)))
        if entry.composite is not None:
            composite = entry.composite
            parts = len(composite.part_sizes)
            shown = (
                f"{composite.value} (the ETag, over {parts} parts)"
                if composite.from_etag
                else f"{composite.value} (composite of {parts} parts)"
            )
            rows.append((f"{CHECKSUM_NAMES.get(composite.algorithm, composite.algorithm)}-composite", shown))
        rows.append(("Stored blake3", entry.blake3 or "— (not copied by sdgui)"))
        expected = expected_of(entry)
        rows.append(
            (
                "Verification",
                f"every download is checked against its {expected.check}"
                if expected
                else "none possible (no sdgui blake3, no provider checksum)",
            )
        )
        metadata = [f"{k}: {v}" for k, v in sorted(entry.metadata.items()) if k not in _BLAKE3_KEYS]
        if metadata:
            rows.append(("User metadata", "\n".join(metadata)))
        return rows

    @staticmethod
    def _checksum(hex_value: str) -> QLabel:
        label = _selectable(hex_value)
        label.setToolTip(f"base64, as the service sends it: {_base64_of(hex_value)}")
        return label

    def _rows(self, rows: list[tuple[str, str | QWidget]]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        for label, value in rows:
            self.form.addRow(f"{label}:", _selectable(value) if isinstance(value, str) else value)

    def _read_failed(self, exc: Exception) -> None:
        self.status.setText(error_text(exc))
        self.failed.emit()

    # -- saving -------------------------------------------------------------------------------------------------
    def _edited(self) -> None:
        shown = self.properties
        if shown is None or not shown.editable:
            return
        now = (self.content_type.text().strip() or None, self.cache_control.text().strip() or None)
        self.save_button.setEnabled(now != (shown.content_type, shown.cache_control))

    def save(self) -> None:
        """Give the object the Content-Type and Cache-Control typed (empty removes one), off the GUI thread."""
        shown = self.properties
        if shown is None or not shown.editable:
            return
        key, open_backend, etag = self.path.backend_key, self.open_backend, shown.entry.etag
        content_type, cache_control = self.content_type.text().strip(), self.cache_control.text().strip()
        self.save_button.setEnabled(False)
        self.status.setText("Saving…")

        def work() -> ObjectProperties:
            return open_backend().set_headers(
                key, content_type=content_type or None, cache_control=cache_control or None, if_match=etag
            )

        run_task(work, self._saved, self._save_failed, context=self)

    def _saved(self, properties: ObjectProperties) -> None:
        self._show(properties)
        self.status.setText("Saved: the object now carries these headers.")

    def _save_failed(self, exc: Exception) -> None:
        self.status.setText(f"Not saved: {error_text(exc)}")
        self._edited()
        self.failed.emit()

    def text(self) -> str:
        """Every row as ``Label: value``, one a line (what a reader of the dialog sees; tests read it)."""
        lines = []
        for row in range(self.form.rowCount()):
            label = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = self.form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            name, value = (item.widget() if item is not None else None for item in (label, field))
            name_text = name.text() if isinstance(name, QLabel) else ""
            lines.append(f"{name_text} {value.text() if isinstance(value, QLabel | QLineEdit) else ''}")
        return "\n".join(lines)


def open_properties(parent: QWidget, path: SdPath, open_backend: Callable[[], VolumeBackend]) -> PropertiesDialog:
    """Show a non-modal PropertiesDialog for ``path``; it deletes itself when closed."""
    dialog = PropertiesDialog(path, open_backend, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
