"""What Properties shows of an S3 object, read off one HeadObject (ChecksumMode ENABLED), and the CopyObject request
that gives an object new Content-Type and Cache-Control in place.

S3 cannot change an object's headers; copying the object onto itself with ``MetadataDirective=REPLACE`` rewrites
them server-side, without the bytes travelling. Everything else the object carries is said again in that request
(user metadata, the other standard headers, storage class, SSE-KMS key, the checksum algorithm), because REPLACE
drops what is not. The copy is conditional on the ETag read just before (``CopySourceIfMatch``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sdgui.core.backends.base import S3_SINGLE_COPY_LIMIT, Entry, ObjectProperties

_OTHER_HEADERS = {
    "ContentDisposition": "content-disposition",
    "ContentEncoding": "content-encoding",
    "ContentLanguage": "content-language",
}
_KEPT_FIELDS = ("ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires", "WebsiteRedirectLocation")
CHECKSUM_ALGORITHMS = {
    "ChecksumCRC64NVME": "CRC64NVME",
    "ChecksumSHA256": "SHA256",
    "ChecksumSHA1": "SHA1",
    "ChecksumCRC32C": "CRC32C",
    "ChecksumCRC32": "CRC32",
}


def cannot_edit(head: Mapping[str, Any]) -> str | None:
    """Why the headers of this object cannot be changed in place, or None when they can."""
    if int(head.get("ContentLength") or 0) > S3_SINGLE_COPY_LIMIT:
        return "Its headers cannot be changed here: CopyObject, which rewrites them, takes objects up to 5 GiB."
    if head.get("SSECustomerAlgorithm"):
        return "Its headers cannot be changed here: it is encrypted with a customer key (SSE-C) sdgui does not hold."
    return None


def properties_of_head(entry: Entry, head: Mapping[str, Any]) -> ObjectProperties:
    """The properties one HeadObject tells; S3 leaves out StorageClass for STANDARD objects."""
    reason = cannot_edit(head)
    return ObjectProperties(
        entry,
        content_type=head.get("ContentType") or None,
        cache_control=head.get("CacheControl") or None,
        storage_class=head.get("StorageClass") or "STANDARD",
        editable=reason is None,
        notes=(reason,) if reason else (),
        other_headers={name: str(head[field]) for field, name in _OTHER_HEADERS.items() if head.get(field)},
    )


def replace_request(
    head: Mapping[str, Any], bucket: str, full_key: str, content_type: str | None, cache_control: str | None
) -> dict[str, Any]:
    """CopyObject's arguments that rewrite the headers of ``full_key`` and keep everything else ``head`` told."""
    request: dict[str, Any] = {
        "Bucket": bucket,
        "Key": full_key,
        "CopySource": {"Bucket": bucket, "Key": full_key},
        "CopySourceIfMatch": str(head.get("ETag") or ""),
        "MetadataDirective": "REPLACE",
        "Metadata": dict(head.get("Metadata") or {}),
    }
    if content_type:
        request["ContentType"] = content_type
    if cache_control:
        request["CacheControl"] = cache_control
    request.update({field: head[field] for field in _KEPT_FIELDS if head.get(field)})
    if head.get("StorageClass"):
        request["StorageClass"] = head["StorageClass"]
    if head.get("ServerSideEncryption") in ("aws:kms", "aws:kms:dsse"):
        request["ServerSideEncryption"] = head["ServerSideEncryption"]
        if head.get("SSEKMSKeyId"):
            request["SSEKMSKeyId"] = head["SSEKMSKeyId"]
    # The copy is a new object: it keeps a checksum only if asked (the strongest whole-object one it had).
    algorithm = next((name for field, name in CHECKSUM_ALGORITHMS.items() if head.get(field)), None)
    if algorithm:
        request["ChecksumAlgorithm"] = algorithm
    return request
