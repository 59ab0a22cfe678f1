"""Checks of a stream computed on a thread of their own, so that hashing does not slow the stream it follows."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator

from sdgui.core.copy.checks import Chunk, RunningChecks

WINDOW = 4 * 1024 * 1024
"""Bytes passed on but not hashed yet, at most (the stream waits beyond it): what the hashing thread may hold."""


class ChecksBeside:
    """RunningChecks of the chunks that pass through ``through``, computed beside the stream: each chunk goes on at
    once, and a thread hashes it (hashlib and blake3 let go of the GIL). ``results`` waits for the thread."""

    def __init__(self, checks: RunningChecks, window: int = WINDOW) -> None:
        self._checks = checks
        self._window = window
        self._waiting: deque[bytes | memoryview] = deque()
        self._held = 0
        self._ended = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self.size = 0

    def through(self, chunks: Iterable[Chunk]) -> Iterator[Chunk]:
        try:
            for chunk in chunks:
                self._hand_over(chunk)
                self.size += len(chunk)
                yield chunk
        finally:
            self._end()

    def results(self) -> dict[str, str]:
        self._end()
        if self._thread is not None:
            self._thread.join()
        return self._checks.results()

    def _hand_over(self, chunk: bytes | memoryview) -> None:
        with self._changed:
            while self._held > self._window and not self._ended:
                self._changed.wait()
            self._waiting.append(chunk)
            self._held += len(chunk)
            self._changed.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._hash, name="sdgui-checks", daemon=True)
            self._thread.start()

    def _end(self) -> None:
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def _hash(self) -> None:
        while True:
            with self._changed:
                while not self._waiting and not self._ended:
                    self._changed.wait()
                if not self._waiting:
                    return
                chunk = self._waiting.popleft()
            self._checks.update(chunk)
            with self._changed:
                self._held -= len(chunk)
                self._changed.notify_all()
