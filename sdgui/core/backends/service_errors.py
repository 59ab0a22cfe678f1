"""What a service or a connection said when a request failed, and the one table that turns it into an SdError.

Each client library's translator (obstore_errors, botocore_errors) reads its exception once into a
``ServiceFailure``; ``to_error`` classifies from those fields alone, so both S3 stacks agree on every code.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, auto
from typing import Final, Literal

from sdgui.core import errors
from sdgui.core.errors import Transport


class Meaning(Enum):
    """What a service error code means for the user."""

    CREDENTIALS = auto()
    PERMISSION = auto()
    THROTTLED = auto()
    DIGEST = auto()
    NO_BUCKET = auto()
    NO_KEY = auto()
    NO_UPLOAD = auto()


SERVICE_CODES: Final[Mapping[str, Meaning]] = {
    # Wrong, unknown or expired credentials (S3, R2, GCS's XML API, Azure).
    "SignatureDoesNotMatch": Meaning.CREDENTIALS,
    "InvalidAccessKeyId": Meaning.CREDENTIALS,
    "ExpiredToken": Meaning.CREDENTIALS,
    "InvalidToken": Meaning.CREDENTIALS,
    "TokenRefreshRequired": Meaning.CREDENTIALS,
    "AuthorizationHeaderMalformed": Meaning.CREDENTIALS,
    "InvalidSecurity": Meaning.CREDENTIALS,
    "AuthenticationFailed": Meaning.CREDENTIALS,
    "InvalidAuthenticationInfo": Meaning.CREDENTIALS,
    "MissingSecurityHeader": Meaning.CREDENTIALS,
    # Azurite answers a wrong account key with 403 AuthorizationFailure (real Azure: AuthenticationFailed); the
    # cure is the key either way.
    "AuthorizationFailure": Meaning.CREDENTIALS,
    # Valid credentials without the right.
    "AccessDenied": Meaning.PERMISSION,
    "AuthorizationPermissionMismatch": Meaning.PERMISSION,
    "AuthorizationResourceTypeMismatch": Meaning.PERMISSION,
    "InsufficientAccountPermissions": Meaning.PERMISSION,
    # Slow down (503 or 429 carry the same meaning without a code).
    "SlowDown": Meaning.THROTTLED,
    "Throttling": Meaning.THROTTLED,
    "ThrottlingException": Meaning.THROTTLED,
    "RequestLimitExceeded": Meaning.THROTTLED,
    "ServerBusy": Meaning.THROTTLED,
    "TooManyRequests": Meaning.THROTTLED,
    # The bytes that arrived are not the bytes whose checksum was sent.
    "BadDigest": Meaning.DIGEST,
    "InvalidDigest": Meaning.DIGEST,
    "XAmzContentSHA256Mismatch": Meaning.DIGEST,
    "Md5Mismatch": Meaning.DIGEST,
    "Crc64Mismatch": Meaning.DIGEST,
    # Missing things (S3 and GCS's XML API; Azure's container and blob).
    "NoSuchBucket": Meaning.NO_BUCKET,
    "ContainerNotFound": Meaning.NO_BUCKET,
    "NoSuchKey": Meaning.NO_KEY,
    "BlobNotFound": Meaning.NO_KEY,
    "NoSuchUpload": Meaning.NO_UPLOAD,
}

LibrarySaid = Literal["not-found", "unauthenticated", "permission", "precondition", "already-exists", "invalid-path"]
"""What the client library's exception type says where the answer carries no status (obstore's classes)."""


@dataclass(frozen=True)
class ServiceFailure:
    """One failed request, as read once from the client library's exception."""

    summary: str
    """A short account for messages (no secrets), e.g. ``HTTP 403 AccessDenied (Error performing GET ...)``."""
    status: int | None = None
    code: str | None = None
    """The service's error code (``<Code>`` of an S3 XML body)."""
    transport: Transport | None = None
    retry_after_s: float | None = None
    library_said: LibrarySaid | None = None


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After value (seconds, or an HTTP date) as seconds from now; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # here: email (and socket with it) is rarely needed

    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def stalled(stall_timeout_s: float | None) -> str:
    """How a read timeout reads to a user."""
    if stall_timeout_s:
        return f"stalled: no bytes for {stall_timeout_s:g} s"
    return "stalled: no bytes within the read timeout"


def to_error(
    failure: ServiceFailure,
    *,
    volume: str | None,
    path: str | None,
    stall_timeout_s: float | None = None,
    upload_named: bool = True,
) -> errors.SdError:
    """The SdError for ``failure``, its fields carried over.

    ``upload_named``: the caller named the multipart upload by its id (the control plane), so NoSuchUpload means
    it is gone and a resume starts again; when the client ran the upload itself (obstore's put), the service lost
    it mid-way and the file can simply be tried again.
    """

    def make(cls: type[errors.SdError], detail: str) -> errors.SdError:
        return cls(
            detail,
            volume=volume,
            path=path,
            status=failure.status,
            service_code=failure.code,
            transport=failure.transport,
            retry_after_s=failure.retry_after_s,
        )

    meaning = SERVICE_CODES.get(failure.code or "")
    status = failure.status or 0
    said = failure.library_said
    shown = failure.summary
    if meaning is Meaning.NO_UPLOAD:
        if upload_named:
            return make(errors.NotFoundError, f"no such multipart upload (it was completed or aborted) ({shown})")
        return make(errors.ServiceError, f"the service lost the upload in progress ({shown})")
    if meaning is Meaning.NO_BUCKET:
        noun = "container" if failure.code == "ContainerNotFound" else "bucket"
        return make(errors.NotFoundError, f"the {noun} does not exist ({shown})")
    if meaning is Meaning.NO_KEY or said == "not-found" or status == 404:
        return make(errors.NotFoundError, "no such file or object")
    if meaning is Meaning.CREDENTIALS or said == "unauthenticated" or status == 401:
        return make(
            errors.CredentialsError,
            f"the service refused the credentials ({failure.code or shown}); check the access key and secret",
        )
    if meaning is Meaning.PERMISSION or said == "permission" or status == 403:
        return make(errors.PermissionDeniedError, f"access denied ({failure.code or shown})")
    if said == "precondition" or status == 412:
        return make(errors.ConflictError, "the object changed since the copy started")
    if said == "already-exists":
        return make(errors.ConflictError, "the destination already exists")
    if said == "invalid-path":
        return make(errors.InvalidPathError, shown)
    if meaning is Meaning.DIGEST:
        return make(errors.ChecksumMismatchError, f"the service found the bytes damaged on the way ({shown})")
    if meaning is Meaning.THROTTLED or status in (429, 503):
        return make(errors.ThrottledError, f"the service is throttling requests ({shown})")
    if status >= 500:
        return make(errors.ServiceError, f"the service failed ({shown})")
    if failure.transport == "timeout":
        return make(errors.NetworkError, f"{stalled(stall_timeout_s)} ({shown})")
    if failure.transport is not None:
        return make(errors.NetworkError, f"cannot reach the service ({shown})")
    if status:
        # Any other 4xx (InvalidRequest, EntityTooSmall...): the same request again cannot help.
        return make(errors.SdError, f"the service refused the request ({shown})")
    return make(errors.SdError, shown)
