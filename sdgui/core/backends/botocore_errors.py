"""Translate botocore's exceptions into sdgui's error hierarchy at the boundary of the S3 control plane.

A ClientError carries the S3 error code, the HTTP status and the response headers; they are read once into a
``ServiceFailure`` and classified by the same table as obstore's errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore import exceptions as bx

from sdgui.core import errors
from sdgui.core.backends.service_errors import ServiceFailure, retry_after_seconds, to_error
from sdgui.core.errors import Transport
from sdgui.core.python_slots import SLOTS
from sdgui.core.redaction import redact


def error_code(exc: BaseException) -> str:
    """The S3 error code of a ClientError ("" for anything else)."""
    if not isinstance(exc, bx.ClientError):
        return ""
    return str(exc.response.get("Error", {}).get("Code", "") or "")


def _transport(exc: BaseException) -> Transport | None:
    if isinstance(exc, bx.ConnectTimeoutError | bx.EndpointConnectionError | bx.ProxyConnectionError):
        return "connect"
    if isinstance(exc, bx.ReadTimeoutError):
        return "timeout"
    if isinstance(exc, bx.ResponseStreamingError | bx.IncompleteReadError):
        return "body"
    if isinstance(exc, bx.ConnectionError | bx.HTTPClientError):
        return "reset"  # a connection closed mid-answer, reset, TLS failure
    return None


def raise_a_cancel(caught_exception: BaseException | None = None, **_: Any) -> None:
    """A ``needs-retry`` handler, registered first: a request that failed because its body saw a cancel
    (``CancellableBody``) is not retried, and its CancelledError is what the call raises. botocore wraps an error
    raised while the body is sent in an HTTPClientError, which its retry modes take for a transient one."""
    if isinstance(caught_exception, bx.HTTPClientError):
        cause = caught_exception.kwargs.get("error")
        if isinstance(cause, errors.CancelledError):
            raise cause


def parse(exc: bx.BotoCoreError | bx.ClientError) -> ServiceFailure:
    """Read one botocore exception into its fields."""
    if isinstance(exc, bx.ClientError):
        code = error_code(exc) or None
        meta: Mapping[str, Any] = exc.response.get("ResponseMetadata", {})
        status = int(meta.get("HTTPStatusCode", 0) or 0) or None
        headers: Mapping[str, str] = meta.get("HTTPHeaders", {}) or {}
        shown = f"HTTP {status} {code or ''}".strip() if status else code or "unknown error"
        return ServiceFailure(shown, status, code, None, retry_after_seconds(headers.get("retry-after")))
    text = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return ServiceFailure(text, transport=_transport(exc))


def classify(
    exc: BaseException, *, volume: str, path: str | None, stall_timeout_s: float | None = None
) -> errors.SdError:
    """Map one botocore exception to the SdError a user should see; never quotes a secret."""
    if isinstance(exc, errors.SdError):
        return exc.at(volume=volume, path=path)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return errors.CredentialsError("no credentials for this volume", volume=volume, path=path)
    if isinstance(exc, bx.BotoCoreError | bx.ClientError):
        return to_error(parse(exc), volume=volume, path=path, stall_timeout_s=stall_timeout_s)
    return errors.SdError(redact(str(exc)) or type(exc).__name__, volume=volume, path=path)


@contextmanager
def translated(volume: str, path: str | None, *, stall_timeout_s: float | None = None) -> Iterator[None]:
    """Run botocore calls, re-raising their exceptions as SdErrors naming ``volume:path``.
    The calling worker waits for the answer without its Python slot."""
    try:
        with SLOTS.released():
            yield
    except errors.SdError as exc:
        raise exc.at(volume=volume, path=path) from None
    except (bx.BotoCoreError, bx.ClientError) as exc:
        raise classify(exc, volume=volume, path=path, stall_timeout_s=stall_timeout_s) from None
