"""cloud → another cloud volume (or over the single-copy limit): bytes stream from one service to the other."""

from __future__ import annotations

from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.events import Direction
from sdgui.core.copy.strategy import CloudCopyStrategy, checked, metered, mismatch
from sdgui.core.copy.verify import RunningHash, hash_bytes


class StreamingCopyStrategy(CloudCopyStrategy):
    """cloud → cloud across volumes (or over the single-copy limit): bytes stream from one service to the
    other through memory, never through local disk, with a bounded number of parts in flight."""

    name = "cross-volume streaming"
    direction = Direction.CROSS_VOLUME

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        entry = item.src.stat(item.src_key)
        expected = entry.blake3
        source = item.src.read(item.src_key, if_match=entry.etag)
        if entry.size <= ctx.settings.multipart_threshold:
            data = b"".join(checked(source, ctx))
            actual = hash_bytes(data)
            if expected and actual != expected:
                raise mismatch(item, "the source's bytes differ from its stored blake3")
            expected = actual
            source = iter([data])
        running = RunningHash()

        def before_commit() -> None:
            if running.size != entry.size or (expected and running.hexdigest() != expected):
                raise mismatch(item, "the bytes read from the source differ from its stored blake3 or size")

        result = item.dst.write(
            item.dst_key,
            running.through(metered(source, ctx, progress)),
            size=entry.size,
            metadata=self.metadata(ctx, entry, expected),
            before_commit=before_commit,
        )
        blake3 = expected or running.hexdigest()
        return FileOutcome(result.size, blake3, self.verdict(ctx, item, blake3, result.provider_checked))
