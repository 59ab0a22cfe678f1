"""Copy strategies: one small class per way bytes can move between two volumes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import ClassVar, cast

from sdgui.core import errors
from sdgui.core.backends.base import BLAKE3_KEY, MTIME_KEY, Entry, VolumeBackend
from sdgui.core.backends.local import LocalBackend
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.download import download_into
from sdgui.core.copy.events import Verification
from sdgui.core.copy.resumable import supports_resumable_upload, upload_resumable
from sdgui.core.copy.verify import RunningHash, hash_bytes, hash_file, hash_stream


class CopyStrategy(ABC):
    """Copies one file from ``item.src`` to ``item.dst``; the destination ends whole or absent."""

    name: ClassVar[str]

    @abstractmethod
    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        """Copy, verify as far as the volumes allow, and report what was proved."""


def _metered(chunks: Iterable[bytes], ctx: CopyContext, progress: FileProgress) -> Iterator[bytes]:
    """Pass chunks through, checking the cancel token, paying the bandwidth limit and counting progress."""
    for chunk in chunks:
        ctx.cancel.check()
        ctx.throttle_bytes(len(chunk))
        progress.add(len(chunk))
        yield chunk


def _metadata(ctx: CopyContext, entry: Entry, blake3: str | None) -> dict[str, str]:
    metadata: dict[str, str] = {}
    if blake3:
        metadata[BLAKE3_KEY] = blake3
    if ctx.preserve_mtime and entry.mtime is not None:
        metadata[MTIME_KEY] = repr(entry.mtime)
    return metadata


def _mismatch(item: CopyItem, detail: str) -> errors.ChecksumMismatchError:
    return errors.ChecksumMismatchError(detail, path=item.destination_label)


def _readback(ctx: CopyContext, item: CopyItem, expected: str) -> Verification:
    """Read a cloud destination back and compare; a mismatch removes the bad copy."""
    actual = hash_stream(_checked(item.dst.read(item.dst_key), ctx))
    if actual != expected:
        item.dst.delete(item.dst_key)
        raise _mismatch(item, f"read-back blake3 {actual[:16]}… differs from the source's {expected[:16]}…")
    return "verified"


def _checked(chunks: Iterable[bytes], ctx: CopyContext) -> Iterator[bytes]:
    for chunk in chunks:
        ctx.cancel.check()
        yield chunk


def _cloud_verdict(ctx: CopyContext, item: CopyItem, blake3: str | None, provider_checked: bool) -> Verification:
    if ctx.verify == "readback" and blake3:
        return _readback(ctx, item, blake3)
    if ctx.verify == "off":
        return "unverified"
    return "provider-checked" if provider_checked else "unverified"


class LocalCopyStrategy(CopyStrategy):
    """local → local: stream into a temporary file, fsync, compare blake3 of both, rename."""

    name = "local copy"

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        dst = cast(LocalBackend, item.dst)
        entry = item.entry or item.src.stat(item.src_key)
        running = RunningHash()
        target = dst.open_atomic(item.dst_key)
        try:
            offset = 0
            for chunk in running.through(_metered(item.src.read(item.src_key), ctx, progress)):
                target.pwrite(chunk, offset)
                offset += len(chunk)
            target.sync()
            source_hash = running.hexdigest()
            verified: Verification = "unverified"
            if ctx.verify != "off":
                if hash_file(target.temp) != source_hash:
                    raise _mismatch(item, "the copy on disk differs from the bytes read")
                verified = "verified"
            target.commit(mtime=entry.mtime if ctx.preserve_mtime else None)
        except BaseException:
            target.discard()
            raise
        return FileOutcome(running.size, source_hash, verified)


class CloudCopyStrategy(CopyStrategy, ABC):
    """Base of the strategies where at least one side is an object store."""


class UploadStrategy(CloudCopyStrategy):
    """local → cloud: hash the file, then stream it up (multipart for large files) with the blake3 in the
    object's metadata; the bytes sent are hashed again and the upload is aborted if the file changed."""

    name = "streaming upload"

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        src = cast(LocalBackend, item.src)
        entry = item.entry or src.stat(item.src_key)
        large = entry.size > ctx.settings.multipart_threshold
        if large and ctx.resume_tokens is not None and supports_resumable_upload(item.dst):
            expected = hash_file(src.path(item.src_key))
            written = upload_resumable(ctx, item, src.path(item.src_key), _metadata(ctx, entry, expected), progress)
            verdict = _cloud_verdict(ctx, item, expected, written.provider_checked)
            return FileOutcome(written.size, expected, verdict, bytes_resumed=progress.resumed)
        if not large:
            data = b"".join(_checked(src.read(item.src_key), ctx))
            expected = hash_bytes(data)
            chunks: Iterable[bytes] = _metered([data], ctx, progress)
        else:
            expected = hash_file(src.path(item.src_key))
            chunks = _metered(src.read(item.src_key), ctx, progress)
        running = RunningHash()

        def before_commit() -> None:
            if running.hexdigest() != expected or running.size != entry.size:
                raise errors.ChecksumMismatchError(
                    "the file changed while it was being uploaded; nothing was written",
                    path=item.source_label,
                )

        result = item.dst.write(
            item.dst_key,
            running.through(chunks),
            size=entry.size,
            metadata=_metadata(ctx, entry, expected),
            before_commit=before_commit,
        )
        return FileOutcome(result.size, expected, _cloud_verdict(ctx, item, expected, result.provider_checked))


class DownloadStrategy(CloudCopyStrategy):
    """cloud → local: parallel ranged GETs (or one stream) into a temporary file beside the target,
    fsync, blake3 of the file against the object's stored blake3, atomic rename."""

    name = "streaming download"

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        dst = cast(LocalBackend, item.dst)
        return download_into(ctx, item, dst, progress)


class ServerSideCopyStrategy(CloudCopyStrategy):
    """cloud → cloud on one volume: the service copies; the bytes never leave it."""

    name = "server-side copy"

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        entry = item.src.stat(item.src_key)
        ctx.cancel.check()
        item.src.copy(item.src_key, item.dst_key)
        copied = item.dst.stat(item.dst_key)
        if copied.size != entry.size:
            item.dst.delete(item.dst_key)
            raise _mismatch(item, f"the service copied {copied.size} bytes of {entry.size}")
        progress.add(entry.size)
        blake3 = entry.blake3
        if ctx.verify == "readback":
            blake3 = blake3 or hash_stream(_checked(item.src.read(item.src_key), ctx))
            return FileOutcome(entry.size, blake3, _readback(ctx, item, blake3))
        return FileOutcome(entry.size, blake3, "unverified" if ctx.verify == "off" else "provider-checked")


class StreamingCopyStrategy(CloudCopyStrategy):
    """cloud → cloud across volumes (or over the single-copy limit): bytes stream from one service to the
    other through memory, never through local disk, with a bounded number of parts in flight."""

    name = "cross-volume streaming"

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        entry = item.src.stat(item.src_key)
        expected = entry.blake3
        source = item.src.read(item.src_key, if_match=entry.etag)
        if entry.size <= ctx.settings.multipart_threshold:
            data = b"".join(_checked(source, ctx))
            actual = hash_bytes(data)
            if expected and actual != expected:
                raise _mismatch(item, "the source's bytes differ from its stored blake3")
            expected = actual
            source = iter([data])
        running = RunningHash()

        def before_commit() -> None:
            if running.size != entry.size or (expected and running.hexdigest() != expected):
                raise _mismatch(item, "the bytes read from the source differ from its stored blake3 or size")

        result = item.dst.write(
            item.dst_key,
            running.through(_metered(source, ctx, progress)),
            size=entry.size,
            metadata=_metadata(ctx, entry, expected),
            before_commit=before_commit,
        )
        blake3 = expected or running.hexdigest()
        return FileOutcome(result.size, blake3, _cloud_verdict(ctx, item, blake3, result.provider_checked))


def is_local(backend: VolumeBackend) -> bool:
    return backend.capabilities.is_local
