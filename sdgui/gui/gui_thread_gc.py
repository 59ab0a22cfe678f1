"""GuiThreadCollector: the cyclic garbage collector runs only in the GUI thread, on a timer.

CPython collects cycles in whichever thread happens to allocate past the threshold; in this app that is often a
copy worker. A Qt object in such a cycle (a task's delivery object, a model, a timer's owner) is then deleted off
the GUI thread while the GUI thread may be delivering it an event, and PySide crashes in its override lookup: a
segfault seen in 1 of 3 runs of tests/gui/test_job_manager.py. With automatic collection off and this timer on,
every cycle is freed in the GUI thread, at the same thresholds as before. pyqtgraph does the same for the same
reason (``pyqtgraph.util.garbage_collector``).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 100


class GuiThreadCollector(QObject):
    """Turns automatic collection off while it lives; ``stop()`` turns it back on."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    def collect_due(self) -> None:
        """Collect the generations whose counts passed their thresholds, as the interpreter itself would."""
        young, middle, old = gc.get_count()
        first, second, third = self._thresholds
        if young <= first:
            return
        if middle <= second:
            gc.collect(0)
        elif old <= third:
            gc.collect(1)
        else:
            gc.collect(2)

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
