"""UnfinishedJobsDialog: the transfers an earlier session left unfinished, each with Resume and Discard."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.journal import JobInfo
from sdgui.gui.jobs.job_state import named_title
from sdgui.gui.widgets.unfinished_jobs_bar import progress_of, state_of

HEADERS = ("Transfer", "State", "Done before", "Last active", "")
ACTIONS_COLUMN = len(HEADERS) - 1


class UnfinishedJobsDialog(QDialog):
    """Lists ``jobs``; ``resume_requested(id)`` / ``discard_requested(id)`` ask the window to act, which then calls
    ``set_jobs`` with what is left (the dialog closes itself when nothing is)."""

    resume_requested = Signal(str)
    discard_requested = Signal(str)

    def __init__(self, jobs: list[JobInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unfinished transfers")
        self.intro = QLabel(
            "These transfers did not finish. Resuming one checks what was copied before and carries on from there; "
            "discarding it forgets it and deletes the partial files it left."
        )
        self.intro.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 16)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(820, 320)
        self.jobs: list[JobInfo] = []
        self.set_jobs(jobs)

    def set_jobs(self, jobs: list[JobInfo]) -> None:
        self.jobs = list(jobs)
        self.table.setRowCount(0)
        self.table.setRowCount(len(jobs))
        for row, info in enumerate(jobs):
            title = QTableWidgetItem(named_title(info))
            title.setToolTip(f"{info.summary}\nJob {info.id}")
            self.table.setItem(row, 0, title)
            self.table.setItem(row, 1, QTableWidgetItem(state_of(info)))
            self.table.setItem(row, 2, QTableWidgetItem(progress_of(info)))
            self.table.setItem(row, 3, QTableWidgetItem(info.updated.astimezone().strftime("%Y-%m-%d %H:%M")))
            self.table.setCellWidget(row, ACTIONS_COLUMN, self._row_buttons(info.id))
        if not jobs and self.isVisible():
            self.accept()

    def row_buttons(self, job_id: str) -> tuple[QPushButton, QPushButton]:
        """The Resume and Discard buttons of ``job_id``'s row."""
        row = [info.id for info in self.jobs].index(job_id)
        widget = self.table.cellWidget(row, ACTIONS_COLUMN)
        resume, discard = widget.findChildren(QPushButton)
        return resume, discard

    def _row_buttons(self, job_id: str) -> QWidget:
        widget = QWidget()
        layout = QHBoxLayout(widget)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(4)
        resume = QPushButton("Resume")
        resume.clicked.connect(lambda: self.resume_requested.emit(job_id))
        discard = QPushButton("Discard")
        discard.clicked.connect(lambda: self.discard_requested.emit(job_id))
        layout.addWidget(resume)
        layout.addWidget(discard)
        return widget
