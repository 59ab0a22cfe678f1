"""TransfersDock: the transfer queue, with Active / Failed / Cancelled / Done tabs like FileZilla's, and per-row
actions."""

from __future__ import annotations

import re
import time

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTabBar,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.units import format_duration, format_size
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.job_state import RETRY_LOG_LIMIT, JobState
from sdgui.gui.models.transfers_model import (
    JOB_ID_ROLE,
    STATE_ROLE,
    Column,
    TransfersModel,
    activity_lines,
    first_error,
    state_text,
)
from sdgui.gui.widgets.progress_delegate import ProgressDelegate

TABS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Active", frozenset({"queued", "running"})),
    ("Failed", frozenset({"failed"})),
    ("Cancelled", frozenset({"cancelled"})),
    ("Done", frozenset({"finished"})),
)
# Fits a 1200 px window; "Source → Destination" takes what is left. Columns whose text must never be cut (the state,
# the strategy) grow to fit what they show (see _fit_columns); paths are cut in the middle, whole in the tooltip.
_COLUMN_WIDTHS = {
    Column.DIRECTION: 105,
    Column.STRATEGY: 115,
    Column.CURRENT: 105,
    Column.PROGRESS: 90,
    Column.TRANSFERRED: 165,
    Column.RATE: 80,
    Column.ETA: 65,
    Column.STATE: 250,
    Column.ACTIONS: 62,
}
_FIT_COLUMNS = (Column.DIRECTION, Column.STRATEGY, Column.TRANSFERRED, Column.STATE)
_TEXT_FIT_COLUMNS = (Column.STRATEGY, Column.TRANSFERRED, Column.STATE)  # text only: no icon to make room for
_CELL_PADDING = 14  # a cell's text margins and focus frame, as sizeHintForColumn adds them in the Fusion style
_DETAILS_HINT = "Select a transfer to see its details; failed files are listed here with their errors."


class StateFilterModel(QSortFilterProxyModel):
    """Shows only the jobs whose state is in ``states``; Qt matches the rows itself (no call into Python)."""

    def __init__(self, states: frozenset[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setFilterRole(STATE_ROLE)
        self.setFilterKeyColumn(0)
        self._states = frozenset[str]()
        self.set_states(states)

    @property
    def states(self) -> frozenset[str]:
        return self._states

    def set_states(self, states: frozenset[str]) -> None:
        self._states = states
        alternatives = "|".join(re.escape(state) for state in sorted(states))
        self.setFilterRegularExpression(QRegularExpression(f"^({alternatives})$" if states else "(?!)"))


class ElideRightDelegate(QStyledItemDelegate):
    """Cuts a cell's text at its end: a state reads from its start ("Running · retry 2/5 · thrott…")."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideRight


class RowActions(QWidget):
    """Cancel, Retry and Reveal for one job; only the buttons that make sense for its state are shown."""

    def __init__(self, job_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job_id
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.setSpacing(2)
        self.cancel_button = self._button("Cancel", "Stop this transfer")
        self.retry_button = self._button("Retry", "Run this transfer again (only its failed files when possible)")
        self.reveal_button = self._button("Reveal", "Show the destination in a pane")
        for button in (self.cancel_button, self.retry_button, self.reveal_button):
            layout.addWidget(button)
        layout.addStretch(1)

    def _button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    def show_for(self, state: JobState) -> None:
        self.cancel_button.setVisible(state.is_active)
        self.cancel_button.setEnabled(not state.cancel_requested)
        self.retry_button.setVisible(state.state in ("failed", "cancelled"))
        self.reveal_button.setVisible(state.state == "finished")


class TransfersDock(QDockWidget):
    """The transfer queue of the window; ``reveal_requested(destination)`` asks a pane to show a finished copy."""

    reveal_requested = Signal(str)

    def __init__(self, manager: JobManager, parent: QWidget | None = None) -> None:
        super().__init__("Transfers", parent)
        self.setObjectName("TransfersDock")  # QMainWindow.saveState keys docks by object name
        self.manager = manager
        self.model = TransfersModel(manager, self)
        self.proxy = StateFilterModel(TABS[0][1], self)
        self.proxy.setSourceModel(self.model)
        self.view = self._make_view()
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(_DETAILS_HINT)
        self.tabs = QTabBar()
        self.tabs.setShape(QTabBar.Shape.RoundedSouth)
        self.tabs.setDrawBase(False)
        self.tabs.setExpanding(False)
        for name, _ in TABS:
            self.tabs.addTab(name)
        self.status = QLabel()
        self.toolbar = self._make_toolbar()

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([900, 300])
        self.details.setVisible(False)  # the table needs the width; Details or a double-click opens it
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.tabs)
        self.setWidget(body)

        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.proxy.rowsInserted.connect(self._on_rows_inserted)
        self.proxy.modelReset.connect(self._sync_row_actions)
        self.proxy.layoutChanged.connect(self._sync_row_actions)
        self.proxy.dataChanged.connect(self._on_data_changed)
        self.view.selectionModel().currentRowChanged.connect(self._show_details)
        self.view.doubleClicked.connect(lambda _index: self.details_action.setChecked(True))
        manager.job_added.connect(self._refresh_counts)
        manager.jobs_changed.connect(self._on_jobs_changed)
        manager.jobs_removed.connect(self._refresh_counts)
        manager.queue_paused_changed.connect(self._on_paused_changed)
        self._sync_row_actions()
        self._refresh_counts()

    # -- construction ---------------------------------------------------------------------------------------
    def _make_view(self) -> QTableView:
        view = QTableView()
        view.setModel(self.proxy)
        view.setItemDelegateForColumn(Column.PROGRESS, ProgressDelegate(parent=view))
        view.setItemDelegateForColumn(Column.STATE, ElideRightDelegate(view))
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setWordWrap(False)
        view.setShowGrid(False)
        view.setAlternatingRowColors(True)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 14)
        header = view.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        for column, width in _COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        header.setSectionResizeMode(Column.TRANSFER, QHeaderView.ResizeMode.Stretch)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._context_menu)
        return view

    def _make_toolbar(self) -> QToolBar:
        toolbar = QToolBar("Transfers")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.pause_action = QAction("Pause queue", self)
        self.pause_action.setCheckable(True)
        self.pause_action.setToolTip("Queued transfers wait; running ones continue")
        self.pause_action.toggled.connect(self._on_pause_toggled)
        self.clear_action = QAction("Clear finished", self)
        self.clear_action.setToolTip("Remove the transfers that finished successfully from the list")
        self.clear_action.triggered.connect(self.manager.clear_finished)
        self.details_action = QAction("Details", self)
        self.details_action.setCheckable(True)
        self.details_action.setToolTip("Show everything about the selected transfer, failed files with their errors")
        self.details_action.toggled.connect(lambda shown: self.details.setVisible(shown))
        toolbar.addAction(self.pause_action)
        toolbar.addAction(self.clear_action)
        toolbar.addSeparator()
        toolbar.addAction(self.details_action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        toolbar.addWidget(self.status)
        return toolbar

    # -- public ---------------------------------------------------------------------------------------------
    def show_tab(self, name: str) -> None:
        """Switch to the "Active", "Failed", "Cancelled" or "Done" tab."""
        self.tabs.setCurrentIndex([tab for tab, _ in TABS].index(name))

    def row_actions(self, job_id: str) -> RowActions | None:
        """The action buttons of ``job_id``'s row, if the current tab shows it."""
        for row in range(self.proxy.rowCount()):
            widget = self.view.indexWidget(self.proxy.index(row, Column.ACTIONS))
            if isinstance(widget, RowActions) and widget.job_id == job_id:
                return widget
        return None

    def proxy_row_of(self, job_id: str) -> int | None:
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(JOB_ID_ROLE) == job_id:
                return row
        return None

    # -- row actions ----------------------------------------------------------------------------------------
    def cancel_job(self, job_id: str) -> None:
        self.manager.cancel(job_id)

    def retry_job(self, job_id: str) -> str:
        return self.manager.retry(job_id)

    def reveal_job(self, job_id: str) -> None:
        self.reveal_requested.emit(self.manager.state(job_id).destination_text)

    def _on_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        self._sync_row_actions(first, last)
        self._fit_columns()

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        self._sync_row_actions(top_left.row(), bottom_right.row())
        self._fit_texts(top_left.row(), bottom_right.row())

    def _fit_columns(self) -> None:
        """Widen a state or strategy column to its longest text; never narrow it while rows change (no jitter)."""
        for column in _FIT_COLUMNS:
            self._widen(column, self.view.sizeHintForColumn(column))

    def _fit_texts(self, first: int, last: int) -> None:
        """_fit_columns for the rows whose numbers moved, measuring only their texts: a progress tick never asks
        every row's delegate for its size (each such call waits for the interpreter while a copy runs)."""
        metrics = self.view.fontMetrics()
        last = min(last, self.proxy.rowCount() - 1)
        for column in _TEXT_FIT_COLUMNS:
            texts = (self.proxy.index(row, column).data() for row in range(max(first, 0), last + 1))
            self._widen(
                column, max((metrics.horizontalAdvance(text) for text in texts if text), default=0) + _CELL_PADDING
            )

    def _widen(self, column: Column, needed: int) -> None:
        header = self.view.horizontalHeader()
        if needed > header.sectionSize(column):
            header.resizeSection(column, needed)

    def _sync_row_actions(self, first: int = 0, last: int | None = None) -> None:
        # Index widgets belong to proxy rows: a row leaving the tab takes its widget along, so recreate on return.
        last = self.proxy.rowCount() - 1 if last is None else min(last, self.proxy.rowCount() - 1)
        for row in range(max(first, 0), last + 1):
            index = self.proxy.index(row, Column.ACTIONS)
            job_id = index.data(JOB_ID_ROLE)
            widget = self.view.indexWidget(index)
            if not isinstance(widget, RowActions) or widget.job_id != job_id:
                widget = self._make_row_actions(job_id)
                self.view.setIndexWidget(index, widget)
            widget.show_for(self._state_at(index))

    def _state_at(self, index: QModelIndex | QPersistentModelIndex) -> JobState:
        return self.model.state_at(self.proxy.mapToSource(index))

    def _make_row_actions(self, job_id: str) -> RowActions:
        widget = RowActions(job_id)
        widget.cancel_button.clicked.connect(lambda: self.cancel_job(job_id))
        widget.retry_button.clicked.connect(lambda: self.retry_job(job_id))
        widget.reveal_button.clicked.connect(lambda: self.reveal_job(job_id))
        return widget

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        job_id = index.data(JOB_ID_ROLE)
        state = self._state_at(index)
        menu = QMenu(self.view)
        if state.is_active:
            menu.addAction("Cancel", lambda: self.cancel_job(job_id))
        if state.state in ("failed", "cancelled"):
            menu.addAction("Retry", lambda: self.retry_job(job_id))
        if state.state == "finished":
            menu.addAction("Reveal destination", lambda: self.reveal_job(job_id))
        if first_error(state):
            menu.addAction("Copy error", lambda: QGuiApplication.clipboard().setText(first_error(state)))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    # -- updates --------------------------------------------------------------------------------------------
    def _on_tab_changed(self, tab: int) -> None:
        self.proxy.set_states(TABS[tab][1])
        self._sync_row_actions()
        self._fit_columns()
        self._show_details(self.view.currentIndex())

    def _on_pause_toggled(self, paused: bool) -> None:
        if paused:
            self.manager.pause_queue()
        else:
            self.manager.resume_queue()

    def _on_paused_changed(self, paused: bool) -> None:
        self.pause_action.setChecked(paused)
        self.pause_action.setText("Resume queue" if paused else "Pause queue")
        self._refresh_counts()

    def _on_jobs_changed(self, job_ids: list[str]) -> None:
        self._refresh_counts()
        current = self.view.currentIndex()
        if current.isValid() and current.data(JOB_ID_ROLE) in job_ids:
            self._show_details(current)

    def _refresh_counts(self) -> None:
        states = [self.manager.state(job_id).state for job_id in self.manager.job_ids()]
        for tab, (name, wanted) in enumerate(TABS):
            count = sum(state in wanted for state in states)
            self.tabs.setTabText(tab, f"{name} ({count})" if count else name)
        running, queued = self.manager.running_count, self.manager.queued_count
        if self.manager.is_paused:
            text = f"Queue: paused, {queued} waiting"
        elif running or queued:
            text = f"Queue: {running} running, {queued} waiting"
        else:
            text = "Queue: empty"
        self.status.setText(text)
        self.clear_action.setEnabled("finished" in states)

    def _show_details(self, index: QModelIndex | QPersistentModelIndex) -> None:
        if not index.isValid():
            self.details.clear()
            return
        self.details.setPlainText(details_text(self._state_at(index), paused=self.manager.is_paused))


def details_text(state: JobState, *, paused: bool = False) -> str:
    """Everything about one job, failed files with their errors last."""
    lines = [
        state.title,
        f"From: {state.source_text}",
        f"To: {state.destination_text}",
        f"State: {state_text(state, paused=paused)}",
    ]
    if state.strategy:
        lines.append(f"Strategy: {state.strategy}")
    if state.started_at is not None:
        started = time.strftime("%H:%M:%S", time.localtime(state.started_at))
        elapsed = state.elapsed_s
        lines.append(f"Started {started}" + (f", {format_duration(elapsed)}" if elapsed is not None else ""))
    if state.files_total:
        lines.append(
            f"Files: {state.files_copied} copied, {state.files_skipped} skipped, {len(state.failed_files)} failed"
            f" of {state.files_total} ({format_size(state.bytes_done)} of {format_size(state.bytes_total)})"
        )
    if state.verification_summary:
        lines.append(f"Verification: {state.verification_summary}")
    activity = activity_lines(state, limit=RETRY_LOG_LIMIT)
    if activity:
        lines.append("")
        lines.extend(activity)
    if state.notes:
        lines.append("")
        lines.extend(state.notes)
    if state.error:
        lines.append(f"Error: {state.error}")
    if state.failed_files:
        lines.append("")
        lines.append("Failed files:")
        lines.extend(f"  {source}\n    {message}" for source, message in state.failed_files)
    return "\n".join(lines)
