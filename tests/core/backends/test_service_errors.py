"""Failures as the real clients report them, against servers and sockets the tests start: obstore's and botocore's
errors become one structured SdError (status, service code, transport, retry-after), classified by one table."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdgui.core import errors
from sdgui.core.backends.base import VolumeBackend
from sdgui.core.backends.factory import backend_for_config
from sdgui.core.backends.s3 import S3Backend, S3Config
from sdgui.core.copy.flow.retry import RetryPolicy
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeConfig
from tests.faults.proxy import FaultProxy, HttpFault
from tests.servers import LOOPBACK, S3Server

NO_RETRIES = TransferSettings(request_retries=0, stall_timeout_s=0.5, connect_timeout_s=2.0)


def s3_volume(
    endpoint: str, bucket: str = "bucket", *, path_style: bool | None = None, access_key_id: str = "AKID"
) -> VolumeConfig:
    return VolumeConfig(
        "cloud",
        "s3",
        bucket=bucket,
        endpoint=endpoint,
        access_key_id=access_key_id,
        allow_http=True,
        path_style=path_style,
    )


def open_backend(
    endpoint: str,
    secret: str,
    bucket: str = "bucket",
    settings: TransferSettings = NO_RETRIES,
    *,
    access_key_id: str = "AKID",
) -> S3Backend:
    config = s3_volume(endpoint, bucket, access_key_id=access_key_id)
    backend = backend_for_config(config, secret=secret, settings=settings)
    assert isinstance(backend, S3Backend)
    return backend


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A port whose kernel completes every TCP handshake (a listening socket nobody accepts from): no answer ever."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen(16)
        yield f"http://{LOOPBACK}:{listener.getsockname()[1]}"


@pytest.fixture
def rclone_proxy(rclone_s3: S3Server) -> Iterator[tuple[FaultProxy, str]]:
    """A fault proxy in front of rclone and a fresh bucket behind it."""
    rclone_s3.ensure_running()
    bucket = rclone_s3.new_bucket("errors")
    with FaultProxy(LOOPBACK, rclone_s3.port) as proxy:
        yield proxy, bucket
    rclone_s3.delete_bucket(bucket)


def _raised(call: object) -> errors.SdError:
    assert callable(call)
    with pytest.raises(errors.SdError) as caught:
        call()
    return caught.value


# -- HTTP answers ----------------------------------------------------------------------------------------------


def test_an_invalid_request_is_a_refusal_with_its_status_not_a_network_error(moto_s3: S3Server) -> None:
    bucket = moto_s3.new_bucket()
    backend = open_backend(moto_s3.endpoint, moto_s3.secret_access_key, bucket)
    try:
        backend.write("same", [b"x"], size=1)
        # moto answers a copy onto itself with 400 InvalidRequest; obstore's message embeds "retry_timeout: 0s".
        error = _raised(lambda: backend.copy("same", "same"))
    finally:
        backend.close()
        moto_s3.delete_bucket(bucket)
    assert type(error) is errors.SdError and not error.retryable
    assert (error.status, error.service_code, error.transport) == (400, "InvalidRequest", None)
    assert "the service refused the request (HTTP 400 InvalidRequest" in str(error)


def test_a_wrong_secret_is_credentials_through_both_clients(rclone_s3: S3Server) -> None:
    bucket = rclone_s3.new_bucket()
    backend = open_backend(rclone_s3.endpoint, "not-the-secret", bucket, access_key_id=rclone_s3.access_key_id)
    try:
        # A GET: its answer has a body with the S3 error code (a HEAD's has none, only the status).
        through_obstore = _raised(lambda: backend.read_whole("anything"))
        uploads = backend.resumable_uploads()
        through_botocore = _raised(lambda: uploads.list_uploads())
    finally:
        backend.close()
        rclone_s3.delete_bucket(bucket)
    for error in (through_obstore, through_botocore):
        assert isinstance(error, errors.CredentialsError) and not error.retryable
        assert (error.status, error.service_code) == (403, "SignatureDoesNotMatch")
        assert "not-the-secret" not in str(error)


def test_access_denied_is_permission_through_both_clients(rclone_proxy: tuple[FaultProxy, str]) -> None:
    proxy, bucket = rclone_proxy
    proxy.http_faults(HttpFault(1.0, 403, "AccessDenied"))
    backend = open_backend(proxy.endpoint, "unused", bucket)
    try:
        through_obstore = _raised(lambda: backend.write("k", [b"x"], size=1))
        uploads = backend.resumable_uploads()
        through_botocore = _raised(lambda: uploads.start("k", {}))
    finally:
        backend.close()
    for error in (through_obstore, through_botocore):
        assert isinstance(error, errors.PermissionDeniedError)
        assert (error.status, error.service_code, error.transport) == (403, "AccessDenied", None)


def test_a_retry_after_header_travels_as_a_number_to_the_retry_policy(rclone_proxy: tuple[FaultProxy, str]) -> None:
    proxy, bucket = rclone_proxy
    proxy.http_faults(HttpFault(1.0, 503, "SlowDown", retry_after=3))
    backend = open_backend(proxy.endpoint, "unused", bucket)
    try:
        uploads = backend.resumable_uploads()
        error = _raised(lambda: uploads.start("k", {}))
    finally:
        backend.close()
    assert isinstance(error, errors.ThrottledError) and error.retryable
    assert error.retry_after_s == 3.0 and error.status == 503 and error.service_code == "SlowDown"
    assert RetryPolicy(base_s=0.5, cap_s=10.0).delay(error, 1) == 3.0
    assert RetryPolicy(base_s=0.5, cap_s=2.0).delay(error, 1) == 2.0  # capped


# -- no answer ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["obstore", "botocore"])
def test_a_server_that_never_answers_is_a_stall_naming_the_timeout(silent_endpoint: str, client: str) -> None:
    backend = open_backend(silent_endpoint, "secret")
    try:
        uploads = backend.resumable_uploads()
        call = (lambda: backend.stat("k")) if client == "obstore" else (lambda: uploads.list_uploads())
        error = _raised(call)
    finally:
        backend.close()
    assert isinstance(error, errors.NetworkError) and error.retryable
    assert error.transport == "timeout" and error.status is None
    assert "stalled: no bytes for 0.5 s" in str(error)


@pytest.mark.parametrize("client", ["obstore", "botocore"])
def test_a_refused_connection_is_a_network_error_at_connect(closed_port_endpoint: str, client: str) -> None:
    backend = open_backend(closed_port_endpoint, "secret")
    try:
        uploads = backend.resumable_uploads()
        call = (lambda: backend.stat("k")) if client == "obstore" else (lambda: uploads.list_uploads())
        error = _raised(call)
    finally:
        backend.close()
    assert isinstance(error, errors.NetworkError) and error.retryable
    assert error.transport == "connect" and error.status is None
    assert "cannot reach the service" in str(error) and "stalled" not in str(error)


# -- one config ----------------------------------------------------------------------------------------------


def test_one_config_gives_both_clients_the_same_addressing_region_and_retries() -> None:
    settings = TransferSettings(request_retries=3, connect_timeout_s=4.0, stall_timeout_s=7.0)
    custom = S3Config.from_volume(s3_volume("http://127.0.0.1:9"), "secret", settings)
    assert custom.path_style and custom.region == "us-east-1"
    assert custom.obstore_config()["virtual_hosted_style_request"] is False
    boto = custom.botocore_config()
    assert boto.s3 is not None and boto.s3["addressing_style"] == "path"
    assert boto.region_name == "us-east-1"
    assert custom.http.retry_config()["max_retries"] == 3
    assert boto.retries == {"mode": "standard", "total_max_attempts": 4}  # the first attempt and 3 retries
    assert (boto.connect_timeout, boto.read_timeout) == (4.0, 7.0)

    aws = S3Config.from_volume(VolumeConfig("aws", "s3", bucket="b", region="eu-west-1"), None, settings)
    assert not aws.path_style and aws.region == "eu-west-1"
    assert aws.obstore_config()["virtual_hosted_style_request"] is True
    assert aws.botocore_config().s3["addressing_style"] == "virtual"  # type: ignore[index]
    forced = S3Config.from_volume(s3_volume("http://127.0.0.1:9", path_style=False), "secret", settings)
    assert not forced.path_style
    r2 = VolumeConfig("r2", "r2", bucket="b", endpoint="https://acct.r2.cloudflarestorage.com", access_key_id="K")
    assert S3Config.from_volume(r2, "secret", settings).region == "auto"
    assert "secret" not in repr(custom)


def test_both_clients_retry_a_request_the_same_number_of_times(rclone_proxy: tuple[FaultProxy, str]) -> None:
    proxy, bucket = rclone_proxy
    proxy.http_faults(HttpFault(1.0, 500, "InternalError"))
    settings = TransferSettings(request_retries=2, connect_timeout_s=2.0)
    backend = open_backend(proxy.endpoint, "unused", bucket, settings)
    try:
        obstore_error = _raised(lambda: backend.write("k", [b"x"], size=1))
        after_obstore = proxy.count("http-500")
        uploads = backend.resumable_uploads()
        botocore_error = _raised(lambda: uploads.start("k", {}))
        after_botocore = proxy.count("http-500") - after_obstore
    finally:
        backend.close()
    assert (after_obstore, after_botocore) == (3, 3)  # the first attempt and two retries, each
    for error in (obstore_error, botocore_error):
        assert isinstance(error, errors.ServiceError) and error.status == 500 and error.service_code == "InternalError"


def test_only_s3_volumes_have_resumable_uploads(tmp_path: Path, moto_s3: S3Server) -> None:
    local: VolumeBackend = backend_for_config(VolumeConfig("disk", "local", root=str(tmp_path)))
    assert local.resumable_uploads() is None and local.local_path("a/b") is not None
    s3 = open_backend(moto_s3.endpoint, moto_s3.secret_access_key)
    try:
        assert s3.resumable_uploads() is not None and s3.local_path("a/b") is None and s3.open_atomic("a") is None
    finally:
        s3.close()
