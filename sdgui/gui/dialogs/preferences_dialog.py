"""Edit the Preferences: part sizes, concurrency, bandwidth, verification and the default answer to conflicts."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sdgui.gui.preferences import BANDWIDTH_LIMITS_MIB_S, LIMITS, Preferences, load_preferences, save_preferences

VERIFY_CHOICES = (
    ("on", "On: blake3 end to end, provider checksums for uploads"),
    ("readback", "Read back: also download cloud copies and compare"),
    ("off", "Off: no checks"),
)
CONFLICT_CHOICES = (
    ("ask", "Ask every time"),
    ("skip", "Skip the file"),
    ("overwrite", "Overwrite"),
    ("rename", "Keep both (rename the new one)"),
    ("fail", "Stop the job with an error"),
)

_SPINS = (
    ("chunk_size_mib", "Upload part size:", " MiB", "Size of each part of a multipart upload"),
    ("download_part_mib", "Download part size:", " MiB", "Size of each ranged GET of a large download"),
    ("upload_concurrency", "Parallel parts per upload:", "", "Parts of one large file uploaded at once"),
    ("download_concurrency", "Parallel parts per download:", "", "Parts of one large file downloaded at once"),
    ("file_concurrency", "Files at once:", "", "Small files copied at the same time within a job"),
    ("concurrent_jobs", "Jobs at once:", "", "Copy jobs that run at the same time; the rest wait in the queue"),
)


class PreferencesDialog(QDialog):
    """Shows ``load_preferences()`` (or the given values); OK saves them and emits ``preferences_changed``."""

    preferences_changed = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        preferences: Preferences | None = None,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings
        self.spins: dict[str, QSpinBox] = {}

        transfers = QGroupBox("Transfers")
        form = QFormLayout(transfers)
        for key, label, suffix, tip in _SPINS:
            spin = QSpinBox()
            spin.setRange(*LIMITS[key])
            spin.setSuffix(suffix)
            spin.setToolTip(tip)
            self.spins[key] = spin
            form.addRow(label, spin)
        self.bandwidth = QDoubleSpinBox()
        self.bandwidth.setRange(*BANDWIDTH_LIMITS_MIB_S)
        self.bandwidth.setDecimals(1)
        self.bandwidth.setSuffix(" MiB/s")
        self.bandwidth.setSpecialValueText("Unlimited")  # shown at 0
        self.bandwidth.setToolTip(
            "The most one copy job moves per second, uploads and downloads alike; with several jobs at once each "
            "has this much. Applies to jobs started after OK."
        )
        form.addRow("Bandwidth per job:", self.bandwidth)

        safety = QGroupBox("Checks and conflicts")
        safety_form = QFormLayout(safety)
        self.verify = QComboBox()
        for value, text in VERIFY_CHOICES:
            self.verify.addItem(text, value)
        self.conflict_policy = QComboBox()
        for value, text in CONFLICT_CHOICES:
            self.conflict_policy.addItem(text, value)
        safety_form.addRow("Verification:", self.verify)
        safety_form.addRow("When a file exists:", self.conflict_policy)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda: self.set_preferences(Preferences()))
        self.buttons = buttons

        layout = QVBoxLayout(self)
        layout.addWidget(transfers)
        layout.addWidget(safety)
        layout.addWidget(buttons)
        self.set_preferences(preferences if preferences is not None else load_preferences(settings))

    def set_preferences(self, preferences: Preferences) -> None:
        """Show ``preferences`` in the widgets."""
        for key, spin in self.spins.items():
            spin.setValue(getattr(preferences, key))
        self.bandwidth.setValue(preferences.bandwidth_mib_s)
        self.verify.setCurrentIndex(self.verify.findData(preferences.verify))
        self.conflict_policy.setCurrentIndex(self.conflict_policy.findData(preferences.conflict_policy))

    def preferences(self) -> Preferences:
        """The values the widgets show now."""
        numbers = {key: spin.value() for key, spin in self.spins.items()}
        return dataclasses.replace(
            Preferences(),
            verify=self.verify.currentData(),
            conflict_policy=self.conflict_policy.currentData(),
            bandwidth_mib_s=self.bandwidth.value(),
            **numbers,
        )

    def accept(self) -> None:
        preferences = self.preferences()
        save_preferences(preferences, self._settings)
        self.preferences_changed.emit(preferences)
        super().accept()
