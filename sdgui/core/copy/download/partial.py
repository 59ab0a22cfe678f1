"""What a journaled download's temporary file holds: per fixed-size part, the bytes written and made durable.

Every ``SYNC_INTERVAL_S`` the bytes are made durable (fdatasync) and recorded in the job journal, so after a crash
or a kill the next run keeps them and fetches only the rest.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from sdgui.core.backends.base import AtomicFile, Entry
from sdgui.core.copy.context import CopyContext, FileProgress
from sdgui.core.journal import DownloadState, FileRecord

SYNC_INTERVAL_S = 0.5
"""How often a journaled download makes its bytes durable and records them (a crash loses at most this much)."""

SOURCE_CHANGED = "the source changed since the interrupted run; downloaded again from the start"
PARTIAL_LOST = "the partial file of the interrupted run was gone; downloaded again from the start"


def take_up_partial(
    ctx: CopyContext, record: FileRecord | None, entry: Entry, target: AtomicFile
) -> tuple[PartialDownload, str]:
    """What the temporary file holds that this run can keep, and why nothing is kept when something was."""
    previous = record.download if record is not None else None
    note = ""
    if previous is not None and previous.kept:
        written_to = max((i * previous.part_size + n for i, n in previous.confirmed.items() if n), default=0)
        if previous.etag != entry.etag or previous.size != entry.size:
            note = SOURCE_CHANGED
        elif target.size < written_to:
            note = PARTIAL_LOST
        else:
            return PartialDownload(entry, previous.part_size, previous.confirmed, target, record), ""
    target.truncate(0)
    return PartialDownload(entry, ctx.settings.download_part_size, {}, target, record), note


class PartialDownload:
    """Which bytes of the temporary file are written, per fixed-size part; made durable (fdatasync) and
    journaled at most every SYNC_INTERVAL_S. Ranged fetches and the single stream both update it."""

    def __init__(
        self, entry: Entry, part_size: int, confirmed: dict[int, int], target: AtomicFile, record: FileRecord | None
    ) -> None:
        self.size = entry.size
        self.etag = entry.etag
        self.part_size = max(1, part_size)
        self.confirmed = dict(confirmed)
        self.resumed = sum(self.confirmed.values())
        """Bytes kept from the interrupted run; shown as done once this run's first bytes arrive."""
        self._reported = False
        self._target = target
        self._record = record
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._synced_at = time.monotonic()
        self._front = self.prefix()
        self._on_front: Callable[[int], None] | None = None
        self._on_restart: Callable[[], None] | None = None

    def follow(self, on_front: Callable[[int], None], on_restart: Callable[[], None]) -> None:
        """Tell ``on_front`` how far the file is written without a gap whenever that grows (now, too), and
        ``on_restart`` when the file is emptied to start again."""
        self._on_front, self._on_restart = on_front, on_restart
        on_front(self._front)

    def _length(self, index: int) -> int:
        return max(0, min(self.part_size, self.size - index * self.part_size))

    @property
    def parts(self) -> int:
        return math.ceil(self.size / self.part_size)

    def missing(self) -> list[tuple[int, int]]:
        """The byte ranges still to fetch, one per unfinished part."""
        ranges = []
        for index in range(self.parts):
            base = index * self.part_size
            start, end = base + self.confirmed.get(index, 0), base + self._length(index)
            if start < end:
                ranges.append((start, end))
        return ranges

    def prefix(self) -> int:
        """How many bytes from the start are written without a gap: where a single stream carries on."""
        offset = 0
        for index in range(self.parts):
            count = self.confirmed.get(index, 0)
            offset += count
            if count < self._length(index):
                break
        return offset

    def report(self, progress: FileProgress) -> None:
        """Show the kept bytes as done (once the server has answered: a restart must not move the bar back)."""
        with self._lock:
            if self._reported:
                return
            self._reported = True
        if self.resumed:
            progress.add_resumed(self.resumed)

    def wrote(self, start: int, end: int) -> None:
        """Bytes ``[start, end)`` are in the file (written, not yet durable)."""
        with self._lock:
            for index in range(start // self.part_size, (end - 1) // self.part_size + 1):
                base = index * self.part_size
                done = self.confirmed.get(index, 0)
                if base + done >= start:  # contiguous with what the part already holds
                    self.confirmed[index] = max(done, min(end, base + self._length(index)) - base)
            advanced = None
            if start <= self._front < end:  # this write moved the gap-free front on
                self._front = advanced = self.prefix()
        if advanced is not None and self._on_front is not None:
            self._on_front(advanced)
        if self._record is not None and time.monotonic() - self._synced_at >= SYNC_INTERVAL_S:
            self._sync()

    def _sync(self) -> None:
        if not self._sync_lock.acquire(blocking=False):
            return  # another thread is recording; the next write records this one's bytes
        try:
            with self._lock:
                snapshot = dict(self.confirmed)  # taken before the sync: all of it is durable after
                self._synced_at = time.monotonic()
            self._target.datasync()
            if self._record is not None:
                self._record.download_progress(self.state(snapshot))
        finally:
            self._sync_lock.release()

    def restart(self) -> None:
        """Throw away what the file holds and start it again from zero."""
        with self._lock:
            self.confirmed.clear()
            self.resumed = 0
            self._reported = True
            self._front = 0
        if self._on_restart is not None:  # first: a hasher reading the old bytes drops them, then they go
            self._on_restart()
        self._target.truncate(0)
        if self._record is not None:
            self._record.begin_download(self.state())

    def state(self, confirmed: dict[int, int] | None = None) -> DownloadState:
        return DownloadState(
            self.etag,
            self.size,
            self.part_size,
            dict(self.confirmed if confirmed is None else confirmed),
            str(self._target.temp),
        )
