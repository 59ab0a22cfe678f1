"""cloud → local: the DownloadStrategy; parallel ranged GETs into a temporary file, or one stream when ranges fail.

A journaled download (``item.record`` set) writes into a temporary file with a fixed name and, every
``SYNC_INTERVAL_S``, makes the bytes durable and records how much of each part is on disk. After a crash or a
kill the next run keeps those bytes and fetches only the rest, conditional on the ETag the download began with;
a changed source, a lost partial file or a server that ignores ranges starts that file again from zero, and the
outcome says so. A cancel or an error still removes the temporary file: only a crash leaves it behind.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from functools import partial

from sdgui.core import errors
from sdgui.core.backends.base import Entry
from sdgui.core.copy.checks import expected_of, hash_file_all
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.download.fetch import fetch_missing
from sdgui.core.copy.download.following_hash import FollowingHasher
from sdgui.core.copy.download.partial import take_up_partial
from sdgui.core.copy.events import Direction
from sdgui.core.copy.source_proof import (
    ETAG_NOT_PARTS,
    EtagNotMatchedError,
    checks_for,
    proved_again,
    read_small_proved,
    source_check,
    verify_download,
    with_service_checks,
)
from sdgui.core.copy.strategy import CloudCopyStrategy, local_target

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
    # A single file was stat'ed by validation a moment ago; a retry (the object may have changed) asks again.
    entry, item.stat = item.stat or item.src.stat(item.src_key), None
    checksums = _ask_for_checksums(ctx, item, entry)
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
        seen: list[str] = []  # blake3s of downloads that did not match the object's multipart ETag
        while True:
            hasher = _following_hasher(ctx, item, entry, str(target.temp))
            ledger.follow(hasher.advance, hasher.reset)
            if checksums is not None:
                checksums.add_done_callback(partial(_follow_service_checks, ctx, item, hasher, entry))
            try:
                note = fetch_missing(ctx, item, entry, target, progress, ledger) or note
                ledger.report(progress)
                target.sync()
                if checksums is not None:
                    entry, checksums = with_service_checks(entry, checksums.result()), None
                with ctx.verifying(item):  # the hasher follows the download; what it has not hashed yet is left
                    proof = verify_download(ctx, item, entry, partial(_hashes, hasher, str(target.temp)))
            except EtagNotMatchedError as mismatch:
                again = proved_again(ctx, item, mismatch, seen)
                if again is None:
                    progress.forget_resumed()
                    ledger.restart()
                    continue
                proof, note = again, ETAG_NOT_PARTS
            except errors.ChecksumMismatchError:
                if ledger.resumed:  # the kept bytes may be what is wrong: once more, all of it
                    progress.forget_resumed()
                    ledger.restart()
                    note = PARTIAL_DAMAGED
                    continue
                raise
            finally:
                hasher.close()
            break
        target.commit(mtime=entry.mtime if ctx.preserve_mtime else None)
    except BaseException:
        target.discard()
        if record is not None:
            record.clear_download()
        raise
    if note:
        log.info("%s: %s", item.source_label, note)
    return FileOutcome(
        entry.size, proof.blake3, proof.verified, bytes_resumed=ledger.resumed, note=note, check=proof.check
    )


def _ask_for_checksums(ctx: CopyContext, item: CopyItem, entry: Entry) -> Future[Entry] | None:
    """Where the object offers no check (no blake3, no MD5 ETag: a multipart upload), ask what else the service
    keeps (on S3 a second request, and the first one of its control plane), alongside the download, not before."""
    if ctx.verify == "off" or expected_of(entry) is not None:
        return None
    answer: Future[Entry] = Future()

    def ask() -> None:
        try:
            answer.set_result(item.src.stat_with_checksums(item.src_key))
        except BaseException as exc:  # the download's thread raises it: a retry of the file asks again
            answer.set_exception(exc)

    threading.Thread(target=ask, name="sdgui-checksums", daemon=True).start()
    return answer


def _follow_service_checks(
    ctx: CopyContext, item: CopyItem, hasher: FollowingHasher, entry: Entry, answer: Future[Entry]
) -> None:
    """When the service's checksums arrive, the hasher computes their check too, catching up on what it hashed."""
    if answer.exception() is not None:
        return
    expected = source_check(ctx, item, with_service_checks(entry, answer.result()))
    if expected is not None:
        hasher.add([expected.check], expected.part_sizes)


def _following_hasher(ctx: CopyContext, item: CopyItem, entry: Entry, path: str) -> FollowingHasher:
    """A hasher that follows the download with what ``verify_download`` will ask of it."""
    expected = source_check(ctx, item, entry)
    return FollowingHasher(path, checks_for(expected), entry.size, expected.part_sizes if expected is not None else ())


def _hashes(hasher: FollowingHasher, path: str, names: list[str], part_sizes: tuple[int, ...]) -> dict[str, str]:
    """What the hasher computed along the way; what it was not asked for, from the file read again."""
    followed = hasher.result()
    missing = [name for name in names if name not in followed]
    if missing:
        followed.update(hash_file_all(path, missing, part_sizes))
    return followed


def _download_small(ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
    """A small object in one GET, proved in memory, then written to a temporary file and renamed; its fsyncs are
    batched with other small files' (``ctx.deferred_sync``). Nothing to resume: a crash costs one small request."""
    entry, data, proof, note = read_small_proved(ctx, item)
    target = local_target(item)
    try:
        target.pwrite(data, 0)
        progress.add(len(data))
        target.commit(mtime=entry.mtime if ctx.preserve_mtime else None, later=ctx.deferred_sync)
    except BaseException:
        target.discard()
        raise
    return FileOutcome(len(data), proof.blake3, proof.verified, note=note, check=proof.check)
