"""Start the window: a QApplication driven by a qasync event loop (asyncio and Qt on one thread)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

import qasync
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from sdgui.core.paths import SdPath
from sdgui.core.secrets import RedactingFilter
from sdgui.gui.icons import app_icon
from sdgui.logs import current_log_file, logging_configured
from sdgui.resources import APP_ID

log = logging.getLogger(__name__)


def _configure_logging(stack: contextlib.ExitStack) -> None:
    """Warnings to stderr and the log file, unless the ``sdgui`` command that started the window set that up."""
    if current_log_file() is not None:
        return
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    stack.enter_context(logging_configured(handler, verbose=False))


def _seconds_since_process_start() -> float | None:
    """How long ago the kernel started this process (Linux), to log the start-up time a person waits."""
    try:
        fields = Path("/proc/self/stat").read_text().rpartition(")")[2].split()
        ticks = int(fields[19])  # field 22, "starttime", in clock ticks after boot
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class _FirstPaint(QObject):
    """Logs once when the window has first been painted: the start-up time a person sees."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._started = time.monotonic() - (_seconds_since_process_start() or 0.0)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            # After this paint event has been handled: the pixels are on their way to the screen.
            QTimer.singleShot(0, self._report)
        return False

    def _report(self) -> None:
        log.info("window painted %.2f s after the process started", time.monotonic() - self._started)


def _quit_on_signals(app: QApplication, windows: list[QWidget]) -> QTimer:
    """Ctrl-C or SIGTERM in the terminal closes the window the normal way (settings saved, jobs cancelled,
    the demo server stopped) instead of a KeyboardInterrupt traceback. Python runs signal handlers only
    between bytecodes, so a timer gives it a moment now and then while Qt's loop waits."""

    def close(signum: int, frame: object) -> None:
        if not windows:
            raise KeyboardInterrupt  # still starting: unwind like any interrupted command

        def close_all() -> None:
            for window in windows:
                window.close()
            app.quit()

        # Deferred to the event loop: a quit() before the loop runs would be lost and the window would stay.
        QTimer.singleShot(0, close_all)

    signal.signal(signal.SIGINT, close)
    signal.signal(signal.SIGTERM, close)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer


def _display_available() -> bool:
    """Qt aborts the process when it cannot reach a display; say so instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def apply_style(app: QApplication) -> None:
    """Use Fusion where Qt found no platform theme: its fallback "Windows" style draws progress text under the bar."""
    if app.style().name().lower() == "windows" and sys.platform != "win32":
        app.setStyle("Fusion")


def run(demo: bool = False) -> int:
    """Open the dual-pane window; with ``demo`` start the embedded S3 server and show its volume on the right."""
    from sdgui.gui.gui_thread_gc import GuiThreadCollector
    from sdgui.gui.main_window import MainWindow

    if not _display_available():
        print(
            "sdgui: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); run it in a desktop "
            "session, under `xvfb-run`, or use the command line: `sdgui --help`",
            file=sys.stderr,
        )
        return 1
    with contextlib.ExitStack() as stack:
        _configure_logging(stack)
        app = QApplication.instance() or QApplication(sys.argv)
        assert isinstance(app, QApplication)
        app.setApplicationName("sdgui")
        app.setOrganizationName("sdgui")
        app.setDesktopFileName(APP_ID)  # Wayland's app id: the desktop entry whose icon and name the shell shows
        app.setWindowIcon(app_icon())
        apply_style(app)
        collector = GuiThreadCollector(parent=app)
        stack.callback(collector.stop)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        right = None
        if demo:
            from sdgui.demo import DemoServer

            server = stack.enter_context(DemoServer())
            _seed_demo(server)
            right = SdPath.parse("demo:")
        windows: list[QWidget] = []
        _quit_on_signals(app, windows)
        window = MainWindow(right_location=right)
        windows.append(window)
        _FirstPaint(window)
        window.show()
        if demo:
            print(
                f"demo volume 'demo' is served at {server.endpoint} from {server.root}; "
                "close the window or press Ctrl-C to stop",
                flush=True,
            )
        closed = asyncio.Event()
        app.aboutToQuit.connect(closed.set)
        with loop:
            loop.run_until_complete(closed.wait())
    return 0


def _seed_demo(server: object) -> None:
    """Give an empty demo bucket a sample folder, uploaded through the core so it carries blake3 metadata."""
    from sdgui.core.backends.factory import BackendCache
    from sdgui.core.copy.action import CopyAction, CopyOptions
    from sdgui.core.copy.job import FileCopyJob
    from sdgui.core.volumes import VolumeRegistry, data_dir
    from sdgui.demo import DemoServer, make_sample

    assert isinstance(server, DemoServer)
    if any(server.bucket_dir.iterdir()):
        return
    sample = data_dir() / "demo-sample"
    sources = [SdPath(None, str(path), path.is_dir()) for path in make_sample(sample)]
    action = CopyAction(sources, SdPath("demo", "sample", True), CopyOptions(on_conflict="overwrite"))
    final = FileCopyJob(action, BackendCache(VolumeRegistry())).run(lambda event: None)
    if final.type != "job_finished":
        log.warning("could not seed the demo volume: %s", getattr(final, "message", final.type))
