"""local → local: stream into a temporary file, fsync, compare blake3 of both, rename."""

from __future__ import annotations

from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.events import Direction, Verification
from sdgui.core.copy.strategy import CopyStrategy, local_target, metered, mismatch
from sdgui.core.copy.verify import RunningHash, hash_file


class LocalCopyStrategy(CopyStrategy):
    """local → local: stream into a temporary file, fsync, compare blake3 of both, rename."""

    name = "local copy"
    direction = Direction.LOCAL

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        entry = item.entry or item.src.stat(item.src_key)
        running = RunningHash()
        target = local_target(item)
        try:
            offset = 0
            for chunk in running.through(metered(item.src.read(item.src_key), ctx, progress)):
                target.pwrite(chunk, offset)
                offset += len(chunk)
            target.sync()
            source_hash = running.hexdigest()
            verified: Verification = "unverified"
            if ctx.verify != "off":
                with ctx.verifying(item):
                    copied_hash = hash_file(target.temp)
                if copied_hash != source_hash:
                    raise mismatch(item, "the copy on disk differs from the bytes read")
                verified = "verified"
            target.commit(mtime=entry.mtime if ctx.preserve_mtime else None)
        except BaseException:
            target.discard()
            raise
        return FileOutcome(running.size, source_hash, verified)
