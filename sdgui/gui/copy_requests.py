"""Turn dropped or pasted sources into CopyActions, asking the user about the names that exist at the destination.

With the "ask" policy the destination is looked at afresh, off the GUI thread (a pane's listing may be stale, and
no pane may show the destination); the prompt then shows both sides' sizes and dates. The window keeps working
meanwhile: a busy cursor and a status message say that it looks.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.copy.conflict_scan import Conflict, find_conflicts
from sdgui.core.copy.conflicts import ConflictPolicy
from sdgui.core.copy.verify import VerifyMode
from sdgui.core.paths import SdPath
from sdgui.gui.dialogs.conflict_dialog import ConflictAnswer, ConflictDialog
from sdgui.gui.error_text import error_text
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.job_state import action_title
from sdgui.gui.jobs.worker import run_task

log = logging.getLogger(__name__)

_POLICY_OF: dict[ConflictAnswer, ConflictPolicy] = {
    "overwrite": "overwrite",
    "rename": "rename",
    "merge": "skip",  # a folder merged, keeping every file that is there already
}
"""The job's policy for the sources a prompt answered ("skip" drops the source from the copy)."""


def plan_copy(
    sources: list[SdPath], destination: SdPath, conflicts: list[Conflict], default: str, parent: QWidget | None
) -> dict[ConflictPolicy, list[SdPath]]:
    """Group ``sources`` by conflict policy. With the default "ask", each source in ``conflicts`` is asked about
    (Skip / Overwrite / Keep both for a file; Skip / Merge / Merge, replacing / Merge, keeping both for a folder),
    "apply to all" answering the remaining ones of its kind; skipped ones drop out, Cancel drops them all. The
    others get "fail": a name that appears before the job writes it is reported, never overwritten."""
    if default != "ask":
        return {default: list(sources)} if sources else {}  # type: ignore[dict-item]
    clashing = {conflict.source: conflict for conflict in conflicts}
    groups: dict[ConflictPolicy, list[SdPath]] = {}
    remembered: dict[bool, ConflictAnswer] = {}  # by "is a folder"
    for source in sources:
        conflict = clashing.get(source)
        policy: ConflictPolicy = "fail"
        if conflict is not None:
            answer = remembered.get(conflict.is_folder)
            if answer is None:
                asked, apply_to_all = ConflictDialog.ask(
                    parent,
                    conflict.source.name,
                    str(destination),
                    conflict.source_entry,
                    conflict.existing,
                    folder=conflict.is_folder,
                )
                if asked is None:
                    return {}
                answer = asked
                if apply_to_all:
                    remembered[conflict.is_folder] = answer
            if answer == "skip":
                continue
            policy = _POLICY_OF[answer]
        groups.setdefault(policy, []).append(source)
    return groups


class CopyRequests(QObject):
    """A window's copy gestures: look at the destination (when asking), ask, then submit one job per policy.

    ``submitted(ids)`` follows each gesture once its jobs are queued (an empty list when nothing was copied)."""

    submitted = Signal(list)

    def __init__(self, window: QMainWindow, backends: BackendCache, jobs: JobManager) -> None:
        super().__init__(window)
        self.window = window
        self.backends = backends
        self.jobs = jobs
        self.looking = 0
        """Gestures whose destination is being looked at (the busy cursor shows while any is)."""

    def start(
        self, sources: list[SdPath], destination: SdPath, *, move: bool, default: str, verify: VerifyMode
    ) -> None:
        """Copy (``move``: move) ``sources`` into the folder ``destination`` under the default conflict policy."""
        destination = destination.as_dir()
        if not sources:
            return
        if default != "ask":
            self._submit(plan_copy(sources, destination, [], default, self.window), destination, move, verify)
            return
        self._busy(+1)
        self.window.statusBar().showMessage(f"Looking for names that already exist in {destination}…")
        backends = self.backends
        run_task(
            lambda: find_conflicts(backends, sources, destination),
            lambda conflicts: self._looked(sources, destination, conflicts, move, verify),
            lambda exc: self._not_looked(destination, exc),
            context=self,
        )

    def _busy(self, step: int) -> None:
        self.looking += step
        if self.looking == 1 and step > 0:
            self.window.setCursor(Qt.CursorShape.BusyCursor)  # busy, but the window still answers
        elif self.looking == 0:
            self.window.unsetCursor()
            self.window.statusBar().clearMessage()

    def _looked(
        self, sources: list[SdPath], destination: SdPath, conflicts: list[Conflict], move: bool, verify: VerifyMode
    ) -> None:
        self._busy(-1)
        groups = plan_copy(sources, destination, conflicts, "ask", self.window)
        if not groups and conflicts:
            self.window.statusBar().showMessage("Nothing copied", 4000)
        self._submit(groups, destination, move, verify)

    def _not_looked(self, destination: SdPath, exc: Exception) -> None:
        self._busy(-1)
        log.info("cannot look at %s: %s", destination, exc)
        QMessageBox.warning(
            self.window,
            "Copy",
            f"Could not look for names that already exist in {destination}, so nothing was copied.\n\n"
            + error_text(exc),
        )
        self.submitted.emit([])

    def _submit(
        self, groups: dict[ConflictPolicy, list[SdPath]], destination: SdPath, move: bool, verify: VerifyMode
    ) -> None:
        ids = []
        for policy, group in groups.items():
            options = CopyOptions(on_conflict=policy, verify=verify, delete_after_copy=move)
            action = CopyAction(group, destination, options)
            ids.append(self.jobs.submit(action, action_title(action)))
        if ids:
            self.window.statusBar().showMessage(f"{len(ids)} job(s) queued", 4000)
        self.submitted.emit(ids)
