"""Fetching a download's missing bytes: parallel ranged GETs, or one stream where the server ignores ranges."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from sdgui.core import errors
from sdgui.core.backends.base import AtomicFile, Entry, RangeNotSupportedError
from sdgui.core.copy.context import CopyContext, CopyItem, FileProgress
from sdgui.core.copy.download.partial import PartialDownload

log = logging.getLogger(__name__)

NO_RANGES = "the server ignores ranged requests, so the interrupted download started again from the start"


def fetch_missing(
    ctx: CopyContext, item: CopyItem, entry: Entry, target: AtomicFile, progress: FileProgress, ledger: PartialDownload
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


def _stream(
    ctx: CopyContext, item: CopyItem, target: AtomicFile, progress: FileProgress, ledger: PartialDownload
) -> str:
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


def _ranged(
    ctx: CopyContext, item: CopyItem, target: AtomicFile, progress: FileProgress, ledger: PartialDownload
) -> None:
    ranges = ledger.missing()
    failed = threading.Event()
    answered = threading.Event()

    def fetch(start: int, end: int) -> None:
        position = start
        for chunk in item.src.read_range(item.src_key, start, end, if_match=ledger.etag):
            if not answered.is_set():  # Event.set takes a lock: once, not on every chunk of every range
                answered.set()
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

    if not ranges:
        return
    with ThreadPoolExecutor(ctx.settings.download_concurrency, thread_name_prefix="sdgui-range") as pool:
        futures = []
        if ctx.range_support.get(item.src.volume) is None:
            # First big file from this volume: the first range goes alone until its answer's first bytes
            # came, so a server that ignores ranges is caught before several whole-object answers stream at once.
            first = pool.submit(fetch, *ranges[0])
            first.add_done_callback(lambda _: answered.set())
            answered.wait()
            error = first.exception() if first.done() else None
            if error is not None:
                raise error
            ctx.range_support[item.src.volume] = True
            futures, ranges = [first], ranges[1:]
        futures += [pool.submit(fetch, start, end) for start, end in ranges]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            error = future.exception()
            if error is not None:
                failed.set()
                for other in futures:
                    other.cancel()
                raise error
