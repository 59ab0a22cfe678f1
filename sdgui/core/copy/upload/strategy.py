"""local → cloud: the UploadStrategy (one PUT, obstore's multipart, or a resumable multipart upload)."""

from __future__ import annotations

from collections.abc import Iterable

from sdgui.core import errors
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
        src = item.src
        path = local_source(item)
        entry = item.entry or src.stat(item.src_key)
        large = entry.size > ctx.settings.multipart_threshold
        if large and ctx.resume_tokens is not None and supports_resumable_upload(item.dst):
            expected = hash_file(path)
            metadata = self.metadata(ctx, entry, expected)
            written, note = upload_resumable(ctx, item, path, metadata, progress)
            verdict = self.verdict(ctx, item, expected, written.provider_checked)
            return FileOutcome(written.size, expected, verdict, bytes_resumed=progress.resumed, note=note)
        if not large:
            data = b"".join(checked(src.read(item.src_key), ctx))
            expected = hash_bytes(data)
            chunks: Iterable[bytes] = metered([data], ctx, progress)
        else:
            expected = hash_file(path)
            chunks = metered(src.read(item.src_key), ctx, progress)
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
            metadata=self.metadata(ctx, entry, expected),
            before_commit=before_commit,
        )
        return FileOutcome(result.size, expected, self.verdict(ctx, item, expected, result.provider_checked))
