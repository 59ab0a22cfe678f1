"""Python slots: how many copy workers run Python at once, while any number of them wait on the network.

A job copies many files at once so that their network round trips overlap, but every worker thread also runs
Python between its requests, and CPython runs one thread at a time. Sixteen workers contending for the
interpreter make every other thread wait its turn behind them: in the window, each call from Qt into Python (a
timer, a model, a paint) waited for the interpreter, and a copy of many small files stalled the GUI for 200 to
400 ms at a time.

So a worker holds one of a few process-wide slots while it runs Python and gives it back while it waits: on a
request (the backends' error-translation blocks wrap every request), a backoff, a bandwidth pause or a semaphore.
The rule that keeps it from deadlocking: never wait for a slot while holding a lock another slot holder may want.
A worker that takes a lock around a request (a listing) lets its slot go before it takes the lock. The limit is
also soft: a worker that has waited ``WAIT_LIMIT_S`` for a slot runs without one (``overruns`` counts those), so
a lock that breaks the rule costs time, never a hang.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sdgui.core.settings import TransferSettings

P = ParamSpec("P")
T = TypeVar("T")
DEFAULT_LIMIT = TransferSettings.python_slots
WAIT_LIMIT_S = 1.0


class PythonSlots:
    """A counting gate whose holders are threads; ``released()`` is a no-op for a thread holding no slot."""

    def __init__(self, limit: int = DEFAULT_LIMIT, wait_limit_s: float = WAIT_LIMIT_S) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._limit = max(1, limit)
        self._busy = 0
        self._wait_limit_s = wait_limit_s
        self._local = threading.local()
        self.overruns = 0

    @property
    def busy(self) -> int:
        """Slots held now."""
        return self._busy

    @property
    def held_here(self) -> bool:
        return bool(getattr(self._local, "held", False))

    def set_limit(self, limit: int) -> None:
        with self._cond:
            self._limit = max(1, limit)
            self._cond.notify_all()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Run a worker's turn holding a slot (re-entrant: a thread that holds one keeps it)."""
        if self.held_here:
            yield
            return
        self._take()
        try:
            yield
        finally:
            self._give()

    def run(self, work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``work(*args, **kwargs)`` holding a slot: a copy worker's turn on one file."""
        with self.held():
            return work(*args, **kwargs)

    @contextmanager
    def released(self) -> Iterator[None]:
        """Wait (on a request, a pause) without the slot this thread holds, then take one again."""
        if not self.held_here:
            yield
            return
        self._give()
        owner = threading.get_ident()
        try:
            yield
        finally:
            # A generator closed later (by another thread, or in another turn of this one) takes nothing.
            if threading.get_ident() == owner and not self.held_here:
                self._take()

    def _take(self) -> None:
        deadline = time.monotonic() + self._wait_limit_s
        with self._cond:
            while self._busy >= self._limit:
                left = deadline - time.monotonic()
                if left <= 0 or not self._cond.wait(left):
                    self._local.held = False  # waited long enough: run without a slot
                    self.overruns += 1
                    return
            self._busy += 1
            self._local.held = True

    def _give(self) -> None:
        if not self.held_here:
            return
        self._local.held = False
        with self._cond:
            self._busy -= 1
            self._cond.notify()


SLOTS = PythonSlots()
"""The process's slots: the interpreter they share is the process's."""
