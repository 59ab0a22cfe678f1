"""The S3 control plane through botocore: upload ids, parts, open uploads and folder markers, which obstore lacks.

Bytes of ordinary reads and writes go through obstore; this client only starts, lists, fills, completes and aborts
multipart uploads, so an upload can resume across sessions and orphans can be found and aborted.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sdgui.core import errors
from sdgui.core.backends.base import RangeNotSupportedError
from sdgui.core.backends.botocore_errors import error_code, translated
from sdgui.core.backends.cancellable_body import body_for
from sdgui.core.backends.part_checksums import full_object_crc64nvme, part_checksum_b64
from sdgui.core.backends.resumable_uploads import NewUpload, OpenUpload, PartChecksum, UploadedPart
from sdgui.core.backends.s3.config import S3Config
from sdgui.core.backends.s3.properties import cannot_edit, replace_request
from sdgui.core.cancel import CancelToken

log = logging.getLogger(__name__)

_CHECKSUM_REFUSED = frozenset({"InvalidArgument", "InvalidRequest", "NotImplemented"})
_PART_CHECKSUMS: tuple[tuple[PartChecksum, str], ...] = (("crc64nvme", "CRC64NVME"), ("sha256", "SHA256"))
"""The part checksums asked for, best first, with botocore's name for each."""
_CHECKSUM_MEMBER: dict[PartChecksum, str] = {
    checksum: f"Checksum{algorithm}" for checksum, algorithm in _PART_CHECKSUMS
}
"""Each one's member in botocore's requests and answers (ChecksumCRC64NVME, ChecksumSHA256)."""
RANGE_CHUNK = 256 * 1024
"""What one read of a ranged answer takes: small enough that a cancel is seen within a fraction of a second."""


def _unquoted(etag: object) -> str:
    return str(etag or "").strip('"')


class S3MultipartClient:
    """The S3 control plane of one s3/r2 volume (bucket and prefix) over a botocore client built on first use:
    multipart uploads by id (``ResumableUploads``) and folder markers.

    Keys are relative to the volume root, as everywhere else; the volume's prefix is added here. Thread-safe.
    """

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.volume = config.volume
        self.bucket = config.bucket
        self.prefix = config.prefix
        self._lock = threading.Lock()
        self._client: Any = None
        self._refused: set[PartChecksum] = set()
        """Part checksums the server refused on CreateMultipartUpload: not asked for again."""

    # -- the botocore client ----------------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client

    def _build(self) -> Any:
        return self.config.botocore_client()

    def close(self) -> None:
        """Close the connection pool, if the client was ever built."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _translated(self, key: str | None) -> AbstractContextManager[None]:
        return translated(self.volume, key, stall_timeout_s=self.config.http.read_timeout_s)

    # -- keys -------------------------------------------------------------------------------------------------
    def _full(self, key: str) -> str:
        key = key.strip("/")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, full: str) -> str:
        if self.prefix and full.startswith(self.prefix + "/"):
            return full[len(self.prefix) + 1 :]
        return full

    # -- open uploads -----------------------------------------------------------------------------------------
    def list_uploads(self, prefix: str = "") -> list[OpenUpload]:
        """Every unfinished multipart upload under ``prefix`` (relative to the volume root), all pages."""
        full_prefix = self._full(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix}
        found: list[OpenUpload] = []
        with self._translated(prefix or None):
            while True:
                try:
                    page = self.client.list_multipart_uploads(**request)
                except Exception as exc:
                    # rclone serve s3 answers "none open" with 404 NoSuchUpload instead of an empty listing.
                    if error_code(exc) == "NoSuchUpload":
                        return found
                    raise
                for upload in page.get("Uploads", []):
                    found.append(OpenUpload(self._relative(upload["Key"]), upload["UploadId"], upload.get("Initiated")))
                markers = (page.get("NextKeyMarker", ""), page.get("NextUploadIdMarker", ""))
                if not page.get("IsTruncated") or markers == (request.get("KeyMarker"), request.get("UploadIdMarker")):
                    return found
                request["KeyMarker"], request["UploadIdMarker"] = markers

    def abort(self, key: str, upload_id: str) -> None:
        """Abort one upload and free its parts; one that is already gone is not an error."""
        with self._translated(key):
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._full(key), UploadId=upload_id)
            except Exception as exc:
                if error_code(exc) != "NoSuchUpload":
                    raise
                log.debug("upload %s of %s:%s was already gone", upload_id, self.volume, key)

    def head(self, key: str) -> dict[str, Any]:
        """HeadObject with the object's additional checksums (ChecksumMode ENABLED); NotFoundError if absent."""
        with self._translated(key):
            answer: dict[str, Any] = self.client.head_object(
                Bucket=self.bucket, Key=self._full(key), ChecksumMode="ENABLED"
            )
        return answer

    def replace_headers(
        self, key: str, content_type: str | None, cache_control: str | None, if_match: str | None
    ) -> None:
        """Rewrite the Content-Type and Cache-Control of ``key`` by CopyObject onto itself (see s3/properties.py);
        ConflictError when its ETag is no longer ``if_match``."""
        head = self.head(key)
        if if_match is not None and _unquoted(head.get("ETag")) != _unquoted(if_match):
            raise errors.ConflictError(
                "the object changed since its properties were read", volume=self.volume, path=key
            )
        reason = cannot_edit(head)
        if reason is not None:
            raise errors.SdError(reason, volume=self.volume, path=key)
        request = replace_request(head, self.bucket, self._full(key), content_type, cache_control)
        with self._translated(key):
            try:
                self.client.copy_object(**request)
            except Exception as exc:
                if "ChecksumAlgorithm" not in request or error_code(exc) not in _CHECKSUM_REFUSED:
                    raise
                log.debug("%s refuses a checksum on CopyObject (%s); copying without", self.volume, exc)
                del request["ChecksumAlgorithm"]
                self.client.copy_object(**request)

    def read_range(self, key: str, start: int, end: int | None, if_match: str | None) -> Iterator[bytes]:
        """Bytes ``[start, end)`` (to the end when ``end`` is None) by ranged GetObject. For servers that answer a
        ranged GET with status 200 and the range's bytes (rclone serve s3), which obstore refuses: the answer is
        taken when its Content-Range is exactly the range asked for, else RangeNotSupportedError. A connection cut
        mid-body asks for the rest again, as obstore does, up to the volume's number of attempts."""
        position = start
        attempts = self.config.http.total_attempts
        while True:
            try:
                for chunk in self._read_range_once(key, position, end, if_match):
                    position += len(chunk)
                    yield chunk
                return
            except errors.NetworkError as exc:
                attempts -= 1
                if end is not None and position >= end:
                    return  # the cut came after the last byte
                if attempts <= 0:
                    raise
                log.info("a ranged read of %s broke off at byte %d (%s); asking for the rest", key, position, exc)

    def _read_range_once(self, key: str, start: int, end: int | None, if_match: str | None) -> Iterator[bytes]:
        wanted = f"bytes={start}-{'' if end is None else end - 1}"
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full(key), "Range": wanted}
        if if_match:
            request["IfMatch"] = if_match if if_match.startswith('"') else f'"{if_match}"'
        with self._translated(key):
            answer = self.client.get_object(**request)
        body = answer["Body"]
        try:
            said = str(answer.get("ContentRange") or "")
            first, _, rest = said.removeprefix("bytes ").partition("-")
            last, _, total = rest.partition("/")
            expected_last = (int(total) - 1 if total.isdigit() else -1) if end is None else end - 1
            if not said.startswith("bytes ") or first != str(start) or last != str(expected_last):
                raise RangeNotSupportedError(f"asked for {wanted}, the server answered {said or 'the whole object'}")
            with self._translated(key):
                while chunk := body.read(RANGE_CHUNK):
                    yield chunk
        finally:
            body.close()

    def part_sizes(self, key: str, size: int, count: int) -> tuple[int, ...] | None:
        """The sizes of the ``count`` parts a multipart object of ``size`` bytes was uploaded in: GetObjectAttributes'
        list where the service gives one, else the first part's size (HeadObject with PartNumber) for all but the
        last, as every common tool uploads. None where neither is known."""
        try:
            with self._translated(key):
                attributes = self.client.get_object_attributes(
                    Bucket=self.bucket, Key=self._full(key), ObjectAttributes=["ObjectParts"], MaxParts=count
                )
        except errors.SdError as exc:
            log.debug("no part list for %s (%s); asking for the first part's size", key, exc)
            attributes = {}
        listed = tuple(int(part["Size"]) for part in (attributes.get("ObjectParts") or {}).get("Parts") or [])
        if len(listed) == count and sum(listed) == size:
            return listed
        with self._translated(key):
            first = self.client.head_object(Bucket=self.bucket, Key=self._full(key), PartNumber=1)
        part = int(first.get("ContentLength") or 0)
        last = size - part * (count - 1)
        if int(first.get("PartsCount") or 0) != count or part <= 0 or not 0 < last <= part:
            return None
        return (part,) * (count - 1) + (last,)

    def list_objects(self, full_prefix: str, after: str | None, page_size: int) -> Iterator[list[dict[str, Any]]]:
        """ListObjectsV2 under a full key prefix (the volume's prefix included), after key ``after``, as obstore's
        listing entries: path, size, last_modified, e_tag. Folder markers keep their trailing slash."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix, "MaxKeys": min(1000, page_size)}
        if after:
            request["StartAfter"] = after
        with self._translated(self._relative(full_prefix) or None):
            for page in self.client.get_paginator("list_objects_v2").paginate(**request):
                batch = [
                    {"path": item["Key"], "size": item.get("Size", 0), "last_modified": item.get("LastModified"),
                     "e_tag": item.get("ETag")}
                    for item in page.get("Contents", [])
                ]  # fmt: skip
                if batch:
                    yield batch

    def delete_prefix(self, key: str, cancel: CancelToken, on_deleted: Callable[[str], None] | None) -> int:
        """Delete every object under directory ``key`` (folder markers at any depth included, which obstore's
        listing hides) a page of up to 1,000 at a time; returns how many objects that are not markers went."""
        prefix = self._full(key.strip("/")) + "/" if key.strip("/") else (f"{self.prefix}/" if self.prefix else "")
        deleted = 0
        with self._translated(key or None):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                cancel.check()
                keys = [item["Key"] for item in page.get("Contents", [])]
                if not keys:
                    continue
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
                )
                failed = answer.get("Errors") or []
                if failed:
                    first = failed[0]
                    raise errors.PermissionDeniedError(
                        f"{len(failed)} object(s) could not be deleted ({first.get('Code', 'error')})",
                        volume=self.volume,
                        path=self._relative(str(first.get("Key", key))),
                    )
                for full in keys:
                    if not full.endswith("/"):
                        deleted += 1
                        if on_deleted is not None:
                            on_deleted(self._relative(full))
        return deleted

    def delete_folder_marker(self, key: str) -> None:
        """Delete the ``key/`` marker alone (obstore's paths drop the ``/``: its delete cannot name it)."""
        with self._translated(key):
            self.client.delete_object(Bucket=self.bucket, Key=self._full(key.strip("/")) + "/")

    def put_folder_marker(self, key: str) -> None:
        """Create the zero-byte ``key/`` object S3 consoles show as an empty folder (obstore's paths drop the ``/``)."""
        with self._translated(key):
            self.client.put_object(Bucket=self.bucket, Key=self._full(key.strip("/")) + "/", Body=b"")

    # -- one resumable upload ---------------------------------------------------------------------------------
    def start(self, key: str, metadata: Mapping[str, str]) -> NewUpload:
        """CreateMultipartUpload with ``metadata`` as x-amz-meta-*, asking for CRC64NVME part checksums (the object
        then carries a full-object CRC64NVME), or SHA-256 where the server refuses that, or neither."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full(key), "Metadata": dict(metadata)}
        with self._translated(key):
            for checksum, algorithm in _PART_CHECKSUMS:
                if checksum in self._refused:
                    continue
                try:
                    answer = self.client.create_multipart_upload(**request, ChecksumAlgorithm=algorithm)
                except Exception as exc:
                    if error_code(exc) not in _CHECKSUM_REFUSED:
                        raise
                    log.debug("%s refuses %s part checksums (%s)", self.volume, algorithm, exc)
                    self._refused.add(checksum)
                    continue
                # A server without flexible checksums (rclone serve s3) ignores the request: it does not echo it,
                # and its parts rely on Content-MD5 (which it checks).
                echoed = answer.get("ChecksumAlgorithm") == algorithm
                return NewUpload(answer["UploadId"], checksum if echoed else "md5")
            answer = self.client.create_multipart_upload(**request)
        return NewUpload(answer["UploadId"], "md5")

    def list_parts(self, key: str, upload_id: str) -> dict[int, UploadedPart]:
        """The parts the server holds for ``upload_id``; NotFoundError when the upload is gone."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full(key), "UploadId": upload_id}
        parts: dict[int, UploadedPart] = {}
        with self._translated(key):
            while True:
                page = self.client.list_parts(**request)
                for part in page.get("Parts", []):
                    number = int(part["PartNumber"])
                    checksum: PartChecksum = "md5"
                    value: str | None = None
                    for candidate, member in _CHECKSUM_MEMBER.items():
                        if isinstance(part.get(member), str):
                            checksum, value = candidate, part[member]
                            break
                    parts[number] = UploadedPart(
                        number, _unquoted(part.get("ETag")), int(part.get("Size", 0)), value, checksum
                    )
                marker = page.get("NextPartNumberMarker")
                if not page.get("IsTruncated") or not marker or marker == request.get("PartNumberMarker"):
                    return parts
                request["PartNumberMarker"] = marker

    def upload_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        data: bytes | memoryview,
        *,
        checksum: PartChecksum = "md5",
        cancel_check: Callable[[], None] | None = None,
    ) -> UploadedPart:
        """Upload part ``number`` with its CRC64NVME or SHA-256 (as the upload asked), else its Content-MD5: the
        server checks it.
        A file-like body (what ``cancel_check`` needs) makes botocore send ``Expect: 100-continue``, as the AWS
        CLI's uploads do: the server can refuse the part before its bytes are sent."""
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._full(key),
            "UploadId": upload_id,
            "PartNumber": number,
            "Body": body_for(data, cancel_check),
            "ContentLength": len(data),
        }
        value = part_checksum_b64(checksum, data)
        if value is not None:
            request[_CHECKSUM_MEMBER[checksum]] = value
        else:
            # MD5 costs twice SHA-256's CPU here; it is the check of servers without flexible checksums.
            request["ContentMD5"] = base64.b64encode(hashlib.md5(data).digest()).decode("ascii")
        with self._translated(key):
            answer = self.client.upload_part(**request)
        return UploadedPart(number, _unquoted(answer.get("ETag")), len(data), value, checksum)

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart], metadata: Mapping[str, str]) -> str:
        """CompleteMultipartUpload with the parts in order; returns the object's ETag (unquoted). A CRC64NVME
        upload also says the whole object's CRC64NVME, combined from its parts': the server checks the assembled
        object against it (a part missing, doubled or out of order is refused)."""
        ordered = sorted(parts, key=lambda p: p.number)
        listed: list[dict[str, Any]] = []
        for part in ordered:
            entry: dict[str, Any] = {"PartNumber": part.number, "ETag": f'"{part.etag}"'}
            if part.checksum is not None and part.algorithm in _CHECKSUM_MEMBER:
                entry[_CHECKSUM_MEMBER[part.algorithm]] = part.checksum
            listed.append(entry)
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._full(key),
            "UploadId": upload_id,
            "MultipartUpload": {"Parts": listed},
        }
        if ordered and all(p.algorithm == "crc64nvme" and p.checksum is not None for p in ordered):
            whole = full_object_crc64nvme((str(p.checksum), p.size) for p in ordered)
            if whole is not None:
                request.update(ChecksumCRC64NVME=whole, ChecksumType="FULL_OBJECT")
        with self._translated(key):
            try:
                answer = self.client.complete_multipart_upload(**request)
            except Exception as exc:
                if "ChecksumType" not in request or error_code(exc) not in _CHECKSUM_REFUSED:
                    raise
                log.debug("%s refuses a full-object checksum on completion (%s); completing without", self.volume, exc)
                del request["ChecksumCRC64NVME"], request["ChecksumType"]
                answer = self.client.complete_multipart_upload(**request)
        return _unquoted(answer.get("ETag"))
