"""InFlight: a pool's submissions with at most ``limit`` unfinished, so a job of 100,000 files keeps a bounded queue.

``concurrent.futures.wait(pending, FIRST_COMPLETED)`` after every submission did the same, but each call locks and
unlocks every pending future to install and remove its waiter: with 128 in flight, 160 lock round trips per file
on the thread that feeds the pool (80,000 for 1,000 small files, the feeding thread's largest cost). A semaphore
released by each future as it finishes costs one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait
from typing import ParamSpec

P = ParamSpec("P")


class InFlight:
    """Submit to ``pool``, waiting while ``limit`` submissions are unfinished; ``wait_all`` waits for the rest."""

    def __init__(self, pool: Executor, limit: int) -> None:
        self._pool = pool
        self._room = threading.Semaphore(max(1, limit))
        self._unfinished: set[Future[None]] = set()

    def submit(self, work: Callable[P, None], /, *args: P.args, **kwargs: P.kwargs) -> None:
        self._room.acquire()
        try:
            future = self._pool.submit(work, *args, **kwargs)
        except BaseException:
            self._room.release()
            raise
        self._unfinished.add(future)
        future.add_done_callback(self._finished)  # runs at once, here, if the work is already done

    def wait_all(self) -> None:
        """Until every submission has finished (their outcomes are the work's own business)."""
        wait(list(self._unfinished))  # a copy: finishing ones leave the set meanwhile

    def _finished(self, future: Future[None]) -> None:
        self._unfinished.discard(future)
        self._room.release()
