"""The dual-pane window: two sides of FilePane tabs, a toolbar and a function-key bar, the transfers dock, and at
start a bar offering to resume the transfers an earlier session left unfinished."""

from __future__ import annotations

import logging

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QInputDialog,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.backends.factory import BackendCache
from sdgui.core.delete import DeleteAction, DeleteCancelled, DeleteEnd, DeleteFinished, DeleteJob
from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeRegistry
from sdgui.gui.bookmarks import Bookmarks
from sdgui.gui.bookmarks_menu import add_bookmarks_menu
from sdgui.gui.copy_requests import CopyRequests
from sdgui.gui.dialogs.preferences_dialog import PreferencesDialog
from sdgui.gui.dialogs.properties_dialog import PropertiesDialog, open_properties
from sdgui.gui.dialogs.unfinished_jobs_dialog import UnfinishedJobsDialog
from sdgui.gui.dialogs.volumes_dialog import VolumesDialog
from sdgui.gui.error_text import error_text
from sdgui.gui.file_opener import FileOpener
from sdgui.gui.help_menu import add_help_menu
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.worker import run_task
from sdgui.gui.models.listing_model import paths_from_mime
from sdgui.gui.new_folder import NewFolder, make_folder
from sdgui.gui.pasted_paths import paths_from_text
from sdgui.gui.preferences import load_preferences
from sdgui.gui.quit_prompt import QUIT_WAIT_S, QuitChoice, ask_quit
from sdgui.gui.rename import Renamer
from sdgui.gui.share_links import ShareLinks
from sdgui.gui.toolbar import add_toolbar
from sdgui.gui.unfinished_jobs_window import UnfinishedJobsWindow
from sdgui.gui.widgets.delete_progress import DeleteProgress
from sdgui.gui.widgets.file_pane import FilePane
from sdgui.gui.widgets.pane_tabs import PaneTabs
from sdgui.gui.widgets.transfers_dock import TransfersDock
from sdgui.gui.widgets.unfinished_jobs_bar import UnfinishedJobsBar
from sdgui.gui.window_sides import WindowSides

log = logging.getLogger(__name__)
PATHS_MIME = "application/x-sdgui-paths"


class MainWindow(WindowSides, UnfinishedJobsWindow):
    """Local and cloud volumes side by side; gestures become CopyActions run by the JobManager."""

    def __init__(self, *, right_location: SdPath | None = None) -> None:
        super().__init__()
        self.setWindowTitle("sdgui")
        self.preferences = load_preferences()
        self.backends = BackendCache(VolumeRegistry(), settings=self.preferences.transfer_settings())
        self.jobs = JobManager(self._job_backends, self.preferences.transfer_settings())
        self.jobs.set_max_concurrent(self.preferences.concurrent_jobs)
        self.left_tabs = PaneTabs(self._new_pane)
        self.right_tabs = PaneTabs(self._new_pane)
        self.active_side = self.left_tabs
        self.renamer = Renamer(
            self, lambda: self.backends, self.jobs, lambda: self.preferences.verify, lambda: tuple(self.panes())
        )
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left_tabs)
        self.splitter.addWidget(self.right_tabs)
        self.splitter.setChildrenCollapsible(False)
        self.unfinished_bar = UnfinishedJobsBar()
        self.unfinished_dialog: UnfinishedJobsDialog | None = None
        self._unfinished_checked = False
        self.unfinished_listings = 0
        """How often the unfinished bar was filled (tests wait on it: the journal is read off the GUI thread)."""
        self.ask_before_quitting = True
        """Closing with transfers not finished asks what to do with them (tests that close windows turn it off)."""
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.unfinished_bar)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(self._function_key_bar())
        self.setCentralWidget(central)
        self.transfers = TransfersDock(self.jobs)
        self.copy_requests = CopyRequests(self, self.backends, self.jobs)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.transfers)
        self.bookmarks = Bookmarks(self, lambda: {v.name for v in self.backends.registry.list()}, self._show_in)
        self.share_links = ShareLinks(
            self, lambda: self.backends, lambda: self.active.selected_paths(), lambda: self.active.view,
            self.statusBar().showMessage,
        )  # fmt: skip
        self.properties_dialog: PropertiesDialog | None = None
        self._build_menus()
        self.delete_progress = DeleteProgress()
        self.statusBar().addPermanentWidget(self.delete_progress)
        self.file_opener = FileOpener(self.jobs, self.backends, self)  # Enter on a file
        self.file_opener.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        for side in (self.left_tabs, self.right_tabs):
            side.current_pane_changed.connect(lambda pane, s=side: self._tab_changed(s, pane))
        self.jobs.job_ended.connect(self._on_job_ended)
        self.transfers.reveal_requested.connect(self._reveal)
        self._connect_unfinished_bar()
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
            ("F2", "Rename", self.rename_selected),
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
        self.actions_by_text: dict[str, QAction] = {}
        """The window's actions by their text (without "…"): the toolbar shows some of them."""
        file_menu = self.menuBar().addMenu("&File")
        self._add_action(file_menu, "Volumes…", self.edit_volumes, "F9")
        self._add_action(file_menu, "Preferences…", self.edit_preferences, QKeySequence.StandardKey.Preferences)
        file_menu.addSeparator()
        # Spelled out: StandardKey.Quit is empty on some platforms (offscreen, some desktops); on macOS this is Cmd+Q.
        self._add_action(file_menu, "Quit", self.close, "Ctrl+Q")
        edit_menu = self.menuBar().addMenu("&Edit")
        self._add_action(edit_menu, "Copy", self.copy_to_clipboard, QKeySequence.StandardKey.Copy)
        self._add_action(edit_menu, "Paste", self.paste_from_clipboard, QKeySequence.StandardKey.Paste)
        edit_menu.addMenu(self.share_links.menu(edit_menu))
        self.addAction(self.share_links.shortcut_action)
        edit_menu.addSeparator()
        self._add_action(edit_menu, "Copy to other pane", lambda: self.copy_to_other(move=False), "F5")
        self._add_action(edit_menu, "Move to other pane", lambda: self.copy_to_other(move=True), "F6")
        self.rename_action = self._add_action(edit_menu, "Rename", self.rename_selected, "F2")
        self.rename_action.setShortcuts([QKeySequence("F2"), QKeySequence("Shift+F6")])  # Double Commander's key
        self._add_action(edit_menu, "New folder", self.new_folder, "F7")
        self._add_action(edit_menu, "Delete", self.delete_selected, "F8")
        self._add_action(edit_menu, "Properties", self.show_properties, "F3")
        view_menu = self.menuBar().addMenu("&View")
        # Not StandardKey.Refresh: it includes F5, which is "Copy to other pane" here (Qt then runs neither).
        self._add_action(view_menu, "Refresh", lambda: self.active.refresh(), "Ctrl+R")
        self._add_action(view_menu, "Up one level", lambda: self.active.go_up())  # its keys are the list's own
        self._add_action(view_menu, "Switch pane", self.switch_pane, "Tab")
        self._add_action(view_menu, "Go to path…", lambda: self.active.edit_path(), "Ctrl+L")
        self._add_action(view_menu, "Filter names…", lambda: self.active.start_filter(), "Ctrl+F")
        self.show_hidden_action = self._add_action(view_menu, "Show hidden files", self.set_show_hidden, "Ctrl+H")
        self.show_hidden_action.setCheckable(True)
        self.show_hidden_action.setChecked(True)
        view_menu.addAction(self.transfers.toggleViewAction())
        tabs_menu = self.menuBar().addMenu("&Tabs")
        self._add_action(tabs_menu, "New tab", self.new_tab, "Ctrl+T")
        self._add_action(tabs_menu, "Close tab", self.close_tab, "Ctrl+W")
        self._add_action(tabs_menu, "Next tab", lambda: self.step_tab(1), "Ctrl+Tab")
        # Shift turns Tab into Backtab: both spellings, so the key works whichever the platform reports.
        previous = self._add_action(tabs_menu, "Previous tab", lambda: self.step_tab(-1), "Ctrl+Shift+Tab")
        previous.setShortcuts([QKeySequence("Ctrl+Shift+Tab"), QKeySequence("Ctrl+Shift+Backtab")])
        self.actions_by_text["Bookmark this folder"] = add_bookmarks_menu(self, self.bookmarks, lambda: self.active)
        self.actions_by_text["Transfers"] = self.transfers.toggleViewAction()
        self.toolbar = add_toolbar(self, self.actions_by_text, view_menu)
        add_help_menu(self)

    def _add_action(self, menu: QMenu, text: str, slot: object, shortcut: object = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)  # type: ignore[call-overload]
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)
        self.actions_by_text[text.rstrip("…")] = action
        return action

    # -- panes ----------------------------------------------------------------
    def _new_pane(self) -> FilePane:
        pane = FilePane(self.backends)
        pane.model.show_hidden = self.show_hidden_action.isChecked()  # before its first listing
        pane.open_requested.connect(self.file_opener.open)
        pane.copy_requested.connect(self.start_copy)
        pane.focused.connect(lambda p=pane: self._set_active(p))
        pane.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        pane.view.customContextMenuRequested.connect(lambda pos, p=pane: self._context_menu(p, pos))
        self.bookmarks.add_drop_down(pane)
        return pane

    def set_show_hidden(self, show: bool) -> None:
        """Every pane shows (or leaves out) dot-files and dot-folders; remembered for the next start."""
        self.show_hidden_action.setChecked(show)
        for pane in self.panes():
            pane.set_show_hidden(show)
        QSettings().setValue("view/show_hidden", show)

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
            ("Rename", self.rename_selected, has_selection),
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
        menu.insertMenu(menu.actions()[-1], self.share_links.menu(menu))  # before Properties
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
            sources = paths_from_text(mime.text(), {v.name for v in self.backends.registry.list()})
        if sources:
            self.start_copy(sources, self.active.location(), False)
        else:
            self.statusBar().showMessage("The clipboard holds no files or volume paths", 4000)

    def start_copy(self, sources: list[SdPath], destination: SdPath, move: bool) -> None:
        """Turn a gesture into CopyActions and submit them; with the "ask" policy the destination is looked at off
        the GUI thread first and its names that exist are asked about. ``copy_requests.submitted`` gives the ids."""
        prefs = self.preferences
        self.copy_requests.start(sources, destination, move=move, default=prefs.conflict_policy, verify=prefs.verify)

    def _on_job_ended(self, job_id: str, state: str, destination: str) -> None:
        changed = [destination]
        job = self.jobs.state(job_id)
        if job.move:  # the sources' folders lost entries too
            changed += [str(source.parent()) for source in job.action.sources]
        for pane in self.panes():
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

    # -- file operations ----------------------------------------------------------
    def rename_selected(self) -> None:
        """Edit the name of the active pane's entry in place (sdgui.gui.rename does the rest)."""
        self.renamer.start(self.active)

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

    def show_properties(self) -> PropertiesDialog | None:
        """The Properties dialog of the first selected item (non-modal; it reads off the GUI thread)."""
        paths = self.active.selected_paths()
        if not paths:
            return None
        path, backends = paths[0], self.backends
        self.properties_dialog = open_properties(self, path, lambda: backends.get(path.volume))
        return self.properties_dialog

    # -- dialogs ------------------------------------------------------------------
    def edit_volumes(self) -> None:
        dialog = VolumesDialog(self)
        dialog.volumes_changed.connect(self._volumes_changed)
        dialog.exec()

    def _volumes_changed(self) -> None:
        self.backends.close()
        self.backends.registry = VolumeRegistry()
        for pane in self.panes():
            pane.reload_volumes()

    def edit_preferences(self) -> None:
        if PreferencesDialog(self).exec():
            self.preferences = load_preferences()
            self.jobs.set_max_concurrent(self.preferences.concurrent_jobs)
            self.jobs.set_settings(self.preferences.transfer_settings())

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
        home = SdPath.parse("~/")
        self.left_tabs.restore(settings, "panes/left", home)
        self.right_tabs.restore(settings, "panes/right", right_location or home, current=right_location)
        self._set_active(self.left)

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
        self.left_tabs.save(settings, "panes/left")
        self.right_tabs.save(settings, "panes/right")
        self.delete_progress.cancel()  # it stops between objects; what it has not deleted stays
        self.jobs.shutdown(QUIT_WAIT_S, discard=choice is QuitChoice.CANCEL_TRANSFERS)
        self.backends.close()
        super().closeEvent(event)
