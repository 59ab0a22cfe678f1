"""DeleteProgress: the status-bar strip that shows a running delete (busy bar, count so far) with Cancel."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget

from sdgui.core.delete import DeleteJob

REFRESH_MS = 250


class DeleteProgress(QWidget):
    """Hidden until ``start(job)``; reads the job's count on a timer (the worker never touches it); Cancel asks the
    job to stop between objects."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job: DeleteJob | None = None
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: how much there is to delete is not known until it has been listed
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop deleting; what has not been deleted yet stays")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)  # not the whole status bar
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._update)
        self.hide()

    @property
    def is_running(self) -> bool:
        return self.job is not None

    def start(self, job: DeleteJob) -> None:
        self.job = job
        self.cancel_button.setEnabled(True)
        self._update()
        self._timer.start()
        self.show()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self._update()

    def finish(self) -> None:
        self._timer.stop()
        self.job = None
        self.hide()

    def _update(self) -> None:
        job = self.job
        if job is None:
            return
        count = job.deleted
        verb = "Cancelling" if job.token.cancelled else "Deleting"
        self.label.setText(f"{verb}… {count:,} file{'' if count == 1 else 's'} deleted")
