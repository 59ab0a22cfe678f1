"""cloud → local bytes: parallel ranged GETs into a temporary file, or one stream when ranges fail."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from sdgui.core import errors
from sdgui.core.backends.base import Entry, RangeNotSupportedError
from sdgui.core.backends.local import AtomicFile, LocalBackend
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.events import Verification
from sdgui.core.copy.verify import hash_file

log = logging.getLogger(__name__)


def download_into(ctx: CopyContext, item: CopyItem, dst: LocalBackend, progress: FileProgress) -> FileOutcome:
    """Download ``item`` into ``dst``; whole and verified, or absent."""
    entry = item.src.stat(item.src_key)
    free = dst.free_space(item.dst_key)
    if free is not None and free < entry.size:
        raise errors.DiskFullError(
            f"needs {entry.size} bytes, only {free} free on the device", path=item.destination_label
        )
    target = dst.open_atomic(item.dst_key)
    try:
        _fill(ctx, item, entry, target, progress)
        target.sync()
        actual = hash_file(target.temp)
        verified: Verification = "unverified"
        if entry.blake3 and ctx.verify != "off":
            if actual != entry.blake3:
                raise errors.ChecksumMismatchError(
                    f"downloaded blake3 {actual[:16]}… differs from the stored {entry.blake3[:16]}…",
                    path=item.source_label,
                )
            verified = "verified"
        target.commit(mtime=entry.mtime if ctx.preserve_mtime else None)
    except BaseException:
        target.discard()
        raise
    return FileOutcome(entry.size, actual, verified)


def _fill(ctx: CopyContext, item: CopyItem, entry: Entry, target: AtomicFile, progress: FileProgress) -> None:
    part = ctx.settings.download_part_size
    volume = item.src.volume
    use_ranges = (
        item.src.capabilities.range_reads
        and ctx.range_support.get(volume, True)
        and entry.size > part
        and ctx.settings.download_concurrency > 1
    )
    if use_ranges:
        try:
            _ranged(ctx, item, entry, target, progress)
            return
        except RangeNotSupportedError:
            # Detected on the first part, before any byte was counted: fall back to one stream.
            log.info("%s answers ranged GETs with the whole object; downloading as one stream", volume)
            ctx.range_support[volume] = False
    offset = 0
    for chunk in item.src.read(item.src_key, if_match=entry.etag):
        ctx.cancel.check()
        target.pwrite(chunk, offset)
        offset += len(chunk)
        progress.add(len(chunk))
    if offset != entry.size:
        raise errors.NetworkError(f"the stream ended after {offset} of {entry.size} bytes", path=item.source_label)


def _ranged(ctx: CopyContext, item: CopyItem, entry: Entry, target: AtomicFile, progress: FileProgress) -> None:
    part = ctx.settings.download_part_size
    ranges = [(start, min(start + part, entry.size)) for start in range(0, entry.size, part)]
    failed = threading.Event()

    def fetch(start: int, end: int) -> None:
        position = start
        for chunk in item.src.read_range(item.src_key, start, end, if_match=entry.etag):
            if failed.is_set():
                return
            ctx.cancel.check()
            target.pwrite(chunk, position)
            position += len(chunk)
            progress.add(len(chunk))
        if position != end:
            raise errors.NetworkError(f"a ranged read ended at {position} instead of {end}", path=item.source_label)

    if ctx.range_support.get(item.src.volume) is None:
        # First big file from this volume: probe with the first part alone, so a server that ignores
        # ranges is caught before several whole-object answers stream at once.
        fetch(*ranges[0])
        ctx.range_support[item.src.volume] = True
        ranges = ranges[1:]
    with ThreadPoolExecutor(ctx.settings.download_concurrency, thread_name_prefix="sdgui-range") as pool:
        futures = [pool.submit(fetch, start, end) for start, end in ranges]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                failed.set()
                for other in futures:
                    other.cancel()
                raise future.exception()  # type: ignore[misc]
