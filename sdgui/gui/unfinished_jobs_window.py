"""The window's part that offers the transfers an earlier session left unfinished: the bar above the panes and the
review dialog, resume and discard. MainWindow is built on it; the journal is read off the GUI thread."""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox

from sdgui.core import errors
from sdgui.core.delete import DeleteAction
from sdgui.core.journal import JobInfo
from sdgui.gui.dialogs.unfinished_jobs_dialog import UnfinishedJobsDialog
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.worker import run_task
from sdgui.gui.widgets.file_pane import FilePane
from sdgui.gui.widgets.transfers_dock import TransfersDock
from sdgui.gui.widgets.unfinished_jobs_bar import UnfinishedJobsBar

log = logging.getLogger(__name__)


class UnfinishedJobsWindow(QMainWindow):
    """What MainWindow does with unfinished transfers; it sets the attributes below and provides ``_run_delete``."""

    jobs: JobManager
    transfers: TransfersDock
    unfinished_bar: UnfinishedJobsBar
    unfinished_dialog: UnfinishedJobsDialog | None
    unfinished_listings: int
    _unfinished_checked: bool

    @property
    def active(self) -> FilePane:
        raise NotImplementedError

    def _run_delete(self, action: DeleteAction, pane: FilePane, job_id: str | None = None) -> bool:
        raise NotImplementedError

    def _connect_unfinished_bar(self) -> None:
        self.unfinished_bar.resume_all_requested.connect(lambda: self.resume_unfinished(self.unfinished_bar.job_ids()))
        self.unfinished_bar.discard_all_requested.connect(self._confirm_discard_all)
        self.unfinished_bar.review_requested.connect(self.review_unfinished)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._unfinished_checked:
            self._unfinished_checked = True
            QTimer.singleShot(0, self, self.check_unfinished_jobs)  # once the window is on screen

    def check_unfinished_jobs(self) -> None:
        """Offer the transfers an earlier session left unfinished in the bar above the panes (hidden if none). The
        journal is read off the GUI thread: another process may hold its write lock for seconds."""
        run_task(self.jobs.unfinished_jobs, self._show_unfinished, self._unfinished_unreadable, context=self)

    def _show_unfinished(self, jobs: list[JobInfo]) -> None:
        self.unfinished_listings += 1
        self.unfinished_bar.set_jobs(jobs)
        if self.unfinished_dialog is not None:
            self.unfinished_dialog.set_jobs(jobs)

    def _unfinished_unreadable(self, exc: Exception) -> None:
        # An unreadable journal must never keep the window from opening.
        log.warning("cannot list the unfinished transfers: %s", exc)
        self._show_unfinished([])

    def resume_unfinished(self, job_ids: list[str]) -> list[str]:
        """Queue each journaled job again under its id; returns the ids queued. Failures go to the status bar."""
        done: list[str] = []
        problems: list[errors.SdError] = []
        known = {info.id: info for info in self.unfinished_bar.jobs}
        for job_id in job_ids:
            info = known.get(job_id)
            if info is not None and info.action.get("kind") == DeleteAction.KIND:
                if self._run_delete(DeleteAction.from_dict(info.action), self.active, job_id=job_id):
                    done.append(job_id)
                continue
            try:
                self.jobs.resume(job_id, info)
            except errors.SdError as exc:
                problems.append(exc)
            else:
                done.append(job_id)
        self._unfinished_acted_on(done, problems, "resume")
        return done

    def discard_unfinished(self, job_ids: list[str]) -> None:
        """Forget these journaled jobs and delete their partial files, off the GUI thread (the journal may wait on
        another process's write lock); the bar and the review dialog follow when it is done."""
        self.jobs.discard_unfinished_in_background(
            job_ids, lambda done, problems: self._unfinished_acted_on(done, problems, "discard")
        )

    def _unfinished_acted_on(self, done: list[str], problems: list[errors.SdError], verb: str) -> None:
        # What was acted on leaves the bar at once; the journal's own word follows from the worker.
        self._show_unfinished([info for info in self.unfinished_bar.jobs if info.id not in done])
        self.check_unfinished_jobs()
        if done and verb == "resume":
            self.transfers.show()
            self.transfers.show_tab("Active")
        if problems:
            self.statusBar().showMessage(f"Could not {verb} {len(problems)} transfer(s): {problems[0]}", 10_000)
        elif done:
            what = "resumed" if verb == "resume" else "discarded"
            self.statusBar().showMessage(f"{len(done)} unfinished transfer(s) {what}", 4000)

    def _confirm_discard_all(self) -> None:
        count = len(self.unfinished_bar.job_ids())
        answer = QMessageBox.question(
            self,
            "Discard unfinished transfers",
            f"Forget {count} unfinished transfer(s) and delete the partial files they left? "
            "What they already copied stays where it is.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.discard_unfinished(self.unfinished_bar.job_ids())

    def review_unfinished(self) -> UnfinishedJobsDialog:
        """The dialog listing the unfinished transfers one by one (non-modal)."""
        if self.unfinished_dialog is None:
            dialog = UnfinishedJobsDialog(self.unfinished_bar.jobs, self)
            dialog.resume_requested.connect(lambda job_id: self.resume_unfinished([job_id]))
            dialog.discard_requested.connect(lambda job_id: self.discard_unfinished([job_id]))
            dialog.finished.connect(self._review_closed)
            self.unfinished_dialog = dialog
        else:
            self.unfinished_dialog.set_jobs(self.unfinished_bar.jobs)
        self.unfinished_dialog.show()
        self.unfinished_dialog.raise_()
        return self.unfinished_dialog

    def _review_closed(self) -> None:
        if self.unfinished_dialog is not None:
            self.unfinished_dialog.deleteLater()
            self.unfinished_dialog = None
