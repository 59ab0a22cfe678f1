"""local → cloud: the UploadStrategy (one PUT, obstore's multipart, or a resumable multipart upload)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sdgui.core import errors
from sdgui.core.backends.base import Entry
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.events import Direction
from sdgui.core.copy.strategy import CloudCopyStrategy, checked, local_source, metered
from sdgui.core.copy.upload.resumable import supports_resumable_upload, upload_resumable
from sdgui.core.copy.verify import RunningHash, hash_bytes, hash_file


class UploadStrategy(CloudCopyStrategy):
    """local → cloud: hash the file, then stream it up (multipart for large files) with the blake3 in the
    object's metadata; the bytes sent are hashed again and the upload is aborted if the file changed."""

    name = "streaming upload"
    direction = Direction.UPLOAD

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        entry = item.entry or item.src.stat(item.src_key)
        if entry.size > ctx.settings.multipart_threshold:
            return self._large(ctx, item, progress, entry)
        # Read whole: the bytes hashed are the bytes sent, so one hash proves both (a file that changed after the
        # read is uploaded as it was read, with that content's blake3; one that changed size since the listing
        # fails as below).
        data = b"".join(checked(item.src.read(item.src_key), ctx))
        expected = hash_bytes(data)

        def before_commit() -> None:
            if len(data) != entry.size:
                raise _changed(item)

        return self._write(ctx, item, entry, expected, metered([data], ctx, progress), before_commit)

    def _large(self, ctx: CopyContext, item: CopyItem, progress: FileProgress, entry: Entry) -> FileOutcome:
        path = local_source(item)
        expected = hash_file(path)
        if ctx.resume_tokens is not None and supports_resumable_upload(item.dst):
            metadata = self.metadata(ctx, entry, expected)
            written, note = upload_resumable(ctx, item, path, metadata, progress)
            verdict = self.verdict(ctx, item, expected, written.provider_checked)
            return FileOutcome(written.size, expected, verdict, bytes_resumed=progress.resumed, note=note)
        running = RunningHash()

        def before_commit() -> None:
            if running.hexdigest() != expected or running.size != entry.size:
                raise _changed(item)

        chunks = running.through(metered(item.src.read(item.src_key), ctx, progress))
        return self._write(ctx, item, entry, expected, chunks, before_commit)

    def _write(
        self,
        ctx: CopyContext,
        item: CopyItem,
        entry: Entry,
        expected: str,
        chunks: Iterable[bytes],
        before_commit: Callable[[], None],
    ) -> FileOutcome:
        result = item.dst.write(
            item.dst_key,
            chunks,
            size=entry.size,
            metadata=self.metadata(ctx, entry, expected),
            before_commit=before_commit,
        )
        return FileOutcome(result.size, expected, self.verdict(ctx, item, expected, result.provider_checked))


def _changed(item: CopyItem) -> errors.ChecksumMismatchError:
    return errors.ChecksumMismatchError(
        "the file changed while it was being uploaded; nothing was written", path=item.source_label
    )
