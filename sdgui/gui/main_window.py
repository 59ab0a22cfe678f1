"""The dual-pane window: two FilePanes, a function-key bar, the transfers dock, and at start a bar offering to
resume the transfers an earlier session left unfinished."""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QInputDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.copy.checks import expected_of
from sdgui.core.delete import DeleteAction, DeleteCancelled, DeleteEnd, DeleteFinished, DeleteJob
from sdgui.core.journal import JobInfo
from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeRegistry
from sdgui.gui.copy_requests import plan_copy
from sdgui.gui.dialogs.preferences_dialog import PreferencesDialog
from sdgui.gui.dialogs.unfinished_jobs_dialog import UnfinishedJobsDialog
from sdgui.gui.dialogs.volumes_dialog import VolumesDialog
from sdgui.gui.error_text import error_text
from sdgui.gui.file_opener import FileOpener
from sdgui.gui.help_menu import add_help_menu
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.job_state import action_title
from sdgui.gui.jobs.worker import run_task
from sdgui.gui.models.listing_model import paths_from_mime
from sdgui.gui.new_folder import NewFolder, make_folder
from sdgui.gui.preferences import load_preferences
from sdgui.gui.quit_prompt import QUIT_WAIT_S, QuitChoice, ask_quit
from sdgui.gui.widgets.delete_progress import DeleteProgress
from sdgui.gui.widgets.file_pane import FilePane
from sdgui.gui.widgets.transfers_dock import TransfersDock
from sdgui.gui.widgets.unfinished_jobs_bar import UnfinishedJobsBar

log = logging.getLogger(__name__)
PATHS_MIME = "application/x-sdgui-paths"


class MainWindow(QMainWindow):
    """Local and cloud volumes side by side; gestures become CopyActions run by the JobManager."""

    def __init__(self, *, right_location: SdPath | None = None) -> None:
        super().__init__()
        self.setWindowTitle("sdgui")
        self.preferences = load_preferences()
        self.backends = BackendCache(VolumeRegistry(), settings=self.preferences.transfer_settings())
        self.jobs = JobManager(self._job_backends, self.preferences.transfer_settings())
        self.jobs.set_max_concurrent(self.preferences.concurrent_jobs)
        self.left = FilePane(self.backends)
        self.right = FilePane(self.backends)
        self.active = self.left
        self.left.set_active(True)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left)
        self.splitter.addWidget(self.right)
        self.splitter.setChildrenCollapsible(False)
        self.unfinished_bar = UnfinishedJobsBar()
        self.unfinished_dialog: UnfinishedJobsDialog | None = None
        self._unfinished_checked = False
        self.unfinished_listings = 0
        self.ask_before_quitting = True
        """Closing with transfers not finished asks what to do with them (tests that close windows turn it off)."""
        """How often the unfinished bar was filled (tests wait on it: the journal is read off the GUI thread)."""
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.unfinished_bar)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(self._function_key_bar())
        self.setCentralWidget(central)
        self.transfers = TransfersDock(self.jobs)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.transfers)
        self._build_menus()
        self.delete_progress = DeleteProgress()
        self.statusBar().addPermanentWidget(self.delete_progress)
        self.file_opener = FileOpener(self.jobs, self.backends, self)  # Enter on a file
        self.file_opener.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        for pane in (self.left, self.right):
            pane.open_requested.connect(self.file_opener.open)
            pane.copy_requested.connect(self.start_copy)
            pane.focused.connect(lambda p=pane: self._set_active(p))
            pane.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            pane.view.customContextMenuRequested.connect(lambda pos, p=pane: self._context_menu(p, pos))
        self.jobs.job_ended.connect(self._on_job_ended)
        self.transfers.reveal_requested.connect(self._reveal)
        self.unfinished_bar.resume_all_requested.connect(lambda: self.resume_unfinished(self.unfinished_bar.job_ids()))
        self.unfinished_bar.discard_all_requested.connect(self._confirm_discard_all)
        self.unfinished_bar.review_requested.connect(self.review_unfinished)
        self.resize(1200, 760)
        self._restore_state(right_location)

    def _job_backends(self) -> BackendCache:
        return BackendCache(VolumeRegistry(), settings=self.preferences.transfer_settings())

    # -- layout ---------------------------------------------------------------
    def _function_key_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(2)
        self.function_buttons: dict[str, QPushButton] = {}
        for key, label, slot in (
            ("F3", "Properties", self.show_properties),
            ("F5", "Copy", lambda: self.copy_to_other(move=False)),
            ("F6", "Move", lambda: self.copy_to_other(move=True)),
            ("F7", "New folder", self.new_folder),
            ("F8", "Delete", self.delete_selected),
            ("F9", "Volumes…", self.edit_volumes),
        ):
            button = QPushButton(f"{key} {label}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(slot)
            bar.addWidget(button)
            self.function_buttons[key] = button
        return bar

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._add_action(file_menu, "Volumes…", self.edit_volumes, "F9")
        self._add_action(file_menu, "Preferences…", self.edit_preferences, QKeySequence.StandardKey.Preferences)
        file_menu.addSeparator()
        # Spelled out: StandardKey.Quit is empty on some platforms (offscreen, some desktops); on macOS this is Cmd+Q.
        self._add_action(file_menu, "Quit", self.close, "Ctrl+Q")
        edit_menu = self.menuBar().addMenu("&Edit")
        self._add_action(edit_menu, "Copy", self.copy_to_clipboard, QKeySequence.StandardKey.Copy)
        self._add_action(edit_menu, "Paste", self.paste_from_clipboard, QKeySequence.StandardKey.Paste)
        edit_menu.addSeparator()
        self._add_action(edit_menu, "Copy to other pane", lambda: self.copy_to_other(move=False), "F5")
        self._add_action(edit_menu, "Move to other pane", lambda: self.copy_to_other(move=True), "F6")
        self._add_action(edit_menu, "New folder", self.new_folder, "F7")
        self._add_action(edit_menu, "Delete", self.delete_selected, "F8")
        self._add_action(edit_menu, "Properties", self.show_properties, "F3")
        view_menu = self.menuBar().addMenu("&View")
        # Not StandardKey.Refresh: it includes F5, which is "Copy to other pane" here (Qt then runs neither).
        self._add_action(view_menu, "Refresh", lambda: self.active.refresh(), "Ctrl+R")
        self._add_action(view_menu, "Switch pane", self.switch_pane, "Tab")
        self._add_action(view_menu, "Go to path…", lambda: self.active.edit_path(), "Ctrl+L")
        self._add_action(view_menu, "Filter names…", lambda: self.active.start_filter(), "Ctrl+F")
        self.show_hidden_action = self._add_action(view_menu, "Show hidden files", self.set_show_hidden, "Ctrl+H")
        self.show_hidden_action.setCheckable(True)
        self.show_hidden_action.setChecked(True)
        view_menu.addAction(self.transfers.toggleViewAction())
        add_help_menu(self)

    def _add_action(self, menu: QMenu, text: str, slot: object, shortcut: object = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)  # type: ignore[call-overload]
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)
        return action

    # -- panes ----------------------------------------------------------------
    def set_show_hidden(self, show: bool) -> None:
        """Both panes show (or leave out) dot-files and dot-folders; remembered for the next start."""
        self.show_hidden_action.setChecked(show)
        for pane in (self.left, self.right):
            pane.set_show_hidden(show)
        QSettings().setValue("view/show_hidden", show)

    def _set_active(self, pane: FilePane) -> None:
        self.active = pane
        pane.set_active(True)
        self.other(pane).set_active(False)

    def other(self, pane: FilePane | None = None) -> FilePane:
        return self.right if (pane or self.active) is self.left else self.left

    def switch_pane(self) -> None:
        target = self.other()
        self._set_active(target)
        target.view.setFocus()

    def _context_menu(self, pane: FilePane, pos: QPoint) -> None:
        self._set_active(pane)
        menu = QMenu(self)
        has_selection = bool(pane.selected_paths())
        for text, slot, enabled in (
            ("Copy to other pane", lambda: self.copy_to_other(move=False), has_selection),
            ("Move to other pane", lambda: self.copy_to_other(move=True), has_selection),
            (None, None, True),
            ("Copy", self.copy_to_clipboard, has_selection),
            ("Paste", self.paste_from_clipboard, True),
            (None, None, True),
            ("New folder…", self.new_folder, True),
            ("Delete…", self.delete_selected, has_selection),
            ("Refresh", pane.refresh, True),
            ("Properties", self.show_properties, has_selection),
        ):
            if text is None:
                menu.addSeparator()
                continue
            action = menu.addAction(text)
            action.setEnabled(enabled)
            action.triggered.connect(slot)
        menu.popup(pane.view.viewport().mapToGlobal(pos))
        self.context_menu = menu

    # -- copy gestures ----------------------------------------------------------
    def copy_to_other(self, *, move: bool) -> None:
        sources = self.active.selected_paths()
        if sources:
            self.start_copy(sources, self.other().location(), move)

    def copy_to_clipboard(self) -> None:
        sources = self.active.selected_paths()
        if not sources:
            return
        # Plain text, one SdPath a line: a QMimeData handed to the clipboard from Python crashes PySide6 at exit,
        # and text also pastes into a terminal as `sdgui copy` arguments.
        QApplication.clipboard().setText("\n".join(str(s) for s in sources))

    def paste_from_clipboard(self) -> None:
        mime = QApplication.clipboard().mimeData()
        sources = paths_from_mime(mime) if mime is not None else []
        if not sources and mime is not None and mime.hasText():
            sources = self._paths_from_text(mime.text())
        if sources:
            self.start_copy(sources, self.active.location(), False)
        else:
            self.statusBar().showMessage("The clipboard holds no files or volume paths", 4000)

    def _paths_from_text(self, text: str) -> list[SdPath]:
        """Lines that each name an existing local path or a key on a configured volume; else nothing."""
        known = {v.name for v in self.backends.registry.list()}
        paths = []
        for line in filter(None, (raw.strip() for raw in text.splitlines())):
            try:
                path = SdPath.parse(line)
            except Exception:
                return []
            if (path.volume is None and not os.path.exists(path.path)) or (
                path.volume is not None and path.volume not in known
            ):
                return []
            paths.append(path)
        return paths

    def start_copy(self, sources: list[SdPath], destination: SdPath, move: bool) -> list[str]:
        """Turn a gesture into CopyActions (asking about conflicts) and submit them; returns the job ids."""
        destination = destination.as_dir()
        pane = next((p for p in (self.left, self.right) if p.location() == destination), None)
        existing = pane.model.names() if pane is not None else set()
        default = self.preferences.conflict_policy
        groups = plan_copy(sources, destination, existing, default, self)
        ids = []
        for policy, group in groups.items():
            options = CopyOptions(on_conflict=policy, verify=self.preferences.verify, delete_after_copy=move)
            action = CopyAction(group, destination, options)
            ids.append(self.jobs.submit(action, action_title(action)))
        if ids:
            self.statusBar().showMessage(f"{len(ids)} job(s) queued", 4000)
        return ids

    def _on_job_ended(self, job_id: str, state: str, destination: str) -> None:
        changed = [destination]
        job = self.jobs.state(job_id)
        if job.move:  # the sources' folders lost entries too
            changed += [str(source.parent()) for source in job.action.sources]
        for pane in (self.left, self.right):
            location = str(pane.location())
            if any(where.startswith(location) or location.startswith(where.rstrip("/")) for where in changed):
                pane.refresh()
        if state == "failed":
            self.statusBar().showMessage(f"A transfer failed: {self.jobs.state(job_id).error}", 8000)

    def _reveal(self, destination: str) -> None:
        try:
            path = SdPath.parse(destination)
        except Exception:
            return
        self.other().set_location(path if path.is_dir else path.parent())

    # -- unfinished jobs ------------------------------------------------------------
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

    # -- file operations ----------------------------------------------------------
    def new_folder(self) -> None:
        pane = self.active
        name, ok = QInputDialog.getText(self, "New folder", f"Name of the new folder in {pane.location()}:")
        if not ok or not name.strip():
            return
        try:
            target = pane.location().join(name.strip())
        except Exception as exc:
            QMessageBox.warning(self, "New folder", str(exc))
            return
        backends = self.backends
        run_task(  # opening the backend may ask the keyring; making the folder may wait on the network
            lambda: make_folder(backends.get(target.volume), target.backend_key),
            lambda made: self._folder_made(pane, target, made),
            lambda exc: QMessageBox.warning(self, "New folder", error_text(exc)),
            context=self,
        )

    def _folder_made(self, pane: FilePane, target: SdPath, made: NewFolder) -> None:
        if made.outcome != "cannot-exist":
            pane.refresh(also_select={target.name})
            return
        # Say so plainly, then open the folder-to-be: what is copied or dropped there makes it.
        pane.set_location(target)
        QMessageBox.information(
            self,
            "New folder",
            f"{target.volume} cannot keep empty folders: it stores a folder marker as an empty file, which would "
            f"list as a file named “{target.name}”.\n\nThe pane now shows {target.as_dir()}; the folder appears "
            "as soon as you copy or move files into it.",
        )

    def delete_selected(self) -> None:
        pane = self.active
        paths = pane.selected_paths()
        if not paths:
            return
        names = "\n".join(str(p) for p in paths[:10]) + ("\n…" if len(paths) > 10 else "")
        answer = QMessageBox.question(self, "Delete", f"Delete {len(paths)} item(s)? This cannot be undone.\n\n{names}")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._run_delete(DeleteAction(paths, recursive=True), pane)

    def _run_delete(self, action: DeleteAction, pane: FilePane, job_id: str | None = None) -> bool:
        """Run a delete off the GUI thread with the status bar's strip; journaled, so a crash offers it again."""
        if self.delete_progress.is_running:
            self.statusBar().showMessage("A delete is still running; wait for it or cancel it first", 4000)
            return False
        backends = self._job_backends()  # its own: the delete opens backends on its worker thread
        job = DeleteJob(action, backends, job_id=job_id, journal=self.jobs.journal)

        def work() -> DeleteEnd:
            try:
                return job.run(lambda event: None)  # the strip reads job.deleted on its own timer
            finally:
                backends.close()

        self.delete_progress.start(job)
        ended, failed = (lambda final: self._delete_ended(pane, final)), (lambda exc: self._delete_failed(pane, exc))
        run_task(work, ended, failed, context=self)
        return True

    def _delete_ended(self, pane: FilePane, final: DeleteEnd) -> None:
        self.delete_progress.finish()
        pane.refresh()
        self.check_unfinished_jobs()  # a resumed delete that finished leaves the unfinished bar
        count = f"{final.deleted:,} file{'' if final.deleted == 1 else 's'}"
        if isinstance(final, DeleteFinished):
            self.statusBar().showMessage(f"Deleted {count}", 4000)
        elif isinstance(final, DeleteCancelled):
            self.statusBar().showMessage(f"Delete cancelled after {count}; the rest is still there", 8000)
        else:
            QMessageBox.warning(self, "Delete", f"{final.message}.\n\n{count} had been deleted before that.")

    def _delete_failed(self, pane: FilePane, exc: Exception) -> None:
        self.delete_progress.finish()
        QMessageBox.warning(self, "Delete", error_text(exc))
        pane.refresh()

    def show_properties(self) -> None:
        paths = self.active.selected_paths()
        if not paths:
            return
        path = paths[0]
        backends = self.backends

        def describe() -> str:  # off the GUI thread: opening the backend may ask the keyring
            if path.is_dir:
                return f"{path}\nDirectory"
            entry = backends.get(path.volume).stat_with_checksums(path.backend_key)
            expected = expected_of(entry)
            held = ", ".join(f"{name} {value}" for name, value in sorted(entry.checksums.items()))
            if entry.composite is not None:
                composite = entry.composite
                parts = f"{composite.algorithm}-composite {composite.value} ({len(composite.part_sizes)} parts)"
                held = f"{held}, {parts}" if held else parts
            if expected is None:
                check = "Verification: none possible (no sdgui blake3, no provider checksum)"
            else:
                check = f"Verification: every download is checked against its {expected.check}"
            lines = [
                str(path),
                f"Size: {entry.size:,} bytes",
                f"Modified: {entry.modified:%Y-%m-%d %H:%M:%S}" if entry.modified else "Modified: unknown",
                f"ETag: {entry.etag or '—'}",
                f"Stored blake3: {entry.blake3 or '— (not copied by sdgui)'}",
                f"Provider checksums: {held}" if held else "",
                check if not path.is_local else "",
            ]
            return "\n".join(line for line in lines if line)

        run_task(
            describe,
            lambda text: QMessageBox.information(self, "Properties", text),
            lambda exc: QMessageBox.warning(self, "Properties", error_text(exc)),
            context=self,
        )

    # -- dialogs ------------------------------------------------------------------
    def edit_volumes(self) -> None:
        dialog = VolumesDialog(self)
        dialog.volumes_changed.connect(self._volumes_changed)
        dialog.exec()

    def _volumes_changed(self) -> None:
        self.backends.close()
        self.backends.registry = VolumeRegistry()
        for pane in (self.left, self.right):
            pane.reload_volumes()

    def edit_preferences(self) -> None:
        if PreferencesDialog(self).exec():
            self.preferences = load_preferences()
            self.jobs.set_max_concurrent(self.preferences.concurrent_jobs)

    # -- state ----------------------------------------------------------------------
    def _restore_state(self, right_location: SdPath | None) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = settings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        window_state = settings.value("window/state")
        if window_state is not None:
            self.restoreState(window_state)
        show_hidden = settings.value("view/show_hidden", True, type=bool)
        self.show_hidden_action.setChecked(bool(show_hidden))
        for pane in (self.left, self.right):
            pane.model.show_hidden = bool(show_hidden)  # before the first listing
        for name, pane, fallback in (
            ("left", self.left, SdPath.parse("~/")),
            ("right", self.right, right_location or SdPath.parse("~/")),
        ):
            saved = settings.value(f"panes/{name}")
            location = fallback
            if saved and not (name == "right" and right_location is not None):
                try:
                    location = SdPath.parse(str(saved))
                except Exception:
                    location = fallback
            pane.set_location(location)

    def closeEvent(self, event: QCloseEvent) -> None:
        active = self.jobs.active_states()
        choice = ask_quit(self, active) if active and self.ask_before_quitting else QuitChoice.RESUME_LATER
        if choice is QuitChoice.KEEP_RUNNING:
            event.ignore()
            return
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/splitter", self.splitter.saveState())
        settings.setValue("window/state", self.saveState())
        settings.setValue("panes/left", str(self.left.location()))
        settings.setValue("panes/right", str(self.right.location()))
        self.delete_progress.cancel()  # it stops between objects; what it has not deleted stays
        self.jobs.shutdown(QUIT_WAIT_S, discard=choice is QuitChoice.CANCEL_TRANSFERS)
        self.backends.close()
        super().closeEvent(event)
