"""UnfinishedJobsBar: the strip above the panes offering to resume the transfers an earlier session left unfinished."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QStyle, QToolButton, QWidget

from sdgui.core.journal import JobInfo
from sdgui.core.units import format_size
from sdgui.gui.jobs.job_state import named_title

_STATE_TEXT = {"interrupted": "interrupted", "cancelled": "cancelled", "failed": "failed", "running": "running"}


def unfinished_summary(jobs: list[JobInfo]) -> str:
    """``2 transfers did not finish last time: Copy p0.jpg, p1.jpg and 1 more to demo:photos/ (1 of 3 files done);
    Copy big.bin to /home/me/``: each job named by its first files, with what the journal knows was done."""
    count = len(jobs)
    titles = "; ".join(named_title(info) + _done_of(info) for info in jobs)
    return f"{count} transfer{'s' if count != 1 else ''} did not finish last time: {titles}"


def _done_of(info: JobInfo) -> str:
    return f" ({info.files_done} of {info.files_total} files done)" if info.files_done and info.files_total > 1 else ""


def progress_of(info: JobInfo) -> str:
    """``1 of 3 files, 12.0 MB of 30.0 MB`` (what the journal knows was done)."""
    files = f"{info.files_done} of {info.files_total} file{'s' if info.files_total != 1 else ''}"
    return f"{files}, {format_size(info.bytes_done)} of {format_size(info.bytes_total)}"


def state_of(info: JobInfo) -> str:
    text = _STATE_TEXT.get(info.state, info.state).capitalize()
    return f"{text} ({info.files_failed} failed)" if info.files_failed else text


class ElidedLabel(QLabel):
    """One line of text that ends in "…" when the label is narrower than the text (the full text is the tooltip)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(self.width(), 0)))


class UnfinishedJobsBar(QFrame):
    """A non-blocking notice: Resume all / Review… / Discard all / ✕ (hide; the jobs stay in the journal)."""

    resume_all_requested = Signal()
    review_requested = Signal()
    discard_all_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("UnfinishedJobsBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        palette = self.palette()  # the theme's tooltip colours: noticeable, and readable in light and dark themes
        palette.setColor(QPalette.ColorRole.Window, palette.color(QPalette.ColorRole.ToolTipBase))
        palette.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.ToolTipText))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self.jobs: list[JobInfo] = []

        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation).pixmap(size, size))
        self.message = ElidedLabel()
        self.resume_button = QPushButton("Resume all")
        self.resume_button.setToolTip("Carry on with these transfers: what was copied before is checked, not copied")
        self.review_button = QPushButton("Review…")
        self.review_button.setToolTip("See each transfer and resume or discard it alone")
        self.discard_button = QPushButton("Discard all")
        self.discard_button.setToolTip("Forget these transfers and delete the partial files they left")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide this bar; the transfers stay resumable until you resume or discard them")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.setSpacing(6)
        layout.addWidget(icon)
        layout.addWidget(self.message, 1)
        for button in (self.resume_button, self.review_button, self.discard_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            layout.addWidget(button)
        layout.addWidget(self.close_button)

        self.resume_button.clicked.connect(self.resume_all_requested)
        self.review_button.clicked.connect(self.review_requested)
        self.discard_button.clicked.connect(self.discard_all_requested)
        self.close_button.clicked.connect(self.hide)
        self.hide()

    def set_jobs(self, jobs: list[JobInfo]) -> None:
        """Show ``jobs`` (hides the bar when there are none)."""
        self.jobs = list(jobs)
        self.message.set_full_text(unfinished_summary(jobs) if jobs else "")
        self.setToolTip("\n".join(f"{named_title(j, shown=5)} — {state_of(j)}, {progress_of(j)}" for j in jobs))
        self.setVisible(bool(jobs))

    def job_ids(self) -> list[str]:
        return [info.id for info in self.jobs]
