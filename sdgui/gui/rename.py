"""Rename (F2, Shift+F6) in the window: the name is edited in place over its row; the volume is asked afresh off
the GUI thread (sdgui.core.rename); a local rename is done at once, a cloud one becomes a move job in Transfers
(a verified server-side copy, then the old key is deleted). The pane then lists again with the new name selected."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMainWindow, QMessageBox

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.verify import VerifyMode
from sdgui.core.paths import SdPath
from sdgui.core.rename import MoveNeeded, Renamed, RenameStep, check_new_name, prepare_rename
from sdgui.gui.error_text import error_text
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.worker import run_task
from sdgui.gui.models.listing_model import Column
from sdgui.gui.widgets.file_pane import FilePane
from sdgui.gui.widgets.name_editor import InlineNameEditor

log = logging.getLogger(__name__)

CONFIRM_ABOVE = 100
"""A cloud folder with more objects than this is renamed only after the user agrees (it is a job of that size)."""
TITLE = "Rename"


@dataclass(frozen=True)
class _Pending:
    pane: FilePane
    source: SdPath
    target: SdPath


class Renamer(QObject):
    """What F2 starts in ``window``: one inline editor at a time, then the rename of what it named."""

    def __init__(
        self,
        window: QMainWindow,
        backends: Callable[[], BackendCache],
        jobs: JobManager,
        verify: Callable[[], VerifyMode],
        panes: Callable[[], tuple[FilePane, ...]],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._backends = backends
        self._jobs = jobs
        self._verify = verify
        self._panes = panes
        self.editor: InlineNameEditor | None = None
        self._jobs_started: dict[str, _Pending] = {}
        jobs.job_ended.connect(self._job_ended)

    # -- editing ------------------------------------------------------------------------------------------------
    def start(self, pane: FilePane) -> InlineNameEditor | None:
        """Open the editor over the entry under the cursor of ``pane`` (or its first selected one); None when the
        pane has no entry to rename."""
        if self.editor is not None and self.editor.is_open:
            return self.editor
        row = _row_to_rename(pane)
        if row is None:
            return None
        entry = pane.model.entry(row)
        if entry is None or entry.name in ("", ".."):  # None: the ".." row, which is not an entry
            return None
        try:
            source = pane.model.path_for(row)
        except errors.SdError as exc:
            QMessageBox.warning(self._window, TITLE, error_text(exc))
            return None
        index = pane.model.index(row, Column.NAME)
        pane.view.scrollTo(index)
        pane.view.selectionModel().setCurrentIndex(index, pane.view.selectionModel().SelectionFlag.NoUpdate)
        editor = InlineNameEditor(pane.view, index, source.name, is_dir=source.is_dir)
        editor.committed.connect(lambda text: self._named(pane, source, text))
        editor.cancelled.connect(lambda: self._status("Rename cancelled"))
        pane.model.modelAboutToBeReset.connect(editor.cancel)  # the row it covers is going away
        pane.model.layoutAboutToBeChanged.connect(editor.cancel)
        self.editor = editor
        return editor

    def _named(self, pane: FilePane, source: SdPath, text: str) -> None:
        try:
            check_new_name(source, text)
        except errors.InvalidPathError as exc:
            if text == source.name:
                self._status(f"{source.name}: the name is unchanged; nothing was renamed")
            else:
                QMessageBox.warning(self._window, TITLE, f"{exc.detail}; nothing was renamed.\n\n{source}")
            return
        self._status(f"Renaming {source.name}…", 0)
        backends = self._backends()
        run_task(  # a fresh look at the volume (the listing may be stale), and a local rename, off the GUI thread
            lambda: prepare_rename(backends, source, text),
            lambda step: self._prepared(pane, step),
            lambda exc: self._failed(pane, source, exc),
            context=self,
        )

    # -- renaming -----------------------------------------------------------------------------------------------
    def _prepared(self, pane: FilePane, step: RenameStep) -> None:
        if isinstance(step, Renamed):
            self._status(f"Renamed {step.source.name} to {step.target.name}")
            self._show_renamed(pane, step.target)
            return
        if step.is_dir and (step.objects > CONFIRM_ABOVE or not step.counted_all) and not self._confirmed(step):
            self._status("Rename cancelled")
            return
        self._submit(pane, step)

    def _confirmed(self, step: MoveNeeded) -> bool:
        count = f"{step.objects:,}" if step.counted_all else f"more than {step.objects:,}"
        answer = QMessageBox.question(
            self._window,
            TITLE,
            f"Rename the folder {step.source.name} to {step.target.name}?\n\n"
            f"{step.source.volume} cannot rename a folder in place: each of its {count} objects is copied to the new "
            "name on the service, checked, and only then deleted under the old name. It runs as a job in Transfers; "
            "until it ends, objects are under both names.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _submit(self, pane: FilePane, step: MoveNeeded) -> str:
        action = step.action(self._verify())
        what = "folder" if step.is_dir else "file"
        title = f"Rename {what} {step.source.name} to {step.target.name} in {step.source.parent()}"
        job_id = self._jobs.submit(action, title)
        self._jobs_started[job_id] = _Pending(pane, step.source, step.target)
        self._status(f"Renaming {step.source.name} to {step.target.name}: a job in Transfers")
        return job_id

    def _job_ended(self, job_id: str, state: str, destination: str) -> None:
        pending = self._jobs_started.pop(job_id, None)
        if pending is None or state != "finished":
            return  # a failure: the window says so, and the source is where it was (deleted only once copied)
        self._status(f"Renamed {pending.source.name} to {pending.target.name}")
        # After the window's own refresh of the panes this job touched (its slot may run after this one).
        QTimer.singleShot(0, self, lambda: self._show_renamed(pending.pane, pending.target))

    def _show_renamed(self, pane: FilePane, target: SdPath) -> None:
        for other in self._panes():
            if other.location() == target.parent().as_dir():
                other.refresh(also_select={target.name} if other is pane else None)

    def _failed(self, pane: FilePane, source: SdPath, exc: Exception) -> None:
        self._status("Nothing was renamed")
        if isinstance(exc, errors.ConflictError):
            text = f"{exc.detail}: {exc.where}.\n\nNothing was renamed; choose another name."
        else:
            text = f"{error_text(exc)}\n\nNothing was renamed."
        QMessageBox.warning(self._window, TITLE, text)
        pane.refresh()

    def _status(self, text: str, timeout_ms: int = 6000) -> None:
        self._window.statusBar().showMessage(text, timeout_ms)


def _row_to_rename(pane: FilePane) -> int | None:
    view = pane.view
    selected = sorted({index.row() for index in view.selectionModel().selectedRows()})
    current = view.currentIndex()
    if current.isValid() and (not selected or current.row() in selected):
        return current.row()
    return selected[0] if selected else None
