"""cloud → another cloud volume (or over the single-copy limit): bytes stream from one service to the other.

The source is proved as a download's is (``source_proof``): by its sdgui blake3, else the strongest checksum its
service keeps, else its multipart ETag. The bytes are hashed on their way through, and a mismatch aborts the write
before it becomes visible. The destination's service checks what it was sent (``provider-checked``); a source that
offers no check leaves the copy ``unverified``, and the event says why.
"""

from __future__ import annotations

from sdgui.core.backends.base import WriteResult
from sdgui.core.copy.checks import RunningChecks
from sdgui.core.copy.checks_beside import ChecksBeside
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.events import Direction
from sdgui.core.copy.source_proof import (
    ETAG_NOT_PARTS,
    EtagNotMatchedError,
    Proof,
    checks_for,
    compare,
    proved_again,
    read_small_proved,
    source_check,
    with_service_checks,
)
from sdgui.core.copy.strategy import CloudCopyStrategy, metered, mismatch

SOURCE_UNPROVED = "the source object carries no checksum, so nothing proves the bytes read from it"


class StreamingCopyStrategy(CloudCopyStrategy):
    """cloud → cloud across volumes (or over the single-copy limit): bytes stream from one service to the
    other through memory, never through local disk, with a bounded number of parts in flight."""

    name = "cross-volume streaming"
    direction = Direction.CROSS_VOLUME

    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        if item.size <= ctx.settings.multipart_threshold:
            entry, data, proof, note = read_small_proved(ctx, item)
            result = item.dst.write(
                item.dst_key,
                metered([data], ctx, progress),
                size=len(data),
                metadata=self.metadata(ctx, entry, proof.blake3),
            )
            return self._outcome(ctx, item, result, proof, note)
        seen: list[str] = []  # blake3s of reads that did not match the object's multipart ETag
        while True:
            try:
                return self._stream(ctx, item, progress, seen)
            except EtagNotMatchedError as not_matched:
                proved_again(ctx, item, not_matched, seen)  # the same bytes twice are committed by _stream

    def _stream(self, ctx: CopyContext, item: CopyItem, progress: FileProgress, seen: list[str]) -> FileOutcome:
        """One read of the source into the destination, proved before the destination commits it."""
        # A single file was stat'ed by validation a moment ago; another read (the object may have changed) asks again.
        entry, item.stat = item.stat or item.src.stat(item.src_key), None
        expected = source_check(ctx, item, entry)
        if expected is None and ctx.verify != "off":  # a multipart object: its service may keep more than a stat says
            entry = with_service_checks(entry, item.src.stat_with_checksums(item.src_key))
            expected = source_check(ctx, item, entry)
        part_sizes = expected.part_sizes if expected else ()
        running = ChecksBeside(RunningChecks(checks_for(expected), entry.size, part_sizes, all_cores=False))
        proved: list[tuple[Proof, str]] = []

        def before_commit() -> None:
            if running.size != entry.size:
                raise mismatch(item, f"the source sent {running.size} bytes of the {entry.size} it holds")
            try:
                proved.append((compare(item, expected, running.results()), ""))
            except EtagNotMatchedError as not_matched:
                again = proved_again(ctx, item, not_matched, seen) if not_matched.blake3 in seen else None
                if again is None:
                    raise
                proved.append((again, ETAG_NOT_PARTS))

        result = item.dst.write(
            item.dst_key,
            running.through(metered(item.src.read(item.src_key, if_match=entry.etag), ctx, progress)),
            size=entry.size,
            metadata=self.metadata(ctx, entry, entry.blake3),
            before_commit=before_commit,
        )
        return self._outcome(ctx, item, result, *proved[0])

    def _outcome(self, ctx: CopyContext, item: CopyItem, result: WriteResult, proof: Proof, note: str) -> FileOutcome:
        """The copy's verdict: what the destination's service checked, for bytes proved to be the source's."""
        verdict = self.verdict(ctx, item, proof.blake3, result.provider_checked)
        if proof.verified != "verified":
            verdict = "unverified"
            note = note or (SOURCE_UNPROVED if ctx.verify != "off" else "")
        return FileOutcome(result.size, proof.blake3, verdict, note=note)
