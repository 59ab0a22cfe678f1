"""The background reader that streams a listing's pages to a ListingModel; it never touches the model."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QObject,
    QRunnable,
    Signal,
)

from sdgui.core.backends.base import VolumeBackend
from sdgui.core.errors import SdError
from sdgui.core.paths import SdPath

log = logging.getLogger(__name__)

BackendSource = VolumeBackend | Callable[[], VolumeBackend]


class _ReaderSignals(QObject):
    """Signals of one listing; lives in the GUI thread, emitted from the reader's thread (queued)."""

    opened = Signal(int, object)  # generation, VolumeBackend
    page = Signal(int, object)  # generation, list[Entry]
    failed = Signal(int, str)  # generation, message
    done = Signal(int)  # generation


class _ListingReader(QRunnable):
    """Opens the backend and streams ``backend.list(key)`` page by page; never touches the model."""

    def __init__(
        self,
        generation: int,
        source: BackendSource,
        location: SdPath,
        page_size: int,
        signals: _ReaderSignals,
        cancel: threading.Event,
    ) -> None:
        super().__init__()
        self.generation = generation
        self.source = source
        self.location = location
        self.page_size = page_size
        self.signals = signals
        self.cancel = cancel

    def _emit(self, signal: Any, *args: Any) -> bool:
        try:
            signal.emit(self.generation, *args)
        except RuntimeError:  # the model (and our signals object) is gone: nobody is listening any more
            self.cancel.set()
            return False
        return True

    def run(self) -> None:
        try:
            backend = self.source if isinstance(self.source, VolumeBackend) else self.source()
            if not self._emit(self.signals.opened, backend):
                return
            for page in backend.list(self.location.backend_key, page_size=self.page_size):
                if self.cancel.is_set() or not self._emit(self.signals.page, page):
                    break
        except SdError as exc:
            self._emit(self.signals.failed, exc.message)
        except (
            Exception
        ) as exc:  # a bug or an untranslated library error: one line for the user, a traceback in the log
            log.exception("listing %s failed", self.location)
            self._emit(self.signals.failed, f"cannot list {self.location}: {exc}")
        else:
            self._emit(self.signals.done)
