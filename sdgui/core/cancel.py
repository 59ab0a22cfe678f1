"""A cancel token checked between chunks: cooperative, never a thread kill."""

from __future__ import annotations

import threading

from sdgui.core.errors import CancelledError
from sdgui.core.python_slots import SLOTS


class CancelToken:
    """Set once by the user (or a signal handler); every transfer loop checks it between chunks."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise CancelledError if the user has cancelled."""
        if self._event.is_set():
            raise CancelledError("cancelled by the user")

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking early on cancel; True if cancelled. A copy worker sleeps
        without its Python slot."""
        with SLOTS.released():
            return self._event.wait(timeout)
