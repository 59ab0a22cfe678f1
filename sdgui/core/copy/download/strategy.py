"""cloud → local: the DownloadStrategy; parallel ranged GETs into a temporary file, or one stream when ranges fail.

A journaled download (``item.record`` set) writes into a temporary file with a fixed name and, every
``SYNC_INTERVAL_S``, makes the bytes durable and records how much of each part is on disk. After a crash or a
kill the next run keeps those bytes and fetches only the rest, conditional on the ETag the download began with;
a changed source, a lost partial file or a server that ignores ranges starts that file again from zero, and the
outcome says so. A cancel or an error still removes the temporary file: only a crash leaves it behind.
"""

from __future__ import annotations

import logging

from sdgui.core import errors
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.download.fetch import fetch_missing
from sdgui.core.copy.download.partial import take_up_partial
from sdgui.core.copy.events import Direction, Verification
from sdgui.core.copy.strategy import CloudCopyStrategy, local_target
from sdgui.core.copy.verify import hash_bytes, hash_file

log = logging.getLogger(__name__)

PARTIAL_DAMAGED = "the partial file of the interrupted run did not verify; downloaded again from the start"


class DownloadStrategy(CloudCopyStrategy):
    """cloud → local: parallel ranged GETs (or one stream) into a temporary file beside the target,
    fsync, blake3 of the file against the object's stored blake3, atomic rename."""

    name = "streaming download"
    direction = Direction.DOWNLOAD

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        """Whole and verified, or absent (a crash may leave a resumable partial)."""
        if item.size <= ctx.settings.multipart_threshold and (item.record is None or item.record.download is None):
            return _download_small(ctx, item, progress)
        return _download_large(ctx, item, progress)


def _download_large(ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
    """A large object into a temporary file beside the target: ranges or one stream, resumable when journaled."""
    entry = item.src.stat(item.src_key)
    record = item.record
    target = local_target(item, tag=record.tag if record is not None else None)
    try:
        ledger, note = take_up_partial(ctx, record, entry, target)
        free = item.dst.free_space(item.dst_key)
        needed = entry.size - ledger.resumed
        if free is not None and free < needed:
            raise errors.DiskFullError(
                f"needs {needed} bytes, only {free} free on the device", path=item.destination_label
            )
        if record is not None:
            record.begin_download(ledger.state())
        while True:
            note = fetch_missing(ctx, item, entry, target, progress, ledger) or note
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


def _download_small(ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
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
    target = local_target(item)
    try:
        target.pwrite(data, 0)
        progress.add(len(data))
        target.commit(mtime=entry.mtime if ctx.preserve_mtime else None)
    except BaseException:
        target.discard()
        raise
    return FileOutcome(len(data), actual, verified)
