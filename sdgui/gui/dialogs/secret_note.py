"""The line under the volume dialog's secret that says where the secret will go, before anything is saved: the OS
keyring (named by its backend), no keyring at all (then an environment variable is the way), or the variable."""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QWidget

from sdgui.core.secrets import KeyringStatus, keyring_status
from sdgui.gui.dialogs.colors import ERROR_COLOR
from sdgui.gui.dialogs.steady_layout import reserve_lines
from sdgui.gui.jobs.worker import Task, run_task

log = logging.getLogger(__name__)

NO_KEYRING_TEXT = "No keyring: use an environment variable (sdgui never writes secrets to a file)."


class SecretNote(QStackedWidget):
    """Two pages of the same height: the keyring's status (with "Use an environment variable" when there is
    none), or the environment variable's. The keyring is asked once, off the GUI thread (it may wait on D-Bus)."""

    use_env_requested = Signal()
    status_known = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status: KeyringStatus | None = None  # None until the keyring has answered
        self.keyring_label = QLabel()
        reserve_lines(self.keyring_label, 2)
        self.use_env_button = QPushButton("Use an environment variable")
        self.use_env_button.setAutoDefault(False)
        self.use_env_button.clicked.connect(self.use_env_requested)
        self._keyring_page = QWidget()
        row = QHBoxLayout(self._keyring_page)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.keyring_label, 1)
        row.addWidget(self.use_env_button, 0, Qt.AlignmentFlag.AlignTop)
        self.env_status = QLabel()
        reserve_lines(self.env_status, 2)
        self.addWidget(self._keyring_page)
        self.addWidget(self.env_status)
        self._task: Task[KeyringStatus] | None = run_task(
            keyring_status, self._on_status, self._on_failed, context=self
        )

    def show_keyring(self) -> None:
        """Say where a typed secret would go."""
        self.setCurrentWidget(self._keyring_page)
        status = self.status
        self.use_env_button.setVisible(status is not None and not status.available)
        if status is None:
            self.keyring_label.setText("Asking the OS keyring where the secret would go…")
            self.keyring_label.setStyleSheet("")
        elif status.available:
            self.keyring_label.setText(f"The secret goes to the OS keyring: {status.backend}.")
            self.keyring_label.setStyleSheet("")
        else:
            self.keyring_label.setText(NO_KEYRING_TEXT)
            self.keyring_label.setStyleSheet(f"color: {ERROR_COLOR}")

    def show_environment(self, name: str | None, *, secret_typed: bool) -> None:
        """Say whether the variable ``name`` is set; a secret typed before switching is not saved, and it says so."""
        self.setCurrentWidget(self.env_status)
        typed = " The secret typed before is not saved; Test connection uses it." if secret_typed else ""
        if not name:
            self.env_status.setText("Name the environment variable that will hold the secret." + typed)
        elif os.environ.get(name):
            self.env_status.setText(f"{name} is set in this session.")
        else:
            self.env_status.setText(f"{name} is not set here: export it before starting sdgui.{typed}")

    def keyring_refused(self) -> None:
        """The keyring said it was there, then refused to store: from now on it counts as none."""
        self.status = KeyringStatus(False, self.status.backend if self.status else "unknown")
        self.status_known.emit()

    def detach(self) -> None:
        if self._task is not None:
            self._task.detach()
            self._task = None

    def _on_status(self, status: KeyringStatus) -> None:
        self._task = None
        self.status = status
        self.status_known.emit()

    def _on_failed(self, exc: Exception) -> None:
        log.warning("cannot tell which keyring is in use: %s", exc)
        self._on_status(KeyringStatus(False, "unknown"))
