"""Translate obstore's exceptions into sdgui's error hierarchy at the backend boundary.

obstore gives only messages: 429, 5xx and network failures alike arrive as ``GenericError``. Its text is read here,
once, into a ``ServiceFailure`` (HTTP status, the S3 error code of the body, object_store's ``HttpError`` kind, a
Retry-After), and classified from those fields. Never from words: the message embeds a Debug dump of the retry
config (``retry_timeout: 180s``), so a search for "timeout" would match every error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from obstore import exceptions as obx

from sdgui.core import errors
from sdgui.core.backends.base import RangeNotSupportedError
from sdgui.core.backends.service_errors import LibrarySaid, ServiceFailure, retry_after_seconds, to_error
from sdgui.core.errors import Transport
from sdgui.core.python_slots import SLOTS
from sdgui.core.redaction import redact

_STATUS = re.compile(r"status code: (\d{3})")
_CODE = re.compile(r"<Code>([A-Za-z0-9.]+)</Code>")
_HTTP_KIND = re.compile(r"HttpError \{\s*kind: (\w+)")
_RETRY_AFTER = re.compile(r"Retry-?After(?:Seconds)?\W{1,3}(\d+(?:\.\d+)?)", re.IGNORECASE)
_TRANSPORTS: Final[dict[str, Transport]] = {
    # object_store's HttpErrorKind: no connection; no answer in time; the request failed on the way; the body was
    # cut (Interrupted) or could not be read (Decode).
    "Connect": "connect",
    "Timeout": "timeout",
    "Request": "reset",
    "Interrupted": "body",
    "Decode": "body",
}
_LIBRARY_SAID: Final[tuple[tuple[type[BaseException], LibrarySaid], ...]] = (
    (FileNotFoundError, "not-found"),
    (obx.NotFoundError, "not-found"),
    (obx.UnauthenticatedError, "unauthenticated"),
    (obx.PermissionDeniedError, "permission"),
    (obx.PreconditionError, "precondition"),
    (obx.AlreadyExistsError, "already-exists"),
    (obx.InvalidPathError, "invalid-path"),
)


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


def parse(exc: BaseException) -> ServiceFailure:
    """Read one obstore (or OS) exception into the fields its message carries."""
    message = str(exc)
    status = _STATUS.search(message)
    code = _CODE.search(message)
    kind = _HTTP_KIND.search(message)
    retry_after = _RETRY_AFTER.search(message)
    said = next((name for cls, name in _LIBRARY_SAID if isinstance(exc, cls)), None)
    return ServiceFailure(
        summary=summarize(message),
        status=int(status.group(1)) if status else None,
        code=code.group(1) if code else None,
        transport=_TRANSPORTS.get(kind.group(1)) if kind else None,
        retry_after_s=retry_after_seconds(retry_after.group(1)) if retry_after else None,
        library_said=said,
    )


def classify(exc: BaseException, *, volume: str, path: str, stall_timeout_s: float | None = None) -> errors.SdError:
    """Map one obstore (or OS) exception to the SdError a user should see."""
    if isinstance(exc, errors.SdError):
        return exc.at(volume=volume, path=path)
    # obstore runs multipart uploads itself: a NoSuchUpload there is an upload the service lost mid-way.
    return to_error(parse(exc), volume=volume, path=path, stall_timeout_s=stall_timeout_s, upload_named=False)


@contextmanager
def translated(volume: str, path: str, *, stall_timeout_s: float | None = None) -> Iterator[None]:
    """Run obstore calls, re-raising their exceptions as SdErrors naming ``volume:path``.
    The calling worker waits for the answer without its Python slot."""
    try:
        with SLOTS.released():
            yield
    except errors.SdError as exc:
        raise exc.at(volume=volume, path=path) from None
    except obx.GenericError as exc:
        if "non-partial response" in str(exc):
            raise RangeNotSupportedError(str(exc)) from None
        raise classify(exc, volume=volume, path=path, stall_timeout_s=stall_timeout_s) from None
    except (obx.BaseError, FileNotFoundError) as exc:
        raise classify(exc, volume=volume, path=path, stall_timeout_s=stall_timeout_s) from None
