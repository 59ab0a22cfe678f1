"""A resizable gate for the files a job copies at once: AIMD on throttling (halve, then add one back slowly).

The worker pool stays at the configured maximum; the gate decides how many of its threads may transfer.
When the service throttles (429, 503 SlowDown), the limit halves, at most once per generation of transfers
(files that started under the old limit do not halve it again: TCP's one-decrease-per-window rule); after
``recover_after`` successes in a row it grows by one, up to the maximum.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from sdgui.core.cancel import CancelToken
from sdgui.core.python_slots import SLOTS

ChangeReason = Literal["throttled", "recovered"]
OnChange = Callable[[int, ChangeReason], None]
_CANCEL_POLL_S = 0.1


class ConcurrencyGate:
    """At most ``limit`` holders at a time; ``limit`` moves between ``minimum`` and ``maximum``."""

    def __init__(
        self, maximum: int, *, minimum: int = 1, recover_after: int = 8, on_change: OnChange | None = None
    ) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.recover_after = max(1, recover_after)
        self._on_change = on_change
        self._cond = threading.Condition()
        self._limit = self.maximum
        self._active = 0
        self._generation = 0
        self._streak = 0

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def active(self) -> int:
        return self._active

    def acquire(self, cancel: CancelToken) -> int:
        """Wait for a free slot; returns the generation it was granted in (hand it to ``throttled``).

        Raises CancelledError when the token is cancelled while waiting.
        """
        with self._cond:  # the usual case: a slot is free, and waiting for it costs no hand-over of the interpreter
            if self._active < self._limit:
                cancel.check()
                self._active += 1
                return self._generation
        with SLOTS.released(), self._cond:
            while self._active >= self._limit:
                cancel.check()
                self._cond.wait(_CANCEL_POLL_S)
            cancel.check()
            self._active += 1
            return self._generation

    def release(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify()

    def throttled(self, generation: int) -> None:
        """The service throttled a transfer granted in ``generation``: halve the limit (once per generation)."""
        with self._cond:
            self._streak = 0
            if generation == self._generation and self._limit > self.minimum:
                self._limit = max(self.minimum, self._limit // 2)
                self._generation += 1
                self._changed("throttled")

    def succeeded(self) -> None:
        """A transfer finished without throttling: count towards adding a slot back."""
        with self._cond:
            if self._limit >= self.maximum:
                return
            self._streak += 1
            if self._streak >= self.recover_after:
                self._streak = 0
                self._limit += 1
                self._cond.notify()
                self._changed("recovered")

    def _changed(self, reason: ChangeReason) -> None:
        # Called under the lock, so listeners see the changes in the order they happened.
        if self._on_change is not None:
            self._on_change(self._limit, reason)
