"""What proves the bytes read from a cloud source: the strongest check the object offers, compared with what
arrived; a multipart ETag that does not match gets a second chance, since a service may make it otherwise.

Downloads and cross-volume copies both read through here, so a copy between two clouds proves its source as a
download does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sdgui.core import errors
from sdgui.core.backends.base import Entry
from sdgui.core.copy.checks import BLAKE3, Expected, expected_of, hash_all
from sdgui.core.copy.context import CopyContext, CopyItem
from sdgui.core.copy.events import Verification

log = logging.getLogger(__name__)

ETAG_NOT_PARTS = (
    "the service's multipart ETag is not the MD5 of the parts' MD5s here: the object came twice, byte for byte the "
    "same, without matching it, so nothing proves it"
)
ETAG_ATTEMPTS = 3
"""Reads of one object whose multipart ETag does not match, until two of them bring the same bytes."""


class EtagNotMatchedError(errors.ChecksumMismatchError):
    """The bytes do not match the object's multipart ETag, which a service may make otherwise than S3's MD5 of the
    parts' MD5s: damage, or a service of its own. Reading again tells which (``blake3``: of these bytes)."""

    def __init__(self, message: str, *, path: str, blake3: str) -> None:
        super().__init__(message, path=path)
        self.blake3 = blake3


@dataclass(frozen=True)
class Proof:
    """What the bytes read were shown to be: their blake3, and which check (if any) proved them."""

    blake3: str
    verified: Verification
    check: str | None


def source_check(ctx: CopyContext, item: CopyItem, entry: Entry) -> Expected | None:
    """The check ``entry`` offers, unless verification is off or it is a multipart ETag of a volume whose ETags
    turned out to be no MD5 of the parts' MD5s."""
    expected = expected_of(entry) if ctx.verify != "off" else None
    if expected is not None and expected.from_etag and not ctx.etag_parts.get(item.src.volume, True):
        return None
    return expected


def checks_for(expected: Expected | None) -> list[str]:
    """The algorithms to run over the bytes: blake3 always, and the check that proves them."""
    return [BLAKE3] if expected is None or expected.check == BLAKE3 else [BLAKE3, expected.check]


def with_service_checks(entry: Entry, fresh: Entry) -> Entry:
    """The object's entry with the checksums the service told, when they describe the bytes read (every GET was
    conditional on ``entry``'s ETag; an object replaced since keeps the first entry, which proves nothing)."""
    return fresh if fresh.etag == entry.etag and fresh.size == entry.size else entry


def compare(item: CopyItem, expected: Expected | None, got: dict[str, str]) -> Proof:
    """The proof of bytes whose hashes are ``got``; ChecksumMismatchError (EtagNotMatchedError for a multipart
    ETag) when they differ from ``expected``."""
    if expected is None:
        return Proof(got[BLAKE3], "unverified", None)
    if got[expected.check] != expected.value:
        shown, stored = got[expected.check][:16], expected.value[:16]
        message = f"{expected.check} of the bytes read {shown}… differs from the stored {stored}…"
        if expected.from_etag:
            raise EtagNotMatchedError(message, path=item.source_label, blake3=got[BLAKE3])
        raise errors.ChecksumMismatchError(message, path=item.source_label)
    return Proof(got[BLAKE3], "verified", expected.check)


def verify_download(
    ctx: CopyContext,
    item: CopyItem,
    entry: Entry,
    compute: Callable[[list[str], tuple[int, ...]], dict[str, str]],
    *,
    ask_again: bool = False,
) -> Proof:
    """Hash the bytes read (``compute`` takes the algorithms, and a composite check's part sizes) with blake3 and
    the strongest check the object offers, and compare. A mismatch raises ChecksumMismatchError. With
    ``ask_again`` (the bytes came from one GET, whose answer carries less than a HEAD) an object with no check, or a
    mismatch on a provider's checksum, asks the source for the object's checksums (its stat is authoritative)."""
    expected = source_check(ctx, item, entry)
    if expected is None and ask_again and ctx.verify != "off":
        # One GET's answer carries no checksum a HEAD may still give (a multipart object's composite, say).
        expected = source_check(ctx, item, item.src.stat_with_checksums(item.src_key))
    got = compute(checks_for(expected), expected.part_sizes if expected is not None else ())
    if expected is not None and got[expected.check] != expected.value and ask_again and expected.check != BLAKE3:
        fresh = source_check(ctx, item, item.src.stat_with_checksums(item.src_key))
        if fresh is None:  # what looked like a checksum was not one (an SSE-KMS ETag, say)
            return Proof(got[BLAKE3], "unverified", None)
        if fresh.check not in got:
            got.update(compute([fresh.check], fresh.part_sizes))
        expected = fresh
    return compare(item, expected, got)


def proved_again(ctx: CopyContext, item: CopyItem, mismatch: EtagNotMatchedError, seen: list[str]) -> Proof | None:
    """After bytes that do not match a multipart ETag: None to read them again; once the same bytes came twice, an
    unverified Proof (the service makes its ETags otherwise: its volume's are not asked again). Bytes that differ
    each time, ETAG_ATTEMPTS times, raise the mismatch."""
    if mismatch.blake3 in seen:
        ctx.etag_parts[item.src.volume] = False
        log.info("%s: %s", item.src.volume, ETAG_NOT_PARTS)
        return Proof(mismatch.blake3, "unverified", None)
    seen.append(mismatch.blake3)
    if len(seen) >= ETAG_ATTEMPTS:
        raise mismatch
    log.info("%s: %s; reading it again", item.source_label, mismatch)
    return None


def read_small_proved(ctx: CopyContext, item: CopyItem) -> tuple[Entry, bytes, Proof, str]:
    """A small object in one GET (body and metadata together, no HEAD first), hashed in memory and proved against
    its check: its entry, its bytes, the proof and a note for the user (why it stayed unverified)."""
    seen: list[str] = []  # blake3s of answers that did not match the object's multipart ETag
    while True:
        ctx.cancel.check()
        entry, data = item.src.read_whole(item.src_key)
        ctx.throttle_bytes(len(data))

        def hashes(names: list[str], part_sizes: tuple[int, ...], data: bytes = data) -> dict[str, str]:
            return hash_all([data], names, len(data), part_sizes)

        try:
            # The one GET's answer may carry less than a HEAD would (an ETag that is no MD5): a mismatch asks again.
            return entry, data, verify_download(ctx, item, entry, hashes, ask_again=True), ""
        except EtagNotMatchedError as mismatch:
            again = proved_again(ctx, item, mismatch, seen)
            if again is not None:
                return entry, data, again, ETAG_NOT_PARTS
