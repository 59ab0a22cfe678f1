"""Translate botocore's exceptions into sdgui's error hierarchy at the boundary of the multipart client.

botocore is used only for the S3 multipart control plane obstore lacks; its errors carry the S3 error code
and the HTTP status, so the mapping reads those rather than any message text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore import exceptions as bx

from sdgui.core import errors
from sdgui.core.secrets import redact

CREDENTIAL_CODES = frozenset(
    {
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AuthorizationHeaderMalformed",
        "InvalidSecurity",
    }
)
THROTTLE_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "ServerBusy"})
DIGEST_CODES = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"})
_NOT_FOUND_DETAIL = {
    "NoSuchBucket": "the bucket does not exist",
    "NoSuchUpload": "no such multipart upload (it was completed or aborted)",
    "NoSuchKey": "no such object",
}


def error_code(exc: BaseException) -> str:
    """The S3 error code of a ClientError ("" for anything else)."""
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "") or "")


def http_status(exc: BaseException) -> int:
    response: Any = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def classify(exc: BaseException, *, volume: str, path: str | None) -> errors.SdError:
    """Map one botocore exception to the SdError a user should see; never quotes a secret."""
    if isinstance(exc, errors.SdError):
        return exc.at(volume=volume, path=path)
    if isinstance(exc, bx.ClientError):
        return _classify_client_error(exc, volume=volume, path=path)
    text = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return errors.CredentialsError("no credentials for this volume", volume=volume, path=path)
    if isinstance(exc, bx.ConnectionError | bx.HTTPClientError):
        # Refused, DNS, TLS, connect and read timeouts, a connection closed mid-answer.
        return errors.NetworkError(f"cannot reach the service ({text})", volume=volume, path=path)
    return errors.SdError(text, volume=volume, path=path)


def _classify_client_error(exc: bx.ClientError, *, volume: str, path: str | None) -> errors.SdError:
    code = error_code(exc)
    status = http_status(exc)
    shown = f"HTTP {status} {code}".strip() if status else code or "unknown error"
    if code in _NOT_FOUND_DETAIL:
        return errors.NotFoundError(f"{_NOT_FOUND_DETAIL[code]} ({shown})", volume=volume, path=path)
    if code in CREDENTIAL_CODES or status == 401:
        return errors.CredentialsError(
            f"the service refused the credentials ({code or shown}); check the access key and secret",
            volume=volume,
            path=path,
        )
    if code == "AccessDenied" or status == 403:
        return errors.PermissionDeniedError(f"access denied ({shown})", volume=volume, path=path)
    if code in DIGEST_CODES:
        return errors.ChecksumMismatchError(
            f"the service found the bytes of a part damaged on the way ({shown})", volume=volume, path=path
        )
    if code in THROTTLE_CODES or status in (429, 503):
        return errors.ThrottledError(f"the service is throttling requests ({shown})", volume=volume, path=path)
    if status == 404:
        return errors.NotFoundError(f"not found ({shown})", volume=volume, path=path)
    if status >= 500:
        return errors.ServiceError(f"the service failed ({shown})", volume=volume, path=path)
    # Any other 4xx (InvalidPart, EntityTooSmall, InvalidRequest...): trying the same request again cannot help.
    return errors.SdError(f"the service refused the request ({shown})", volume=volume, path=path)


@contextmanager
def translated(volume: str, path: str | None) -> Iterator[None]:
    """Run botocore calls, re-raising their exceptions as SdErrors naming ``volume:path``."""
    try:
        yield
    except errors.SdError as exc:
        raise exc.at(volume=volume, path=path) from None
    except (bx.BotoCoreError, bx.ClientError) as exc:
        raise classify(exc, volume=volume, path=path) from None
