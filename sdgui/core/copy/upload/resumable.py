"""Multipart uploads that survive a crash: the upload id and the parts done are kept in a resume token, and a
later run lists the parts the server holds, proves each against the local bytes and sends only the rest.

Rules: a cancel or a changed file aborts the upload (no orphan is left); any other failure, or a crash, leaves
it open for the next run, whose token names it. Uploads never resumed are found by ``sdgui volume cleanup``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from blake3 import blake3

from sdgui.core import errors
from sdgui.core.backends.base import (
    BLAKE3_KEY,
    MAX_PARTS,
    MIN_PART_SIZE,
    PartChecksum,
    ResumableUploads,
    UploadedPart,
    VolumeBackend,
    WriteResult,
    choose_part_size,
    part_checksum_b64,
)
from sdgui.core.copy.context import CopyContext, CopyItem, FileProgress, resume_id

log = logging.getLogger(__name__)

TOKEN_VERSION = 1
REFUSED_PART_CODES = frozenset({"InvalidPart", "InvalidPartOrder", "NoSuchUpload", "InvalidBlockList"})
"""What a service answers CompleteMultipartUpload when it will not assemble the parts an earlier run left."""
RESTARTED = "the service refused the interrupted upload's parts ({code}); uploaded again from the start"


@dataclass
class ResumeToken:
    """What a later run needs to resume one upload; ``to_json`` is what a journal stores."""

    key: str
    upload_id: str
    checksum: PartChecksum
    part_size: int
    size: int
    metadata: dict[str, str]
    parts: dict[int, str] = field(default_factory=dict)
    """Part number → ETag of the parts confirmed so far (informative: the server's list is what counts)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "version": TOKEN_VERSION,
            "key": self.key,
            "upload_id": self.upload_id,
            "checksum": self.checksum,
            "part_size": self.part_size,
            "size": self.size,
            "metadata": dict(self.metadata),
            "parts": {str(number): etag for number, etag in sorted(self.parts.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResumeToken | None:
        """The token ``data`` describes, or None when it is from another version or malformed."""
        try:
            if data.get("version") != TOKEN_VERSION or data["checksum"] not in get_args(PartChecksum):
                return None
            return cls(
                key=str(data["key"]),
                upload_id=str(data["upload_id"]),
                checksum=data["checksum"],
                part_size=int(data["part_size"]),
                size=int(data["size"]),
                metadata={str(k): str(v) for k, v in dict(data["metadata"]).items()},
                parts={int(n): str(etag) for n, etag in dict(data.get("parts", {})).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def fits(self, key: str, size: int, metadata: Mapping[str, str]) -> bool:
        """Whether this token's upload can carry on for this file (same key, size, blake3 and mtime)."""
        return (
            self.key == key
            and self.size == size
            and self.metadata == dict(metadata)
            and self.part_size >= MIN_PART_SIZE
            and part_count(size, self.part_size) <= MAX_PARTS
        )


def part_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def _noop(*_: Any) -> None:
    return None


def resumable_upload(
    client: ResumableUploads,
    key: str,
    path: Path | str,
    *,
    part_size: int,
    concurrency: int,
    metadata: Mapping[str, str],
    resume_token: Mapping[str, Any] | None = None,
    on_part_done: Callable[[dict[str, Any]], None] = _noop,
    cancel_check: Callable[[], None] = _noop,
    progress: Callable[[int], None] = _noop,
    resumed: Callable[[int], None] = _noop,
    forget_resumed: Callable[[], None] = _noop,
    on_restart: Callable[[str], None] = _noop,
) -> str:
    """Upload the file at ``path`` to ``key`` as a multipart upload, resuming the one ``resume_token`` names.

    Parts the server already holds are reused only if their size and their checksum (or MD5 ETag) match the local
    bytes; if one does not, the upload starts over (servers like rclone cannot replace a part). ``on_part_done``
    gets the updated token (JSON-able) once the upload exists and after each part. The bytes read are blake3-hashed
    in order and must match ``metadata["sdgui-blake3"]`` before the upload completes. Returns the object's ETag.
    ``progress`` counts the bytes sent; ``resumed`` the bytes of parts reused from the interrupted run (and
    ``forget_resumed`` takes those back when the upload has to start over).
    """
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        token, held = _resume_or_start(client, key, size, part_size, metadata, resume_token)
        on_part_done(token.to_json())
        try:
            try:
                parts = _send_parts(
                    client, token, file, held, concurrency, on_part_done, cancel_check, progress, resumed
                )
            except _UnprovenPart as unproven:
                log.info("part %d of upload %s cannot be proved; starting over", unproven.number, token.upload_id)
                _abort_quietly(client, token)
                token = _start(client, key, size, part_size, metadata)
                on_part_done(token.to_json())
                file.seek(0)
                forget_resumed()
                parts = _send_parts(client, token, file, {}, concurrency, on_part_done, cancel_check, progress, _noop)
        except (errors.CancelledError, errors.ChecksumMismatchError):
            _abort_quietly(client, token)
            raise
        try:
            return client.complete(key, token.upload_id, parts, token.metadata)
        except errors.SdError as exc:
            if not held or exc.service_code not in REFUSED_PART_CODES:
                raise
            # The parts looked whole when listed, yet the service will not assemble them (rclone serve s3 keeps a
            # part cut off mid-upload and refuses it at completion): the file starts again, and says so.
            log.info("upload %s of %s was refused at completion (%s); starting over", token.upload_id, key, exc)
            _abort_quietly(client, token)
            token = _start(client, key, size, part_size, metadata)
            on_part_done(token.to_json())
            file.seek(0)
            forget_resumed()
            on_restart(RESTARTED.format(code=exc.service_code))
            try:
                parts = _send_parts(client, token, file, {}, concurrency, on_part_done, cancel_check, progress, _noop)
            except (errors.CancelledError, errors.ChecksumMismatchError):
                _abort_quietly(client, token)
                raise
            return client.complete(key, token.upload_id, parts, token.metadata)


class _UnprovenPart(Exception):
    """A part the server holds does not match the local bytes (or cannot be proved to)."""

    def __init__(self, number: int) -> None:
        super().__init__(f"part {number}")
        self.number = number


def _start(client: ResumableUploads, key: str, size: int, part_size: int, metadata: Mapping[str, str]) -> ResumeToken:
    started = client.start(key, metadata)
    return ResumeToken(
        key, started.upload_id, started.checksum, choose_part_size(size, part_size), size, dict(metadata)
    )


def _resume_or_start(
    client: ResumableUploads,
    key: str,
    size: int,
    part_size: int,
    metadata: Mapping[str, str],
    resume_token: Mapping[str, Any] | None,
) -> tuple[ResumeToken, dict[int, UploadedPart]]:
    """The token to go on with, and the parts the server already holds for it."""
    token = ResumeToken.from_json(resume_token) if resume_token else None
    if token is not None and token.fits(key, size, metadata):
        try:
            held = client.list_parts(key, token.upload_id)
        except errors.NotFoundError:
            log.info("upload %s of %s is gone (completed or aborted); starting again", token.upload_id, key)
        else:
            log.info("resuming upload of %s: the server holds %d part(s)", key, len(held))
            return token, held
    elif token is not None:
        # The file, its key or its part size changed: the old parts cannot be used; do not leave them behind.
        log.info("the file %s changed since its upload began; aborting upload %s", key, token.upload_id)
        _abort_quietly(client, token)
    return _start(client, key, size, part_size, metadata), {}


def _send_parts(
    client: ResumableUploads,
    token: ResumeToken,
    file: Any,
    held: dict[int, UploadedPart],
    concurrency: int,
    on_part_done: Callable[[dict[str, Any]], None],
    cancel_check: Callable[[], None],
    progress: Callable[[int], None],
    resumed: Callable[[int], None],
) -> list[UploadedPart]:
    """Read the file in order (hashing it); prove each held part, send the others with at most ``concurrency``
    in flight. Raises _UnprovenPart when a held part does not match the file."""
    count = part_count(token.size, token.part_size)
    hasher = blake3()
    done: dict[int, UploadedPart] = {}
    failure: BaseException | None = None
    pending: set[Future[UploadedPart]] = set()

    def record(part: UploadedPart, *, reused: bool = False) -> None:
        done[part.number] = part
        (resumed if reused else progress)(part.size)
        if token.parts.get(part.number) != part.etag:
            token.parts[part.number] = part.etag
            on_part_done(token.to_json())

    def collect(block: bool) -> None:
        nonlocal pending, failure
        if not pending:
            return
        finished, pending = wait(pending, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        for future in finished:
            try:
                record(future.result())
            except BaseException as exc:
                failure = failure or exc

    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="sdgui-part") as pool:
        try:
            for number in range(1, count + 1):
                cancel_check()
                while len(pending) >= max(1, concurrency) and failure is None:
                    collect(block=True)
                if failure is not None:
                    break
                expected = min(token.part_size, token.size - (number - 1) * token.part_size)
                data = file.read(token.part_size)
                if len(data) != expected:
                    raise _file_changed(token)
                hasher.update(data)
                listed = held.get(number)
                if listed is None:
                    upload = client.upload_part
                    # The cancel reaches into the part's request: a cancelled part stops mid-send, not at its end.
                    part = pool.submit(
                        upload,
                        token.key,
                        token.upload_id,
                        number,
                        data,
                        checksum=token.checksum,
                        cancel_check=cancel_check,
                    )
                    pending.add(part)
                elif listed.matches(data):
                    if listed.algorithm != token.checksum or listed.checksum is None:
                        # completion names each part's checksum in the upload's algorithm; the listing may not
                        listed = UploadedPart(
                            number, listed.etag, listed.size, part_checksum_b64(token.checksum, data), token.checksum
                        )
                    record(listed, reused=True)
                else:
                    raise _UnprovenPart(number)
                collect(block=False)
            if failure is None and file.read(1):
                raise _file_changed(token)
        finally:
            # Parts in flight finish before anything else happens (an abort must not race them).
            while pending:
                collect(block=True)
    if failure is not None:
        raise failure
    cancel_check()
    wanted = token.metadata.get(BLAKE3_KEY)
    if wanted is not None and hasher.hexdigest() != wanted:
        raise _file_changed(token)
    return [done[number] for number in range(1, count + 1)]


def _file_changed(token: ResumeToken) -> errors.ChecksumMismatchError:
    return errors.ChecksumMismatchError(
        "the file changed while it was being uploaded; nothing was written", path=token.key
    )


def _abort_quietly(client: ResumableUploads, token: ResumeToken) -> None:
    try:
        client.abort(token.key, token.upload_id)
    except errors.SdError as exc:
        log.warning("could not abort upload %s of %s: %s", token.upload_id, token.key, exc)


# -- the upload strategy's way in --------------------------------------------------------------------------------


def supports_resumable_upload(backend: VolumeBackend) -> bool:
    """True for backends whose uploads can resume across sessions (s3, r2 and azure volumes)."""
    return backend.resumable_uploads() is not None


def upload_resumable(
    ctx: CopyContext, item: CopyItem, path: Path, metadata: Mapping[str, str], progress: FileProgress
) -> tuple[WriteResult, str]:
    """UploadStrategy's path for large files when ``ctx.resume_tokens`` is set, with a note when the upload had to
    start again. The token lives in that store
    under ``resume_id(item)`` while the upload is open, and is cleared once it is completed or aborted."""
    tokens = ctx.resume_tokens
    client = item.dst.resumable_uploads()
    if tokens is None or client is None:
        raise errors.ConfigError("no resumable upload here", volume=item.dst.volume, path=item.dst_key)
    file_id = resume_id(item)
    size = path.stat().st_size
    notes: list[str] = []
    try:
        etag = resumable_upload(
            client,
            item.dst_key,
            path,
            part_size=ctx.settings.upload_chunk_size,
            concurrency=ctx.settings.upload_concurrency,
            metadata=metadata,
            resume_token=tokens.get(file_id),
            on_part_done=lambda token: tokens.put(file_id, token),
            cancel_check=ctx.cancel.check,
            progress=progress.add,
            resumed=progress.add_resumed,
            forget_resumed=progress.forget_resumed,
            on_restart=notes.append,
        )
    except errors.SdError as exc:
        if isinstance(exc, errors.CancelledError | errors.ChecksumMismatchError):
            tokens.clear(file_id)  # the upload was aborted: nothing is left to resume
        raise exc.at(volume=item.dst.volume, path=item.dst_key) from None
    with contextlib.suppress(errors.SdError):
        tokens.clear(file_id)
    # Each part was checked by the service against its SHA-256, or its Content-MD5 where SHA-256 is not supported.
    return WriteResult(size, etag, provider_checked=True), "; ".join(notes)
