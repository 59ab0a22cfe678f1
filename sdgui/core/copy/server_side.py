"""cloud → same cloud volume: the service copies; the bytes never leave it."""

from __future__ import annotations

from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.events import Direction
from sdgui.core.copy.strategy import CloudCopyStrategy, checked, mismatch
from sdgui.core.copy.verify import hash_stream


class ServerSideCopyStrategy(CloudCopyStrategy):
    """cloud → cloud on one volume: the service copies; the bytes never leave it."""

    name = "server-side copy"
    direction = Direction.SERVER_SIDE

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        # A single file was stat'ed by validation a moment ago; a retry (the object may have changed) asks again.
        entry, item.stat = item.stat or item.src.stat(item.src_key), None
        ctx.cancel.check()
        item.src.copy(item.src_key, item.dst_key)
        if not item.src.capabilities.server_side_copy_whole:
            copied = item.dst.stat(item.dst_key)
            if copied.size != entry.size:
                item.dst.delete(item.dst_key)
                raise mismatch(item, f"the service copied {copied.size} bytes of {entry.size}")
        progress.add(entry.size)
        blake3 = entry.blake3
        if ctx.verify == "readback":
            blake3 = blake3 or hash_stream(checked(item.src.read(item.src_key), ctx))
            return FileOutcome(entry.size, blake3, self.readback(ctx, item, blake3))
        return FileOutcome(entry.size, blake3, "unverified" if ctx.verify == "off" else "provider-checked")
