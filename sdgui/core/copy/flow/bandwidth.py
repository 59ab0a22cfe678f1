"""Bandwidth limits: a token bucket per job and one for the whole process, paid where chunks pass.

The transfer loops call ``throttle_bytes(n)`` (through ``CopyContext.throttle_bytes``) for every chunk they
move; with no limit set that is a single check. A chunk larger than the bucket is allowed and paid off by
waiting afterwards, so the average rate holds whatever the chunk size.
"""

from __future__ import annotations

import threading
import time

from sdgui.core.cancel import CancelToken
from sdgui.core.python_slots import SLOTS

BURST_S = 0.25
"""How many seconds' worth of bytes an idle bucket lets through at once."""


class TokenBucket:
    """``rate`` bytes per second on average, across every thread that pays into it."""

    def __init__(self, rate: float) -> None:
        self._lock = threading.Lock()
        self._rate = float(rate)
        self._tokens = self._burst
        self._last = time.monotonic()

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def _burst(self) -> float:
        return self._rate * BURST_S

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self._refill(time.monotonic())
            self._rate = float(rate)
            self._tokens = min(self._tokens, self._burst)

    def _refill(self, now: float) -> None:
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now

    def reserve(self, nbytes: int) -> float:
        """Take ``nbytes`` (going into debt if need be); returns how long the caller must wait to honour the rate."""
        with self._lock:
            self._refill(time.monotonic())
            self._tokens -= nbytes
            return -self._tokens / self._rate if self._tokens < 0 else 0.0

    def consume(self, nbytes: int, cancel: CancelToken | None = None) -> None:
        """Pay for ``nbytes``, sleeping as long as the rate asks; a cancel cuts the wait short (and raises)."""
        _wait(self.reserve(nbytes), cancel)


def _wait(seconds: float, cancel: CancelToken | None) -> None:
    if seconds <= 0:
        return
    if cancel is None:
        with SLOTS.released():
            time.sleep(seconds)
        return
    cancel.wait(seconds)
    cancel.check()


_global_lock = threading.Lock()
_global: TokenBucket | None = None


def set_global_bandwidth_limit(bytes_per_s: int | None) -> None:
    """Limit every transfer of this process together to ``bytes_per_s`` (None or 0: unlimited)."""
    global _global
    with _global_lock:
        if not bytes_per_s:
            _global = None
        elif _global is None:
            _global = TokenBucket(bytes_per_s)
        else:
            _global.set_rate(bytes_per_s)


def global_bandwidth_limit() -> int | None:
    bucket = _global
    return int(bucket.rate) if bucket is not None else None


def throttle_bytes(nbytes: int, cancel: CancelToken | None = None) -> None:
    """Pay ``nbytes`` to the process-wide limit (no-op without one)."""
    bucket = _global
    if bucket is not None:
        bucket.consume(nbytes, cancel)


class BandwidthLimiter:
    """One job's limit (optional) on top of the process-wide one."""

    def __init__(self, bytes_per_s: int | None = None) -> None:
        self._job = TokenBucket(bytes_per_s) if bytes_per_s else None

    @property
    def limit(self) -> int | None:
        return int(self._job.rate) if self._job is not None else None

    def throttle_bytes(self, nbytes: int, cancel: CancelToken | None = None) -> None:
        """Pay ``nbytes`` to the job's bucket and the process's; waits for whichever is slower."""
        job, shared = self._job, _global
        if job is None and shared is None:
            return
        wait = max(job.reserve(nbytes) if job else 0.0, shared.reserve(nbytes) if shared else 0.0)
        _wait(wait, cancel)
