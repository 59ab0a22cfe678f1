"""What every copy strategy is, and what the strategies with a cloud side share (metadata, verdicts, read-back)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

from sdgui.core import errors
from sdgui.core.backends.base import BLAKE3_KEY, MTIME_KEY, AtomicFile, Entry
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, FileProgress
from sdgui.core.copy.events import Direction, Verification
from sdgui.core.copy.verify import hash_stream


class CopyStrategy(ABC):
    """Copies one file from ``item.src`` to ``item.dst``; the destination ends whole or absent."""

    name: ClassVar[str]
    direction: ClassVar[Direction]

    @abstractmethod
    def copy_file(self, ctx: CopyContext, item: CopyItem, progress: FileProgress) -> FileOutcome:
        """Copy, verify as far as the volumes allow, and report what was proved."""


class CloudCopyStrategy(CopyStrategy, ABC):
    """Base of the strategies where at least one side is an object store: what they write into an object's
    metadata, and what they can claim about a copy they cannot read back for free."""

    @staticmethod
    def metadata(ctx: CopyContext, entry: Entry, blake3: str | None) -> dict[str, str]:
        """The object metadata that carries the source's blake3 and (rclone's convention) its mtime."""
        metadata: dict[str, str] = {}
        if blake3:
            metadata[BLAKE3_KEY] = blake3
        if ctx.preserve_mtime and entry.mtime is not None:
            metadata[MTIME_KEY] = repr(entry.mtime)
        return metadata

    @staticmethod
    def readback(ctx: CopyContext, item: CopyItem, expected: str) -> Verification:
        """Read a cloud destination back and compare; a mismatch removes the bad copy."""
        with ctx.verifying(item):
            actual = hash_stream(checked(item.dst.read(item.dst_key), ctx))
        if actual != expected:
            item.dst.delete(item.dst_key)
            raise mismatch(item, f"read-back blake3 {actual[:16]}… differs from the source's {expected[:16]}…")
        return "verified"

    @classmethod
    def verdict(cls, ctx: CopyContext, item: CopyItem, blake3: str | None, provider_checked: bool) -> Verification:
        """What a cloud destination's copy is proved to be, given what the service checked."""
        if ctx.verify == "readback" and blake3:
            return cls.readback(ctx, item, blake3)
        if ctx.verify == "off":
            return "unverified"
        return "provider-checked" if provider_checked else "unverified"


def metered(chunks: Iterable[bytes], ctx: CopyContext, progress: FileProgress) -> Iterator[bytes]:
    """Pass chunks through, checking the cancel token, paying the bandwidth limit and counting progress."""
    for chunk in chunks:
        ctx.cancel.check()
        ctx.throttle_bytes(len(chunk))
        progress.add(len(chunk))
        yield chunk


def checked(chunks: Iterable[bytes], ctx: CopyContext) -> Iterator[bytes]:
    """Pass chunks through, checking the cancel token between them."""
    for chunk in chunks:
        ctx.cancel.check()
        yield chunk


def mismatch(item: CopyItem, detail: str) -> errors.ChecksumMismatchError:
    return errors.ChecksumMismatchError(detail, path=item.destination_label)


def local_source(item: CopyItem) -> Path:
    """The file a local source names (the router sends only local sources to the strategies that ask)."""
    path = item.src.local_path(item.src_key)
    if path is None:
        raise errors.ConfigError("this copy reads from a local disk only", volume=item.src.volume, path=item.src_key)
    return path


def local_target(item: CopyItem, *, tag: str | None = None) -> AtomicFile:
    """The temporary file that becomes a local destination on commit (only local destinations are routed here)."""
    target = item.dst.open_atomic(item.dst_key, tag=tag)
    if target is None:
        raise errors.ConfigError("this copy writes to a local disk only", volume=item.dst.volume, path=item.dst_key)
    return target
