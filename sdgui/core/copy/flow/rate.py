"""Transfer rate over a sliding window, for honest rate and ETA figures."""

from __future__ import annotations

import time
from collections import deque


class RateMeter:
    """Bytes per second over the last ``window_s`` seconds (not since the start: a stall shows at once)."""

    def __init__(self, window_s: float = 3.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()
        self._total = 0
        """The sum of the samples' bytes."""
        self._started = time.monotonic()

    def add(self, nbytes: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._samples.append((now, nbytes))
        self._total += nbytes
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self._samples and now - self._samples[0][0] > self.window_s:
            self._total -= self._samples.popleft()[1]

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        self._trim(now)
        if not self._samples:
            return 0.0
        span = max(now - max(self._samples[0][0], self._started), 0.25)
        span = min(span, self.window_s)
        return self._total / span
