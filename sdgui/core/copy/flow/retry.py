"""Per-file retries: which failures are worth another attempt, how long to wait, and honest progress across them.

The HTTP client already retries each request a few times; this is the next level up. A file whose retryable
failure (network, 5xx, throttling, a stall) outlasts those request retries is copied again from the start,
after an exponential backoff with full jitter. Anything else (credentials, permission, not found, checksum...)
fails at once, and its message says it was not retried.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sdgui.core import errors
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.context import CopyItem, FileProgress, ProgressSink, TransferTally
from sdgui.core.copy.events import FileRetrying
from sdgui.core.copy.flow.concurrency import ConcurrencyGate
from sdgui.core.settings import TransferSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often one file is tried and how long to wait in between: full jitter, ``base * 2**(n-1)`` capped."""

    attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: TransferSettings) -> RetryPolicy:
        return cls(max(1, settings.retry_attempts), settings.retry_base_s, settings.retry_cap_s)

    def should_retry(self, exc: errors.SdError, attempt: int) -> bool:
        """True when ``exc``, the failure of attempt number ``attempt`` (1-based), deserves another attempt."""
        return exc.retryable and attempt < self.attempts

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """A random wait in ``[0, min(cap, base * 2**(attempt-1))]`` after attempt ``attempt`` failed."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(attempt - 1, 0))
        return (rng or random).uniform(0.0, ceiling)

    def delay(self, exc: errors.SdError, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before the next attempt: the server's Retry-After when it gave one, else the backoff."""
        if exc.retry_after_s is not None:
            return min(exc.retry_after_s, self.cap_s)
        return self.backoff(attempt, rng)


def not_retried(exc: errors.SdError, attempts: int) -> errors.SdError:
    """Note in the error's message why the job stops trying this file; returns ``exc``."""
    if exc.retryable:
        return exc.with_note(f"gave up after {attempts} attempts")
    return exc.with_note("not retried (trying again would not help)")


class FileAttempts:
    """One file's attempts: how many so far, and the progress of the current one.

    Each attempt counts its bytes from zero, but the job's total never goes back and never counts a byte twice:
    a retry only adds bytes once it passes what an earlier attempt had shown.
    """

    def __init__(self, size: int, on_change: ProgressSink, tally: TransferTally | None = None) -> None:
        self.size = size
        self.count = 1
        self._on_change = on_change
        self._tally = tally
        self._lock = threading.Lock()
        self._shown = 0
        self.progress = self._fresh()

    def next(self) -> None:
        """Start the next attempt with a fresh FileProgress."""
        self.count += 1
        self.progress = self._fresh()

    def _fresh(self) -> FileProgress:
        seen = 0

        def forward(delta: int) -> None:
            nonlocal seen
            with self._lock:
                seen += delta
                gain = seen - self._shown
                if gain > 0:
                    self._shown = seen
            if gain > 0:
                self._on_change(gain)

        return FileProgress(self.size, forward, self._tally)


T = TypeVar("T")
_PAUSE_SLICE_S = 0.25


class FileRetrier:
    """Runs each step of a job's files holding a slot of the job's gate, and again after a backoff while the
    failure is retryable; reports every retry. Throttling halves the gate, a finished transfer widens it."""

    def __init__(
        self,
        job_id: str,
        policy: RetryPolicy,
        gate: ConcurrencyGate,
        cancel: CancelToken,
        emit: Callable[[FileRetrying], None],
        fatal: list[errors.SdError],
    ) -> None:
        self.job_id = job_id
        self.policy = policy
        self.gate = gate
        self.cancel = cancel
        self._emit = emit
        self._fatal = fatal
        """Filled by the job when a file fails fatally (bad credentials...): nobody retries after that."""

    def run(self, step: Callable[[], T], item: CopyItem, tries: FileAttempts, *, transfer: bool = False) -> T:
        """``step``'s result; its last error, saying whether it was retried; CancelledError on cancel or when
        another file's fatal error stops the job."""
        while True:
            generation = self.gate.acquire(self.cancel)
            try:
                result = step()
            except errors.CancelledError:
                raise
            except errors.SdError as exc:
                failure = exc
            else:
                if transfer:
                    self.gate.succeeded()
                return result
            finally:
                self.gate.release()
            if isinstance(failure, errors.ThrottledError):
                self.gate.throttled(generation)
            if not self.policy.should_retry(failure, tries.count):
                raise not_retried(failure, tries.count)
            self._stop_if_fatal()
            delay = round(self.policy.delay(failure, tries.count), 3)
            log.info("attempt %d of %s failed, retrying in %.1f s: %s", tries.count, item.source_label, delay, failure)
            self._emit(
                FileRetrying(
                    self.job_id,
                    item.source_label,
                    item.destination_label,
                    tries.count,
                    self.policy.attempts,
                    delay,
                    failure.kind,
                    str(failure),
                )
            )
            self._pause(delay)
            tries.next()

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.cancel.wait(min(left, _PAUSE_SLICE_S)):
                self.cancel.check()
            self._stop_if_fatal()

    def _stop_if_fatal(self) -> None:
        if self._fatal:
            raise errors.CancelledError("the job stopped after another file's fatal error")
