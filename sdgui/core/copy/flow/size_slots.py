"""How many files of each size a job transfers at once.

The job's pool is wide for tiny files, whose time is round trips: on a far-away service many must be in flight
(s5cmd keeps 256). A file that is held whole in memory (up to the multipart threshold) or a large one (its own
parts in flight) takes one of fewer slots, so the memory a job holds stays what it was with a narrow pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sdgui.core.python_slots import SLOTS
from sdgui.core.settings import MiB, TransferSettings

TINY_FILE_BYTES = 1 * MiB
"""Files up to this size take no size slot: only the pool's width limits them."""
MEDIUM_FILES_AT_ONCE = 16
"""Files above TINY_FILE_BYTES and up to the multipart threshold at once: at most 16 x the threshold in memory."""


class SizeSlots:
    """``held(size)`` waits (without the worker's Python slot) for a slot of the file's size class."""

    def __init__(self, settings: TransferSettings) -> None:
        self._threshold = settings.multipart_threshold
        self._large = threading.Semaphore(max(1, settings.large_file_slots))
        self._medium = threading.Semaphore(MEDIUM_FILES_AT_ONCE)

    @contextmanager
    def held(self, size: int) -> Iterator[None]:
        slot = self._large if size > self._threshold else self._medium if size > TINY_FILE_BYTES else None
        if slot is None:
            yield
            return
        with SLOTS.released():
            slot.acquire()
        try:
            yield
        finally:
            slot.release()
