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
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial

from sdgui.core import errors
from sdgui.core.backends.base import Entry
from sdgui.core.copy.checks import BLAKE3, Expected, expected_of, hash_all, hash_file_all
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.download.fetch import fetch_missing
from sdgui.core.copy.download.following_hash import FollowingHasher
from sdgui.core.copy.download.partial import take_up_partial
from sdgui.core.copy.events import Direction, Verification
from sdgui.core.copy.strategy import CloudCopyStrategy, local_target

log = logging.getLogger(__name__)

PARTIAL_DAMAGED = "the partial file of the interrupted run did not verify; downloaded again from the start"
ETAG_NOT_PARTS = (
    "the service's multipart ETag is not the MD5 of the parts' MD5s here: the object came twice, byte for byte the "
    "same, without matching it, so nothing proves it"
)
ETAG_ATTEMPTS = 3
"""Downloads of one object whose multipart ETag does not match, until two of them bring the same bytes."""


class EtagNotMatchedError(errors.ChecksumMismatchError):
    """The bytes do not match the object's multipart ETag, which a service may make otherwise than S3's MD5 of the
    parts' MD5s: damage, or a service of its own. Downloading again tells which (``blake3``: of these bytes)."""

    def __init__(self, message: str, *, path: str, blake3: str) -> None:
        super().__init__(message, path=path)
        self.blake3 = blake3


@dataclass(frozen=True)
class Proof:
    """What a download's bytes were shown to be: their blake3, and which check (if any) proved them."""

    blake3: str
    verified: Verification
    check: str | None


def verify_download(
    ctx: CopyContext,
    item: CopyItem,
    entry: Entry,
    compute: Callable[[list[str], tuple[int, ...]], dict[str, str]],
    *,
    ask_again: bool = False,
) -> Proof:
    """Hash the downloaded bytes (``compute`` takes the algorithms, and a composite check's part sizes) with blake3
    and the strongest check the object offers, and compare. A mismatch raises ChecksumMismatchError. With
    ``ask_again`` (the bytes came from one GET, whose answer carries less than a HEAD) an object with no check, or a
    mismatch on a provider's checksum, asks the source for the object's checksums (its stat is authoritative)."""
    expected = _expected(ctx, item, entry)
    if expected is None and ask_again and ctx.verify != "off":
        # One GET's answer carries no checksum a HEAD may still give (a multipart object's composite, say).
        expected = _expected(ctx, item, item.src.stat_with_checksums(item.src_key))
    got = compute(
        [BLAKE3] if expected is None or expected.check == BLAKE3 else [BLAKE3, expected.check],
        expected.part_sizes if expected is not None else (),
    )
    if expected is None:
        return Proof(got[BLAKE3], "unverified", None)
    if got[expected.check] != expected.value and ask_again and expected.check != BLAKE3:
        fresh = _expected(ctx, item, item.src.stat_with_checksums(item.src_key))
        if fresh is None:  # what looked like a checksum was not one (an SSE-KMS ETag, say)
            return Proof(got[BLAKE3], "unverified", None)
        if fresh.check not in got:
            got.update(compute([fresh.check], fresh.part_sizes))
        expected = fresh
    if got[expected.check] != expected.value:
        message = (
            f"downloaded {expected.check} {got[expected.check][:16]}… differs from the stored {expected.value[:16]}…"
        )
        if expected.from_etag:
            raise EtagNotMatchedError(message, path=item.source_label, blake3=got[BLAKE3])
        raise errors.ChecksumMismatchError(message, path=item.source_label)
    return Proof(got[BLAKE3], "verified", expected.check)


def _expected(ctx: CopyContext, item: CopyItem, entry: Entry) -> Expected | None:
    """The check ``entry`` offers, unless verification is off or it is a multipart ETag of a volume whose ETags
    turned out to be no MD5 of the parts' MD5s."""
    expected = expected_of(entry) if ctx.verify != "off" else None
    if expected is not None and expected.from_etag and not ctx.etag_parts.get(item.src.volume, True):
        return None
    return expected


def _proved_again(ctx: CopyContext, item: CopyItem, mismatch: EtagNotMatchedError, seen: list[str]) -> Proof | None:
    """After bytes that do not match a multipart ETag: None to download them again; once the same bytes came
    twice, an unverified Proof (the service makes its ETags otherwise: its volume's are not asked again). Bytes
    that differ each time, ETAG_ATTEMPTS times, raise the mismatch."""
    if mismatch.blake3 in seen:
        ctx.etag_parts[item.src.volume] = False
        log.info("%s: %s", item.src.volume, ETAG_NOT_PARTS)
        return Proof(mismatch.blake3, "unverified", None)
    seen.append(mismatch.blake3)
    if len(seen) >= ETAG_ATTEMPTS:
        raise mismatch
    log.info("%s: %s; downloading it again", item.source_label, mismatch)
    return None


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
                    entry, checksums = _with_service_checks(entry, checksums.result()), None
                with ctx.verifying(item):  # the hasher follows the download; what it has not hashed yet is left
                    proof = verify_download(ctx, item, entry, partial(_hashes, hasher, str(target.temp)))
            except EtagNotMatchedError as mismatch:
                again = _proved_again(ctx, item, mismatch, seen)
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


def _with_service_checks(entry: Entry, fresh: Entry) -> Entry:
    """The object's entry with the checksums the service told, when they describe the bytes downloaded (every GET
    was conditional on ``entry``'s ETag; an object replaced since keeps the first entry, which proves nothing)."""
    return fresh if fresh.etag == entry.etag and fresh.size == entry.size else entry


def _follow_service_checks(
    ctx: CopyContext, item: CopyItem, hasher: FollowingHasher, entry: Entry, answer: Future[Entry]
) -> None:
    """When the service's checksums arrive, the hasher computes their check too, catching up on what it hashed."""
    if answer.exception() is not None:
        return
    expected = _expected(ctx, item, _with_service_checks(entry, answer.result()))
    if expected is not None:
        hasher.add([expected.check], expected.part_sizes)


def _following_hasher(ctx: CopyContext, item: CopyItem, entry: Entry, path: str) -> FollowingHasher:
    """A hasher that follows the download with what ``verify_download`` will ask of it."""
    expected = _expected(ctx, item, entry)
    names = [BLAKE3] if expected is None or expected.check == BLAKE3 else [BLAKE3, expected.check]
    return FollowingHasher(path, names, entry.size, expected.part_sizes if expected is not None else ())


def _hashes(hasher: FollowingHasher, path: str, names: list[str], part_sizes: tuple[int, ...]) -> dict[str, str]:
    """What the hasher computed along the way; what it was not asked for, from the file read again."""
    followed = hasher.result()
    missing = [name for name in names if name not in followed]
    if missing:
        followed.update(hash_file_all(path, missing, part_sizes))
    return followed


def _hash_bytes(data: bytes, names: list[str], part_sizes: tuple[int, ...]) -> dict[str, str]:
    return hash_all([data], names, len(data), part_sizes)


def _download_small(ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
    """A small object in one GET (body and metadata together, no HEAD first), hashed in memory, then written
    to a temporary file and renamed; its fsyncs are batched with other small files' (``ctx.deferred_sync``).
    Nothing to resume: a crash costs one small request."""
    seen: list[str] = []  # blake3s of answers that did not match the object's multipart ETag
    note = ""
    while True:
        ctx.cancel.check()
        entry, data = item.src.read_whole(item.src_key)
        ctx.throttle_bytes(len(data))
        try:
            # The one GET's answer may carry less than a HEAD would (an ETag that is no MD5): a mismatch asks again.
            proof = verify_download(ctx, item, entry, partial(_hash_bytes, data), ask_again=True)
        except EtagNotMatchedError as mismatch:
            again = _proved_again(ctx, item, mismatch, seen)
            if again is None:
                continue
            proof, note = again, ETAG_NOT_PARTS
        break
    target = local_target(item)
    try:
        target.pwrite(data, 0)
        progress.add(len(data))
        target.commit(mtime=entry.mtime if ctx.preserve_mtime else None, later=ctx.deferred_sync)
    except BaseException:
        target.discard()
        raise
    return FileOutcome(len(data), proof.blake3, proof.verified, note=note, check=proof.check)
