"""Run one short blocking call (stat, delete, mkdir) on the thread pool and hand its result to the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from sdgui.core.errors import SdError

log = logging.getLogger(__name__)


class _Emitter(QObject):
    done = Signal(object)
    failed = Signal(str)


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], Any], emitter: _Emitter) -> None:
        super().__init__()
        self.fn = fn
        self.emitter = emitter

    def run(self) -> None:
        try:
            result = self.fn()
        except SdError as exc:
            self.emitter.failed.emit(str(exc))
        except Exception as exc:  # shown to the user as one line, logged with its traceback
            log.exception("background call failed")
            self.emitter.failed.emit(f"unexpected error: {exc}")
        else:
            self.emitter.done.emit(result)


_alive: set[_Emitter] = set()


def run_in_background(
    fn: Callable[[], Any], on_done: Callable[[Any], object], on_error: Callable[[str], object]
) -> None:
    """Call ``fn`` off the GUI thread; ``on_done``/``on_error`` run in the GUI thread afterwards."""
    emitter = _Emitter()
    _alive.add(emitter)  # keep the emitter alive until it has delivered

    def finish_ok(result: Any) -> None:
        _alive.discard(emitter)
        on_done(result)

    def finish_error(message: str) -> None:
        _alive.discard(emitter)
        on_error(message)

    emitter.done.connect(finish_ok)
    emitter.failed.connect(finish_error)
    QThreadPool.globalInstance().start(_Call(fn, emitter))
