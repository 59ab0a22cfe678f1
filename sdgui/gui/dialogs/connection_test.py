"""Test connection for the volume dialog: the probe runs off the GUI thread, Stop ends it at once, a service that
stays silent for ``NO_ANSWER_S`` is given up on, and the results sit in an area of their own (a fixed height that
scrolls), so nothing above them moves when they appear."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Generator

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from sdgui.core.backends.factory import backend_for_config
from sdgui.core.errors import SdError
from sdgui.core.probe import PROBE_STEPS, ProbeStep, probe_steps
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeConfig
from sdgui.gui.dialogs.colors import ERROR_COLOR, OK_COLOR
from sdgui.gui.dialogs.steady_layout import reserve_lines
from sdgui.gui.error_text import HINTS
from sdgui.gui.jobs.worker import Task, run_stream

NO_ANSWER_S = 15.0
"""How long Test connection waits for the service to answer the next step before it gives up."""

IDLE_TEXT = (
    "Test connection lists the volume, writes a small probe object, reads it back and deletes it; nothing is saved."
)
SUMMARY_LINES = 2
RESULT_LINES = 6  # four steps, and room for a wrapped error message; more scrolls


def probe_settings(silence_s: float) -> TransferSettings:
    """One attempt per request and a read timeout of ``silence_s``: a test reports what the service does now,
    instead of retrying a silent one for minutes."""
    defaults = TransferSettings()
    return dataclasses.replace(
        defaults,
        connect_timeout_s=min(defaults.connect_timeout_s, silence_s),
        stall_timeout_s=silence_s,
        request_retries=0,
    )


def _probe(config: VolumeConfig, secret: str | None, settings: TransferSettings) -> Generator[ProbeStep, None, None]:
    """Build the backend from unsaved values and probe it, step by step (runs off the GUI thread)."""
    backend = backend_for_config(config, secret=secret, settings=settings)
    try:
        # A volume marked read-only is only listed: the user said sdgui must never write there.
        yield from probe_steps(backend, read_only=config.read_only)
    finally:
        backend.close()


def service_address(config: VolumeConfig) -> str:
    """Where the requests of ``config`` go, as a user would recognise it."""
    if config.endpoint:
        return config.endpoint
    if config.kind == "gcs":
        return "storage.googleapis.com"
    if config.kind == "azure":
        return f"{config.access_key_id or '<account>'}.blob.core.windows.net"
    return f"s3.{config.region or 'us-east-1'}.amazonaws.com"


class ConnectionTest(QWidget):
    """Test connection and Stop, a summary line and the steps in a scrolling area of fixed height.

    ``start`` probes a volume on the thread pool; ``stop`` returns to idle at once and whatever the stopped probe
    reports later is ignored; ``clear`` also forgets the results (the fields they were for changed).
    """

    running_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, silence_s: float = NO_ANSWER_S) -> None:
        super().__init__(parent)
        self.silence_s = silence_s
        self.steps: list[ProbeStep] = []
        self._task: Task[None] | None = None
        self._generation = 0  # a callback of an earlier test carries an older number and is ignored
        self._config: VolumeConfig | None = None
        self.test_button = QPushButton("Test connection")
        self.test_button.setAutoDefault(False)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setAutoDefault(False)
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        reserve_lines(self.summary, SUMMARY_LINES)
        self.steps_label = QLabel()
        self.steps_label.setTextFormat(Qt.TextFormat.RichText)
        self.steps_label.setWordWrap(True)
        self.steps_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.steps_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.results = QScrollArea()
        self.results.setWidget(self.steps_label)
        self.results.setWidgetResizable(True)
        self.results.setFrameShape(QFrame.Shape.StyledPanel)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setFixedHeight(self.fontMetrics().lineSpacing() * RESULT_LINES + 24)
        self._silence = QTimer(self)
        self._silence.setSingleShot(True)
        self._silence.timeout.connect(self._no_answer)

        row = QHBoxLayout()
        row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.results)

    @property
    def is_running(self) -> bool:
        return self._task is not None

    def start(self, config: VolumeConfig, secret: str | None) -> None:
        """Probe the volume ``config`` describes (nothing is saved); ``secret`` is used as typed."""
        self._end_task()
        generation = self._generation
        self._config = config
        self.steps = []
        self.steps_label.clear()
        self._show_summary(f"Testing… (it gives up after {self.silence_s:g} s without an answer)", None)
        settings = probe_settings(self.silence_s)
        self._task = run_stream(
            lambda: _probe(config, secret, settings),
            lambda step: self._on_step(generation, step),
            lambda: self._on_done(generation),
            lambda exc: self._on_error(generation, exc),
            context=self,
        )
        self._silence.start(round(self.silence_s * 1000))
        self._set_running(True)

    @Slot()
    def stop(self) -> None:
        """Back to idle now; the stopped probe finishes on its own (deleting its probe object) and reports to nobody."""
        if self._task is None:
            return
        self._end_task()
        self._show_summary("Stopped: the test was interrupted, nothing was saved.", None)
        self._set_running(False)

    def clear(self) -> None:
        """Forget the results (and stop a test still running): they were for other values."""
        running = self._task is not None
        self._end_task()
        self.steps = []
        self.steps_label.setText(f"<span style='color:palette(placeholder-text)'>{IDLE_TEXT}</span>")
        self._show_summary("", None)
        if running:
            self._set_running(False)

    def abandon(self) -> None:
        """Stop reporting, leaving the widgets as they are (the dialog is closing)."""
        self._end_task()

    # -- the probe's reports ------------------------------------------------------------------------------------
    def _end_task(self) -> None:
        self._generation += 1
        self._silence.stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _set_running(self, running: bool) -> None:
        self.stop_button.setEnabled(running)
        self.running_changed.emit(running)

    def _no_answer_text(self) -> str:
        config = self._config
        where = service_address(config) if config is not None else "the service"
        return f"No answer from {where} in {self.silence_s:g} s"

    def _on_step(self, generation: int, step: ProbeStep) -> None:
        if generation != self._generation:
            return
        if step.transport == "timeout":
            step = dataclasses.replace(step, message=f"no answer in {self.silence_s:g} s")
        self.steps.append(step)
        self.steps_label.setText(_steps_html(self.steps))
        self._silence.start()  # the service answered: the next step has the whole silence again

    def _on_done(self, generation: int) -> None:
        if generation != self._generation:
            return
        steps = self.steps
        failed = next((step for step in steps if not step.ok), None)
        if failed is None and len(steps) == 1:
            self._finish("✓ The volume can be listed (read-only: nothing was written).", True)
        elif failed is None:
            self._finish("✓ All steps passed: the volume can be listed, written, read and deleted.", True)
        elif failed.transport == "timeout":
            self._finish(f"✗ {self._no_answer_text()} (at {failed.name}): {HINTS['network']}.", False)
        else:
            kind = failed.error_kind or "unknown"
            self._finish(
                f"✗ Failed at {failed.name}: {kind} error — {HINTS.get(kind, 'see the message below')}.", False
            )

    def _on_error(self, generation: int, exc: Exception) -> None:
        """The backend could not even be built (or the probe itself broke): no step has a result."""
        if generation != self._generation:
            return
        if isinstance(exc, SdError) and exc.transport == "timeout":
            self._no_answer()
            return
        kind = exc.kind if isinstance(exc, SdError) else SdError.kind
        message = exc.detail if isinstance(exc, SdError) else f"{type(exc).__name__}: {exc}"
        self.steps_label.setText(_steps_html([], extra=_row_html(False, "connect", None, message)))
        self._finish(f"✗ Cannot connect: {kind} error — {HINTS.get(kind, 'see the message below')}.", False)

    @Slot()
    def _no_answer(self) -> None:
        """The service stayed silent for ``silence_s``: give up on it whatever the probe is still waiting for."""
        if self._task is None:
            return
        done = {step.name for step in self.steps}
        waiting = next((name for name in PROBE_STEPS if name not in done), "connect")
        row = _row_html(False, waiting, self.silence_s, f"no answer in {self.silence_s:g} s")
        self.steps_label.setText(_steps_html(self.steps, extra=row))
        self._finish(f"✗ {self._no_answer_text()}: {HINTS['network']}.", False)

    def _finish(self, summary: str, ok: bool) -> None:
        self._end_task()
        self._show_summary(summary, ok)
        self._set_running(False)

    def _show_summary(self, text: str, ok: bool | None) -> None:
        color = "" if ok is None else f"color: {OK_COLOR if ok else ERROR_COLOR}"
        self.summary.setStyleSheet(color)
        self.summary.setText(text)
        self.summary.setToolTip(text)


def _row_html(ok: bool, name: str, seconds: float | None, message: str) -> str:
    mark = f"<span style='color:{OK_COLOR}'>✓</span>" if ok else f"<span style='color:{ERROR_COLOR}'>✗</span>"
    took = "" if seconds is None else f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
    return (
        f"<tr><td>{mark}</td><td style='white-space:nowrap'><b>{html.escape(name)}</b></td>"
        f"<td align='right' style='white-space:nowrap'>{took}</td><td>{html.escape(message)}</td></tr>"
    )


def _steps_html(steps: list[ProbeStep], extra: str = "") -> str:
    rows = "".join(_row_html(s.ok, s.name, s.seconds, s.message) for s in steps)
    return f"<table cellspacing='0' cellpadding='3'>{rows}{extra}</table>"
