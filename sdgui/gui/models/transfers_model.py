"""TransfersModel: one row per copy job of the JobManager, refilled once per manager tick."""

from __future__ import annotations

import enum
import math
import time

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QStyle

from sdgui.core.copy.events import Direction
from sdgui.core.units import format_duration, format_size
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.job_state import JobState

JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ROLE = Qt.ItemDataRole.UserRole + 2
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 3
"""The share done in 0..1 (a float), or None when it is not known yet."""

UNKNOWN = "—"
_FAILED_COLOR = QColor(179, 38, 30)
_MUTED_COLOR = QColor(110, 110, 110)
_DIRECTION_ICONS = {
    Direction.UPLOAD: QStyle.StandardPixmap.SP_ArrowUp,
    Direction.DOWNLOAD: QStyle.StandardPixmap.SP_ArrowDown,
    Direction.LOCAL: QStyle.StandardPixmap.SP_ArrowRight,
    Direction.CROSS_VOLUME: QStyle.StandardPixmap.SP_ArrowRight,
    Direction.SERVER_SIDE: QStyle.StandardPixmap.SP_BrowserReload,
}

Index = QModelIndex | QPersistentModelIndex


class Column(enum.IntEnum):
    DIRECTION = 0
    TRANSFER = 1
    STRATEGY = 2
    CURRENT = 3
    PROGRESS = 4
    TRANSFERRED = 5
    RATE = 6
    ETA = 7
    STATE = 8
    ACTIONS = 9


HEADERS = {
    Column.DIRECTION: "Direction",
    Column.TRANSFER: "Source → Destination",
    Column.STRATEGY: "Strategy",
    Column.CURRENT: "Current file",
    Column.PROGRESS: "Progress",
    Column.TRANSFERRED: "Transferred",
    Column.RATE: "Rate",
    Column.ETA: "ETA",
    Column.STATE: "State",
    Column.ACTIONS: "",
}
_RIGHT_ALIGNED = {Column.TRANSFERRED, Column.RATE, Column.ETA}
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole
_STATE_COLORS = {"failed": _FAILED_COLOR, "cancelled": _MUTED_COLOR}


# -- text -----------------------------------------------------------------------------------------------------
def source_names(state: JobState) -> str:
    """``holiday.mkv``, ``photos/`` or ``a.txt and 4 more``: the full paths are in the tooltip."""
    sources = state.action.sources
    if not sources:
        return ""
    first = sources[0]
    name = str(first) if first.is_root else first.name + ("/" if first.is_dir else "")
    return f"{name} and {len(sources) - 1} more" if len(sources) > 1 else name


def transferred_text(state: JobState) -> str:
    """``12.0 MB of 40.0 MB (3/10)``; a failed job's figures are what it copied (``copied 1/10 files``)."""
    if state.state == "failed":
        return failed_transferred_text(state)
    if state.state == "queued" or (state.state == "running" and not (state.bytes_done or state.files_total)):
        return ""  # nothing known yet: the state column says what the job is doing
    text = f"{format_size(state.bytes_done)} of {format_size(state.bytes_total)}" if state.bytes_total else ""
    if state.files_total > 1:
        files = f"{state.files_done}/{state.files_total}"
        text = f"{text} ({files})" if text else f"{files} files"
    return text or (format_size(state.bytes_done) if state.state == "running" else "")


def failed_transferred_text(state: JobState) -> str:
    """``1.2 MB of 40.0 MB copied (1/10 files)``: the failed files' bytes are not counted as done."""
    if not state.files_total:
        return ""
    files = f"{state.files_copied}/{state.files_total} files"
    if not state.bytes_total:
        return f"{files} copied"
    return f"{format_size(state.bytes_copied)} of {format_size(state.bytes_total)} copied ({files})"


def rate_text(state: JobState) -> str:
    if state.state == "running":
        return f"{format_size(round(state.rate))}/s" if state.rate > 0 else UNKNOWN
    elapsed = state.elapsed_s
    # What this run moved: a resumed job's earlier bytes did not cross the network now.
    moved = state.bytes_done if state.bytes_transferred is None else state.bytes_transferred
    if state.state == "finished" and elapsed and moved:
        return f"{format_size(round(moved / elapsed))}/s"
    return ""


def eta_text(state: JobState) -> str:
    """Only what the core can honestly estimate; a dash while it cannot."""
    if state.state == "running":
        return format_duration(state.eta_s) if state.eta_s is not None else UNKNOWN
    return ""


PHASE_TEXT = {
    "scanning": "Listing sources…",
    "counting": "Transferring · still counting",
    "transferring": "Transferring",
    "verifying": "Verifying checksums…",
    "finishing": "Finishing…",
}
"""What a running job is doing, by the core's Progress phase."""


def phase_text(state: JobState) -> str:
    """``Starting…`` until the job reports, then its phase (``Listing sources…``, ``Transferring``…)."""
    if state.phase in PHASE_TEXT:
        return PHASE_TEXT[state.phase]
    if not state.strategy:
        return "Starting…"  # checking the sources: no event yet
    return PHASE_TEXT["counting" if state.counting else "transferring"]


def state_text(state: JobState, *, paused: bool = False, now: float | None = None) -> str:
    """``Transferring · retry 2/5 in 3 s · throttled: 4 at once``, ``Done · verified · resumed 512.0 MB``,
    ``Failed · 2 failed``, ``Cancelled · 3 files copied``."""
    if state.state == "queued":
        return "Queued (paused)" if paused else "Queued"
    if state.state == "running":
        if state.cancel_requested:
            return "Cancelling…"
        parts = [phase_text(state)]
        if state.retry_status is not None:
            attempt, attempts = state.retry_status
            countdown = state.retry_countdown_s(now)
            wait = f" in {math.ceil(countdown)} s" if countdown is not None else ""
            parts.append(f"retry {attempt}/{attempts}{wait}")
        if state.throttled:
            parts.append(f"throttled: {state.concurrency_limit} at once")
        return " · ".join(parts)
    if state.state == "finished":
        parts = ["Done"]
        if state.verification_summary:
            parts.append(state.verification_summary)
        if state.bytes_resumed:
            parts.append(f"resumed {format_size(state.bytes_resumed)}")
        if state.files_copied_before:
            parts.append(f"{state.files_copied_before} done before")
        if state.files_skipped - state.files_copied_before:
            parts.append(f"{state.files_skipped - state.files_copied_before} skipped")
        return " · ".join(parts)
    if state.state == "failed":
        if state.failed_files:
            return f"Failed · {state.files_failed} failed"
        return f"Failed · {state.error_kind}" if state.error_kind else "Failed"
    if state.files_copied:
        return f"Cancelled · {state.files_copied} file{'s' if state.files_copied != 1 else ''} copied"
    return "Cancelled"


def first_error(state: JobState) -> str:
    if state.failed_files:
        source, message = state.failed_files[0]
        return f"{source}: {message}"
    return state.error


def failure_tooltip(state: JobState, limit: int = 8) -> str:
    """The job's error and its first failed files, each with why."""
    lines = [state.error] if state.error else []
    lines.extend(f"{source}: {message}" for source, message in state.failed_files[:limit])
    if state.files_failed > limit:
        lines.append(f"… and {state.files_failed - limit} more (see Details)")
    return "\n".join(lines)


def resume_text(state: JobState) -> str:
    """What a resumed job kept from its earlier run, or "" when it was not resumed."""
    parts = []
    if state.files_copied_before:
        files = "file" if state.files_copied_before == 1 else "files"
        parts.append(f"{state.files_copied_before} {files} copied by an earlier run (checked, not copied again)")
    if state.bytes_resumed:
        parts.append(f"{format_size(state.bytes_resumed)} kept from partial files")
    if state.bytes_transferred is not None and (parts or state.resumed):
        parts.append(f"{format_size(state.bytes_transferred)} transferred this time")
    if not parts and state.resumed:
        return "Resumed from an earlier run"
    return "; ".join(parts)


def activity_lines(state: JobState, limit: int = 8) -> list[str]:
    """Retries, throttling and resume notes, newest retries last; for tooltips and the details pane."""
    lines = []
    if state.checks:
        lines.append(f"Verified by {state.checks_text}")
    if state.concurrency_lowest is not None:
        now = f"now {state.concurrency_limit}" if state.is_active else f"ended at {state.concurrency_limit}"
        lines.append(f"Throttled by the service: down to {state.concurrency_lowest} files at once ({now})")
    resumed = resume_text(state)
    if resumed:
        lines.append(resumed)
    if state.retries:
        lines.append(f"{state.retries} {'retry' if state.retries == 1 else 'retries'}:")
        shown = state.retry_log[-limit:]
        if state.retries > len(shown):
            lines.append(f"  … {state.retries - len(shown)} earlier")
        lines.extend(f"  {line}" for line in shown)
    return lines


def progress_text(fraction: float | None) -> str:
    # Floor, so a bar never claims 100 % before the job has finished.
    return "…" if fraction is None else f"{int(fraction * 100)}%"


# -- the model ------------------------------------------------------------------------------------------------
class TransfersModel(QStandardItemModel):
    """Rows are the manager's jobs in submission order; each manager tick refills only the rows that moved.

    The cells are Qt's own items, filled from Python once per tick: a repaint then reads them without calling
    into Python, so painting never waits for the interpreter while a copy's workers run Python in between.
    """

    def __init__(self, manager: JobManager, parent: QObject | None = None) -> None:
        super().__init__(0, len(Column), parent)
        self.manager = manager
        self.setHorizontalHeaderLabels([HEADERS[column] for column in Column])
        # The rows hold the JobState objects themselves (the manager mutates them), so a row stays readable
        # until it is removed even after the manager has forgotten its job.
        self._states: list[JobState] = []
        self._rows: dict[str, int] = {}
        self._icons: dict[Direction, QIcon] = {}
        # A retry's countdown moves each second even when no event comes.
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._tick_countdowns)
        for job_id in manager.job_ids():
            self._on_job_added(job_id)
        manager.job_added.connect(self._on_job_added)
        manager.jobs_changed.connect(self._on_jobs_changed)
        manager.jobs_removed.connect(self._on_jobs_removed)
        manager.queue_paused_changed.connect(self._on_paused_changed)

    # -- lookups --------------------------------------------------------------------------------------------
    def job_id(self, row: int) -> str:
        return self._states[row].job_id

    def row_of(self, job_id: str) -> int:
        return self._rows[job_id]

    def state_at(self, index: Index) -> JobState:
        return self._states[index.row()]

    # -- cells ----------------------------------------------------------------------------------------------
    def _new_row(self, state: JobState) -> list[QStandardItem]:
        items = []
        for column in Column:
            item = QStandardItem()
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            item.setData(state.job_id, JOB_ID_ROLE)
            if column in _RIGHT_ALIGNED:
                item.setData(int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), _ALIGNMENT)
            self._fill(item, state, column)
            items.append(item)
        return items

    def _fill(self, item: QStandardItem, state: JobState, column: Column) -> None:
        item.setData(self._display(state, column), Qt.ItemDataRole.DisplayRole)
        item.setData(self._tooltip(state, column), Qt.ItemDataRole.ToolTipRole)
        item.setData(state.state, STATE_ROLE)
        item.setData(None if state.state == "queued" else state.fraction, PROGRESS_ROLE)
        if column == Column.DIRECTION:
            item.setData(self._icon(state.direction), Qt.ItemDataRole.DecorationRole)
        elif column == Column.STATE:
            item.setData(_STATE_COLORS.get(state.state), Qt.ItemDataRole.ForegroundRole)

    def _refill(self, row: int, columns: tuple[Column, ...] = tuple(Column)) -> None:
        """Fill ``row``'s cells from its state, then tell the views once (not once per cell and role)."""
        state = self._states[row]
        blocked = self.blockSignals(True)
        try:
            for column in columns:
                item = self.item(row, column)
                if item is not None:
                    self._fill(item, state, column)
        finally:
            self.blockSignals(blocked)
        self.dataChanged.emit(self.index(row, min(columns)), self.index(row, max(columns)))

    def _display(self, state: JobState, column: Column) -> str:
        if column == Column.DIRECTION:
            text = state.direction_text
            return f"{text} (move)" if state.move else text
        if column == Column.TRANSFER:
            return f"{source_names(state)} → {state.destination_text}"
        if column == Column.STRATEGY:
            return state.strategy
        if column == Column.CURRENT:
            # The name is what tells files apart; the full path is in the tooltip.
            return state.current_file.rpartition("/")[2].rpartition(":")[2] if state.state == "running" else ""
        if column == Column.PROGRESS:
            return "" if state.state == "queued" else progress_text(state.fraction)
        if column == Column.TRANSFERRED:
            return transferred_text(state)
        if column == Column.RATE:
            return rate_text(state)
        if column == Column.ETA:
            return eta_text(state)
        if column == Column.STATE:
            return state_text(state, paused=self.manager.is_paused)
        return ""

    def _tooltip(self, state: JobState, column: Column) -> str | None:
        if column == Column.TRANSFER:
            sources = "\n".join(str(source) for source in state.action.sources)
            return f"{state.title}\n{sources}\n→ {state.destination_text}"
        if column == Column.CURRENT and state.state == "running":
            return state.current_file or None
        if column == Column.RATE and state.state == "finished":
            return "Average rate over the whole job"
        if column == Column.TRANSFERRED and state.files_total:
            if state.state == "failed":
                return f"{state.files_copied} copied, {state.files_failed} failed, {state.files_skipped} skipped"
            return f"{state.files_done} of {state.files_total} files processed"
        if column == Column.STRATEGY:
            return state.strategy or None
        if column == Column.STATE:
            lines = [state_text(state, paused=self.manager.is_paused)]
            if state.state == "failed":
                lines.append(failure_tooltip(state))
            elif state.started_at is not None:
                started = time.strftime("%H:%M:%S", time.localtime(state.started_at))
                elapsed = state.elapsed_s
                lines.append(f"Started {started}" + (f", {format_duration(elapsed)}" if elapsed is not None else ""))
            lines.extend(activity_lines(state))
            return "\n".join(line for line in lines if line) or None
        return None

    def _icon(self, direction: Direction | None) -> QIcon:
        if direction is None:
            return QIcon()
        if direction not in self._icons:
            style = QApplication.style()
            self._icons[direction] = style.standardIcon(_DIRECTION_ICONS[direction]) if style else QIcon()
        return self._icons[direction]

    # -- manager signals ------------------------------------------------------------------------------------
    def _on_job_added(self, job_id: str) -> None:
        state = self.manager.state(job_id)
        self._rows[job_id] = len(self._states)
        self._states.append(state)
        self.appendRow(self._new_row(state))

    def _on_jobs_changed(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            row = self._rows.get(job_id)
            if row is not None:
                self._refill(row)
        if not self._countdown.isActive() and any(
            self._states[self._rows[j]].retry_countdown_s() for j in job_ids if j in self._rows
        ):
            self._countdown.start()

    def _tick_countdowns(self) -> None:
        counting = False
        for row, state in enumerate(self._states):
            if state.state == "running" and state.retry_due:
                self._refill(row, (Column.STATE,))
                counting = counting or state.retry_countdown_s() is not None
        if not counting:
            self._countdown.stop()

    def _on_jobs_removed(self, job_ids: list[str]) -> None:
        rows = sorted((self._rows[job_id] for job_id in job_ids if job_id in self._rows), reverse=True)
        for row in rows:
            self.removeRow(row)
            del self._states[row]
        self._rows = {state.job_id: i for i, state in enumerate(self._states)}

    def _on_paused_changed(self, _paused: bool) -> None:
        for row, state in enumerate(self._states):
            if state.state == "queued":
                self._refill(row, (Column.STATE,))
