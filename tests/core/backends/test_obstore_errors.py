"""Classification of obstore's errors, from messages captured against rclone through the fault proxy."""

from __future__ import annotations

import pytest
from obstore import exceptions as obx

from sdgui.core import errors
from sdgui.core.backends.obstore_errors import classify

STALLED_GET = """Generic S3 error: Error performing GET http://127.0.0.1:41339/b/big in 17.08s, after 4 retries, \
max_retries: 4, retry_timeout: 60s  - HTTP error: error sending request

Debug source:
Generic {
    store: "S3",
    source: RetryError(
        RetryErrorImpl {
            inner: Http(
                HttpError {
                    kind: Timeout,
                    source: reqwest::Error {
                        kind: Request,
                        source: TimedOut,
                    },
                },
            ),
        },
    ),
}"""

CUT_BODY = """Generic S3 error: HTTP error: request or response body error

Debug source:
Generic {
    store: "S3",
    source: HttpError {
        kind: Interrupted,
        source: reqwest::Error {
            kind: Body,
            source: hyper::Error(Body, Custom { kind: UnexpectedEof, error: IncompleteBody }),
        },
    },
}"""

SLOW_DOWN = (
    "Generic S3 error: Error performing PUT http://127.0.0.1:1/b/k in 3ms - Server returned non-2xx status code: "
    '503 Service Unavailable: <?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    "<Message>Please reduce your request rate.</Message>{extra}</Error>"
)

NO_SUCH_UPLOAD = (
    "Object at location big.bin not found: Error performing PUT http://127.0.0.1:1/b/big.bin?partNumber=9 in 2ms "
    '- Server returned non-2xx status code: 404 Not Found: <?xml version="1.0"?><Error><Code>NoSuchUpload</Code>'
    "<Message>The specified multipart upload does not exist.</Message></Error>"
)


def test_a_read_timeout_is_a_retryable_stall_naming_the_timeout() -> None:
    error = classify(obx.GenericError(STALLED_GET), volume="stally", path="big", stall_timeout_s=3.0)
    assert isinstance(error, errors.NetworkError) and error.retryable
    assert "stalled: no bytes for 3 s" in str(error)


def test_a_connection_cut_mid_body_is_a_network_error() -> None:
    error = classify(obx.GenericError(CUT_BODY), volume="v", path="big")
    assert isinstance(error, errors.NetworkError) and error.retryable
    assert "stalled" not in str(error)


@pytest.mark.parametrize(
    ("extra", "hint"), [("", None), ("<RetryAfterSeconds>7</RetryAfterSeconds>", "7"), ("Retry-After: 2.5", "2.5")]
)
def test_slow_down_is_throttling_and_keeps_a_retry_after_hint(extra: str, hint: str | None) -> None:
    error = classify(obx.GenericError(SLOW_DOWN.format(extra=extra)), volume="v", path="k")
    assert isinstance(error, errors.ThrottledError) and error.retryable
    assert ("retry after" in str(error)) == (hint is not None)
    if hint:
        assert f"retry after {hint} s" in str(error)


def test_a_lost_multipart_upload_is_retryable_not_a_missing_file() -> None:
    error = classify(obx.NotFoundError(NO_SUCH_UPLOAD), volume="v", path="big.bin")
    assert isinstance(error, errors.ServiceError) and error.retryable
    assert "lost the upload" in str(error)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (obx.PermissionDeniedError("403 <Code>SignatureDoesNotMatch</Code>"), errors.CredentialsError),
        (obx.PermissionDeniedError("403 <Code>AccessDenied</Code>"), errors.PermissionDeniedError),
        (FileNotFoundError("nope"), errors.NotFoundError),
    ],
)
def test_what_is_never_retried(exc: BaseException, kind: type[errors.SdError]) -> None:
    error = classify(exc, volume="v", path="k")
    assert isinstance(error, kind) and not error.retryable
