"""cloud → local bytes: parallel ranged GETs into a temporary file, or one stream when ranges fail.

A journaled download (``item.record`` set) writes into a temporary file with a fixed name and, every
``SYNC_INTERVAL_S``, makes the bytes durable and records how much of each part is on disk. After a crash or a
kill the next run keeps those bytes and fetches only the rest, conditional on the ETag the download began with;
a changed source, a lost partial file or a server that ignores ranges starts that file again from zero, and the
outcome says so. A cancel or an error still removes the temporary file: only a crash leaves it behind.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from sdgui.core import errors
from sdgui.core.backends.base import Entry, RangeNotSupportedError
from sdgui.core.backends.local import AtomicFile, LocalBackend
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.events import Verification
from sdgui.core.copy.verify import hash_bytes, hash_file
from sdgui.core.journal import DownloadState, FileRecord

log = logging.getLogger(__name__)

SYNC_INTERVAL_S = 0.5
"""How often a journaled download makes its bytes durable and records them (a crash loses at most this much)."""

SOURCE_CHANGED = "the source changed since the interrupted run; downloaded again from the start"
NO_RANGES = "the server ignores ranged requests, so the interrupted download started again from the start"
PARTIAL_LOST = "the partial file of the interrupted run was gone; downloaded again from the start"
PARTIAL_DAMAGED = "the partial file of the interrupted run did not verify; downloaded again from the start"


def download_into(ctx: CopyContext, item: CopyItem, dst: LocalBackend, progress: FileProgress) -> FileOutcome:
    """Download ``item`` into ``dst``; whole and verified, or absent (a crash may leave a resumable partial)."""
    if item.size <= ctx.settings.multipart_threshold and (item.record is None or item.record.download is None):
        return _download_small(ctx, item, dst, progress)
    entry = item.src.stat(item.src_key)
    record = item.record
    target = dst.open_atomic(item.dst_key, tag=record.tag if record is not None else None)
    try:
        ledger, note = _ledger(ctx, record, entry, target)
        free = dst.free_space(item.dst_key)
        needed = entry.size - ledger.resumed
        if free is not None and free < needed:
            raise errors.DiskFullError(
                f"needs {needed} bytes, only {free} free on the device", path=item.destination_label
            )
        if record is not None:
            record.begin_download(ledger.state())
        while True:
            note = _fill(ctx, item, entry, target, progress, ledger) or note
            ledger.report(progress)
            target.sync()
            actual = hash_file(target.temp)
            verified: Verification = "unverified"
            if entry.blake3 and ctx.verify != "off":
                if actual != entry.blake3:
                    if ledger.resumed:  # the kept bytes may be what is wrong: once more, all of it
                        progress.forget_resumed()
                        ledger.restart()
                        note = PARTIAL_DAMAGED
                        continue
                    raise errors.ChecksumMismatchError(
                        f"downloaded blake3 {actual[:16]}… differs from the stored {entry.blake3[:16]}…",
                        path=item.source_label,
                    )
                verified = "verified"
            break
        target.commit(mtime=entry.mtime if ctx.preserve_mtime else None)
    except BaseException:
        target.discard()
        if record is not None:
            record.clear_download()
        raise
    if note:
        log.info("%s: %s", item.source_label, note)
    return FileOutcome(entry.size, actual, verified, bytes_resumed=ledger.resumed, note=note)


def _download_small(ctx: CopyContext, item: CopyItem, dst: LocalBackend, progress: FileProgress) -> FileOutcome:
    """A small object in one GET (body and metadata together, no HEAD first), hashed in memory, then written
    to a temporary file, fsynced and renamed. Nothing to resume: a crash costs one small request."""
    ctx.cancel.check()
    entry, data = item.src.read_whole(item.src_key)
    ctx.throttle_bytes(len(data))
    actual = hash_bytes(data)
    verified: Verification = "unverified"
    if entry.blake3 and ctx.verify != "off":
        if actual != entry.blake3:
            raise errors.ChecksumMismatchError(
                f"downloaded blake3 {actual[:16]}… differs from the stored {entry.blake3[:16]}…",
                path=item.source_label,
            )
        verified = "verified"
    target = dst.open_atomic(item.dst_key)
    try:
        target.pwrite(data, 0)
        progress.add(len(data))
        target.commit(mtime=entry.mtime if ctx.preserve_mtime else None)
    except BaseException:
        target.discard()
        raise
    return FileOutcome(len(data), actual, verified)


def _ledger(ctx: CopyContext, record: FileRecord | None, entry: Entry, target: AtomicFile) -> tuple[_Ledger, str]:
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
            return _Ledger(entry, previous.part_size, previous.confirmed, target, record), ""
    target.truncate(0)
    return _Ledger(entry, ctx.settings.download_part_size, {}, target, record), note


class _Ledger:
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


def _fill(
    ctx: CopyContext, item: CopyItem, entry: Entry, target: AtomicFile, progress: FileProgress, ledger: _Ledger
) -> str:
    """Fetch what the ledger misses; returns a note when the file had to start again."""
    volume = item.src.volume
    use_ranges = (
        item.src.capabilities.range_reads
        and ctx.range_support.get(volume, True)
        and entry.size > ledger.part_size
        and ctx.settings.download_concurrency > 1
    )
    if use_ranges:
        try:
            _ranged(ctx, item, target, progress, ledger)
            return ""
        except RangeNotSupportedError:
            # Detected on the first request, before any byte was written or counted: fall back to one stream.
            log.info("%s answers ranged GETs with the whole object; downloading as one stream", volume)
            ctx.range_support[volume] = False
    return _stream(ctx, item, target, progress, ledger)


def _stream(ctx: CopyContext, item: CopyItem, target: AtomicFile, progress: FileProgress, ledger: _Ledger) -> str:
    note = ""
    offset = ledger.prefix()
    chunks: Iterator[bytes] = item.src.read(item.src_key, offset=offset, if_match=ledger.etag)
    if offset:
        try:
            first = next(chunks, None)  # a server that ignores the range fails on its answer's first bytes
        except RangeNotSupportedError:
            ctx.range_support[item.src.volume] = False
            ledger.restart()
            offset, note = 0, NO_RANGES
            chunks = item.src.read(item.src_key, if_match=ledger.etag)
        else:
            chunks = itertools.chain([] if first is None else [first], chunks)
    position = offset
    for chunk in chunks:
        ctx.cancel.check()
        ctx.throttle_bytes(len(chunk))
        ledger.report(progress)
        target.pwrite(chunk, position)
        ledger.wrote(position, position + len(chunk))
        position += len(chunk)
        progress.add(len(chunk))
    if position != ledger.size:
        raise errors.NetworkError(f"the stream ended after {position} of {ledger.size} bytes", path=item.source_label)
    return note


def _ranged(ctx: CopyContext, item: CopyItem, target: AtomicFile, progress: FileProgress, ledger: _Ledger) -> None:
    ranges = ledger.missing()
    failed = threading.Event()

    def fetch(start: int, end: int) -> None:
        position = start
        for chunk in item.src.read_range(item.src_key, start, end, if_match=ledger.etag):
            if failed.is_set():
                return
            ctx.cancel.check()
            ctx.throttle_bytes(len(chunk))
            ledger.report(progress)
            target.pwrite(chunk, position)
            ledger.wrote(position, position + len(chunk))
            position += len(chunk)
            progress.add(len(chunk))
        if position != end:
            raise errors.NetworkError(f"a ranged read ended at {position} instead of {end}", path=item.source_label)

    if ctx.range_support.get(item.src.volume) is None and ranges:
        # First big file from this volume: probe with the first range alone, so a server that ignores
        # ranges is caught before several whole-object answers stream at once.
        fetch(*ranges[0])
        ctx.range_support[item.src.volume] = True
        ranges = ranges[1:]
    if not ranges:
        return
    with ThreadPoolExecutor(ctx.settings.download_concurrency, thread_name_prefix="sdgui-range") as pool:
        futures = [pool.submit(fetch, start, end) for start, end in ranges]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                failed.set()
                for other in futures:
                    other.cancel()
                raise future.exception()  # type: ignore[misc]
