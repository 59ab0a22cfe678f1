"""Translate obstore's exceptions into sdgui's error hierarchy at the backend boundary.

obstore reports 429, 5xx and network failures alike as ``GenericError``; only the message tells
them apart, so the classification reads the HTTP status and the S3 error code out of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from obstore import exceptions as obx

from sdgui.core import errors
from sdgui.core.backends.base import RangeNotSupportedError
from sdgui.core.secrets import redact

_STATUS = re.compile(r"status code: (\d{3})")
_CODE = re.compile(r"<Code>([A-Za-z]+)</Code>")
_CREDENTIAL_CODES = {
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "AuthenticationFailed",
    "InvalidAuthenticationInfo",
    "AuthorizationHeaderMalformed",
}
_THROTTLE_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "ServerBusy"}
_TIMEOUT = re.compile(r"HttpError \{\s*kind: Timeout\b")
"""object_store's kind for a read timeout (a stalled body or no answer), as opposed to Connect or Request."""
_TRANSPORT = re.compile(r"HttpError \{\s*kind: (?:Connect|Request|Interrupted|Decode)\b")
"""object_store's kinds for a connection refused, reset or cut mid-body (``Interrupted``): worth retrying."""
_RETRY_AFTER = re.compile(r"Retry-?After(?:Seconds)?\W{1,3}(\d+(?:\.\d+)?)", re.IGNORECASE)
_NETWORK_HINTS = (
    "error sending request",
    "connection refused",
    "connection reset",
    "connect error",
    "timed out",
    "timeout",
    "dns error",
    "broken pipe",
    "unexpected eof",
    "error decoding response body",
    "connection closed",
    "request or response body error",
)

_read_timeouts: dict[str, float] = {}
"""Per volume name; set by the factory (a volume's backends share its settings in practice)."""


def note_read_timeout(volume: str, seconds: float) -> None:
    """Remember the read timeout ``volume``'s client was built with, so a stall names it."""
    _read_timeouts[volume] = seconds


def _stalled(volume: str) -> str:
    seconds = _read_timeouts.get(volume)
    return f"stalled: no bytes for {seconds:g} s" if seconds else "stalled: no bytes within the read timeout"


def summarize(message: str) -> str:
    """The first line of obstore's message, without its debug dump, secrets redacted."""
    first = message.split("\n\nDebug source:", 1)[0].strip()
    code = _CODE.search(first)
    status = _STATUS.search(first)
    first = first.split(" - Server returned", 1)[0].split(": <?xml", 1)[0]
    detail = first.splitlines()[0] if first else "unknown error"
    if status:
        detail = f"HTTP {status.group(1)}" + (f" {code.group(1)}" if code else "") + f" ({detail})"
    return redact(detail)


def classify(exc: BaseException, *, volume: str, path: str) -> errors.SdError:
    """Map one obstore (or OS) exception to the SdError a user should see."""
    if isinstance(exc, errors.SdError):
        return exc.at(volume=volume, path=path)
    message = str(exc)
    text = summarize(message)
    code_match = _CODE.search(message)
    code = code_match.group(1) if code_match else ""
    status_match = _STATUS.search(message)
    status = int(status_match.group(1)) if status_match else 0
    lowered = message.lower()
    if code == "NoSuchUpload":
        # The server lost a multipart upload under way (a restart): the file can be uploaded again.
        return errors.ServiceError(f"the service lost the upload in progress ({text})", volume=volume, path=path)
    if isinstance(exc, FileNotFoundError | obx.NotFoundError) or status == 404:
        if code == "NoSuchBucket" or "nosuchbucket" in lowered:
            return errors.NotFoundError(f"the bucket does not exist ({text})", volume=volume, path=path)
        return errors.NotFoundError("no such file or object", volume=volume, path=path)
    if isinstance(exc, obx.UnauthenticatedError) or status == 401 or code in _CREDENTIAL_CODES:
        return errors.CredentialsError(
            f"the service refused the credentials ({code or text}); check the access key and secret",
            volume=volume,
            path=path,
        )
    if isinstance(exc, obx.PermissionDeniedError) or status == 403:
        return errors.PermissionDeniedError(f"access denied ({code or text})", volume=volume, path=path)
    if isinstance(exc, obx.PreconditionError) or status == 412:
        return errors.ConflictError("the object changed since the copy started", volume=volume, path=path)
    if isinstance(exc, obx.AlreadyExistsError):
        return errors.ConflictError("the destination already exists", volume=volume, path=path)
    if isinstance(exc, obx.InvalidPathError):
        return errors.InvalidPathError(text, volume=volume, path=path)
    if status == 429 or status == 503 or code in _THROTTLE_CODES:
        hint = _RETRY_AFTER.search(message)
        wait = f"; retry after {hint.group(1)} s" if hint else ""
        return errors.ThrottledError(f"the service is throttling requests ({text}){wait}", volume=volume, path=path)
    if status >= 500:
        return errors.ServiceError(f"the service failed ({text})", volume=volume, path=path)
    if _TIMEOUT.search(message):
        return errors.NetworkError(f"{_stalled(volume)} ({text})", volume=volume, path=path)
    if _TRANSPORT.search(message) or any(hint in lowered for hint in _NETWORK_HINTS):
        return errors.NetworkError(f"cannot reach the service ({text})", volume=volume, path=path)
    if status:
        return errors.ServiceError(f"unexpected answer ({text})", volume=volume, path=path)
    return errors.SdError(text, volume=volume, path=path)


@contextmanager
def translated(volume: str, path: str) -> Iterator[None]:
    """Run obstore calls, re-raising their exceptions as SdErrors naming ``volume:path``."""
    try:
        yield
    except errors.SdError as exc:
        raise exc.at(volume=volume, path=path) from None
    except obx.GenericError as exc:
        if "non-partial response" in str(exc):
            raise RangeNotSupportedError(str(exc)) from None
        raise classify(exc, volume=volume, path=path) from None
    except (obx.BaseError, FileNotFoundError) as exc:
        raise classify(exc, volume=volume, path=path) from None
